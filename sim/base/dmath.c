/* dmath: double-precision exp, expm1, log, log1p, pown and cos(2 pi x) from IEEE +, -, *, /
 * only (see dmath.h for the why, the list and the bounds the test asserts).
 *
 * Building blocks, all exact in IEEE double with round to nearest (no FMA needed):
 *  - two_sum (Knuth): s + e = a + b exactly.
 *  - two_prod (Dekker/Veltkamp): p + e = a * b exactly, for |a|, |b| < 2^995.
 *  - dm_round_nearest: the nearest integer, by the 1.5 * 2^52 shift.
 * Results are accumulated as an unevaluated sum hi + lo (a "double-double") and rounded once at
 * the end, so each function's error is the final rounding (0.5 ulp) plus a small tail that the
 * comments bound. */
#include "dmath.h"

#include <math.h> /* INFINITY and NAN only: no libm function is called here */

#include "dmath_tables.h"

const double (*const dm__exp_tab)[2] = DM_EXP_T; /* for dm_exp4 (dmath.h) */

static inline uint64_t bits_of(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double double_of(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline double fabs_(double x) { return double_of(bits_of(x) & 0x7FFFFFFFFFFFFFFFull); }

static inline void two_sum(double a, double b, double *s, double *e) {
    double x = a + b, bb = x - a;
    *e = (a - (x - bb)) + (b - bb);
    *s = x;
}

static inline void split(double a, double *hi, double *lo) {
    double c = 134217729.0 * a; /* 2^27 + 1 */
    double h = c - (c - a);
    *hi = h;
    *lo = a - h;
}

static inline void two_prod(double a, double b, double *p, double *e) {
    double x = a * b, ah, al, bh, bl;
    split(a, &ah, &al);
    split(b, &bh, &bl);
    *e = ((ah * bh - x) + ah * bl + al * bh) + al * bl;
    *p = x;
}

/* RN(2^m (hi + lo)) for hi in [1, 2), |lo| < 2^-5, m in [-1080, 1030]: for normal results hi + lo
 * is rounded once and the scaling is exact (+inf past DBL_MAX). A subnormal result must not be
 * rounded twice (to 53 bits, then to the subnormal grid: up to 0.75 ulp), so there the exact sum
 * 2^-1022 + 2^m (hi + lo) is rounded once, scaled up by 2^1000 to stay clear of subnormals: its
 * ulp is the subnormal spacing, and subtracting 2^-1022 again is exact (Sterbenz). */
static inline double scale2_dd(double hi, double lo, int m) {
    if (m > 1000) return ((hi + lo) * dm_pow2i(m - 1000)) * 0x1p1000;
    if (m > -1022 || (m == -1022 && hi + lo >= 1.0)) return (hi + lo) * dm_pow2i(m);
    const double c = 0x1p-22; /* 2^-1022, scaled by 2^1000 */
    double p = dm_pow2i(m + 1000), s, e;
    two_sum(c, hi * p, &s, &e);
    double t = s + (e + lo * p);
    return (t - c) * 0x1p-1000;
}

/* ------------------------------------------------------------------------------------------
 * exp. x = k ln2/64 + r, k = RN(x 64/ln2), r = (x - k L_HI) - k L_LO: k L_HI is exact (32-bit
 * constant, |k| < 2^17) and so is x - k L_HI (Sterbenz), so r is within 2^-53 |r| + 2^-80 of
 * x - k ln2/64, |r| <= ln2/128 (1 + 2^-40). With k = 64 m + j:
 *   e^x = 2^m (T_HI[j] + T_LO[j]) (1 + p),  p = e^r - 1 by Taylor to degree 6 (error < 2^-64 |r|)
 *       = 2^m (T_HI[j] + (T_LO[j] + T_HI[j] p)).
 * The bracket is within (2^-53 |p| + 2^-100 + 2^-60) of exact relative to 2^(j/64), so the one
 * rounding of the sum gives < 0.5 + 2^-6 ulp; scale2_dd keeps it one rounding for subnormal
 * results too. */
static inline double exp_poly(double r) {
    double q = DM_INV_FACT[6];
    q = q * r + DM_INV_FACT[5];
    q = q * r + DM_INV_FACT[4];
    q = q * r + DM_INV_FACT[3];
    q = q * r + 0.5;
    return (q * r) * r + r;
}

/* e^x = 2^m (hi + lo) with hi = T_HI[j], |lo| < 2^-6 hi; x must be in [-746, 710]. */
static inline void exp_parts(double x, int *m, double *hi, double *lo) {
    double kd = dm_round_nearest(x * DM_EXP_INV_L);
    double r = (x - kd * DM_EXP_L_HI) - kd * DM_EXP_L_LO;
    int k = (int)kd;
    int j = (int)((unsigned)k & 63u);
    *m = (k - j) / 64;
    *hi = DM_EXP_T[j][0];
    *lo = DM_EXP_T[j][1] + DM_EXP_T[j][0] * exp_poly(r);
}

double dm_exp(double x) {
    if (x != x) return x + x;
    if (x > 709.8) return INFINITY;         /* e^709.79 > DBL_MAX; +inf */
    if (x < -745.2) return 0.0;             /* below half the least subnormal; -inf */
    if (fabs_(x) < 0x1p-54) return 1.0 + x; /* 1 + x is e^x correctly rounded */
    int m;
    double hi, lo;
    exp_parts(x, &m, &hi, &lo);
    return scale2_dd(hi, lo, m);
}

/* ------------------------------------------------------------------------------------------
 * expm1. |x| <= 1/2: x + x^2/2 + x^3 q(x): x^2 = h + l exactly (two_prod), x + h/2 = s + e
 * exactly (two_sum), x^3/6 likewise as a double-double (two_prod and an exact residual), the
 * rest x^4 q(x) (Taylor to degree 17, omitted < 2^-63 |x|) is below 0.6% of the result in plain
 * double: < 0.5 + 2^-5 ulp.
 * |x| > 1/2: e^x - 1 = (2^m hi - 1) + 2^m lo, 2^m hi - 1 = s + e exactly (two_sum; 2^m hi is
 * exact for m in [-55, 1022]), and 2^m lo (|lo| < 2^-6 hi) is within 2^-59.5 e^x, against a
 * result of at least 0.39 e^x: < 0.5 + 2^-5 ulp. */
double dm_expm1(double x) {
    if (x != x) return x + x;
    if (x > 709.8) return INFINITY;
    if (x < -38.0) return -1.0;      /* e^x < 2^-54: -1 + e^x rounds to -1; and -inf */
    double ax = fabs_(x);
    if (ax < 0x1p-54) return x;      /* x + x^2/2 rounds to x; keeps -0 and subnormals */
    if (ax <= 0.5) {
        double q = DM_INV_FACT[17];
        for (int n = 16; n >= 4; n--) q = q * x + DM_INV_FACT[n];
        double h, l, c, cl, c6, r, rl, s1, e1, s2, e2;
        two_prod(x, x, &h, &l);            /* x^2 = h + l */
        two_prod(x, h, &c, &cl);
        cl += x * l;                       /* x^3 = c + cl */
        c6 = c / 6.0;
        two_prod(c6, 6.0, &r, &rl);
        double c6l = (((c - r) - rl) + cl) / 6.0; /* x^3/6 = c6 + c6l */
        two_sum(x, 0.5 * h, &s1, &e1);
        two_sum(s1, c6, &s2, &e2);
        return s2 + ((e1 + e2) + (0.5 * l + c6l + ((h * h) * q)));
    }
    if (x > 709.0) return dm_exp(x); /* 2^m hi would overflow; 1 is far below half an ulp */
    int m;
    double hi, lo, s, e;
    exp_parts(x, &m, &hi, &lo);
    double p2 = dm_pow2i(m);
    two_sum(hi * p2, -1.0, &s, &e);
    return s + (e + lo * p2);
}

/* ------------------------------------------------------------------------------------------
 * log as a double-double. x = 2^e y, y in [1, 2) (subnormals scaled by 2^54 first); j =
 * RN(128 (y - 1)); j = 128 is folded into e + 1, y/2, j = 0, so that x near 1 from below has
 * e = 0. F = 1 + j/128, f = y - F exactly (Sterbenz), |f| <= 2^-8. u = f/F = q + ql with
 * ql = (f - q F)/F from the exact residual (two_prod), log1p(u) = q + ql - q ql - q^2/2 + q^3/3 ...
 * to q^10 (omitted < 2^-88). log x = e LN2_HI (exact: 42-bit constant, |e| < 2^11)
 * + LOG_F_HI[j] + q, summed by two_sum, + the small terms. The worst cancellation (e = -1,
 * j = 127: |log x| >= 2^-9 against terms of 0.69) magnifies the small terms' absolute error of
 * 2^-70 to 2^-61 relative, so log x = hi + lo within 2^-60 relative: < 0.5 + 2^-7 ulp. */
static void log_dd(double x, double *hi, double *lo) {
    int e = 0;
    if (x < 0x1p-1022) {
        x *= 0x1p54;
        e = -54;
    }
    uint64_t u = bits_of(x);
    e += (int)(u >> 52) - 1023;
    double y = double_of((u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
    int j = (int)dm_round_nearest((y - 1.0) * 128.0);
    if (j == 128) {
        e += 1;
        y *= 0.5;
        j = 0;
    }
    double F = 1.0 + (double)j * 0x1p-7;
    double f = y - F;
    double q = f / F, p, pe;
    two_prod(q, F, &p, &pe);
    double ql = ((f - p) - pe) / F;
    double t = 0.1;                          /* 1/10 */
    t = t * -q + 0x1.c71c71c71c71cp-4;       /* 1/9 */
    t = t * -q + 0.125;                      /* 1/8 */
    t = t * -q + 0x1.2492492492492p-3;       /* 1/7 */
    t = t * -q + 0x1.5555555555555p-3;       /* 1/6 */
    t = t * -q + 0.2;                        /* 1/5 */
    t = t * -q + 0.25;                       /* 1/4 */
    t = t * -q + 0x1.5555555555555p-2;       /* 1/3 */
    t = t * -q + 0.5;                        /* 1/2 */
    /* log1p(q) - q = -q^2 (1/2 - q/3 + q^2/4 - ...) = -q^2 t */
    double small = (ql - q * ql) - (q * q) * t;
    double ed = (double)e, s1, e1, s2, e2;
    two_sum(ed * DM_LN2_HI, DM_LOG_F[j][0], &s1, &e1);
    two_sum(s1, q, &s2, &e2);
    double rest = (e1 + e2) + ((ed * DM_LN2_LO + DM_LOG_F[j][1]) + small);
    double h = s2 + rest;
    *hi = h;
    *lo = rest - (h - s2);
}

double dm_log(double x) {
    if (x != x) return x + x;
    if (x == 0.0) return -INFINITY;
    if (x < 0.0) return NAN;
    if (x == INFINITY) return x;
    double hi, lo;
    log_dd(x, &hi, &lo);
    return hi + lo;
}

/* log1p: |x| < 2^-20: x - x^2/2 + x^3/3 - x^4/4 (omitted < 2^-80 |x|), the tail below 2^-20 |x|.
 * Else 1 + x = s + t exactly (two_sum), log(s + t) = log(s) + t/s + O(2^-106): the double-double
 * log of s plus t/s (|t/s| <= 2^-53 against a result above 2^-21), rounded once. */
double dm_log1p(double x) {
    if (x != x) return x + x;
    if (x == -1.0) return -INFINITY;
    if (x < -1.0) return NAN;
    if (x == INFINITY) return x;
    if (fabs_(x) < 0x1p-54) return x; /* log1p(x) = x - x^2/2 rounds to x; keeps -0 and subnormals */
    if (fabs_(x) < 0x1p-20) return x + (x * x) * (-0.5 + x * (0x1.5555555555555p-2 - 0.25 * x));
    double s, t, hi, lo;
    two_sum(1.0, x, &s, &t);
    log_dd(s, &hi, &lo);
    return hi + (lo + t / s);
}

/* ------------------------------------------------------------------------------------------
 * pown. |x| = 2^ea ma, ma in [1, 2); ma^|n| by binary powering on double-doubles (h, l) kept in
 * [1, 2) by exact halvings counted in an int64 exponent; each product is two_prod + cross terms,
 * relative error < 2^-100 per step, at most 64 steps. n < 0: the double-double reciprocal. Then
 * 2^E (h + l) rounded once (twice only for subnormal results: < 0.5 ulp + 2^-90 relative). */
typedef struct {
    double h, l;
} dd_t;

static inline dd_t dd_mul(dd_t a, dd_t b) {
    double p, e;
    two_prod(a.h, b.h, &p, &e);
    e += a.h * b.l + a.l * b.h;
    dd_t r;
    r.h = p + e;
    r.l = e - (r.h - p);
    return r;
}

/* keeps h in [1, 2) by halving (exact), counting the halvings in *E */
static inline dd_t dd_norm(dd_t a, int64_t *E) {
    if (a.h >= 2.0) {
        a.h *= 0.5;
        a.l *= 0.5;
        *E += 1;
    }
    return a;
}

double dm_pown(double x, int n) {
    if (n == 0) return 1.0;
    int neg_result = x < 0.0 && (n & 1); /* also the sign of -0 and -inf for odd n */
    if (x != x) return x + x;
    if (x == 0.0 || fabs_(x) == INFINITY) {
        int big = (x != 0.0) == (n > 0); /* inf^+n and 0^-n are infinite */
        double r = big ? INFINITY : 0.0;
        return (bits_of(x) >> 63) && (n & 1) ? -r : r; /* odd n keeps the sign, -0 included */
    }
    uint64_t u = bits_of(fabs_(x));
    int64_t ea = 0;
    double a = fabs_(x);
    if (a < 0x1p-1022) {
        a *= 0x1p54;
        ea = -54;
        u = bits_of(a);
    }
    ea += (int64_t)(u >> 52) - 1023;
    dd_t base = {double_of((u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull), 0.0};
    dd_t acc = {1.0, 0.0};
    int64_t E = 0, Eb = 0;
    uint64_t k = n < 0 ? (uint64_t)(-(int64_t)n) : (uint64_t)n;
    while (k) {
        if (k & 1u) {
            acc = dd_mul(acc, base);
            E += Eb;
            acc = dd_norm(acc, &E);
        }
        k >>= 1;
        if (k) {
            base = dd_mul(base, base);
            Eb *= 2;
            base = dd_norm(base, &Eb);
        }
    }
    E += ea * (int64_t)(n < 0 ? -(int64_t)n : (int64_t)n);
    if (n < 0) {
        /* 1 / (h + l): q = 1/h, then one Newton correction from the exact residual 1 - q (h + l) */
        double q = 1.0 / acc.h, p, pe;
        two_prod(q, acc.h, &p, &pe);
        double res = ((1.0 - p) - pe) - q * acc.l;
        dd_t inv = {q, res * q};
        acc.h = inv.h + inv.l;
        acc.l = inv.l - (acc.h - inv.h);
        /* acc in (1/2, 1]: bring it back to [1, 2) */
        acc.h *= 2.0;
        acc.l *= 2.0;
        E = -E - 1;
        if (acc.h >= 2.0) { /* h + l was exactly 1 */
            acc.h *= 0.5;
            acc.l *= 0.5;
            E += 1;
        }
    }
    double r;
    if (E > 1024) r = INFINITY;
    else if (E < -1080) r = 0.0;
    else r = scale2_dd(acc.h, acc.l, (int)E);
    return neg_result ? -r : r;
}

/* ------------------------------------------------------------------------------------------
 * cos(2 pi x). v = x - RN(x) is exact (|v| <= 1/2), a = |v|; cos(2 pi a) is cos2pi_small(a) on
 * [0, 1/8], sin2pi_small(1/4 - a) on (1/8, 3/8] and -cos2pi_small(1/2 - a) above (both
 * differences exact, Sterbenz). On |b| <= 1/8 (angle <= pi/4), with z = b^2:
 *   cos(2 pi b) = 1 - 2 pi^2 z + z^2 C(z)      sin(2 pi b) = 2 pi b + b z S(z),
 * Taylor to degree 20 / 21 (omitted < 2^-60). The two leading terms of each (up to 0.31 and
 * 0.022 of cos, 1 and 0.11 of sin) are double-doubles by two_prod and double-double constants;
 * the tails left in plain double are below 0.0005 (cos) and 0.004 (sin) of the result:
 * < 0.5 + 2^-6 ulp. */
static double cos2pi_small(double b) {
    double zh, zl, ph, pl;
    two_prod(b, b, &zh, &zl);
    two_prod(DM_TWO_PI2_HI, zh, &ph, &pl);
    pl += DM_TWO_PI2_HI * zl + DM_TWO_PI2_LO * zh;
    double z2h, z2l, ch, cl;
    two_prod(zh, zh, &z2h, &z2l);
    z2l += 2.0 * zh * zl;                          /* b^4 = z2h + z2l */
    two_prod(DM_COS2PI_C2_HI, z2h, &ch, &cl);
    cl += DM_COS2PI_C2_HI * z2l + DM_COS2PI_C2_LO * z2h; /* C2 b^4, C2 = (2 pi)^4 / 24 */
    double t = DM_COS2PI_C[10];
    for (int k = 9; k >= 3; k--) t = t * zh + DM_COS2PI_C[k];
    double tail = (z2h * zh) * t;
    double s, e, s2, e2;
    two_sum(1.0, -ph, &s, &e);
    two_sum(s, ch, &s2, &e2);
    return s2 + (((e + e2) - pl + cl) + tail);
}

static double sin2pi_small(double b) {
    double ph, pl, zh, zl, b3h, b3l, ch, cl, s, e;
    two_prod(DM_TWO_PI_HI, b, &ph, &pl);
    pl += DM_TWO_PI_LO * b;
    two_prod(b, b, &zh, &zl);
    two_prod(b, zh, &b3h, &b3l);
    b3l += b * zl;                                 /* b^3 = b3h + b3l */
    two_prod(DM_COS2PI_S1_HI, b3h, &ch, &cl);
    cl += DM_COS2PI_S1_HI * b3l + DM_COS2PI_S1_LO * b3h; /* S1 b^3, S1 = -(2 pi)^3 / 6 */
    double t = DM_COS2PI_S[10];
    for (int k = 9; k >= 2; k--) t = t * zh + DM_COS2PI_S[k];
    double tail = (b3h * zh) * t;
    two_sum(ph, ch, &s, &e);
    return s + ((e + pl + cl) + tail);
}

double dm_cos2pi(double x) {
    if (x != x || fabs_(x) == INFINITY) return NAN;
    double ax = fabs_(x), a;
    if (ax >= 0x1p52) return 1.0; /* every double >= 2^52 is an integer */
    if (ax >= 0x1p51) {
        /* a multiple of 1/2: cos is +1 or -1 by the parity of 2x (an integer below 2^53) */
        uint64_t twice = (uint64_t)(2.0 * ax);
        return (twice & 1u) ? -1.0 : 1.0;
    }
    a = fabs_(ax - dm_round_nearest(ax));
    if (a <= 0.125) return cos2pi_small(a);
    if (a <= 0.375) return sin2pi_small(0.25 - a);
    return -cos2pi_small(0.5 - a);
}
