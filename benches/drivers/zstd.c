/* Zstandard driver: compresses the corpus at several levels and
 * decompresses it again (single-threaded, one-shot API), printing the
 * compressed sizes and a digest of the round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

#include "corpus.h"

int main(int argc, char **argv)
{
    size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 16) << 20;
    unsigned char *src = malloc(n), *back = malloc(n);
    size_t cap = ZSTD_compressBound(n);
    unsigned char *dst = malloc(cap);
    if (!src || !back || !dst)
        return 1;
    corpus_fill(src, n);
    static const int levels[] = {1, 3, 9};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        size_t c = ZSTD_compress(dst, cap, src, n, levels[l]);
        if (ZSTD_isError(c)) {
            fprintf(stderr, "compress: %s\n", ZSTD_getErrorName(c));
            return 1;
        }
        size_t d = 0;
        for (int rep = 0; rep < 3; rep++)
            d = ZSTD_decompress(back, n, dst, c);
        if (ZSTD_isError(d) || d != n || memcmp(src, back, n) != 0) {
            fprintf(stderr, "round trip failed at level %d\n", levels[l]);
            return 1;
        }
        printf("level %d: %zu -> %zu bytes, digest %08x\n", levels[l], n, c,
               corpus_fnv(dst, c));
    }
    return 0;
}
