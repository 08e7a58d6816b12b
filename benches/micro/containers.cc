// C++ containers: std::map, std::unordered_map, std::vector with std::sort
// and std::string keys (allocator, virtual-free templates, exceptions
// unwound through the whole program's tables).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

int main(int argc, char **argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 300000;
    std::uint64_t seed = 99;
    auto next = [&seed] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::uint32_t>(seed >> 33);
    };
    std::map<std::uint32_t, std::uint32_t> ordered;
    std::unordered_map<std::string, int> counts;
    std::vector<std::uint64_t> v;
    v.reserve(n);
    for (int i = 0; i < n; i++) {
        std::uint32_t k = next() % 100000;
        ordered[k] += i;
        counts["key" + std::to_string(k % 5000)]++;
        v.push_back((static_cast<std::uint64_t>(next()) << 32) | k);
    }
    std::sort(v.begin(), v.end());
    std::uint64_t h = 0;
    for (auto &kv : ordered)
        h = h * 31 + kv.first + kv.second;
    for (int i = 0; i < 5000; i += 37)
        h = h * 31 + counts["key" + std::to_string(i)];
    for (std::size_t i = 0; i < v.size(); i += 101)
        h = h * 31 + v[i];
    int caught = 0;
    for (int i = 0; i < 2000; i++) {
        try {
            if (i % 3 == 0)
                throw std::runtime_error("x");
            caught += static_cast<int>(ordered.at(static_cast<std::uint32_t>(i * 977) % 100000) & 1);
        } catch (const std::exception &) {
            caught += 2;
        }
    }
    std::printf("map %zu umap %zu hash %llu caught %d\n", ordered.size(), counts.size(),
                static_cast<unsigned long long>(h), caught);
    return 0;
}
