/* sweep: the spec parser and run expansion (library part), and the `rlgf sweep` command: a local
 * pool of child processes, Slurm job arrays, MPI ranks, the manifest and --resume. See sweep.h for
 * the spec format and `rlgf sweep --help` (SWEEP_HELP below) for the user's view. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <ini.h>

#include "../base/config.h"
#include "../store/h5log.h"

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort(); /* out of memory while parsing a spec: nothing sensible to do */
    return d;
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

/* Trimmed copy of s[0..n) (n < 0: whole string). */
static char *trim_dup(const char *s, long n) {
    if (n < 0) n = (long)strlen(s);
    while (n > 0 && isspace((unsigned char)*s)) s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    char *d = xrealloc(NULL, (size_t)n + 1);
    memcpy(d, s, (size_t)n);
    d[n] = 0;
    return d;
}

/* Splits s at commas into trimmed items (caller frees each and the array). */
static int split_list(const char *s, char ***items) {
    int n = 0;
    char **v = NULL;
    for (const char *p = s;;) {
        const char *c = strchr(p, ',');
        v = xrealloc(v, sizeof *v * (size_t)(n + 1));
        v[n++] = trim_dup(p, c ? (long)(c - p) : -1);
        if (!c) break;
        p = c + 1;
    }
    *items = v;
    return n;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int mkdir_p(const char *path, err_t *err) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return err_set(err, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return err_set(err, "cannot create directory '%s': %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Run names                                                                                   */

void sweep_name(const char *const *pairs, int n, char *out) {
    size_t len = 0, cap = 64;
    char *full = xrealloc(NULL, cap);
    full[0] = 0;
    if (n == 0) {
        snprintf(out, SWEEP_NAME_MAX + 1, "run");
        free(full);
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t pl = strlen(pairs[i]);
        while (len + pl + 3 > cap) cap *= 2;
        full = xrealloc(full, cap);
        if (i) memcpy(full + len, "__", 2), len += 2;
        memcpy(full + len, pairs[i], pl);
        len += pl;
        full[len] = 0;
    }
    char *san = xrealloc(NULL, len + 1);
    for (size_t i = 0; i <= len; i++) {
        unsigned char ch = (unsigned char)full[i];
        san[i] = ch == 0 ? 0 : (isalnum(ch) || strchr("._+=-", ch)) ? (char)ch : '_';
    }
    if (len > SWEEP_NAME_LONG) {
        char hex[65];
        sha256_hex(full, len, hex);
        snprintf(out, SWEEP_NAME_MAX + 1, "%.*s~%.16s", SWEEP_NAME_LONG - 17, san, hex);
    } else {
        snprintf(out, SWEEP_NAME_MAX + 1, "%s", san);
    }
    free(san);
    free(full);
}

/* ------------------------------------------------------------------------------------------ */
/* Spec parsing                                                                                */

typedef struct {
    char *text;
    int line;
} raw_line_t;

typedef struct {
    sweep_t *s;
    FILE *f;
    int line, err_line, read_errno;
    err_t err;
    int nraw;
    raw_line_t *raw_excl;
} loader_t;

/* Feeds inih one line at a time so we know the line number (the packaged libinih does not pass it
 * to the handler); strips leading blanks and ` # comments` as sim/base/config.c does for configs. */
static char *loader_read(char *str, int num, void *stream) {
    loader_t *ld = stream;
    int too_long;
    if (!cfg_ini_next_line(ld->f, str, num, &ld->line, &ld->read_errno, &too_long)) return NULL;
    if (too_long) {
        if (!ld->err_line) {
            ld->err_line = ld->line;
            err_set(&ld->err, "%s:%d: line longer than %d characters (split a long axis over several lines with the same key)",
                    ld->s->path, ld->line, num - 2);
        }
    }
    return str;
}

static sweep_axis_t *find_axis(sweep_t *s, const char *key) {
    for (int i = 0; i < s->naxes; i++)
        if (!strcmp(s->axes[i].key, key)) return &s->axes[i];
    return NULL;
}

/* Adds one value to an axis, checking the key and value against the config registry. */
static int axis_add(loader_t *ld, sweep_axis_t *a, const char *v, err_t *err) {
    char origin[1100], canon[CFG_STR + 64];
    snprintf(origin, sizeof origin, "%s:%d", ld->s->path, ld->line);
    if (!*v) return err_set(err, "%s: axis '%s': empty value (values are separated by commas)", origin, a->key);
    config_t scratch;
    cfg_defaults(&scratch);
    if (cfg_set(&scratch, a->key, v, origin, err) != 0) return -1;
    if (cfg_get_text(&scratch, a->key, canon, sizeof canon) != 0) snprintf(canon, sizeof canon, "%s", v);
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->canon[i], canon))
            return err_set(err, "%s: axis '%s' lists the value %s twice ('%s' and '%s')", origin, a->key, canon,
                           a->values[i], v);
    a->values = xrealloc(a->values, sizeof *a->values * (size_t)(a->n + 1));
    a->canon = xrealloc(a->canon, sizeof *a->canon * (size_t)(a->n + 1));
    a->values[a->n] = xstrdup(v);
    a->canon[a->n] = xstrdup(canon);
    a->n++;
    return 0;
}

/* `a..b` with integers a <= b: 1 and the bounds; else 0. */
static int int_range(const char *v, long long *a, long long *b) {
    const char *dots = strstr(v, "..");
    if (!dots) return 0;
    char *end;
    errno = 0;
    *a = strtoll(v, &end, 10);
    if (end == v || errno) return 0;
    while (isspace((unsigned char)*end)) end++;
    if (end != dots) return 0;
    const char *q = dots + 2;
    *b = strtoll(q, &end, 10);
    if (end == q || errno) return 0;
    while (isspace((unsigned char)*end)) end++;
    return *end == 0;
}

static int handle_axis(loader_t *ld, const char *key, const char *value, err_t *err) {
    sweep_t *s = ld->s;
    if (!strcmp(key, "out"))
        return err_set(err, "%s:%d: 'out' cannot be an axis: the sweep names each run's log OUT_DIR/NAME.h5", s->path,
                       ld->line);
    sweep_axis_t *a = find_axis(s, key);
    if (!a) {
        s->axes = xrealloc(s->axes, sizeof *s->axes * (size_t)(s->naxes + 1));
        a = &s->axes[s->naxes++];
        memset(a, 0, sizeof *a);
        a->key = xstrdup(key);
        a->line = ld->line;
    }
    char **items;
    int n = split_list(value, &items), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        long long lo, hi;
        if (int_range(items[i], &lo, &hi)) {
            if (hi < lo || hi - lo >= 100000) {
                rc = err_set(err, "%s:%d: axis '%s': range '%s' must be a..b with a <= b and at most 100000 values",
                             s->path, ld->line, key, items[i]);
                break;
            }
            for (long long x = lo; x <= hi && rc == 0; x++) {
                char num[32];
                snprintf(num, sizeof num, "%lld", x);
                rc = axis_add(ld, a, num, err);
            }
        } else {
            rc = axis_add(ld, a, items[i], err);
        }
    }
    free_list(items, n);
    return rc;
}

static int handle_set(loader_t *ld, const char *value, err_t *err) {
    sweep_t *s = ld->s;
    char **items;
    int n = split_list(value, &items), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *eq = strchr(items[i], '=');
        if (!eq || eq == items[i]) {
            rc = err_set(err, "%s:%d: set: '%s' is not key=value (set = key=value, key=value)", s->path, ld->line,
                         items[i]);
            break;
        }
        s->set = xrealloc(s->set, sizeof *s->set * (size_t)(s->nset + 1));
        sweep_kv_t *kv = &s->set[s->nset++];
        kv->key = trim_dup(items[i], eq - items[i]);
        kv->value = trim_dup(eq + 1, -1);
        kv->line = ld->line;
    }
    free_list(items, n);
    return rc;
}

static int spec_handler(void *user, const char *section, const char *name, const char *value) {
    loader_t *ld = user;
    sweep_t *s = ld->s;
    if (ld->err_line) return 1; /* report the first error only */
    int rc = 0;
    if (!*name) {
        rc = err_set(&ld->err, "%s:%d: malformed line (expected `key = value` or `[section]`)", s->path, ld->line);
    } else if (!strcmp(section, "sweep")) {
        if (!strcmp(name, "base")) {
            free(s->base);
            s->base = xstrdup(value);
            s->base_line = ld->line;
        } else if (!strcmp(name, "out_dir")) {
            free(s->out_dir);
            s->out_dir = xstrdup(value);
        } else if (!strcmp(name, "set")) {
            rc = handle_set(ld, value, &ld->err);
        } else {
            rc = err_set(&ld->err, "%s:%d: unknown key '%s' in [sweep] (expected base, out_dir or set; config keys go in "
                         "`set = key=value` or in [axes])", s->path, ld->line, name);
        }
    } else if (!strcmp(section, "axes")) {
        rc = handle_axis(ld, name, value, &ld->err);
    } else if (!strcmp(section, "exclude")) {
        ld->raw_excl = xrealloc(ld->raw_excl, sizeof *ld->raw_excl * (size_t)(ld->nraw + 1));
        size_t n = strlen(name) + strlen(value) + 2;
        char *t = xrealloc(NULL, n);
        snprintf(t, n, "%s=%s", name, value);
        ld->raw_excl[ld->nraw].text = t;
        ld->raw_excl[ld->nraw++].line = ld->line;
    } else if (!*section) {
        rc = err_set(&ld->err, "%s:%d: '%s' is outside a section (expected [sweep], [axes] or [exclude])", s->path,
                     ld->line, name);
    } else {
        rc = err_set(&ld->err, "%s:%d: unknown section [%s] (expected [sweep], [axes] or [exclude])", s->path, ld->line,
                     section);
    }
    if (rc) {
        ld->err_line = ld->line;
        return 0;
    }
    return 1;
}

static int resolve_exclusions(sweep_t *s, loader_t *ld, err_t *err) {
    for (int r = 0; r < ld->nraw; r++) {
        int line = ld->raw_excl[r].line;
        s->excl = xrealloc(s->excl, sizeof *s->excl * (size_t)(s->nexcl + 1));
        sweep_excl_t *e = &s->excl[s->nexcl++];
        memset(e, 0, sizeof *e);
        e->line = line;
        char **items;
        int n = split_list(ld->raw_excl[r].text, &items), rc = 0;
        e->axis = xrealloc(NULL, sizeof(int) * (size_t)n);
        e->value = xrealloc(NULL, sizeof(int) * (size_t)n);
        for (int i = 0; i < n && rc == 0; i++) {
            const char *eq = strchr(items[i], '=');
            if (!eq || eq == items[i]) {
                rc = err_set(err, "%s:%d: exclude: '%s' is not key=value", s->path, line, items[i]);
                break;
            }
            char *key = trim_dup(items[i], eq - items[i]), *val = trim_dup(eq + 1, -1);
            sweep_axis_t *a = find_axis(s, key);
            char canon[CFG_STR + 64], origin[1100];
            snprintf(origin, sizeof origin, "%s:%d", s->path, line);
            config_t scratch;
            cfg_defaults(&scratch);
            if (!a) {
                rc = err_set(err, "%s: exclude: '%s' is not an axis of this sweep", origin, key);
            } else if (cfg_set(&scratch, key, val, origin, err) == 0) {
                if (cfg_get_text(&scratch, key, canon, sizeof canon) != 0) snprintf(canon, sizeof canon, "%s", val);
                int k = 0;
                while (k < a->n && strcmp(a->canon[k], canon)) k++;
                if (k == a->n) {
                    char list[512] = "";
                    for (int j = 0; j < a->n && strlen(list) < 400; j++)
                        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", a->values[j]);
                    rc = err_set(err, "%s: exclude: %s=%s is not a value of axis '%s' (values: %s)", origin, key, val,
                                 key, list);
                } else {
                    e->axis[e->npairs] = (int)(a - s->axes);
                    e->value[e->npairs++] = k;
                }
            } else {
                rc = -1;
            }
            free(key);
            free(val);
        }
        free_list(items, n);
        if (rc) return -1;
    }
    return 0;
}

static void free_run(sweep_run_t *r) {
    free_list(r->over, r->nover);
}

void sweep_free(sweep_t *s) {
    if (!s) return;
    free(s->path);
    free(s->base);
    free(s->out_dir);
    for (int i = 0; i < s->nset; i++) free(s->set[i].key), free(s->set[i].value);
    free(s->set);
    for (int i = 0; i < s->naxes; i++) {
        free(s->axes[i].key);
        free_list(s->axes[i].values, s->axes[i].n);
        free_list(s->axes[i].canon, s->axes[i].n);
    }
    free(s->axes);
    for (int i = 0; i < s->nexcl; i++) free(s->excl[i].axis), free(s->excl[i].value);
    free(s->excl);
    for (int i = 0; i < s->nruns; i++) free_run(&s->runs[i]);
    free(s->runs);
    memset(s, 0, sizeof *s);
}

static int cmp_name_idx(const void *a, const void *b, void *runs) {
    const sweep_run_t *r = runs;
    return strcmp(r[*(const int *)a].name, r[*(const int *)b].name);
}

/* Builds every run: base config < set < axis values, out = OUT_DIR/NAME.h5, then cfg_validate. */
static int expand(sweep_t *s, err_t *err) {
    config_t base;
    cfg_defaults(&base);
    if (cfg_load_file(&base, s->base, err) != 0) return err_prefix(err, "%s:%d: base", s->path, s->base_line);
    for (int i = 0; i < s->nset; i++) {
        char origin[1100];
        snprintf(origin, sizeof origin, "%s:%d", s->path, s->set[i].line);
        if (!strcmp(s->set[i].key, "out"))
            return err_set(err, "%s: set: 'out' is chosen by the sweep (OUT_DIR/NAME.h5); set out_dir instead", origin);
        for (int j = 0; j < i; j++)
            if (!strcmp(s->set[j].key, s->set[i].key))
                return err_set(err, "%s: set: '%s' is set twice (also on line %d)", origin, s->set[i].key, s->set[j].line);
        if (find_axis(s, s->set[i].key))
            return err_set(err, "%s: set: '%s' is also an axis (line %d); keep one", origin, s->set[i].key,
                           find_axis(s, s->set[i].key)->line);
        if (cfg_set(&base, s->set[i].key, s->set[i].value, origin, err) != 0) return -1;
    }
    long long total = 1;
    for (int i = 0; i < s->naxes; i++) {
        total *= s->axes[i].n;
        if (total > 1000000)
            return err_set(err, "%s: the axes give more than 1000000 combinations", s->path);
    }
    int *idx = xrealloc(NULL, sizeof *idx * ((size_t)s->naxes + 1));
    char **pairs = xrealloc(NULL, sizeof *pairs * ((size_t)s->naxes + 1));
    s->runs = xrealloc(NULL, sizeof *s->runs * (size_t)total);
    int rc = 0;
    for (long long c = 0; c < total && rc == 0; c++) {
        /* idx: last axis fastest */
        long long rem = c;
        for (int a = s->naxes - 1; a >= 0; a--) {
            idx[a] = (int)(rem % s->axes[a].n);
            rem /= s->axes[a].n;
        }
        int excluded = 0;
        for (int e = 0; e < s->nexcl && !excluded; e++) {
            int all = 1;
            for (int p = 0; p < s->excl[e].npairs; p++) all &= idx[s->excl[e].axis[p]] == s->excl[e].value[p];
            excluded = all;
        }
        if (excluded) {
            s->nexcluded++;
            continue;
        }
        sweep_run_t *r = &s->runs[s->nruns];
        memset(r, 0, sizeof *r);
        r->index = s->nruns;
        config_t cfg = base;
        r->nover = s->nset + s->naxes;
        r->over = xrealloc(NULL, sizeof *r->over * ((size_t)r->nover + 1));
        for (int i = 0; i < s->nset; i++) {
            size_t n = strlen(s->set[i].key) + strlen(s->set[i].value) + 2;
            r->over[i] = xrealloc(NULL, n);
            snprintf(r->over[i], n, "%s=%s", s->set[i].key, s->set[i].value);
        }
        for (int a = 0; a < s->naxes; a++) {
            const char *v = s->axes[a].values[idx[a]];
            size_t n = strlen(s->axes[a].key) + strlen(v) + 2;
            char *p = xrealloc(NULL, n);
            snprintf(p, n, "%s=%s", s->axes[a].key, v);
            r->over[s->nset + a] = p;
            pairs[a] = p;
            char origin[1100];
            snprintf(origin, sizeof origin, "%s:%d", s->path, s->axes[a].line);
            if (cfg_set(&cfg, s->axes[a].key, v, origin, err) != 0) { /* checked per value already */
                rc = -1;
                break;
            }
        }
        s->nruns++;
        if (rc) break;
        sweep_name((const char *const *)pairs, s->naxes, r->name);
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s.h5", s->out_dir, r->name);
        if (strlen(out) >= CFG_STR) {
            rc = err_set(err, "%s: run %d (%s): its log path '%s' is longer than %d characters; use a shorter out_dir",
                         s->path, r->index, r->name, out, CFG_STR - 1);
            break;
        }
        err_t e2;
        if (cfg_set(&cfg, "out", out, "sweep", &e2) != 0 || cfg_validate(&cfg, &e2) != 0) {
            rc = err_set(err, "%s: run %d (%s): %s", s->path, r->index, r->name, e2.msg);
            break;
        }
        char *text = cfg_run_text(&cfg);
        if (!text) abort();
        sha256_hex(text, strlen(text), r->config_hash);
        free(text);
        char *sl = cfg_sl_text(&cfg);
        if (!sl) abort();
        size_t n = strlen(sl) + strlen(cfg.cache_dir) + 32;
        char *key = xrealloc(NULL, n), hex[65];
        snprintf(key, n, "%scache_dir = %s\n", sl, cfg.cache_dir);
        sha256_hex(key, strlen(key), hex);
        memcpy(r->sl_group, hex, 16);
        r->sl_group[16] = 0;
        free(key);
        free(sl);
        r->threads = cfg.threads;
    }
    free(idx);
    free(pairs);
    if (rc) return -1;
    if (s->nruns == 0) return err_set(err, "%s: every combination is excluded: nothing to run", s->path);
    /* names must be distinct files */
    int *order = xrealloc(NULL, sizeof *order * (size_t)s->nruns);
    for (int i = 0; i < s->nruns; i++) order[i] = i;
    qsort_r(order, (size_t)s->nruns, sizeof *order, cmp_name_idx, s->runs);
    for (int i = 1; i < s->nruns && rc == 0; i++)
        if (!strcmp(s->runs[order[i]].name, s->runs[order[i - 1]].name))
            rc = err_set(err, "%s: runs %d and %d get the same file name '%s' (values differing only in characters "
                         "outside [A-Za-z0-9._+=-])", s->path, order[i - 1], order[i], s->runs[order[i]].name);
    free(order);
    if (rc) return -1;
    /* fingerprint of the run list, so a Slurm task notices a spec edited after --slurm */
    size_t cap = 1;
    for (int i = 0; i < s->nruns; i++) cap += strlen(s->runs[i].name) + 66;
    char *fp = xrealloc(NULL, cap), hex[65];
    size_t len = 0;
    for (int i = 0; i < s->nruns; i++) len += (size_t)sprintf(fp + len, "%s\t%s\n", s->runs[i].name, s->runs[i].config_hash);
    sha256_hex(fp, len, hex);
    free(fp);
    memcpy(s->fingerprint, hex, 16);
    s->fingerprint[16] = 0;
    return 0;
}

int sweep_load(sweep_t *s, const char *path, const char *out_dir, err_t *err) {
    memset(s, 0, sizeof *s);
    s->path = xstrdup(path);
    loader_t ld = {.s = s};
    ld.f = fopen(path, "r");
    if (!ld.f) {
        err_set(err, "%s: cannot open sweep spec: %s", path, strerror(errno));
        sweep_free(s);
        return -1;
    }
    int rc = ini_parse_stream(loader_read, &ld, spec_handler, &ld);
    fclose(ld.f);
    int ret = 0;
    if (ld.read_errno) ret = err_set(err, "%s: cannot read sweep spec: %s", path, strerror(ld.read_errno));
    else if (rc < 0) ret = err_set(err, "%s: cannot parse sweep spec (out of memory)", path);
    else if (rc > 0 && (!ld.err_line || rc < ld.err_line))
        ret = err_set(err, "%s:%d: malformed line (expected `key = value` or `[section]`)", path, rc);
    else if (ld.err_line) {
        if (err) *err = ld.err;
        ret = -1;
    } else if (!s->base || !*s->base) {
        ret = err_set(err, "%s: [sweep] needs `base = CONFIG.ini` (the config every run starts from)", path);
    } else if (resolve_exclusions(s, &ld, err) != 0) {
        ret = -1;
    }
    for (int i = 0; i < ld.nraw; i++) free(ld.raw_excl[i].text);
    free(ld.raw_excl);
    if (ret == 0) {
        if (out_dir) {
            free(s->out_dir);
            s->out_dir = xstrdup(out_dir);
        }
        if (!s->out_dir || !*s->out_dir) { /* results/sweeps/<spec name> */
            const char *b = strrchr(path, '/');
            b = b ? b + 1 : path;
            size_t n = strlen(b);
            if (n > 4 && !strcmp(b + n - 4, ".ini")) n -= 4;
            char buf[PATH_MAX];
            snprintf(buf, sizeof buf, "results/sweeps/%.*s", (int)n, b);
            free(s->out_dir);
            s->out_dir = xstrdup(buf);
        }
        size_t n = strlen(s->out_dir);
        while (n > 1 && s->out_dir[n - 1] == '/') s->out_dir[--n] = 0;
        ret = expand(s, err);
    }
    if (ret) sweep_free(s);
    return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* The command: state of each run on disk and in manifests                                    */

enum { ST_MISSING, ST_RUNNING, ST_OK, ST_FAILED, ST_STALE };
static const char *const ST_NAME[] = {"missing", "running", "ok", "failed", "stale"};

enum { DISK_NONE, DISK_PARTIAL, DISK_COMPLETE, DISK_STALE, DISK_BAD };

typedef struct {
    int status, exit_code; /* exit_code -1: none */
    double wall;           /* < 0: unknown */
    char digest[65];
    /* execution */
    int mine, todo, done;
    pid_t pid;
    double t0;
    int lock_fd;
    /* previous manifests */
    int prev_ok, prev_failed, prev_running, prev_exit;
    double prev_wall;
} rstate_t;

typedef struct {
    sweep_t *s;
    rstate_t *st;
    const char *manifest; /* the file this invocation writes */
    const char *tag;      /* "" or "rank R/S: " */
    int jobs, ntodo, ndone, nfailed;
    int continue_runs; /* --resume/--task: continue interrupted runs from their checkpoints */
    double t_start, wall_sum;
    sigset_t oldmask;
} ctx_t;

static void log_path(const sweep_t *s, int i, const char *ext, char *buf, size_t len) {
    snprintf(buf, len, "%s/%s%s", s->out_dir, s->runs[i].name, ext);
}

/* What the run log at OUT_DIR/NAME.h5 is: absent, only a .partial, complete with this run's config,
 * complete with another config (the spec changed), or unreadable. */
static int disk_state(const sweep_t *s, int i) {
    char p[PATH_MAX];
    log_path(s, i, ".h5", p, sizeof p);
    if (access(p, F_OK) != 0) {
        log_path(s, i, ".h5.partial", p, sizeof p);
        return access(p, F_OK) == 0 ? DISK_PARTIAL : DISK_NONE;
    }
    int state = DISK_BAD;
    H5E_BEGIN_TRY {
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) {
            int complete = 0;
            char hash[80] = "";
            hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
            if (a >= 0) {
                if (H5Aread(a, H5T_NATIVE_INT, &complete) < 0) complete = 0;
                H5Aclose(a);
            }
            a = H5Aopen(f, "config_hash", H5P_DEFAULT);
            if (a >= 0) {
                hid_t t = H5Aget_type(a);
                if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) <= 0 && H5Tget_size(t) < sizeof hash)
                    if (H5Aread(a, t, hash) < 0) hash[0] = 0;
                H5Tclose(t);
                H5Aclose(a);
            }
            H5Fclose(f);
            if (complete != 1) state = DISK_PARTIAL;
            else state = strncmp(hash, s->runs[i].config_hash, 64) ? DISK_STALE : DISK_COMPLETE;
        }
    }
    H5E_END_TRY;
    return state;
}

static int find_run(const sweep_t *s, const int *order, const char *name) {
    int lo = 0, hi = s->nruns - 1;
    while (lo <= hi) {
        int m = (lo + hi) / 2, c = strcmp(s->runs[order[m]].name, name);
        if (!c) return order[m];
        if (c < 0) lo = m + 1;
        else hi = m - 1;
    }
    return -1;
}

/* Reads manifest.tsv and every part (manifest.rankR.tsv, manifest.taskI.tsv) in OUT_DIR into the
 * prev_* fields. Rows of runs the spec no longer has are ignored. */
static void load_manifests(const sweep_t *s, rstate_t *st) {
    int *order = xrealloc(NULL, sizeof *order * (size_t)s->nruns);
    for (int i = 0; i < s->nruns; i++) order[i] = i;
    qsort_r(order, (size_t)s->nruns, sizeof *order, cmp_name_idx, s->runs);
    DIR *d = opendir(s->out_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, "manifest.", 9) || n < 12 || strcmp(de->d_name + n - 4, ".tsv")) continue;
        char p[PATH_MAX], line[8192];
        snprintf(p, sizeof p, "%s/%s", s->out_dir, de->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            char *col[6];
            int nc = 0;
            for (char *q = line; nc < 6;) {
                col[nc++] = q;
                char *t = strchr(q, '\t');
                if (!t) break;
                *t = 0;
                q = t + 1;
            }
            if (nc < 6 || !strcmp(col[0], "run")) continue;
            int i = find_run(s, order, col[0]);
            if (i < 0) continue;
            rstate_t *r = &st[i];
            double wall = strcmp(col[4], "-") ? atof(col[4]) : -1;
            if (!strcmp(col[2], "ok")) {
                r->prev_ok = 1;
                r->prev_wall = wall;
            } else if (!strcmp(col[2], "failed")) {
                r->prev_failed = 1;
                r->prev_exit = strcmp(col[3], "-") ? atoi(col[3]) : -1;
                if (!r->prev_ok) r->prev_wall = wall;
            } else if (!strcmp(col[2], "running")) {
                r->prev_running = 1;
            }
        }
        fclose(f);
    }
    if (d) closedir(d);
    free(order);
}

/* Status from the disk and the previous manifests: a complete log is ok, whatever a stale row
 * says; otherwise failed if a row says so, running if a row says so (another rank, or a killed
 * sweep), else missing. */
static void merged_status(const sweep_t *s, int i, rstate_t *r, int disk) {
    r->exit_code = -1;
    r->wall = -1;
    r->digest[0] = 0;
    if (disk == DISK_COMPLETE) {
        r->status = ST_OK;
        r->exit_code = 0;
        if (r->prev_ok) r->wall = r->prev_wall;
        char p[PATH_MAX];
        err_t e;
        log_path(s, i, ".h5", p, sizeof p);
        if (h5log_digest(p, r->digest, &e) != 0) r->digest[0] = 0;
    } else if (disk == DISK_STALE) {
        r->status = ST_STALE;
    } else if (r->prev_failed) {
        r->status = ST_FAILED;
        r->exit_code = r->prev_exit;
        r->wall = r->prev_wall;
    } else if (r->prev_running) {
        r->status = ST_RUNNING;
    } else {
        r->status = ST_MISSING;
    }
}

/* Rewrites the manifest atomically (temporary file + rename): one row per run this invocation
 * owns (all runs for a local sweep or --merge). */
static int write_manifest(const ctx_t *c, err_t *err) {
    const sweep_t *s = c->s;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", c->manifest, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
    fputs("run\toverrides\tstatus\texit_code\twall_s\tdigest\n", f);
    for (int i = 0; i < s->nruns; i++) {
        const rstate_t *r = &c->st[i];
        if (!r->mine) continue;
        fprintf(f, "%s\t", s->runs[i].name);
        for (int k = 0; k < s->runs[i].nover; k++) fprintf(f, "%s%s", k ? " " : "", s->runs[i].over[k]);
        fprintf(f, "\t%s\t", ST_NAME[r->status]);
        if (r->exit_code >= 0) fprintf(f, "%d\t", r->exit_code);
        else fputs("-\t", f);
        if (r->wall >= 0) fprintf(f, "%.2f\t", r->wall);
        else fputs("-\t", f);
        fprintf(f, "%s\n", r->digest[0] ? r->digest : "-");
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
        fclose(f);
        unlink(tmp);
        return err_set(err, "cannot write '%s' (disk full?)", tmp);
    }
    fclose(f);
    if (rename(tmp, c->manifest) != 0) {
        unlink(tmp);
        return err_set(err, "cannot rename '%s' to '%s': %s", tmp, c->manifest, strerror(errno));
    }
    return 0;
}

static void save_manifest(const ctx_t *c) {
    err_t e;
    if (write_manifest(c, &e) != 0) fprintf(stderr, "rlgf sweep: %s\n", e.msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                   */

static void fmt_dur(double sec, char *buf, size_t len) {
    if (sec < 0) sec = 0;
    long t = (long)(sec + 0.5);
    if (sec < 9.95) snprintf(buf, len, "%.1f s", sec);
    else if (t < 60) snprintf(buf, len, "%ld s", t);
    else if (t < 3600) snprintf(buf, len, "%ld min %02ld s", t / 60, t % 60);
    else snprintf(buf, len, "%ld h %02ld min", t / 3600, (t / 60) % 60);
}

/* Runs sharing an SL checkpoint must not train it at the same time (they would all write the
 * same cache file). The first run of a group holds an flock on OUT_DIR/.sl-GROUP.lock until it
 * ends; the group is ready once any of its runs has a complete log (so SL is in the cache). The
 * lock also serialises MPI ranks and Slurm tasks sharing the directory. 1: go (maybe holding the
 * lock in *fd), 0: not now. */
static int group_ready(const sweep_t *s, int i) {
    for (int j = 0; j < s->nruns; j++) {
        if (strcmp(s->runs[j].sl_group, s->runs[i].sl_group)) continue;
        char p[PATH_MAX];
        log_path(s, j, ".h5", p, sizeof p);
        if (access(p, F_OK) == 0) return 1;
    }
    return 0;
}

static int claim(const sweep_t *s, int i, int *fd) {
    *fd = -1;
    if (group_ready(s, i)) return 1;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/.sl-%s.lock", s->out_dir, s->runs[i].sl_group);
    int f = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (f < 0) return 1; /* no lock possible: go anyway */
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        close(f);
        return 0;
    }
    if (group_ready(s, i)) {
        close(f);
        return 1;
    }
    *fd = f;
    return 1;
}

static int launch(ctx_t *c, int i) {
    const sweep_t *s = c->s;
    rstate_t *r = &c->st[i];
    char logp[PATH_MAX], part[PATH_MAX], textp[PATH_MAX], ckpt[PATH_MAX], outarg[PATH_MAX + 8];
    log_path(s, i, ".h5", logp, sizeof logp);
    log_path(s, i, ".h5.partial", part, sizeof part);
    log_path(s, i, ".log", textp, sizeof textp);
    log_path(s, i, ".resume.h5", ckpt, sizeof ckpt);
    unlink(logp); /* a re-run (--force, or failed) must not leave an old complete log behind */
    /* An interrupted run left NAME.resume.h5 (every checkpoint.every iterations): with --resume,
     * `rlgf train --resume` continues from it to the same run log; otherwise start afresh. */
    int cont = c->continue_runs && access(ckpt, R_OK) == 0;
    if (!cont) unlink(part), unlink(ckpt);
    snprintf(outarg, sizeof outarg, "out=%s", logp);
    int n = s->runs[i].nover;
    char **argv = xrealloc(NULL, sizeof *argv * (size_t)(n + 6));
    int k = 0;
    argv[k++] = "rlgf";
    argv[k++] = "train";
    argv[k++] = s->base;
    for (int j = 0; j < n; j++) argv[k++] = s->runs[i].over[j];
    argv[k++] = outarg;
    if (cont) argv[k++] = "--resume";
    argv[k] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* the run dies with the sweep, whatever kills it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
        int fd = open(textp, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        if (nul >= 0) dup2(nul, 0);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "rlgf sweep: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    free(argv);
    if (pid < 0) {
        fprintf(stderr, "rlgf sweep: %scannot start run %s: %s\n", c->tag, s->runs[i].name, strerror(errno));
        return -1;
    }
    r->pid = pid;
    r->t0 = now_s();
    r->status = ST_RUNNING;
    r->exit_code = -1;
    r->wall = -1;
    r->digest[0] = 0;
    fprintf(stderr, "%sstart  %s%s\n", c->tag, s->runs[i].name, cont ? " (continuing from its checkpoint)" : "");
    save_manifest(c);
    return 0;
}

/* Last non-empty line of a run's text log, for the failure message. */
static void last_line(const char *path, char *buf, size_t len) {
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0]) snprintf(buf, len, "%s", line);
    }
    fclose(f);
}

static void finish(ctx_t *c, int i, int wstatus, int interrupted) {
    const sweep_t *s = c->s;
    rstate_t *r = &c->st[i];
    r->pid = 0;
    r->done = 1;
    r->wall = now_s() - r->t0;
    c->wall_sum += r->wall;
    c->ndone++;
    char why[PATH_MAX + 1200] = "", logp[PATH_MAX], textp[PATH_MAX];
    log_path(s, i, ".h5", logp, sizeof logp);
    log_path(s, i, ".log", textp, sizeof textp);
    if (WIFEXITED(wstatus)) r->exit_code = WEXITSTATUS(wstatus);
    else r->exit_code = 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    r->status = ST_FAILED;
    if (r->exit_code == 0) {
        err_t e;
        if (access(logp, F_OK) != 0) snprintf(why, sizeof why, "exit 0 but no run log at %s", logp);
        else if (h5log_digest(logp, r->digest, &e) != 0) snprintf(why, sizeof why, "%s", e.msg);
        else r->status = ST_OK;
    } else if (interrupted) {
        snprintf(why, sizeof why, "interrupted");
    } else {
        char last[1024];
        last_line(textp, last, sizeof last);
        snprintf(why, sizeof why, "exit %d: %s", r->exit_code, last[0] ? last : "(no output)");
    }
    if (r->lock_fd >= 0) close(r->lock_fd); /* after the log exists: the SL group is ready */
    r->lock_fd = -1;
    if (r->status == ST_FAILED) {
        r->digest[0] = 0;
        c->nfailed++;
    }
    save_manifest(c);
    int left = c->ntodo - c->ndone, running = 0;
    for (int j = 0; j < s->nruns; j++) running += c->st[j].pid > 0;
    char wall[32], eta[32] = "";
    fmt_dur(r->wall, wall, sizeof wall);
    if (left > 0 && !interrupted) {
        int par = c->jobs < left ? c->jobs : left;
        fmt_dur(c->wall_sum / c->ndone * left / (par > 0 ? par : 1), eta, sizeof eta);
    }
    fprintf(stderr, "%s[%d/%d] %-6s %s  %s  (%d failed, %d running%s%s)\n", c->tag, c->ndone, c->ntodo,
            r->status == ST_OK ? "ok" : "FAILED", s->runs[i].name, wall, c->nfailed, running, eta[0] ? ", ETA " : "",
            eta);
    if (r->status == ST_FAILED) fprintf(stderr, "%s   %s; log: %s\n", c->tag, why, textp);
}

/* The pool: keeps up to c->jobs runs going until every todo run has ended. Signals are taken
 * synchronously (sigtimedwait), so there is no race between a child ending and the wait. Returns
 * the signal that stopped it, or 0. */
static int run_pool(ctx_t *c) {
    const sweep_t *s = c->s;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &c->oldmask);
    int stop = 0, running = 0, next = 0;
    double kill_at = 0;
    for (;;) {
        int ws;
        pid_t p;
        while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
            for (int i = 0; i < s->nruns; i++)
                if (c->st[i].pid == p) {
                    finish(c, i, ws, stop != 0);
                    running--;
                    break;
                }
        int pending = 0;
        if (!stop) {
            while (next < s->nruns && !c->st[next].todo) next++;
            for (int i = next; i < s->nruns; i++) {
                rstate_t *r = &c->st[i];
                if (!r->todo || r->done || r->pid > 0) continue;
                pending++;
                if (running >= c->jobs) continue;
                int fd;
                if (!claim(s, i, &fd)) continue;
                r->lock_fd = fd;
                if (launch(c, i) != 0) {
                    if (fd >= 0) close(fd);
                    r->lock_fd = -1;
                    r->done = 1;
                    r->status = ST_FAILED;
                    c->ndone++;
                    c->nfailed++;
                    continue;
                }
                running++;
                pending--;
            }
        }
        if (running == 0 && (stop || pending == 0)) break;
        struct timespec to = {0, 250000000};
        int sig = sigtimedwait(&set, NULL, &to);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            int hard = stop != 0;
            if (!stop) {
                stop = sig;
                kill_at = now_s() + 5;
                fprintf(stderr, "%s%s: stopping: no new runs; ending the %d running (again to kill at once)\n", c->tag,
                        strsignal(sig), running);
            }
            for (int i = 0; i < s->nruns; i++)
                if (c->st[i].pid > 0) kill(c->st[i].pid, hard ? SIGKILL : SIGTERM);
        }
        if (stop && kill_at > 0 && now_s() > kill_at) {
            for (int i = 0; i < s->nruns; i++)
                if (c->st[i].pid > 0) kill(c->st[i].pid, SIGKILL);
            kill_at = 0;
        }
    }
    sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
    return stop;
}

/* ------------------------------------------------------------------------------------------ */
/* Slurm                                                                                       */

/* Writes s single-quoted for the shell. */
static void shq(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

static int write_sbatch(const sweep_t *s, const rstate_t *st, int resume, int jobs, const char *spec,
                        const char *out_dir_opt, err_t *err) {
    char exe[PATH_MAX], cwd[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 16], absout[2 * PATH_MAX + 2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return err_set(err, "cannot find this program's path (/proc/self/exe): %s", strerror(errno));
    exe[n] = 0;
    if (!getcwd(cwd, sizeof cwd)) return err_set(err, "cannot get the working directory: %s", strerror(errno));
    if (s->out_dir[0] == '/') snprintf(absout, sizeof absout, "%s", s->out_dir);
    else snprintf(absout, sizeof absout, "%s/%s", cwd, s->out_dir);
    /* the array: every run, or with --resume only those without a complete log */
    size_t cap = 64, len = 0;
    char *arr = xrealloc(NULL, cap);
    arr[0] = 0;
    int count = 0, threads = 1;
    for (int i = 0; i < s->nruns; i++) {
        if (s->runs[i].threads > threads) threads = s->runs[i].threads;
        if (!st[i].todo) continue;
        int j = i;
        while (j + 1 < s->nruns && st[j + 1].todo) j++;
        if (len + 48 > cap) arr = xrealloc(arr, cap *= 2);
        len += (size_t)(j > i ? sprintf(arr + len, "%s%d-%d", len ? "," : "", i, j) : sprintf(arr + len, "%s%d", len ? "," : "", i));
        for (int k = i; k <= j; k++) count++;
        i = j;
    }
    if (count == 0) {
        free(arr);
        fprintf(stderr, "rlgf sweep: every run of %s has a complete log; no job array to write\n", spec);
        return 1;
    }
    if (mkdir_p(s->out_dir, err) != 0) return free(arr), -1;
    snprintf(path, sizeof path, "%s/sweep.sbatch", s->out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return free(arr), err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
    const char *b = strrchr(s->out_dir, '/');
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "# rlgf sweep %s: %d of %d runs, one Slurm array task each. Written by `rlgf sweep %s --slurm`.\n", spec,
            count, s->nruns, spec);
    fprintf(f, "# Submit:  sbatch %s   (add --partition/--time/--mem on that command line as your cluster needs)\n", path);
    fprintf(f, "# Task I runs run I of the spec (in the order `rlgf sweep SPEC --dry-run` lists) into %s/NAME.h5;\n", s->out_dir);
    fprintf(f, "# a task whose run log is already complete exits 0 at once, so resubmitting is safe.\n");
    fprintf(f, "# Afterwards rebuild %s/manifest.tsv from the logs:  %s sweep %s --merge\n", s->out_dir, exe, spec);
    fprintf(f, "# The rlgf binary, the spec, the base config and the output directory must be on a filesystem the\n");
    fprintf(f, "# compute nodes share.\n");
    fprintf(f, "#SBATCH --job-name=rlgf-%s\n", b ? b + 1 : s->out_dir);
    if (jobs > 0) fprintf(f, "#SBATCH --array=%s%%%d\n", arr, jobs);
    else fprintf(f, "#SBATCH --array=%s\n", arr);
    fprintf(f, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", threads);
    fprintf(f, "#SBATCH --chdir=%s\n", cwd);
    fprintf(f, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", absout);
    fprintf(f, "set -eu\nexec ");
    shq(f, exe);
    fputs(" sweep ", f);
    shq(f, spec);
    if (out_dir_opt) {
        fputs(" --out-dir ", f);
        shq(f, out_dir_opt);
    }
    fprintf(f, " --task \"$SLURM_ARRAY_TASK_ID\" --fingerprint %s\n", s->fingerprint);
    free(arr);
    if (fclose(f) != 0) return err_set(err, "cannot write '%s' (disk full?)", tmp);
    chmod(tmp, 0755);
    if (rename(tmp, path) != 0) return err_set(err, "cannot rename '%s': %s", tmp, strerror(errno));
    printf("wrote %s: a job array of %d tasks (%d runs in the spec%s)\n", path, count, s->nruns,
           resume ? ", the complete ones left out" : "");
    printf("submit it with:\n  sbatch %s\n", path);
    printf("when it has finished, rebuild the manifest from the run logs:\n  %s sweep %s%s%s --merge\n", exe, spec,
           out_dir_opt ? " --out-dir " : "", out_dir_opt ? out_dir_opt : "");
    printf("(or queue that after the array: sbatch --dependency=afterany:JOBID --wrap '%s sweep %s --merge')\n", exe, spec);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The command line                                                                            */

static const char *const SWEEP_HELP =
    "usage: rlgf sweep SPEC.ini [--jobs N] [--resume | --force] [--out-dir DIR]\n"
    "       rlgf sweep SPEC.ini --dry-run [--resume]   list the runs and their state, run nothing\n"
    "       rlgf sweep SPEC.ini --slurm [--resume] [--jobs N]   write OUT_DIR/sweep.sbatch (a job array)\n"
    "       rlgf sweep SPEC.ini --task I [--force]     run only run I (what each array task does)\n"
    "       mpirun -np N rlgf sweep --mpi SPEC.ini [--resume]   run i on MPI rank i % N\n"
    "       rlgf sweep SPEC.ini --merge                rebuild OUT_DIR/manifest.tsv from logs and parts\n"
    "\n"
    "A spec names a base config, fixed overrides and axes; every combination of axis values (minus\n"
    "[exclude] lines) is one run `rlgf train BASE key=value... out=OUT_DIR/NAME.h5`, a child process\n"
    "of this binary whose output goes to OUT_DIR/NAME.log. Every run's config is checked before any\n"
    "starts. Paths in the spec are relative to the working directory.\n"
    "\n"
    "  [sweep]\n"
    "  base    = configs/imdb_small.ini\n"
    "  out_dir = results/sweeps/algo_seed     ; default results/sweeps/<spec name>\n"
    "  set     = iterations=20, threads=1      ; fixed overrides\n"
    "  [axes]                                  ; file order; the last axis varies fastest\n"
    "  algo = ppo, ppopp\n"
    "  seed = 0..4                             ; a..b: the integers a to b\n"
    "  [exclude]\n"
    "  algo = ppo, seed = 4                    ; drop combinations matching every pair\n"
    "\n"
    "Values are separated by commas (so cannot contain one); a key repeated in [axes] appends\n"
    "values; exclusions must name axis values. The run order is that of --dry-run.\n"
    "\n"
    "Run names: `key=value` per axis joined by `__` (e.g. algo=ppo__seed=1), characters outside\n"
    "[A-Za-z0-9._+=-] replaced by `_`. OUT_DIR/manifest.tsv (rewritten atomically as runs end) has one\n"
    "row per run: run, overrides, status (ok|failed|running|missing|stale), exit_code (128+N: killed\n"
    "by signal N), wall_s, digest (`rlgf digest` of the log). A run is finished when OUT_DIR/NAME.h5\n"
    "exists (until then the log is NAME.h5.partial); `stale`: a complete log made with another config.\n"
    "\n"
    "options:\n"
    "  --jobs N, -j N  runs at once (default 1; 0 = one per CPU); each keeps its configured `threads`\n"
    "  --resume        run only the runs whose log is missing or incomplete or that failed; an\n"
    "                  interrupted run with a checkpoint (NAME.resume.h5) continues from it\n"
    "                  (`rlgf train --resume`). Without --resume, a sweep whose runs already have\n"
    "                  complete logs stops with an error\n"
    "  --force         re-run every run, replacing complete logs\n"
    "  --out-dir DIR   instead of the spec's out_dir\n"
    "  --mpi           take the rank and size from OMPI_COMM_WORLD_RANK/SIZE (OpenMPI) or\n"
    "                  PMI_RANK/PMI_SIZE (MPICH); rank R runs i % SIZE == R and writes\n"
    "                  OUT_DIR/manifest.rankR.tsv. Ranks do not wait for each other: after mpirun\n"
    "                  returns, run `rlgf sweep SPEC --merge`. rlgf does not link MPI.\n"
    "  --merge         rebuild OUT_DIR/manifest.tsv from the run logs and every manifest part\n"
    "  --slurm         with --jobs N: at most N array tasks at once (--array=...%N); with --resume:\n"
    "                  only the runs without a complete log\n"
    "  --task I        run run I only (0-based, the order of --dry-run), writing manifest.taskI.tsv;\n"
    "                  exits 0 at once when its log is complete (unless --force)\n"
    "\n"
    "Ctrl-C (or SIGTERM) stops launching, ends the running runs, writes the manifest and exits 130;\n"
    "`--resume` then finishes the sweep. Exit status: 0 all ok, 1 a run failed, 2 a bad spec or usage.\n"
    "Runs that share an SL checkpoint (same SL settings and cache_dir) wait for the first of them to\n"
    "cache it; the lock (OUT_DIR/.sl-*.lock) also holds across MPI ranks and Slurm tasks.\n";

typedef struct {
    const char *spec, *out_dir, *fingerprint;
    int jobs, resume, force, dry_run, slurm, mpi, merge, task, jobs_given;
} opts_t;

static int parse_int(const char *s, long lo, long hi, long *v) {
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return !*s || *end || errno || *v < lo || *v > hi ? -1 : 0;
}

static int parse_opts(int argc, char **argv, opts_t *o, err_t *err) {
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->task = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        int takes = !strcmp(name, "--jobs") || !strcmp(name, "-j") || !strcmp(name, "--task") ||
                    !strcmp(name, "--out-dir") || !strcmp(name, "--fingerprint");
        if (takes && !val) {
            if (i + 1 >= argc) return err_set(err, "option %s needs a value", name);
            val = argv[++i];
        }
        long v;
        if (!strcmp(name, "--jobs") || !strcmp(name, "-j")) {
            if (parse_int(val, 0, 4096, &v)) return err_set(err, "--jobs: '%s' is not a number in 0..4096", val);
            o->jobs = (int)v;
            o->jobs_given = 1;
        } else if (!strcmp(name, "--task")) {
            if (parse_int(val, 0, INT_MAX, &v)) return err_set(err, "--task: '%s' is not a run index (0, 1, ...)", val);
            o->task = (int)v;
        } else if (!strcmp(name, "--out-dir")) o->out_dir = val;
        else if (!strcmp(name, "--fingerprint")) o->fingerprint = val;
        else if (!strcmp(a, "--resume")) o->resume = 1;
        else if (!strcmp(a, "--force")) o->force = 1;
        else if (!strcmp(a, "--dry-run")) o->dry_run = 1;
        else if (!strcmp(a, "--slurm")) o->slurm = 1;
        else if (!strcmp(a, "--mpi")) o->mpi = 1;
        else if (!strcmp(a, "--merge")) o->merge = 1;
        else if (a[0] == '-' && a[1]) return err_set(err, "unknown option '%s' (see `rlgf sweep --help`)", a);
        else if (o->spec) return err_set(err, "one spec file only ('%s' and '%s')", o->spec, a);
        else o->spec = a;
    }
    if (!o->spec) return err_set(err, "no spec file (usage: rlgf sweep SPEC.ini [options]; see --help)");
    if (o->dry_run + o->slurm + o->mpi + o->merge + (o->task >= 0) > 1)
        return err_set(err, "--dry-run, --slurm, --mpi, --merge and --task exclude each other");
    if (o->resume && o->force) return err_set(err, "--resume and --force exclude each other");
    if (o->jobs == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->jobs = n > 0 ? (int)n : 1;
    }
    return 0;
}

/* MPI rank and size from the launcher's environment; -1 if absent. */
static int mpi_env(int *rank, int *size) {
    const char *pairs[][2] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}, {"PMI_RANK", "PMI_SIZE"},
                              {"PMIX_RANK", "PMIX_SIZE"}};
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        const char *r = getenv(pairs[k][0]), *s = getenv(pairs[k][1]);
        long rv, sv;
        if (r && s && !parse_int(r, 0, INT_MAX, &rv) && !parse_int(s, 1, INT_MAX, &sv) && rv < sv) {
            *rank = (int)rv;
            *size = (int)sv;
            return 0;
        }
    }
    return -1;
}

static int cmd_merge(sweep_t *s, rstate_t *st) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.tsv", s->out_dir);
    ctx_t c = {.s = s, .st = st, .manifest = path, .tag = ""};
    int count[5] = {0};
    for (int i = 0; i < s->nruns; i++) {
        st[i].mine = 1;
        merged_status(s, i, &st[i], disk_state(s, i));
        count[st[i].status]++;
    }
    err_t e;
    if (mkdir_p(s->out_dir, &e) != 0 || write_manifest(&c, &e) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", e.msg);
        return 1;
    }
    printf("%s: %d runs: %d ok, %d failed, %d running, %d missing", path, s->nruns, count[ST_OK], count[ST_FAILED],
           count[ST_RUNNING], count[ST_MISSING]);
    if (count[ST_STALE]) printf(", %d stale (complete logs from another config)", count[ST_STALE]);
    printf("\n");
    return 0;
}

static int cmd_dry_run(sweep_t *s, rstate_t *st, int resume) {
    int todo = 0, complete = 0;
    printf("%s: %d runs (%d excluded), base %s, out_dir %s\n", s->path, s->nruns, s->nexcluded, s->base, s->out_dir);
    printf("%5s  %-8s  %s\n", "index", "status", "run (overrides)");
    for (int i = 0; i < s->nruns; i++) {
        int d = disk_state(s, i);
        merged_status(s, i, &st[i], d);
        const char *label = ST_NAME[st[i].status];
        if (d == DISK_PARTIAL && st[i].status == ST_MISSING) label = "partial";
        if (d == DISK_BAD) label = "unreadable";
        int would = d != DISK_COMPLETE || (st[i].prev_failed && !st[i].prev_ok);
        complete += d == DISK_COMPLETE;
        todo += would;
        printf("%5d  %-8s  %s  (", i, label, s->runs[i].name);
        for (int k = 0; k < s->runs[i].nover; k++) printf("%s%s", k ? " " : "", s->runs[i].over[k]);
        printf(")\n");
    }
    if (resume) printf("%d complete; --resume would run %d\n", complete, todo);
    else printf("%d complete; a sweep would run %d%s\n", complete, s->nruns,
                complete ? " (it refuses while complete logs exist: use --resume or --force)" : "");
    return 0;
}

int sweep_main(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(SWEEP_HELP, stdout), 0;
    opts_t o;
    err_t err;
    if (parse_opts(argc, argv, &o, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        return 2;
    }
    int rank = 0, size = 1;
    if (o.mpi && mpi_env(&rank, &size) != 0) {
        fprintf(stderr, "rlgf sweep: --mpi: no MPI rank in the environment (OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE "
                        "or PMI_RANK/PMI_SIZE); start it as `mpirun -np N rlgf sweep --mpi %s`\n", o.spec);
        return 2;
    }
    sweep_t s;
    if (sweep_load(&s, o.spec, o.out_dir, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        return 2;
    }
    rstate_t *st = calloc((size_t)s.nruns, sizeof *st);
    if (!st) abort();
    for (int i = 0; i < s.nruns; i++) st[i].lock_fd = -1;
    load_manifests(&s, st);
    int rc = 0;
    if (o.merge) {
        rc = cmd_merge(&s, st);
        goto out;
    }
    if (o.dry_run) {
        rc = cmd_dry_run(&s, st, o.resume);
        goto out;
    }
    if (o.task >= s.nruns) {
        fprintf(stderr, "rlgf sweep: --task %d: %s has runs 0..%d only\n", o.task, s.path, s.nruns - 1);
        rc = 2;
        goto out;
    }
    if (o.fingerprint && strcmp(o.fingerprint, s.fingerprint)) {
        fprintf(stderr, "rlgf sweep: %s has changed since the job script was written (run list fingerprint %s, now %s); "
                        "write it again with --slurm\n", s.path, o.fingerprint, s.fingerprint);
        rc = 2;
        goto out;
    }

    /* which runs this invocation owns, and which of them it runs */
    int ncomplete = 0, nstale = 0, first_complete = -1, first_stale = -1, ntodo = 0;
    for (int i = 0; i < s.nruns; i++) {
        rstate_t *r = &st[i];
        r->mine = o.task >= 0 ? i == o.task : o.mpi ? i % size == rank : 1;
        if (!r->mine) continue;
        int d = disk_state(&s, i);
        if (d == DISK_COMPLETE) {
            ncomplete++;
            if (first_complete < 0) first_complete = i;
        }
        if (d == DISK_STALE && nstale++ == 0) first_stale = i;
        if (o.force) r->todo = 1;
        else if (o.resume || o.task >= 0 || o.slurm) r->todo = d != DISK_COMPLETE || (r->prev_failed && !r->prev_ok);
        else r->todo = 1;
        if (r->todo) {
            r->status = ST_MISSING;
            r->exit_code = -1;
            r->wall = -1;
            ntodo++;
        } else {
            merged_status(&s, i, r, d);
        }
    }
    if (nstale && !o.force) {
        char p[PATH_MAX];
        log_path(&s, first_stale, ".h5", p, sizeof p);
        fprintf(stderr, "rlgf sweep: %d run log(s) were made with another config than %s now gives (e.g. %s: its "
                        "config_hash differs); move them away, or use --force to replace them\n", nstale, s.path, p);
        rc = 2;
        goto out;
    }
    if (o.slurm) {
        rc = write_sbatch(&s, st, o.resume, o.jobs_given ? o.jobs : 0, o.spec, o.out_dir, &err);
        if (rc < 0) fprintf(stderr, "rlgf sweep: %s\n", err.msg), rc = 2;
        goto out;
    }
    if (ncomplete && !o.resume && !o.force && o.task < 0) {
        char p[PATH_MAX];
        log_path(&s, first_complete, ".h5", p, sizeof p);
        fprintf(stderr, "rlgf sweep: %d run(s) of %s already have complete logs (e.g. %s); use --resume to run only the "
                        "missing, incomplete or failed runs, or --force to run all again\n", ncomplete, s.path, p);
        rc = 2;
        goto out;
    }

    char manifest[PATH_MAX], tag[64] = "";
    if (o.task >= 0) snprintf(manifest, sizeof manifest, "%s/manifest.task%d.tsv", s.out_dir, o.task);
    else if (o.mpi) snprintf(manifest, sizeof manifest, "%s/manifest.rank%d.tsv", s.out_dir, rank);
    else snprintf(manifest, sizeof manifest, "%s/manifest.tsv", s.out_dir);
    if (o.mpi) snprintf(tag, sizeof tag, "rank %d/%d: ", rank, size);
    if (mkdir_p(s.out_dir, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    ctx_t c = {.s = &s, .st = st, .manifest = manifest, .tag = tag, .jobs = o.jobs, .ntodo = ntodo, .t_start = now_s(),
               .continue_runs = !o.force && (o.resume || o.task >= 0)};
    if (write_manifest(&c, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    int mine = 0;
    for (int i = 0; i < s.nruns; i++) mine += st[i].mine;
    if (o.task >= 0 && ntodo == 0) {
        fprintf(stderr, "rlgf sweep: run %d (%s) is complete; nothing to do\n", o.task, s.runs[o.task].name);
        goto out;
    }
    fprintf(stderr, "%srlgf sweep %s: %d runs (%d excluded), %d to run%s, %d at a time -> %s\n", tag, s.path, s.nruns,
            s.nexcluded, ntodo, mine - ntodo ? " (the others are complete)" : "", o.jobs, s.out_dir);
    if (o.mpi) fprintf(stderr, "%s%d of them are this rank's (i %% %d == %d)\n", tag, mine, size, rank);
    int stopped = run_pool(&c);
    save_manifest(&c);
    char el[32];
    fmt_dur(now_s() - c.t_start, el, sizeof el);
    int ok = 0, failed = 0, missing = 0;
    for (int i = 0; i < s.nruns; i++) {
        if (!st[i].mine) continue;
        ok += st[i].status == ST_OK;
        failed += st[i].status == ST_FAILED;
        missing += st[i].status == ST_MISSING || st[i].status == ST_RUNNING;
    }
    fprintf(stderr, "%s%s in %s: %d ok, %d failed, %d not run; manifest %s\n", tag, stopped ? "interrupted" : "done", el,
            ok, failed, missing, manifest);
    if (o.mpi && rank == 0)
        fprintf(stderr, "%swhen every rank is done: rlgf sweep %s%s%s --merge  (writes %s/manifest.tsv)\n", tag, o.spec,
                o.out_dir ? " --out-dir " : "", o.out_dir ? o.out_dir : "", s.out_dir);
    if (stopped) fprintf(stderr, "%sfinish it with: rlgf sweep %s --resume\n", tag, o.spec);
    rc = stopped ? 128 + stopped : failed ? 1 : 0;
out:
    free(st);
    sweep_free(&s);
    return rc;
}
