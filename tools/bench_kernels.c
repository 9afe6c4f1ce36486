/* bench_kernels: rlgf's matmul kernel (sim/kern.c) next to OpenBLAS sgemm on the model's own
 * matmul shapes, in GFLOP/s, one thread. OpenBLAS is the yardstick only: it is linked into this
 * benchmark binary (built by `make bench`), never into rlgf.
 *
 * usage: bench_kernels [C L V ROWS]   (defaults: the IMDB model, C=32 L=2 V=512, 8 x 112 rows) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../sim/kern.h"

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *name;
    int N, K, M;
    int kind; /* 0: out = a b (forward, dinp: a row-major), 1: out += a^T b (dweight) */
} shape_t;

static float *rnd(size_t n) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)((double)rand() / RAND_MAX - 0.5);
    return x;
}

/* Runs fn for at least 0.2 s and returns the best GFLOP/s of 5 such rounds. */
static double gflops(const shape_t *s, int blas, float *out, const float *a, const float *b) {
    double flop = 2.0 * s->N * s->K * s->M, best = 0;
    for (int round = 0; round < 5; round++) {
        int reps = 0;
        double t0 = seconds(), t;
        do {
            if (blas) {
                if (s->kind == 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->N, s->M, s->K, 1.0f, a, s->K, b, s->M,
                                0.0f, out, s->M);
                else
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->N, s->M, s->K, 1.0f, a, s->N, b, s->M,
                                1.0f, out, s->M);
            } else {
                if (s->kind == 0)
                    kern_gemm(out, s->M, a, s->K, 1, b, s->M, NULL, 0, s->N, s->K, s->M);
                else
                    kern_gemm(out, s->M, a, 1, s->N, b, s->M, NULL, 1, s->N, s->K, s->M);
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
    int R = argc > 4 ? atoi(argv[4]) : 8 * 112;
    (void)L;
    openblas_set_num_threads(1);
    shape_t shapes[] = {
        {"qkv fwd", R, C, 3 * C, 0},        {"attproj fwd", R, C, C, 0},     {"fc fwd", R, C, 4 * C, 0},
        {"fcproj fwd", R, 4 * C, C, 0},     {"lm head fwd", R, C, V, 0},     {"fc dinp", R, 4 * C, C, 0},
        {"lm head dinp", R, V, C, 0},       {"qkv dweight", 3 * C, R, C, 1}, {"fc dweight", 4 * C, R, C, 1},
        {"fcproj dweight", C, R, 4 * C, 1}, {"lm head dweight", V, R, C, 1},
    };
    int ns = (int)(sizeof shapes / sizeof shapes[0]);
    printf("matmul kernels, 1 thread (rlgf: %s; OpenBLAS %s)\n", kern_simd_avx2() ? "AVX2 build, no FMA" : "SSE2 build",
           openblas_get_config());
    printf("%-16s %6s %6s %6s %10s %10s %7s\n", "shape", "N", "K", "M", "rlgf GF/s", "BLAS GF/s", "ratio");
    double sr = 0, sb = 0, fl = 0;
    for (int i = 0; i < ns; i++) {
        shape_t *s = &shapes[i];
        float *a = rnd((size_t)s->N * s->K), *b = rnd((size_t)s->K * s->M), *out = rnd((size_t)s->N * s->M);
        double g1 = gflops(s, 0, out, a, b), g2 = gflops(s, 1, out, a, b);
        double f = 2.0 * s->N * s->K * s->M;
        sr += f / g1, sb += f / g2, fl += f;
        printf("%-16s %6d %6d %6d %10.1f %10.1f %6.0f%%\n", s->name, s->N, s->K, s->M, g1, g2, 100 * g1 / g2);
        free(a), free(b), free(out);
    }
    printf("%-16s %27s %10.1f %10.1f %6.0f%%   (time-weighted over the shapes)\n", "all", "", fl / sr, fl / sb,
           100 * sb / sr);
    return 0;
}
