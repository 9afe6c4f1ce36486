/* bench_kernels: rlgf's matmul kernel (sim/nn/kern.c) next to OpenBLAS sgemm on the model's own
 * matmul shapes, in GFLOP/s, one thread. OpenBLAS is the yardstick only: it is linked into this
 * benchmark binary (built by `make bench`), never into rlgf.
 *
 * Forward rows: out = x W^T (rlgf: kern_gemm on the transposed weights, as gpt_forward); backward
 * rows: dinp = dout W and dweight = dout^T x together (rlgf: the model's matmul_backward; OpenBLAS:
 * two sgemm). ROWS defaults to one update block (7 trajectories x 112 positions).
 *
 * usage: bench_kernels [C L V ROWS]   (defaults: the IMDB model, C=32 L=2 V=512, 784 rows) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../sim/base/rng.h"
#include "../sim/nn/gpt.h"
#include "../sim/nn/kern.h"

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *name;
    int N, K, M;
    int kind; /* 0: forward out (N,M) = x (N,K) W^T; 1: backward of that layer, dinp and dweight */
} shape_t;

static float *rnd(size_t n) {
    float *x = malloc(n * sizeof(float));
    rng_t r = rng_stream(2026, 11, 0, n); /* fixed inputs: every run times the same numbers */
    for (size_t i = 0; i < n; i++) x[i] = rng_float(&r) - 0.5f;
    return x;
}

/* The best GFLOP/s of 5 rounds of at least 0.2 s each. rlgf: kern_gemm on transposed weights (the
 * forward), or the model's matmul_backward (dinp and dweight, as the model calls it); OpenBLAS:
 * sgemm for the same products. */
static double gflops(const shape_t *s, int blas, float *out, const float *x, const float *w, float *dx, float *dw) {
    int N = s->N, C = s->K, OC = s->M;
    double flop = (s->kind ? 4.0 : 2.0) * N * C * OC, best = 0;
    for (int round = 0; round < 5; round++) {
        int reps = 0;
        double t0 = seconds(), t;
        do {
            if (s->kind == 0) {
                if (blas)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, x, C, w, C, 0.0f, out, OC);
                else
                    kern_gemm(out, OC, x, C, 1, w /* as wT (C,OC) */, OC, NULL, 0, N, C, OC);
            } else {
                /* out is dout (N,OC); x inp (N,C); w weight (OC,C) */
                if (blas) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, out, OC, w, C, 1.0f, dx, C);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, out, OC, x, C, 1.0f, dw, C);
                } else {
                    gpt_test_hooks.matmul_backward(dx, dw, NULL, out, x, w, N, C, OC);
                }
            }
            reps++;
            t = seconds() - t0;
        } while (t < 0.2);
        double g = flop * reps / t * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int C = argc > 1 ? atoi(argv[1]) : 32, L = argc > 2 ? atoi(argv[2]) : 2, V = argc > 3 ? atoi(argv[3]) : 512;
    int R = argc > 4 ? atoi(argv[4]) : 7 * 112;
    (void)L;
    openblas_set_num_threads(1);
    shape_t shapes[] = {
        {"qkv fwd", R, C, 3 * C, 0},     {"attproj fwd", R, C, C, 0},     {"fc fwd", R, C, 4 * C, 0},
        {"fcproj fwd", R, 4 * C, C, 0},  {"lm head fwd", R, C, V, 0},     {"qkv bwd", R, C, 3 * C, 1},
        {"attproj bwd", R, C, C, 1},     {"fc bwd", R, C, 4 * C, 1},      {"fcproj bwd", R, 4 * C, C, 1},
        {"lm head bwd", R, C, V, 1},
    };
    int ns = (int)(sizeof shapes / sizeof shapes[0]);
    printf("matmul kernels, 1 thread (rlgf: %s; OpenBLAS %s)\n", kern_simd_avx2() ? "AVX2 build, no FMA" : "SSE2 build",
           openblas_get_config());
    printf("%-16s %6s %6s %6s %10s %10s %7s\n", "layer (rows N)", "N", "C_in", "C_out", "rlgf GF/s", "BLAS GF/s", "ratio");
    double sr = 0, sb = 0, fl = 0;
    for (int i = 0; i < ns; i++) {
        shape_t *s = &shapes[i];
        float *x = rnd((size_t)s->N * s->K), *w = rnd((size_t)s->K * s->M), *out = rnd((size_t)s->N * s->M);
        float *dx = rnd((size_t)s->N * s->K), *dw = rnd((size_t)s->K * s->M);
        double g1 = gflops(s, 0, out, x, w, dx, dw), g2 = gflops(s, 1, out, x, w, dx, dw);
        double f = (s->kind ? 4.0 : 2.0) * s->N * s->K * s->M;
        sr += f / g1, sb += f / g2, fl += f;
        printf("%-16s %6d %6d %6d %10.1f %10.1f %6.0f%%\n", s->name, s->N, s->K, s->M, g1, g2, 100 * g1 / g2);
        free(x), free(w), free(out), free(dx), free(dw);
    }
    printf("%-16s %27s %10.1f %10.1f %6.0f%%   (time-weighted over the shapes)\n", "all", "", fl / sr, fl / sb,
           100 * sb / sr);
    return 0;
}
