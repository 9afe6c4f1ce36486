/* sweep spec: parsing a sweep spec and expanding its runs (sweep.h has the format). Library code:
 * errors are returned, nothing is printed. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "../base/config.h"
#include "../base/util.h"
#include "../store/h5log.h"
#include "runner.h"

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

/* Running out of memory while parsing or expanding a spec is an error like any other. */
static int oom(err_t *err) { return err_set(err, "out of memory"); }

/* p grown to n bytes (never 0), or NULL when memory runs out (p is then unchanged). */
static void *grow(void *p, size_t n) { return realloc(p, n ? n : 1); }

/* Trimmed copy of s[0..n) (n < 0: whole string); NULL when memory runs out. */
static char *trim_dup(const char *s, long n) {
    if (n < 0) n = (long)strlen(s);
    while (n > 0 && isspace((unsigned char)*s)) s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    char *d = malloc((size_t)n + 1);
    if (!d) return NULL;
    memcpy(d, s, (size_t)n);
    d[n] = 0;
    return d;
}

/* Splits s at commas into trimmed items (caller frees each and the array, also on failure);
 * returns their number, or -1 when memory runs out. */
static int split_list(const char *s, char ***items, int *n_items) {
    int n = 0;
    char **v = NULL;
    *items = NULL;
    *n_items = 0;
    for (const char *p = s;;) {
        const char *c = strchr(p, ',');
        char **t = grow(v, sizeof *v * (size_t)(n + 1));
        if (!t) return -1;
        *items = v = t;
        v[n] = trim_dup(p, c ? (long)(c - p) : -1);
        *n_items = ++n;
        if (!v[n - 1]) return -1;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}


/* ------------------------------------------------------------------------------------------ */
/* Run names                                                                                   */

int sweep_name(const char *const *pairs, int n, char *out) {
    if (n == 0) {
        snprintf(out, SWEEP_NAME_MAX + 1, "run");
        return 0;
    }
    size_t len = 0, cap = 1;
    for (int i = 0; i < n; i++) cap += strlen(pairs[i]) + 2;
    char *full = malloc(cap), *san = malloc(cap);
    if (!full || !san) return free(full), free(san), -1;
    full[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t pl = strlen(pairs[i]);
        if (i) memcpy(full + len, "__", 2), len += 2;
        memcpy(full + len, pairs[i], pl);
        len += pl;
        full[len] = 0;
    }
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
    return 0;
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
    char **vt = grow(a->values, sizeof *a->values * (size_t)(a->n + 1));
    if (vt) a->values = vt;
    char **ct = vt ? grow(a->canon, sizeof *a->canon * (size_t)(a->n + 1)) : NULL;
    if (ct) a->canon = ct;
    char *vc = ct ? strdup(v) : NULL, *cc = vc ? strdup(canon) : NULL;
    if (!cc) return free(vc), oom(err);
    a->values[a->n] = vc;
    a->canon[a->n] = cc;
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
        sweep_axis_t *t = grow(s->axes, sizeof *s->axes * (size_t)(s->naxes + 1));
        if (!t) return oom(err);
        s->axes = t;
        a = &s->axes[s->naxes++];
        memset(a, 0, sizeof *a);
        a->line = ld->line;
        if (!(a->key = strdup(key))) return oom(err);
    }
    char **items;
    int n, rc = split_list(value, &items, &n) < 0 ? oom(err) : 0;
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
    int n, rc = split_list(value, &items, &n) < 0 ? oom(err) : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *eq = strchr(items[i], '=');
        if (!eq || eq == items[i]) {
            rc = err_set(err, "%s:%d: set: '%s' is not key=value (set = key=value, key=value)", s->path, ld->line,
                         items[i]);
            break;
        }
        sweep_kv_t *t = grow(s->set, sizeof *s->set * (size_t)(s->nset + 1));
        if (!t) {
            rc = oom(err);
            break;
        }
        s->set = t;
        sweep_kv_t *kv = &s->set[s->nset++];
        kv->key = trim_dup(items[i], eq - items[i]);
        kv->value = trim_dup(eq + 1, -1);
        kv->line = ld->line;
        if (!kv->key || !kv->value) rc = oom(err);
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
            s->base = strdup(value);
            s->base_line = ld->line;
            if (!s->base) rc = oom(&ld->err);
        } else if (!strcmp(name, "out_dir")) {
            free(s->out_dir);
            if (!(s->out_dir = strdup(value))) rc = oom(&ld->err);
        } else if (!strcmp(name, "set")) {
            rc = handle_set(ld, value, &ld->err);
        } else {
            rc = err_set(&ld->err, "%s:%d: unknown key '%s' in [sweep] (expected base, out_dir or set; config keys go in "
                         "`set = key=value` or in [axes])", s->path, ld->line, name);
        }
    } else if (!strcmp(section, "axes")) {
        rc = handle_axis(ld, name, value, &ld->err);
    } else if (!strcmp(section, "exclude")) {
        raw_line_t *r = grow(ld->raw_excl, sizeof *ld->raw_excl * (size_t)(ld->nraw + 1));
        size_t n = strlen(name) + strlen(value) + 2;
        char *t = r ? malloc(n) : NULL;
        if (r) ld->raw_excl = r;
        if (!t) {
            rc = oom(&ld->err);
        } else {
            snprintf(t, n, "%s=%s", name, value);
            ld->raw_excl[ld->nraw].text = t;
            ld->raw_excl[ld->nraw++].line = ld->line;
        }
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
        sweep_excl_t *t = grow(s->excl, sizeof *s->excl * (size_t)(s->nexcl + 1));
        if (!t) return oom(err);
        s->excl = t;
        sweep_excl_t *e = &s->excl[s->nexcl++];
        memset(e, 0, sizeof *e);
        e->line = line;
        char **items;
        int n, rc = split_list(ld->raw_excl[r].text, &items, &n) < 0 ? oom(err) : 0;
        if (rc == 0 && (!(e->axis = malloc(sizeof(int) * (size_t)(n + 1))) || !(e->value = malloc(sizeof(int) * (size_t)(n + 1)))))
            rc = oom(err);
        for (int i = 0; i < n && rc == 0; i++) {
            const char *eq = strchr(items[i], '=');
            if (!eq || eq == items[i]) {
                rc = err_set(err, "%s:%d: exclude: '%s' is not key=value", s->path, line, items[i]);
                break;
            }
            char *key = trim_dup(items[i], eq - items[i]), *val = trim_dup(eq + 1, -1);
            if (!key || !val) {
                free(key), free(val);
                rc = oom(err);
                break;
            }
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

int sweep_cmp_name_idx(const void *a, const void *b, void *runs) {
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
    int *idx = malloc(sizeof *idx * ((size_t)s->naxes + 1));
    char **pairs = malloc(sizeof *pairs * ((size_t)s->naxes + 1));
    s->runs = malloc(sizeof *s->runs * (size_t)total);
    int rc = idx && pairs && s->runs ? 0 : oom(err);
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
        r->over = calloc((size_t)(s->nset + s->naxes) + 1, sizeof *r->over);
        if (!r->over) {
            rc = oom(err);
            break;
        }
        r->nover = s->nset + s->naxes;
        s->nruns++; /* from here on sweep_free frees it */
        for (int i = 0; i < s->nset && rc == 0; i++) {
            size_t n = strlen(s->set[i].key) + strlen(s->set[i].value) + 2;
            if (!(r->over[i] = malloc(n))) rc = oom(err);
            else snprintf(r->over[i], n, "%s=%s", s->set[i].key, s->set[i].value);
        }
        for (int a = 0; a < s->naxes && rc == 0; a++) {
            const char *v = s->axes[a].values[idx[a]];
            size_t n = strlen(s->axes[a].key) + strlen(v) + 2;
            char *p = malloc(n);
            if (!p) {
                rc = oom(err);
                break;
            }
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
        if (rc) break;
        if (sweep_name((const char *const *)pairs, s->naxes, r->name)) {
            rc = oom(err);
            break;
        }
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
        char *text = cfg_run_text(&cfg), *sl = text ? cfg_sl_text(&cfg) : NULL;
        size_t n = sl ? strlen(sl) + strlen(cfg.cache_dir) + 32 : 0;
        char *key = sl ? malloc(n) : NULL, hex[65];
        if (!key) {
            free(text), free(sl);
            rc = oom(err);
            break;
        }
        sha256_hex(text, strlen(text), r->config_hash);
        free(text);
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
    int *order = malloc(sizeof *order * (size_t)s->nruns);
    if (!order) return oom(err);
    for (int i = 0; i < s->nruns; i++) order[i] = i;
    qsort_r(order, (size_t)s->nruns, sizeof *order, sweep_cmp_name_idx, s->runs);
    for (int i = 1; i < s->nruns && rc == 0; i++)
        if (!strcmp(s->runs[order[i]].name, s->runs[order[i - 1]].name))
            rc = err_set(err, "%s: runs %d and %d get the same file name '%s' (values differing only in characters "
                         "outside [A-Za-z0-9._+=-])", s->path, order[i - 1], order[i], s->runs[order[i]].name);
    free(order);
    if (rc) return -1;
    /* fingerprint of the run list, so a Slurm task notices a spec edited after --slurm */
    size_t cap = 1;
    for (int i = 0; i < s->nruns; i++) cap += strlen(s->runs[i].name) + 66;
    char *fp = malloc(cap), hex[65];
    if (!fp) return oom(err);
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
    if (!(s->path = strdup(path))) return oom(err);
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
            if (!(s->out_dir = strdup(out_dir))) ret = oom(err);
        }
        if (ret == 0 && (!s->out_dir || !*s->out_dir)) { /* results/sweeps/<spec name> */
            const char *b = strrchr(path, '/');
            b = b ? b + 1 : path;
            size_t n = strlen(b);
            if (n > 4 && !strcmp(b + n - 4, ".ini")) n -= 4;
            char buf[PATH_MAX];
            snprintf(buf, sizeof buf, "results/sweeps/%.*s", (int)n, b);
            free(s->out_dir);
            if (!(s->out_dir = strdup(buf))) ret = oom(err);
        }
    }
    if (ret == 0) {
        size_t n = strlen(s->out_dir);
        while (n > 1 && s->out_dir[n - 1] == '/') s->out_dir[--n] = 0;
        ret = expand(s, err);
    }
    if (ret) sweep_free(s);
    return ret;
}

