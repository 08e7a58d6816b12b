/* malloc churn: many live blocks of mixed sizes allocated, resized and
 * freed in a pseudo-random order (glibc's allocator fast paths, bins and
 * consolidation). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 8192

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 4000000;
    static void *slot[SLOTS];
    static size_t size[SLOTS];
    uint64_t seed = 7, sum = 0;
    for (long i = 0; i < ops; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(seed >> 33) % SLOTS;
        unsigned r = (unsigned)(seed >> 20) & 1023;
        size_t want = r < 900 ? 16 + (r & 127) : r < 1010 ? 512 + r * 8 : 65536 + r * 64;
        if (slot[k] && (r & 3) == 0) {
            slot[k] = realloc(slot[k], want);
            size[k] = want;
            ((unsigned char *)slot[k])[want - 1] = (unsigned char)i;
        } else if (slot[k]) {
            sum += ((unsigned char *)slot[k])[0] + size[k];
            free(slot[k]);
            slot[k] = NULL;
        } else {
            slot[k] = malloc(want);
            size[k] = want;
            memset(slot[k], (int)(i & 0xff), want < 64 ? want : 64);
        }
    }
    size_t live = 0;
    for (int k = 0; k < SLOTS; k++) {
        live += slot[k] ? size[k] : 0;
        free(slot[k]);
    }
    printf("sum %llu live %zu\n", (unsigned long long)sum, live);
    return 0;
}
