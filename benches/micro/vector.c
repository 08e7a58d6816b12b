/* Loops that gcc -O3 vectorizes: saxpy, a dot product, an integer
 * reduction, a byte histogram-free transform and a stencil. Built with -O3
 * for both targets (NEON on AArch64, SSE2 on x86-64). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4096

static float xs[N], ys[N], zs[N];
static int32_t ia[N], ib[N];
static uint8_t bytes[N];

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 40000;
    for (int i = 0; i < N; i++) {
        xs[i] = (float)(i % 97) * 0.01f;
        ys[i] = (float)(i % 13) * 0.5f;
        ia[i] = i * 7 - 3000;
        ib[i] = (i * 13) % 101;
        bytes[i] = (uint8_t)(i * 31);
    }
    double dot_sum = 0;
    int64_t isum = 0;
    for (int r = 0; r < rounds; r++) {
        float a = 1.0f / (float)(r + 1);
        for (int i = 0; i < N; i++)
            zs[i] = a * xs[i] + ys[i];
        float dot = 0;
        for (int i = 0; i < N; i++)
            dot += zs[i] * xs[i];
        dot_sum += dot;
        int32_t s = 0;
        for (int i = 0; i < N; i++)
            s += ia[i] * ib[i] + (ia[i] >> 3);
        isum += s;
        for (int i = 0; i < N; i++)
            bytes[i] = (uint8_t)((bytes[i] ^ (uint8_t)r) + (bytes[i] >> 2));
        for (int i = 1; i < N - 1; i++)
            ib[i] = (ib[i - 1] + 2 * ib[i] + ib[i + 1]) >> 2 | 1;
    }
    uint32_t bh = 0;
    for (int i = 0; i < N; i++)
        bh = bh * 31 + bytes[i];
    printf("dot %.6g isum %lld bytes %u\n", dot_sum, (long long)isum, bh);
    return 0;
}
