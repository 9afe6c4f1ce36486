/* diff: see diff.h.
 *
 * Run order. Every trajectory is logged in the order it was generated, each evaluation row right
 * after its trajectories and each iterations/ row right after its training batch, so the run order
 * of any element is a key (trajectory row, position):
 *   per-token element        (trajectory t, token position p)
 *   per-trajectory element   (t, after its tokens)
 *   iterations/ row r        (last trajectory of the training batch of iteration r, after it)
 *   eval/ row r              (last trajectory of the r-th evaluation batch, after it)
 *   anything else            (after everything, by element index)
 * Ties go to the dataset written first (creation order). A batch is a maximal run of
 * trajectories with equal (iteration, split, who). */
#include "diff.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/store/h5read.h"
#include "../sim/store/schema.h"
#include "../sim/base/runcodes.h"

#define SUB_TRAJ (INT64_C(1) << 40) /* after every token position */
#define SUB_ROW (INT64_C(2) << 40)  /* after the batch's per-trajectory fields */

void diff_opts_default(diff_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->max = 1;
}

int diff_parse_tol(const char *s, diff_opts_t *o, err_t *err) {
    char *end;
    double rel = strtod(s, &end), abs = 0;
    if (end == s || !(rel >= 0) || rel > 1e300) goto bad;
    if (*end == ',') {
        const char *p = end + 1;
        abs = strtod(p, &end);
        if (end == p || !(abs >= 0) || abs > 1e300) goto bad;
    }
    if (*end) goto bad;
    o->tol = 1;
    o->rel = rel;
    o->abs = abs;
    return 0;
bad:
    return err_set(err, "--tol '%s': expected REL or REL,ABS (non-negative numbers, e.g. 1e-6 or 1e-6,1e-9)", s);
}

/* ---------------------------------------------------------------- one run ------------------ */

enum { CLS_FLAT = 0, CLS_TOKEN, CLS_TRAJ, CLS_ITER_ROW, CLS_EVAL_ROW };

typedef struct {
    const char *file;
    h5read_listing_t ls;
    /* trajectory structure (ok = 0 when missing or inconsistent) */
    int ok;
    int64_t ntraj, ntok;
    int64_t *len, *off, *iter, *split, *who, *prompt; /* per trajectory; the last four may be NULL */
    int64_t *batch0;                                  /* first trajectory of t's batch */
    int64_t niter, neval;
    int64_t *iter_t, *eval_t; /* per iterations/ and eval/ row: its batch's last trajectory, or -1 */
    int64_t *it_iter, *ev_iter, *ev_split, *ev_who;
    char note[300];
} run_t;

static const h5read_dataset_t *find_ds(const run_t *R, const char *path) {
    for (size_t i = 0; i < R->ls.n_datasets; i++)
        if (strcmp(R->ls.datasets[i].path, path) == 0) return &R->ls.datasets[i];
    return NULL;
}

static const char *find_attr(const run_t *R, const char *object, const char *name) {
    for (size_t i = 0; i < R->ls.n_attrs; i++)
        if (!strcmp(R->ls.attrs[i].object, object) && !strcmp(R->ls.attrs[i].name, name)) return R->ls.attrs[i].value;
    return NULL;
}

static double elem_d(const h5read_array_t *a, uint64_t i) {
    switch (a->kind) {
    case H5READ_FLOAT: return a->size == 4 ? (double)((const float *)a->data)[i] : ((const double *)a->data)[i];
    case H5READ_INT: return (double)((const int64_t *)a->data)[i];
    case H5READ_UINT: return (double)((const uint64_t *)a->data)[i];
    default: return NAN;
    }
}

/* A 1-D numeric dataset as int64 (NULL, n = -1 when absent or not 1-D numeric); -1 on read error. */
static int read_i64(const run_t *R, const char *path, int64_t **v, int64_t *n, err_t *err) {
    *v = NULL;
    *n = -1;
    const h5read_dataset_t *d = find_ds(R, path);
    if (!d || d->rank != 1 || d->kind == H5READ_OTHER || !d->readable) return 0;
    h5read_array_t a;
    if (h5read_array(R->file, path, &a, err)) return -1;
    *v = malloc((a.n ? a.n : 1) * sizeof **v);
    if (!*v) {
        h5read_array_free(&a);
        return err_set(err, "'%s': out of memory", R->file);
    }
    for (uint64_t i = 0; i < a.n; i++) {
        if (a.kind == H5READ_INT) (*v)[i] = ((const int64_t *)a.data)[i];
        else if (a.kind == H5READ_UINT) (*v)[i] = (int64_t)((const uint64_t *)a.data)[i];
        else {
            double x = elem_d(&a, i);
            (*v)[i] = x == x && x > -9e18 && x < 9e18 ? (int64_t)x : INT64_MIN;
        }
    }
    *n = (int64_t)a.n;
    h5read_array_free(&a);
    return 0;
}

static void run_free(run_t *R) {
    h5read_listing_free(&R->ls);
    free(R->len), free(R->off), free(R->iter), free(R->split), free(R->who), free(R->prompt);
    free(R->batch0), free(R->iter_t), free(R->eval_t);
    free(R->it_iter), free(R->ev_iter), free(R->ev_split), free(R->ev_who);
}

static int same_batch(const run_t *R, int64_t s, int64_t t) {
    return (!R->iter || R->iter[s] == R->iter[t]) && (!R->split || R->split[s] == R->split[t]) &&
           (!R->who || R->who[s] == R->who[t]);
}

/* Reads the columns that place an element in the run: trajectory lengths and offsets, and which
 * batch each iterations/ and eval/ row belongs to. */
static int read_structure(run_t *R, err_t *err) {
    int64_t n_len, n_off, n, n_tok = -1;
    if (read_i64(R, "/trajectories/length", &R->len, &n_len, err) ||
        read_i64(R, "/trajectories/token_offset", &R->off, &n_off, err))
        return -1;
    const h5read_dataset_t *tok = find_ds(R, "/trajectories/token");
    if (tok && tok->rank == 1) n_tok = (int64_t)tok->n;
    if (!R->len || !R->off || n_len != n_off) {
        snprintf(R->note, sizeof R->note, "no consistent /trajectories/length and token_offset");
        return 0;
    }
    R->ntraj = n_len;
    int64_t end = 0;
    for (int64_t t = 0; t < R->ntraj; t++) {
        if (R->len[t] < 0 || R->off[t] < 0 || R->len[t] > INT64_MAX / 2 || R->off[t] > INT64_MAX / 2) {
            snprintf(R->note, sizeof R->note, "trajectory %" PRId64 " has length %" PRId64 " at offset %" PRId64, t,
                     R->len[t], R->off[t]);
            return 0;
        }
        if (R->off[t] + R->len[t] > end) end = R->off[t] + R->len[t];
    }
    R->ntok = n_tok >= 0 ? n_tok : end;
    if (end > R->ntok) {
        snprintf(R->note, sizeof R->note, "token_offset + length reach %" PRId64 " but /trajectories/token has %" PRId64 " rows",
                 end, R->ntok);
        return 0;
    }
    static const char *const opt[] = {"/trajectories/iteration", "/trajectories/split", "/trajectories/who",
                                      "/trajectories/prompt_index"};
    int64_t **dst[] = {&R->iter, &R->split, &R->who, &R->prompt};
    for (int k = 0; k < 4; k++) {
        if (read_i64(R, opt[k], dst[k], &n, err)) return -1;
        if (*dst[k] && n != R->ntraj) {
            free(*dst[k]);
            *dst[k] = NULL;
        }
    }
    R->batch0 = malloc((size_t)(R->ntraj ? R->ntraj : 1) * sizeof *R->batch0);
    if (!R->batch0) return err_set(err, "'%s': out of memory", R->file);
    for (int64_t t = 0; t < R->ntraj; t++) R->batch0[t] = t > 0 && same_batch(R, t - 1, t) ? R->batch0[t - 1] : t;
    R->ok = 1;

    /* rows of iterations/ and eval/ to the batch they follow */
    if (read_i64(R, "/iterations/iteration", &R->it_iter, &R->niter, err) ||
        read_i64(R, "/eval/iteration", &R->ev_iter, &R->neval, err))
        return -1;
    int64_t n_split = -1, n_who = -1;
    if (read_i64(R, "/eval/split", &R->ev_split, &n_split, err) || read_i64(R, "/eval/who", &R->ev_who, &n_who, err))
        return -1;
    if (R->niter < 0) R->niter = 0;
    if (R->neval < 0) R->neval = 0;
    R->iter_t = malloc((size_t)(R->niter + 1) * sizeof *R->iter_t);
    R->eval_t = malloc((size_t)(R->neval + 1) * sizeof *R->eval_t);
    if (!R->iter_t || !R->eval_t) return err_set(err, "'%s': out of memory", R->file);
    for (int64_t r = 0; r < R->niter; r++) R->iter_t[r] = -1;
    for (int64_t r = 0; r < R->neval; r++) R->eval_t[r] = -1;
    if (!R->split || !R->iter) return 0;
    int64_t ri = 0, re = 0;
    for (int64_t t = 0; t < R->ntraj; t++) {
        if (t + 1 < R->ntraj && R->batch0[t + 1] == R->batch0[t]) continue; /* t: last of its batch */
        if (R->split[t] == 0) {
            if (ri < R->niter && R->it_iter[ri] == R->iter[t]) R->iter_t[ri] = t;
            ri++;
        } else {
            if (re < R->neval && R->ev_iter[re] == R->iter[t] && (!R->ev_split || n_split != R->neval || R->ev_split[re] == R->split[t]) &&
                (!R->ev_who || !R->who || n_who != R->neval || R->ev_who[re] == R->who[t]))
                R->eval_t[re] = t;
            re++;
        }
    }
    return 0;
}

static int run_open(run_t *R, const char *file, err_t *err) {
    memset(R, 0, sizeof *R);
    R->file = file;
    if (h5read_list(file, "/timing", &R->ls, err)) return -1;
    if (!find_attr(R, "/", schema_attr(ATTR_SCHEMA_VERSION)))
        return err_set(err, "'%s' is not an rlgf run log (HDF5, but no root attribute 'schema_version')", file);
    return read_structure(R, err);
}

/* ---------------------------------------------------------------- comparing values --------- */

/* Whether element i of a and j of b differ; *absd and *reld get |a-b| and |a-b| / max(|a|,|b|)
 * (NaN when not numeric or exactly one side is NaN). */
static int differs(const h5read_array_t *a, uint64_t i, const h5read_array_t *b, uint64_t j, const diff_opts_t *o,
                   double *absd, double *reld) {
    *absd = *reld = NAN;
    if (a->kind == H5READ_OTHER || b->kind == H5READ_OTHER)
        return !(a->kind == b->kind && a->size == b->size &&
                 memcmp((const char *)a->data + i * a->size, (const char *)b->data + j * b->size, a->size) == 0);
    double da = elem_d(a, i), db = elem_d(b, j);
    int nan_a = da != da, nan_b = db != db;
    if (nan_a || nan_b) {
        if (nan_a && nan_b) *absd = *reld = 0;
    } else if (da == db) {
        *absd = *reld = 0;
    } else {
        *absd = fabs(da - db);
        double m = fabs(da) > fabs(db) ? fabs(da) : fabs(db);
        *reld = *absd / m;
        if (*reld != *reld) *reld = INFINITY; /* inf against a finite number */
    }
    if (a->kind != H5READ_FLOAT && b->kind != H5READ_FLOAT) {
        if (a->kind == b->kind)
            return memcmp((const char *)a->data + i * 8, (const char *)b->data + j * 8, 8) != 0;
        int64_t s = a->kind == H5READ_INT ? ((const int64_t *)a->data)[i] : ((const int64_t *)b->data)[j];
        uint64_t u = a->kind == H5READ_UINT ? ((const uint64_t *)a->data)[i] : ((const uint64_t *)b->data)[j];
        return s < 0 || (uint64_t)s != u;
    }
    if (o->tol) {
        if (nan_a || nan_b) return !(nan_a && nan_b);
        if (da == db) return 0;
        double m = fabs(da) > fabs(db) ? fabs(da) : fabs(db);
        return !(fabs(da - db) <= o->abs + o->rel * m);
    }
    if (a->kind == b->kind && a->size == b->size) /* bitwise: -0 differs from 0, NaN payloads count */
        return memcmp((const char *)a->data + i * a->size, (const char *)b->data + j * b->size, a->size) != 0;
    if (nan_a || nan_b) return !(nan_a && nan_b);
    return !(da == db && signbit(da) == signbit(db));
}

static void fmt_elem(const h5read_array_t *a, int64_t i, char *buf, size_t len) {
    if (a->kind == H5READ_FLOAT) {
        double v = elem_d(a, (uint64_t)i);
        if (a->size == 4) snprintf(buf, len, "%.9g (float32 %a)", v, v);
        else snprintf(buf, len, "%.17g (%a)", v, v);
    } else if (a->kind == H5READ_INT) {
        snprintf(buf, len, "%" PRId64, ((const int64_t *)a->data)[i]);
    } else if (a->kind == H5READ_UINT) {
        snprintf(buf, len, "%" PRIu64, ((const uint64_t *)a->data)[i]);
    } else {
        const unsigned char *p = (const unsigned char *)a->data + (size_t)i * a->size;
        size_t k = 0;
        k += (size_t)snprintf(buf, len, "bytes ");
        for (unsigned b = 0; b < a->size && k + 3 < len; b++) k += (size_t)snprintf(buf + k, len - k, "%02x", p[b]);
    }
}

/* ---------------------------------------------------------------- differences -------------- */

typedef struct {
    int64_t t, sub; /* run-order key */
    int ds;         /* dataset (order among datasets breaks ties) */
    int cls;
    int64_t ia, ib;   /* element in A / B, -1 when that file has none */
    int64_t tt, pos;  /* trajectory and token position (CLS_TOKEN, CLS_TRAJ) */
    int64_t row;      /* row (CLS_ITER_ROW, CLS_EVAL_ROW, CLS_FLAT) */
    char va[80], vb[80];
} point_t;

static int point_cmp(const point_t *x, const point_t *y) {
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->sub != y->sub) return x->sub < y->sub ? -1 : 1;
    return x->ds < y->ds ? -1 : x->ds > y->ds;
}
static int point_qcmp(const void *x, const void *y) { return point_cmp(x, y); }

typedef struct {
    const char *path;
    const h5read_dataset_t *da, *db;
    int cls;
    uint64_t ndiff, total, pairs; /* pairs: elements present in both files */
    double max_abs, max_rel;
    int nan_mismatch, numeric, compared;
    point_t *first; /* the earliest differences in run order, sorted, at most keep */
    size_t nfirst, capfirst;
    int oom;
} dsres_t;

typedef struct {
    const run_t *A, *B;
    const diff_opts_t *o;
    size_t keep;
} ctx_t;

static void record(const ctx_t *C, dsres_t *r, point_t *p, const h5read_array_t *a, const h5read_array_t *b,
                   const char *missing_a, const char *missing_b) {
    r->ndiff++;
    if (r->nfirst == C->keep && point_cmp(p, &r->first[r->nfirst - 1]) >= 0) return;
    if (p->ia >= 0) fmt_elem(a, p->ia, p->va, sizeof p->va);
    else snprintf(p->va, sizeof p->va, "%s", missing_a);
    if (p->ib >= 0) fmt_elem(b, p->ib, p->vb, sizeof p->vb);
    else snprintf(p->vb, sizeof p->vb, "%s", missing_b);
    if (r->nfirst < C->keep && r->nfirst == r->capfirst) { /* grows only as differences appear */
        size_t cap = r->capfirst ? 2 * r->capfirst : 4;
        if (cap > C->keep) cap = C->keep;
        point_t *f = realloc(r->first, cap * sizeof *f);
        if (!f) {
            r->oom = 1;
            return;
        }
        r->first = f;
        r->capfirst = cap;
    }
    size_t k = r->nfirst < C->keep ? r->nfirst++ : r->nfirst - 1;
    while (k > 0 && point_cmp(p, &r->first[k - 1]) < 0) {
        r->first[k] = r->first[k - 1];
        k--;
    }
    r->first[k] = *p;
}

static void pair(const ctx_t *C, dsres_t *r, point_t *p, const h5read_array_t *a, const h5read_array_t *b,
                 const char *missing_a, const char *missing_b) {
    r->total++;
    if (p->ia < 0 || p->ib < 0) {
        record(C, r, p, a, b, missing_a, missing_b);
        return;
    }
    r->pairs++;
    double ad, rd;
    int d = differs(a, (uint64_t)p->ia, b, (uint64_t)p->ib, C->o, &ad, &rd);
    if (ad == ad) {
        if (ad > r->max_abs) r->max_abs = ad;
        if (rd > r->max_rel) r->max_rel = rd;
    } else if (d && a->kind != H5READ_OTHER && b->kind != H5READ_OTHER) {
        r->nan_mismatch = 1;
    }
    if (d) record(C, r, p, a, b, missing_a, missing_b);
}

/* Run-order key of row r of a table (iterations/ or eval/), from whichever file has the row. */
static void row_key(const ctx_t *C, int cls, int64_t r, point_t *p) {
    const run_t *R[2] = {C->A, C->B};
    p->t = INT64_MAX;
    p->sub = r;
    for (int k = 0; k < 2; k++) {
        int64_t n = cls == CLS_ITER_ROW ? R[k]->niter : R[k]->neval;
        const int64_t *map = cls == CLS_ITER_ROW ? R[k]->iter_t : R[k]->eval_t;
        if (R[k]->ok && map && r < n && map[r] >= 0) {
            p->t = map[r];
            p->sub = SUB_ROW;
            return;
        }
    }
}

static void compare_arrays(const ctx_t *C, dsres_t *r, int ds, const h5read_array_t *a, const h5read_array_t *b) {
    const run_t *A = C->A, *B = C->B;
    point_t p;
    memset(&p, 0, sizeof p);
    p.ds = ds;
    p.cls = r->cls;
    p.tt = p.pos = p.row = -1;
    char ma[64], mb[64];
    if (r->cls == CLS_TOKEN) {
        int64_t nt = A->ntraj > B->ntraj ? A->ntraj : B->ntraj;
        for (int64_t t = 0; t < nt; t++) {
            int64_t la = t < A->ntraj ? A->len[t] : 0, lb = t < B->ntraj ? B->len[t] : 0;
            int64_t lm = la > lb ? la : lb;
            if (la != lb) {
                if (t < A->ntraj) snprintf(ma, sizeof ma, "(none: the trajectory has %" PRId64 " tokens)", la);
                else snprintf(ma, sizeof ma, "(none: %" PRId64 " trajectories)", A->ntraj);
                if (t < B->ntraj) snprintf(mb, sizeof mb, "(none: the trajectory has %" PRId64 " tokens)", lb);
                else snprintf(mb, sizeof mb, "(none: %" PRId64 " trajectories)", B->ntraj);
            }
            for (int64_t q = 0; q < lm; q++) {
                p.t = p.tt = t;
                p.sub = p.pos = q;
                p.ia = q < la ? A->off[t] + q : -1;
                p.ib = q < lb ? B->off[t] + q : -1;
                pair(C, r, &p, a, b, ma, mb);
            }
        }
        return;
    }
    uint64_t n = a->n > b->n ? a->n : b->n;
    snprintf(ma, sizeof ma, "(none: %" PRIu64 " %s)", a->n, r->cls == CLS_TRAJ ? "trajectories" : "rows");
    snprintf(mb, sizeof mb, "(none: %" PRIu64 " %s)", b->n, r->cls == CLS_TRAJ ? "trajectories" : "rows");
    for (uint64_t i = 0; i < n; i++) {
        p.ia = i < a->n ? (int64_t)i : -1;
        p.ib = i < b->n ? (int64_t)i : -1;
        p.row = (int64_t)i;
        if (r->cls == CLS_TRAJ) {
            p.t = p.tt = (int64_t)i;
            p.sub = SUB_TRAJ;
        } else if (r->cls == CLS_ITER_ROW || r->cls == CLS_EVAL_ROW) {
            row_key(C, r->cls, (int64_t)i, &p);
        } else {
            p.t = INT64_MAX;
            p.sub = (int64_t)i;
        }
        pair(C, r, &p, a, b, ma, mb);
    }
}

static int starts_with(const char *s, const char *pre) { return strncmp(s, pre, strlen(pre)) == 0; }

/* How the elements of a dataset present in both files are placed in the run. */
static int classify(const run_t *A, const run_t *B, const h5read_dataset_t *da, const h5read_dataset_t *db) {
    if (da->rank != 1 || db->rank != 1) return CLS_FLAT;
    const char *p = da->path;
    if (starts_with(p, "/iterations/") && !strchr(p + 12, '/')) return CLS_ITER_ROW;
    if (starts_with(p, "/eval/") && !strchr(p + 6, '/')) return CLS_EVAL_ROW;
    if (!starts_with(p, "/trajectories/") || strchr(p + 14, '/') || !A->ok || !B->ok) return CLS_FLAT;
    int traj = (int64_t)da->n == A->ntraj && (int64_t)db->n == B->ntraj;
    int tok = (int64_t)da->n == A->ntok && (int64_t)db->n == B->ntok;
    /* when every trajectory has one token both fit: the per-trajectory columns are known by name */
    static const char *const per_traj[] = {"iteration", "split", "who", "prompt_index", "u", "k", "length",
                                           "task_reward", "return", "token_offset", NULL};
    int named = starts_with(p + 14, "metric_");
    for (int i = 0; per_traj[i]; i++) named |= !strcmp(p + 14, per_traj[i]);
    if (traj && (!tok || named)) return CLS_TRAJ;
    if (tok) return CLS_TOKEN;
    return CLS_FLAT;
}

/* ---------------------------------------------------------------- printing ----------------- */


/* "iteration 1, training batch, trajectory 3 of 8 (row 19), prompt 11" */
static void describe_traj(FILE *out, const run_t *R, int64_t t) {
    if (!R->ok || t >= R->ntraj) {
        fprintf(out, "trajectory row %" PRId64, t);
        return;
    }
    int64_t b0 = R->batch0[t], b1 = t;
    while (b1 + 1 < R->ntraj && R->batch0[b1 + 1] == b0) b1++;
    if (R->iter && R->split && R->split[t] == 0) fprintf(out, "iteration %" PRId64 ", training batch, ", R->iter[t]);
    else if (R->iter && R->split)
        fprintf(out, "evaluation at iteration %" PRId64 " (%s split, %s), ", R->iter[t], runcodes_split_name(R->split[t]),
                R->who ? runcodes_who_name(R->who[t]) : "?");
    else if (R->iter) fprintf(out, "iteration %" PRId64 ", ", R->iter[t]);
    fprintf(out, "trajectory %" PRId64 " of %" PRId64 " (row %" PRId64 ")", t - b0, b1 - b0 + 1, t);
    if (R->prompt) fprintf(out, ", prompt %" PRId64, R->prompt[t]);
}

static void describe_row(FILE *out, const run_t *R, int cls, int64_t r) {
    if (cls == CLS_ITER_ROW) {
        if (R->it_iter && r < R->niter) fprintf(out, "iteration %" PRId64 " (row %" PRId64 ")", R->it_iter[r], r);
        else fprintf(out, "row %" PRId64, r);
    } else {
        if (R->ev_iter && r < R->neval) {
            fprintf(out, "evaluation at iteration %" PRId64, R->ev_iter[r]);
            if (R->ev_split && R->ev_who) fprintf(out, " (%s split, %s)", runcodes_split_name(R->ev_split[r]), runcodes_who_name(R->ev_who[r]));
            fprintf(out, " (row %" PRId64 ")", r);
        } else {
            fprintf(out, "row %" PRId64, r);
        }
    }
}

static void describe_point(FILE *out, const ctx_t *C, const point_t *p) {
    const run_t *R = p->ia >= 0 || p->cls == CLS_FLAT ? C->A : C->B;
    switch (p->cls) {
    case CLS_TOKEN:
        if (p->tt >= C->A->ntraj) R = C->B;
        describe_traj(out, R, p->tt);
        fprintf(out, ", token %" PRId64, p->pos);
        if (p->ia >= 0 && p->ib >= 0 && p->ia != p->ib)
            fprintf(out, " (token row %" PRId64 " in A, %" PRId64 " in B)", p->ia, p->ib);
        else fprintf(out, " (token row %" PRId64 ")", p->ia >= 0 ? p->ia : p->ib);
        break;
    case CLS_TRAJ:
        if (p->tt >= C->A->ntraj) R = C->B;
        describe_traj(out, R, p->tt);
        break;
    case CLS_ITER_ROW:
    case CLS_EVAL_ROW:
        if (p->row >= (p->cls == CLS_ITER_ROW ? C->A->niter : C->A->neval)) R = C->B;
        describe_row(out, R, p->cls, p->row);
        break;
    default:
        fprintf(out, "element %" PRId64, p->row);
    }
}

static void print_point(FILE *out, const ctx_t *C, const dsres_t *res, const point_t *p) {
    fprintf(out, "  %s at ", res[p->ds].path);
    describe_point(out, C, p);
    fprintf(out, "\n      A: %s\n      B: %s\n", p->va, p->vb);
}

/* "it 1 traj 19 tok 5": the table's short form */
static void short_point(const ctx_t *C, const point_t *p, char *buf, size_t len) {
    const run_t *R = p->tt >= 0 && p->tt < C->A->ntraj ? C->A : C->B;
    char it[32] = "";
    switch (p->cls) {
    case CLS_TOKEN:
    case CLS_TRAJ:
        if (R->ok && R->iter && p->tt < R->ntraj) snprintf(it, sizeof it, "it %" PRId64 " ", R->iter[p->tt]);
        if (p->cls == CLS_TOKEN) snprintf(buf, len, "%straj %" PRId64 " tok %" PRId64, it, p->tt, p->pos);
        else snprintf(buf, len, "%straj %" PRId64, it, p->tt);
        break;
    case CLS_ITER_ROW:
        R = p->row < C->A->niter ? C->A : C->B;
        if (R->it_iter && p->row < R->niter) snprintf(buf, len, "it %" PRId64, R->it_iter[p->row]);
        else snprintf(buf, len, "row %" PRId64, p->row);
        break;
    case CLS_EVAL_ROW:
        R = p->row < C->A->neval ? C->A : C->B;
        if (R->ev_iter && p->row < R->neval && R->ev_split && R->ev_who)
            snprintf(buf, len, "eval it %" PRId64 " %s %s", R->ev_iter[p->row], runcodes_split_name(R->ev_split[p->row]),
                     runcodes_who_name(R->ev_who[p->row]));
        else if (R->ev_iter && p->row < R->neval) snprintf(buf, len, "eval it %" PRId64, R->ev_iter[p->row]);
        else snprintf(buf, len, "eval row %" PRId64, p->row);
        break;
    default:
        snprintf(buf, len, "element %" PRId64, p->row);
    }
}

/* ---------------------------------------------------------------- attributes, config ------- */

typedef struct {
    char *key, *value;
} kv_t;

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* "key = value" lines of a resolved config text; *n pairs. The strings point into buf. */
static kv_t *parse_config(char *buf, size_t *n) {
    size_t cap = 64;
    kv_t *kv = malloc(cap * sizeof *kv);
    *n = 0;
    if (!kv) return NULL;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *l = trim(line);
        if (*l && *l != ';' && *l != '#') {
            if (*n == cap) {
                kv_t *p = realloc(kv, (cap *= 2) * sizeof *kv);
                if (!p) return free(kv), NULL;
                kv = p;
            }
            char *eq = strchr(l, '=');
            if (eq) {
                *eq = 0;
                kv[*n].key = trim(l);
                kv[*n].value = trim(eq + 1);
            } else {
                kv[*n].key = l;
                kv[*n].value = "(a line without '=')";
            }
            (*n)++;
        }
        line = nl ? nl + 1 : NULL;
    }
    return kv;
}

static const char *kv_find(const kv_t *kv, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key)) return kv[i].value;
    return NULL;
}

/* Prints the differing config keys; returns their number, -1 when out of memory. */
static long diff_config(const char *ca, const char *cb, FILE *out, err_t *err) {
    char *ba = strdup(ca ? ca : ""), *bb = strdup(cb ? cb : "");
    size_t na = 0, nb = 0;
    kv_t *ka = ba ? parse_config(ba, &na) : NULL, *kb = bb ? parse_config(bb, &nb) : NULL;
    long nd = 0;
    if (!ka || !kb) {
        nd = err_set(err, "out of memory comparing the configs");
        goto done;
    }
    size_t w = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < na + nb; i++) {
            const kv_t *e = i < na ? &ka[i] : &kb[i - na];
            const char *va = i < na ? e->value : kv_find(ka, na, e->key);
            const char *vb = i < na ? kv_find(kb, nb, e->key) : e->value;
            if (i >= na && va) continue; /* printed with A's keys */
            if (va && vb && !strcmp(va, vb)) continue;
            if (pass == 0) {
                if (strlen(e->key) > w) w = strlen(e->key);
                nd++;
                continue;
            }
            fprintf(out, "  %-*s  A: %s%s%s   B: %s%s%s\n", (int)w, e->key, va ? "'" : "", va ? va : "(missing)",
                    va ? "'" : "", vb ? "'" : "", vb ? vb : "(missing)", vb ? "'" : "");
        }
        if (pass == 0) {
            if (nd == 0) fprintf(out, "config: equal (%zu keys)\n", na);
            else fprintf(out, "config: %ld key%s differ%s\n", nd, nd == 1 ? "" : "s", nd == 1 ? "s" : "");
        }
    }
done:
    free(ka), free(kb), free(ba), free(bb);
    return nd;
}

static int attr_skipped(const h5read_attr_t *a) {
    return !strcmp(a->object, "/") && (!strcmp(a->name, schema_attr(ATTR_CONFIG)) || !strcmp(a->name, schema_attr(ATTR_PROGRAM_VERSION)));
}

static const char *attr_in(const run_t *R, const h5read_attr_t *a) { return find_attr(R, a->object, a->name); }

static void attr_label(const h5read_attr_t *a, char *buf, size_t len) {
    if (!strcmp(a->object, "/")) snprintf(buf, len, "%s", a->name);
    else snprintf(buf, len, "%s@%s", a->object, a->name);
}

/* Prints the differing attributes (program_version as a note); returns their number. */
static long diff_attrs(const run_t *A, const run_t *B, FILE *out) {
    long nd = 0;
    size_t w = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int side = 0; side < 2; side++) {
            const run_t *R = side ? B : A, *S = side ? A : B;
            for (size_t i = 0; i < R->ls.n_attrs; i++) {
                const h5read_attr_t *a = &R->ls.attrs[i];
                if (attr_skipped(a)) continue;
                const char *other = attr_in(S, a);
                if (side == 1 && other) continue;
                if (other && !strcmp(other, a->value)) continue;
                char label[300];
                attr_label(a, label, sizeof label);
                if (pass == 0) {
                    nd++;
                    if (strlen(label) > w) w = strlen(label);
                    continue;
                }
                const char *va = side ? other : a->value, *vb = side ? a->value : other;
                fprintf(out, "  %-*s  A: %s   B: %s\n", (int)w, label, va ? va : "(missing)", vb ? vb : "(missing)");
            }
        }
        if (pass == 0) {
            if (nd == 0) fprintf(out, "attributes: equal\n");
            else fprintf(out, "attributes: %ld differ\n", nd);
        }
    }
    const char *pa = find_attr(A, "/", schema_attr(ATTR_PROGRAM_VERSION)), *pb = find_attr(B, "/", schema_attr(ATTR_PROGRAM_VERSION));
    if (pa && pb && strcmp(pa, pb))
        fprintf(out, "  (program_version A: %s   B: %s: names the binary, not compared)\n", pa, pb);
    return nd;
}

/* ---------------------------------------------------------------- the whole comparison ----- */

static void fmt_diffval(double v, int nan_mismatch, int numeric, uint64_t pairs, char *buf, size_t len) {
    if (!numeric || !pairs) snprintf(buf, len, "-");
    else if (nan_mismatch && v == 0) snprintf(buf, len, "NaN");
    else if (nan_mismatch) snprintf(buf, len, "%.3g+NaN", v);
    else snprintf(buf, len, "%.3g", v);
}

int diff_runs(const char *fa, const char *fb, const diff_opts_t *o, FILE *out, err_t *err) {
    run_t A, B;
    int rc = -1;
    dsres_t *res = NULL;
    size_t nres = 0;
    point_t *all = NULL;
    memset(&B, 0, sizeof B);
    if (run_open(&A, fa, err)) {
        run_free(&A);
        return -1;
    }
    if (run_open(&B, fb, err)) goto done;
    ctx_t C = {&A, &B, o, (size_t)(o->max > 0 ? o->max : 1)};

    fprintf(out, "A: %s\nB: %s\n", fa, fb);
    long nd_attr = diff_attrs(&A, &B, out);
    long nd_cfg = diff_config(find_attr(&A, "/", schema_attr(ATTR_CONFIG)), find_attr(&B, "/", schema_attr(ATTR_CONFIG)), out, err);
    if (nd_cfg < 0) goto done;

    /* datasets: A's in creation order, then B's others */
    res = calloc(A.ls.n_datasets + B.ls.n_datasets + 1, sizeof *res);
    if (!res) {
        err_set(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < A.ls.n_datasets; i++) {
        res[nres].path = A.ls.datasets[i].path;
        res[nres].da = &A.ls.datasets[i];
        res[nres++].db = find_ds(&B, A.ls.datasets[i].path);
    }
    for (size_t i = 0; i < B.ls.n_datasets; i++)
        if (!find_ds(&A, B.ls.datasets[i].path)) {
            res[nres].path = B.ls.datasets[i].path;
            res[nres++].db = &B.ls.datasets[i];
        }
    long only_a = 0, only_b = 0, nd_ds = 0, notes = 0;
    for (size_t i = 0; i < nres; i++) only_a += !res[i].db, only_b += !res[i].da;
    fprintf(out, "datasets: %zu in A, %zu in B (outside /timing)", A.ls.n_datasets, B.ls.n_datasets);
    if (only_a || only_b) fprintf(out, "; %ld only in A, %ld only in B", only_a, only_b);
    fprintf(out, "\n");
    for (size_t i = 0; i < nres; i++)
        if (!res[i].da || !res[i].db) {
            const h5read_dataset_t *d = res[i].da ? res[i].da : res[i].db;
            fprintf(out, "  only in %s: %s (%" PRIu64 " elements, %s)\n", res[i].da ? "A" : "B", d->path, d->n, d->type);
        }
    if (A.ok && B.ok && (A.niter != B.niter || A.ntraj != B.ntraj || A.ntok != B.ntok || A.neval != B.neval))
        fprintf(out, "  rows: A has %" PRId64 " iterations, %" PRId64 " trajectories, %" PRId64 " tokens, %" PRId64
                " evaluations; B has %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "\n",
                A.niter, A.ntraj, A.ntok, A.neval, B.niter, B.ntraj, B.ntok, B.neval);
    if (!A.ok) fprintf(out, "  note: A's trajectories cannot be located (%s): its token arrays are compared row by row\n", A.note);
    if (!B.ok) fprintf(out, "  note: B's trajectories cannot be located (%s): its token arrays are compared row by row\n", B.note);

    for (size_t i = 0; i < nres; i++) {
        dsres_t *r = &res[i];
        if (!r->da || !r->db) continue;
        if (strcmp(r->da->type, r->db->type) || r->da->rank != r->db->rank ||
            (r->da->rank > 1 && memcmp(r->da->dims + 1, r->db->dims + 1, (size_t)(r->da->rank - 1) * sizeof r->da->dims[0]))) {
            fprintf(out, "  %s: A is %s", r->path, r->da->type);
            for (int k = 0; k < r->da->rank; k++) fprintf(out, "%s%" PRIu64, k ? "x" : " ", r->da->dims[k]);
            fprintf(out, ", B is %s", r->db->type);
            for (int k = 0; k < r->db->rank; k++) fprintf(out, "%s%" PRIu64, k ? "x" : " ", r->db->dims[k]);
            fprintf(out, "%s\n", r->da->rank > 1 || r->db->rank > 1 ? " (compared element by element)" : "");
            notes++;
        }
        if (!r->da->readable || !r->db->readable) {
            fprintf(out, "  %s: type %s cannot be compared\n", r->path, r->da->readable ? r->db->type : r->da->type);
            notes++;
            continue;
        }
        r->cls = classify(&A, &B, r->da, r->db);
        h5read_array_t xa, xb;
        if (h5read_array(fa, r->path, &xa, err)) goto done;
        if (h5read_array(fb, r->path, &xb, err)) {
            h5read_array_free(&xa);
            goto done;
        }
        /* a run still writing may have grown since the listing: token rows must still be there */
        if (r->cls == CLS_TOKEN && (xa.n < (uint64_t)A.ntok || xb.n < (uint64_t)B.ntok)) r->cls = CLS_FLAT;
        r->compared = 1;
        r->numeric = xa.kind != H5READ_OTHER && xb.kind != H5READ_OTHER;
        compare_arrays(&C, r, (int)i, &xa, &xb);
        h5read_array_free(&xa);
        h5read_array_free(&xb);
        if (r->oom) {
            err_set(err, "out of memory keeping the first %ld differences of '%s' (lower --max)", o->max, r->path);
            goto done;
        }
        if (r->ndiff) nd_ds++;
    }

    /* the earliest differences over all datasets */
    size_t nall = 0;
    for (size_t i = 0; i < nres; i++) nall += res[i].nfirst;
    uint64_t total_diff = 0;
    for (size_t i = 0; i < nres; i++) total_diff += res[i].ndiff;
    if (nall) {
        all = malloc(nall * sizeof *all);
        if (!all) {
            err_set(err, "out of memory");
            goto done;
        }
        size_t k = 0;
        for (size_t i = 0; i < nres; i++)
            for (size_t j = 0; j < res[i].nfirst; j++) all[k++] = res[i].first[j];
        qsort(all, nall, sizeof *all, point_qcmp);
        size_t show = nall < C.keep ? nall : C.keep;
        fprintf(out, "first difference%s in run order (%zu of %" PRIu64 " differing elements):\n", show > 1 ? "s" : "", show,
                total_diff);
        int token_shown = 0;
        for (size_t j = 0; j < show; j++) {
            print_point(out, &C, res, &all[j]);
            token_shown |= !strcmp(res[all[j].ds].path, "/trajectories/token");
        }
        for (size_t i = 0; i < nres && !token_shown; i++)
            if (!strcmp(res[i].path, "/trajectories/token") && res[i].nfirst) {
                fprintf(out, "first differing generated token:\n");
                print_point(out, &C, res, &res[i].first[0]);
            }
    }

    /* per-dataset table: every dataset with a difference, or not bitwise equal under --tol */
    long listed = 0;
    size_t w = 7;
    for (size_t i = 0; i < nres; i++)
        if (res[i].compared && (res[i].ndiff || res[i].max_abs > 0) && strlen(res[i].path) > w) w = strlen(res[i].path);
    for (size_t i = 0; i < nres; i++) {
        dsres_t *r = &res[i];
        if (!r->compared || !(r->ndiff || r->max_abs > 0 || r->nan_mismatch)) continue;
        if (listed++ == 0)
            fprintf(out, "per dataset (%s):\n  %-*s %10s %10s %12s %12s  %s\n",
                    o->tol ? "within --tol" : "bitwise", (int)w, "dataset", "differing", "of", "max abs", "max rel",
                    "first difference");
        char ab[48], rl[48], at[96] = "";
        fmt_diffval(r->max_abs, r->nan_mismatch, r->numeric, r->pairs, ab, sizeof ab);
        fmt_diffval(r->max_rel, r->nan_mismatch, r->numeric, r->pairs, rl, sizeof rl);
        if (r->nfirst) short_point(&C, &r->first[0], at, sizeof at);
        fprintf(out, "  %-*s %10" PRIu64 " %10" PRIu64 " %12s %12s  %s\n", (int)w, r->path, r->ndiff, r->total, ab, rl, at);
    }
    long compared = 0;
    for (size_t i = 0; i < nres; i++) compared += res[i].compared;
    if (compared > listed && listed)
        fprintf(out, "%ld other dataset%s bitwise equal\n", compared - listed, compared - listed == 1 ? "" : "s");
    else if (compared > listed)
        fprintf(out, "all %ld dataset%s compared: bitwise equal\n", compared, compared == 1 ? "" : "s");
    int differ = nd_attr || nd_cfg || only_a || only_b || nd_ds || notes;
    if (differ) fprintf(out, "result: A and B differ\n");
    else if (o->tol) fprintf(out, "result: equal within --tol %g,%g\n", o->rel, o->abs);
    else fprintf(out, "result: equal (bitwise)\n");
    rc = differ ? 1 : 0;
done:
    for (size_t i = 0; i < nres; i++) free(res[i].first);
    free(res);
    free(all);
    run_free(&A);
    run_free(&B);
    return rc;
}
