/* dmath: rlgf's own transcendental functions, the only place they are computed.
 *
 * Why: glibc's libm picks a different code path per CPU (with or without FMA, AVX2, ...) and per
 * version, and its last bits differ between them; other C libraries differ more. A run log must
 * not. Everything here is built from IEEE-754 double/float +, -, *, / (and exact conversions and
 * bit manipulation) in a fixed order, compiled with -ffp-contract=off and FLT_EVAL_METHOD 0, so
 * every platform with IEEE binary64/binary32 in round-to-nearest gives the same bits. The tables
 * and constants (sim/base/dmath_tables.h) were computed with MPFR (tools/dmath_gen.c).
 *
 * Functions and measured accuracy against MPFR (tests/test_dmath.c, >= 10^6 arguments each,
 * incl. subnormals, huge, tiny, -0, infinities, NaN); the bound asserted there is in brackets:
 *
 *   dm_exp(x)      e^x                  [0.52 ulp]  Tang's table method (ACM TOMS 15, 1989):
 *                                                   x = (64 m + j) ln2/64 + r, |r| <= ln2/128,
 *                                                   e^x = 2^m 2^(j/64) (1 + p(r)), p the Taylor
 *                                                   polynomial of degree 6 (truncation < 2^-64).
 *   dm_expm1(x)    e^x - 1              [0.52 ulp]  |x| <= 1/2: x + x^2/2 + x^3/6 exactly (Dekker's
 *                                                   product) + Taylor tail; else the exp
 *                                                   reduction, 2^m T_j - 1 by an exact TwoSum.
 *   dm_log(x)      natural log          [0.52 ulp]  Tang's table method (ACM TOMS 16, 1990):
 *                                                   x = 2^e (F + f), F = 1 + j/128, |f| <= 2^-8,
 *                                                   log x = e ln2 + log F + log1p(f/F), the sum
 *                                                   carried as a double-double.
 *   dm_log1p(x)    log(1 + x)           [0.52 ulp]  1 + x = s + t exactly (TwoSum), then
 *                                                   log(s) as a double-double + t/s.
 *   dm_pown(x, n)  x^n, n an int        [0.52 ulp]  binary powering in double-double (Dekker),
 *                                                   exponent carried separately, one rounding.
 *   dm_cos2pi(x)   cos(2 pi x)          [0.52 ulp]  exact reduction of x to [0, 1/8] (x is a
 *                                                   binary fraction, so x - round(x) is exact),
 *                                                   then Taylor sin/cos of 2 pi b with the
 *                                                   leading term as a double-double.
 *   dm_fexpf(x)    e^x in float         [1.03 ulp]  float arithmetic only (Cody-Waite reduction,
 *                                                   degree-7 Taylor): the model's exp (attention
 *                                                   softmax, GELU's sigmoid), also 8 at a time
 *                                                   (and for x <= 0 only, the softmax's case).
 *   dm_exp4(x)     dm_exp, 4 at a time  (its bits)  the log-softmax's exp.
 *
 * Error analyses are in the comments of dmath.c; the bounds above are those analyses rounded up,
 * and the test asserts the measured maximum stays below them. sqrt is not here: IEEE-754
 * requires it to be correctly rounded, so libm's sqrt is already the same everywhere.
 *
 * Special values follow C99 Annex F (exp(-inf) = 0, log(0) = -inf, log(-1) = NaN, log1p(-0) = -0,
 * pown(x, 0) = 1 even for NaN, ...); floating-point exceptions and errno are not set. */
#ifndef RLGF_DMATH_H
#define RLGF_DMATH_H

#include <float.h>
#include <stdint.h>
#include <string.h>

#if defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ != 0
#error "rlgf's maths needs FLT_EVAL_METHOD 0 (SSE2 on x86, not x87): double must round to double"
#endif

double dm_exp(double x);
double dm_expm1(double x);
double dm_log(double x);
double dm_log1p(double x);
double dm_pown(double x, int n);
double dm_cos2pi(double x);

/* ---- inline helpers and the float functions: the model's kernels call them per element ---- */

/* The nearest integer to |x| < 2^51 as a double (round half to even): adding 1.5 * 2^52 moves
 * the fraction bits out of the significand. Exact in IEEE double; needs FLT_EVAL_METHOD 0. */
static inline double dm_round_nearest(double x) { return (x + 0x1.8p52) - 0x1.8p52; }

/* 2^k as a double for k in [-1022, 1023], exactly */
static inline double dm_pow2i(int k) {
    uint64_t u = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- vector helpers: fixed-width GCC/clang vector types; always inlined, vectors never cross a
 * call ---- */

typedef double dm_vd4 __attribute__((vector_size(32)));
typedef long long dm_vl4 __attribute__((vector_size(32)));
typedef float dm_vf4 __attribute__((vector_size(16)));

#define DM_VINLINE static inline __attribute__((always_inline))
#define DM_BCD(x) ((dm_vd4){(x), (x), (x), (x)})
#define DM_SELD(m, a, b) ((dm_vd4)(((dm_vl4)(a) & (m)) | ((dm_vl4)(b) & ~(m))))

/* ---- e^x in float arithmetic only, for the model's activations (softmax, GELU's sigmoid) ----
 *
 * dm_fexpf(x): x = k ln2 + r, k = RN(x / ln2) by the 1.5 * 2^23 shift, r = (x - k LN2_HI) - k LN2_LO
 * (LN2_HI has 16 significant bits, so k LN2_HI is exact for |k| <= 151 and the first subtraction
 * is exact by Sterbenz), e^r = 1 + (r + r^2 q(r)) with q the Taylor polynomial of (e^r - 1 - r)/r^2
 * to degree 5 (truncation below 2^-28 relative on |r| <= ln2/2), then the scaling by 2^k split in
 * two exact powers so that subnormal results round once. Float +, -, * in a fixed order: every
 * lane of dm_fexpf8 gives dm_fexpf's bits. Accuracy: 1.0226 ulp at most over every float in
 * (-110, 90), measured once exhaustively against dm_exp; tests/test_dmath.c asserts 1.03 against
 * MPFR on 10^6 arguments. */
#define DM_FEXP_SHIFT 12582912.0f /* 1.5 * 2^23 */
#define DM_FEXP_LOG2E 1.44269502162933349609375f
#define DM_FEXP_LN2_HI 0.693145751953125f     /* 0x1.62e4p-1 */
#define DM_FEXP_LN2_LO 1.428606765330187045e-06f /* ln2 - LN2_HI rounded to float */

static inline float dm__f_of_u(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float dm_fexpf(float x) {
    if (x != x) return x + x;
    if (x >= 89.0f) return (float)(1e300 * 1e300);
    if (x < -104.0f) return 0.0f;
    float sh = x * DM_FEXP_LOG2E + DM_FEXP_SHIFT;
    float k = sh - DM_FEXP_SHIFT;
    float r = (x - k * DM_FEXP_LN2_HI) - k * DM_FEXP_LN2_LO;
    float q = 1.0f / 5040.0f;
    q = q * r + 1.0f / 720.0f;
    q = q * r + 1.0f / 120.0f;
    q = q * r + 1.0f / 24.0f;
    q = q * r + 1.0f / 6.0f;
    q = q * r + 0.5f;
    float e = 1.0f + (r + (r * r) * q);
    uint32_t ub;
    memcpy(&ub, &sh, sizeof ub);
    int32_t ki = (int32_t)(ub - 0x4B400000u), k1 = ki / 2, k2 = ki - k1;
    return (e * dm__f_of_u((uint32_t)(k1 + 127) << 23)) * dm__f_of_u((uint32_t)(k2 + 127) << 23);
}

typedef float dm_vf8 __attribute__((vector_size(32)));
typedef int32_t dm_vi8 __attribute__((vector_size(32)));
#define DM_BCF(x) ((dm_vf8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define DM_BCI(x) ((dm_vi8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define DM_SELF(m, a, b) ((dm_vf8)(((dm_vi8)(a) & (m)) | ((dm_vi8)(b) & ~(m))))

/* dm_fexpf's main path, 8 lanes, up to the scaling: *e = e^r and *ki = k for xc = k ln2 + r (every
 * lane's bits those of dm_fexpf's same steps). Pointers, not vector values, so that no ABI
 * depends on the vector width. */
DM_VINLINE void dm__fexpf8_poly(dm_vf8 *e, dm_vi8 *ki, const dm_vf8 *xcp) {
    dm_vf8 xc = *xcp;
    dm_vf8 sh = xc * DM_BCF(DM_FEXP_LOG2E) + DM_BCF(DM_FEXP_SHIFT);
    dm_vf8 k = sh - DM_BCF(DM_FEXP_SHIFT);
    dm_vf8 r = (xc - k * DM_BCF(DM_FEXP_LN2_HI)) - k * DM_BCF(DM_FEXP_LN2_LO);
    dm_vf8 q = DM_BCF(1.0f / 5040.0f);
    q = q * r + DM_BCF(1.0f / 720.0f);
    q = q * r + DM_BCF(1.0f / 120.0f);
    q = q * r + DM_BCF(1.0f / 24.0f);
    q = q * r + DM_BCF(1.0f / 6.0f);
    q = q * r + DM_BCF(0.5f);
    *e = DM_BCF(1.0f) + (r + (r * r) * q);
    *ki = (dm_vi8)sh - DM_BCI(0x4B400000);
}

/* dm_fexpf's main path, 8 lanes: *out = e^xc for xc in [-104, 89) (the callers clamp the other
 * lanes), scaled by 2^k in dm_fexpf's two steps */
DM_VINLINE void dm__fexpf8_core(dm_vf8 *out, const dm_vf8 *xcp) {
    dm_vf8 e;
    dm_vi8 ki;
    dm__fexpf8_poly(&e, &ki, xcp);
    dm_vi8 k1 = ki / 2, k2 = ki - k1;
    *out = (e * (dm_vf8)((k1 + 127) << 23)) * (dm_vf8)((k2 + 127) << 23);
}

/* out[i] = dm_fexpf(in[i]) for i < 8 (out may equal in) */
DM_VINLINE void dm_fexpf8(float *out, const float *in) {
    dm_vf8 x;
    memcpy(&x, in, sizeof x);
    dm_vi8 nan = x != x, big = x >= DM_BCF(89.0f), tiny = x < DM_BCF(-104.0f);
    dm_vf8 e, xc = DM_SELF(nan | big | tiny, DM_BCF(0.0f), x);
    dm__fexpf8_core(&e, &xc);
    e = DM_SELF(tiny, DM_BCF(0.0f), e);
    e = DM_SELF(big, DM_BCF(__builtin_inff()), e);
    e = DM_SELF(nan, x + x, e);
    memcpy(out, &e, sizeof e);
}

/* out[i] = dm_fexpf(in[i]) for i < 8 where in[i] <= 0 or -inf, the softmax's shifted scores (out may
 * equal in). dm_fexpf8 without its NaN and overflow lanes: x - max cannot overflow. A NaN argument
 * (a NaN score) still gives a NaN, with some payload, as every operation propagates it.
 * And with one scaling instead of two: dm_fexpf scales e (in [0.70, 1.42]) by 2^k1 then 2^k2,
 * k1 + k2 = k, so that the first product is exact and the second rounds once, to RN(e 2^k). For
 * x in [-104, 0], k is in [-150, 0], so e 2^(k+64) is a normal float, exact, and times 2^-64 it
 * rounds once to the same RN(e 2^k). The lanes below -104 (the masked scores, -inf) still take
 * x = 0 and give +0 by a select: computing them would underflow, which costs this CPU a slow
 * path per lane. Every non-positive float gives dm_fexpf's bits (checked exhaustively once;
 * tests/test_dmath.c checks every float in [-110, -80] and a sample of all others). */
DM_VINLINE void dm_fexpf8_nonpos(float *out, const float *in) {
    dm_vf8 x, e;
    dm_vi8 ki;
    memcpy(&x, in, sizeof x);
    dm_vi8 tiny = x < DM_BCF(-104.0f);
    dm_vf8 xc = DM_SELF(tiny, DM_BCF(0.0f), x);
    dm__fexpf8_poly(&e, &ki, &xc);
    e = (e * (dm_vf8)((ki + (127 + 64)) << 23)) * DM_BCF(0x1p-64f);
    e = DM_SELF(tiny, DM_BCF(0.0f), e);
    memcpy(out, &e, sizeof e);
}

/* ---- 4 doubles at a time: dm_exp lane by lane (tests/test_dmath.c checks the bits on 10^6
 * inputs). The lanes with x in [-700, 690] (the log-softmax's arguments, practically always) run
 * dm_exp's main path with the same constants in the same order: k = RN(x 64/ln2) by the 1.5 * 2^52
 * shift, r = (x - k L_HI) - k L_LO, the degree-6 polynomial, lo = T_LO[j] + T_HI[j] p, and the
 * scaling by 2^m, exact there (-1011 <= m <= 995: dm_exp's normal case of scale2_dd); |x| < 2^-54
 * takes 1 + x by a bit select as dm_exp does. A vector with any lane outside that range (NaN,
 * infinities, subnormal or overflowing results) computes those lanes with the scalar dm_exp. ---- */

typedef unsigned long long dm_vu4 __attribute__((vector_size(32)));

extern const double (*const dm__exp_tab)[2]; /* dmath_tables.h's DM_EXP_T: 2^(j/64) = [j][0] + [j][1] */

/* out[i] = dm_exp(in[i]) for i < 4 (out may equal in) */
DM_VINLINE void dm_exp4(double *out, const double *in) {
    dm_vd4 x;
    memcpy(&x, in, sizeof x);
    dm_vl4 ok = (x >= DM_BCD(-700.0)) & (x <= DM_BCD(690.0)); /* false for NaN */
    dm_vd4 xc = DM_SELD(ok, x, DM_BCD(0.0));
    dm_vd4 sh = xc * DM_BCD(0x1.71547652b82fep+6) + DM_BCD(0x1.8p52); /* DM_EXP_INV_L */
    dm_vd4 kd = sh - DM_BCD(0x1.8p52);
    dm_vd4 r = (xc - kd * DM_BCD(0x1.62e42ffp-7)) - kd * DM_BCD(-0x1.718432a1b0e26p-41); /* DM_EXP_L_HI, _LO */
    dm_vu4 ku = (dm_vu4)sh - (dm_vu4){0x4338000000000000ULL, 0x4338000000000000ULL, 0x4338000000000000ULL,
                                      0x4338000000000000ULL}; /* k, two's complement */
    dm_vu4 j = ku & 63u;
    /* 2^m with m = (k - j) / 64: (k - j) is a multiple of 64, so (k - j) << 46 is m << 52 */
    dm_vd4 p2m = (dm_vd4)(((ku - j) << 46) + (dm_vu4){0x3FF0000000000000ULL, 0x3FF0000000000000ULL,
                                                       0x3FF0000000000000ULL, 0x3FF0000000000000ULL});
    const double(*T)[2] = dm__exp_tab;
    dm_vd4 th = {T[j[0]][0], T[j[1]][0], T[j[2]][0], T[j[3]][0]};
    dm_vd4 tl = {T[j[0]][1], T[j[1]][1], T[j[2]][1], T[j[3]][1]};
    dm_vd4 q = DM_BCD(0x1.6c16c16c16c17p-10);  /* DM_INV_FACT[6] */
    q = q * r + DM_BCD(0x1.1111111111111p-7);  /* [5] */
    q = q * r + DM_BCD(0x1.5555555555555p-5);  /* [4] */
    q = q * r + DM_BCD(0x1.5555555555555p-3);  /* [3] */
    q = q * r + DM_BCD(0.5);
    dm_vd4 p = (q * r) * r + r;
    dm_vd4 lo = tl + th * p;
    dm_vd4 e = (th + lo) * p2m;
    dm_vd4 ax = (dm_vd4)((dm_vl4)x & (dm_vl4){0x7FFFFFFFFFFFFFFFLL, 0x7FFFFFFFFFFFFFFFLL, 0x7FFFFFFFFFFFFFFFLL,
                                              0x7FFFFFFFFFFFFFFFLL});
    e = DM_SELD(ax < DM_BCD(0x1p-54), DM_BCD(1.0) + x, e);
    memcpy(out, &e, sizeof e);
    if (__builtin_expect(!(ok[0] & ok[1] & ok[2] & ok[3]), 0))
        for (int i = 0; i < 4; i++)
            if (!ok[i]) out[i] = dm_exp(x[i]);
}

#endif
