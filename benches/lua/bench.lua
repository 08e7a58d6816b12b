-- A mixed Lua workload: recursion, closures, tables as arrays and hashes,
-- string building and pattern matching, floating point and integer math.
-- Deterministic output; the scale is the first argument.
local scale = tonumber(arg and arg[1]) or 1

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

local function sieve(n)
  local flags, count = {}, 0
  for i = 2, n do flags[i] = true end
  for i = 2, n do
    if flags[i] then
      count = count + 1
      for j = i * i, n, i do flags[j] = false end
    end
  end
  return count
end

local function words(n)
  local counts, seed = {}, 7
  for _ = 1, n do
    seed = (seed * 1103515245 + 12345) % 2147483648
    local w = string.format("w%d", seed % 997)
    counts[w] = (counts[w] or 0) + 1
  end
  local keys = {}
  for k in pairs(counts) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  return keys[1] .. "=" .. counts[keys[1]] .. " " .. #keys
end

local function strings(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = ("item%05d:%x;"):format(i, i * 2654435761 % 4294967296) end
  local s = table.concat(parts)
  local hex = 0
  for h in s:gmatch(":(%x+);") do hex = hex + #h end
  local replaced = select(2, s:gsub("item0", "I"))
  return #s .. " " .. hex .. " " .. replaced
end

local function mandel(size)
  local inside = 0
  for y = 0, size - 1 do
    local ci = 2.0 * y / size - 1.0
    for x = 0, size - 1 do
      local cr, zr, zi, k = 2.5 * x / size - 2.0, 0.0, 0.0, 0
      while k < 50 and zr * zr + zi * zi < 4.0 do
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        k = k + 1
      end
      if k == 50 then inside = inside + 1 end
    end
  end
  return inside
end

local function objects(n)
  local Point = {}
  Point.__index = Point
  function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
  function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
  local acc = Point.new(0, 0)
  for i = 1, n do acc = acc:add(Point.new(i % 7, i % 11)) end
  return acc.x .. "," .. acc.y
end

for _ = 1, scale do
  print("fib", fib(25))
  print("sieve", sieve(300000))
  print("words", words(60000))
  print("strings", strings(30000))
  print("mandel", mandel(120))
  print("objects", objects(100000))
end
