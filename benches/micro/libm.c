/* libm-heavy code: sin, cos, exp, log, pow and sqrt over a range of inputs.
 * Sums are printed with 9 significant digits, so the last-bit differences
 * between the AArch64 and x86-64 glibc builds do not show; the translated
 * and qemu runs of the same binary must match exactly anyway. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000000;
    double s_sin = 0, s_exp = 0, s_log = 0, s_pow = 0, s_sqrt = 0;
    float s_f = 0;
    for (int i = 1; i <= n; i++) {
        double x = i * 1e-4;
        s_sin += sin(x) * cos(x * 0.5);
        s_exp += exp(-x * 1e-2);
        s_log += log(x);
        s_pow += pow(x, 0.37);
        s_sqrt += sqrt(x);
        s_f += sinf((float)x) + expf((float)(-x * 1e-3));
    }
    printf("sin*cos %.9g\nexp %.9g\nlog %.9g\npow %.9g\nsqrt %.9g\nfloat %.6g\n",
           s_sin, s_exp, s_log, s_pow, s_sqrt, (double)s_f);
    return 0;
}
