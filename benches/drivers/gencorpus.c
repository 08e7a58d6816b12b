/* Writes N MiB of the benchmark corpus (corpus.h) to stdout: the input file
 * of the busybox workloads. */
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"

int main(int argc, char **argv)
{
    size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 8) << 20;
    unsigned char *buf = malloc(n);
    if (!buf)
        return 1;
    corpus_fill(buf, n);
    return fwrite(buf, 1, n, stdout) == n ? 0 : 1;
}
