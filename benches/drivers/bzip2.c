/* bzip2 driver: compresses the corpus with libbz2 (block size 9) and
 * decompresses it, printing the compressed size and a digest. */
#include <bzlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"

int main(int argc, char **argv)
{
    unsigned n = (unsigned)(argc > 1 ? atol(argv[1]) : 4) << 20;
    char *src = malloc(n), *back = malloc(n);
    unsigned cap = n + n / 100 + 600, c = cap, d = n;
    char *dst = malloc(cap);
    if (!src || !back || !dst)
        return 1;
    corpus_fill((unsigned char *)src, n);
    int rc = BZ2_bzBuffToBuffCompress(dst, &c, src, n, 9, 0, 0);
    if (rc != BZ_OK) {
        fprintf(stderr, "compress: %d\n", rc);
        return 1;
    }
    rc = BZ2_bzBuffToBuffDecompress(back, &d, dst, c, 0, 0);
    if (rc != BZ_OK || d != n || memcmp(src, back, n) != 0) {
        fprintf(stderr, "round trip failed: %d\n", rc);
        return 1;
    }
    printf("bzip2 -9: %u -> %u bytes, digest %08x\n", n, c,
           corpus_fnv((unsigned char *)dst, c));
    return 0;
}
