/* memcpy/memset/strlen/strchr/memcmp/strcmp-heavy code over short and long
 * buffers, the way parsers and formatters use libc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3000;
    static char words[N][48];
    static char big_a[1 << 16], big_b[1 << 16];
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        int len = 3 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int j = 0; j < len; j++)
            words[i][j] = (char)('a' + ((seed = seed * 1103515245u + 12345u) >> 16) % 26);
        words[i][len] = 0;
    }
    uint64_t total_len = 0, hits = 0, cmp_sum = 0;
    char buf[64];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < N; i++) {
            size_t len = strlen(words[i]);
            total_len += len;
            memcpy(buf, words[i], len + 1);
            buf[r % len] = 'z';
            if (strchr(buf, 'q'))
                hits++;
            cmp_sum += (unsigned)(strcmp(buf, words[(i + 1) % N]) > 0);
            cmp_sum += (unsigned)(memcmp(buf, words[i], len) != 0);
        }
        if (r % 16 == 0) {
            memset(big_a, r & 0x7f, sizeof big_a);
            memcpy(big_b, big_a, sizeof big_a);
            memmove(big_b + 1, big_b, sizeof big_b - 1);
            cmp_sum += (unsigned)memcmp(big_a, big_b, sizeof big_a);
            hits += memchr(big_b, 0x7f, sizeof big_b) != NULL;
        }
    }
    printf("len %llu hits %llu cmp %llu\n", (unsigned long long)total_len,
           (unsigned long long)hits, (unsigned long long)cmp_sum);
    return 0;
}
