/* qsort with comparison callbacks: an indirect call from libc into the
 * program for every comparison, on integers, doubles and strings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 600000;
    uint32_t *u = malloc(n * sizeof *u);
    double *d = malloc(n * sizeof *d);
    char **s = malloc(n * sizeof *s);
    char *pool = malloc((size_t)n * 12);
    uint64_t seed = 42;
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        u[i] = (uint32_t)(seed >> 32);
        d[i] = (double)(seed >> 11) / 9007199254740992.0;
        s[i] = pool + (size_t)i * 12;
        snprintf(s[i], 12, "%08x", (unsigned)(seed >> 20));
    }
    qsort(u, n, sizeof *u, cmp_u32);
    qsort(d, n, sizeof *d, cmp_f64);
    qsort(s, n, sizeof *s, cmp_str);
    uint64_t h = 0;
    for (int i = 0; i < n; i += 997)
        h = h * 31 + u[i] + (uint64_t)(d[i] * 1e6) + (unsigned char)s[i][3];
    printf("min %u max %u first %s last %s hash %llu\n", u[0], u[n - 1], s[0],
           s[n - 1], (unsigned long long)h);
    return 0;
}
