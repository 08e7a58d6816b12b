/* xz driver: compresses the corpus with liblzma's easy encoder (preset 6,
 * CRC64 check) and decompresses it, printing the size and a digest. The argument is the
 * corpus size in KiB. */
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"

int main(int argc, char **argv)
{
    size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 512) << 10;
    unsigned char *src = malloc(n), *back = malloc(n);
    size_t cap = lzma_stream_buffer_bound(n), c = 0, in_pos = 0, d = 0;
    unsigned char *dst = malloc(cap);
    if (!src || !back || !dst)
        return 1;
    corpus_fill(src, n);
    lzma_ret rc = lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, src, n, dst, &c, cap);
    if (rc != LZMA_OK) {
        fprintf(stderr, "encode: %d\n", rc);
        return 1;
    }
    uint64_t memlimit = UINT64_MAX;
    rc = lzma_stream_buffer_decode(&memlimit, 0, NULL, dst, &in_pos, c, back, &d, n);
    if (rc != LZMA_OK || d != n || memcmp(src, back, n) != 0) {
        fprintf(stderr, "round trip failed: %d\n", rc);
        return 1;
    }
    printf("xz -6: %zu -> %zu bytes, digest %08x\n", n, c, corpus_fnv(dst, c));
    return 0;
}
