/* Integer loops: a sieve, a Collatz walk and a 64-bit mixing hash. Exercises
 * arithmetic, compares, conditional branches and byte stores; no libc in the
 * hot loops. Prints checksums only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned sieve(unsigned n, unsigned char *flags)
{
    memset(flags, 1, n);
    flags[0] = flags[1] = 0;
    for (unsigned i = 2; (uint64_t)i * i < n; i++)
        if (flags[i])
            for (unsigned j = i * i; j < n; j += i)
                flags[j] = 0;
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++)
        count += flags[i];
    return count;
}

static uint64_t collatz(uint64_t limit)
{
    uint64_t best = 0, best_n = 0;
    for (uint64_t n = 1; n < limit; n++) {
        uint64_t x = n, steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
        if (steps > best) {
            best = steps;
            best_n = n;
        }
    }
    return best_n * 1000 + best;
}

static uint64_t mix(uint64_t rounds)
{
    uint64_t h = 0x9e3779b97f4a7c15ull, acc = 0;
    for (uint64_t i = 0; i < rounds; i++) {
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
        h += i;
        acc += (h % 1000003) ^ (uint32_t)(h >> 17);
    }
    return acc;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    unsigned char *flags = malloc(20000000);
    if (!flags)
        return 1;
    for (unsigned r = 0; r < scale; r++) {
        printf("sieve %u\n", sieve(20000000, flags));
        printf("collatz %llu\n", (unsigned long long)collatz(600000));
        printf("mix %llu\n", (unsigned long long)mix(20000000));
    }
    free(flags);
    return 0;
}
