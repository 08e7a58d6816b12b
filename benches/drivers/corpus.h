/* A deterministic text-like corpus for the compressor drivers: words drawn
 * from a fixed vocabulary with a skewed distribution, numbers and
 * punctuation, so that it compresses like prose and logs (ratio 3-5x).
 * Header-only; the same bytes on every target. */
#ifndef BENCH_CORPUS_H
#define BENCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t corpus_seed = 0x2545F4914F6CDD1Dull;

static uint32_t corpus_next(void)
{
    corpus_seed ^= corpus_seed << 13;
    corpus_seed ^= corpus_seed >> 7;
    corpus_seed ^= corpus_seed << 17;
    return (uint32_t)(corpus_seed >> 16);
}

/* Fills buf with n bytes of corpus. */
static void corpus_fill(unsigned char *buf, size_t n)
{
    static const char *const words[] = {
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with",
        "be", "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which",
        "but", "have", "an", "had", "they", "you", "were", "their", "one", "all", "we",
        "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "translation", "register", "memory", "function", "instruction", "compiler",
        "benchmark", "interpreter", "database", "compression", "throughput", "latency",
        "ERROR", "WARN", "INFO", "request", "response", "session", "timeout", "cache",
    };
    const size_t nwords = sizeof words / sizeof words[0];
    size_t i = 0;
    while (i < n) {
        uint32_t r = corpus_next();
        char tmp[32];
        const char *w;
        size_t len;
        if ((r & 15) == 0) {
            len = (size_t)snprintf(tmp, sizeof tmp, "%u", (r >> 8) % 100000);
            w = tmp;
        } else {
            uint32_t a = (r >> 4) % nwords, b = (r >> 12) % nwords;
            w = words[a < b ? a : b];
            len = strlen(w);
        }
        for (size_t j = 0; j < len && i < n; j++)
            buf[i++] = (unsigned char)w[j];
        if (i < n)
            buf[i++] = (r >> 28) == 0 ? '\n' : (r >> 28) == 1 ? ',' : ' ';
    }
}

/* FNV-1a over a buffer, for printing a digest of decompressed data. */
static uint32_t corpus_fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif
