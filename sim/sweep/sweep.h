/* sweep: `rlgf sweep SPEC.ini`, the Cartesian product of config values, run as child processes of
 * this same binary (`rlgf train BASE key=value... out=OUT_DIR/NAME.h5`), locally on a pool of
 * --jobs processes, as one Slurm job-array task each (--slurm writes the script, --task I runs one),
 * or spread over MPI ranks (--mpi, reading the rank from the launcher's environment: rlgf does not
 * link MPI). `rlgf sweep --help` is the user's view.
 *
 * Spec file (INI, parsed with libinih like configs; errors name SPEC:LINE):
 *   [sweep]
 *   base    = configs/imdb.ini          ; required; paths are relative to the working directory
 *   out_dir = results/sweeps/NAME       ; default results/sweeps/<spec file name without .ini>
 *   set     = key=value, key=value      ; fixed overrides for every run (may repeat)
 *   [axes]
 *   algo = ppo, ppopp                   ; one axis per line, any config key; `a..b` = integers a to b
 *   seed = 0..4                         ; a key repeated on a later line appends values
 *   [exclude]
 *   algo = ppo, guide.quality = 0.5     ; drop combinations matching every pair on the line
 *
 * Runs: the product over axes in file order, the last axis varying fastest; excluded combinations
 * are dropped and the rest numbered 0..n-1 (the --task index). Run name: `key=value` per axis
 * joined by "__", every character outside [A-Za-z0-9._+=-] replaced by '_'; a name longer than
 * SWEEP_NAME_LONG gets cut and ends in '~' + 16 hex of the SHA-256 of the full name. No axes: "run". */
#ifndef RLGF_SWEEP_H
#define RLGF_SWEEP_H

#include <stddef.h>

#include "../base/err.h"

#define SWEEP_NAME_MAX 200
#define SWEEP_NAME_LONG 160

typedef struct {
    char *key, *value;
    int line;
} sweep_kv_t;

typedef struct {
    char *key;
    int line;          /* first line of the axis */
    int n;             /* values */
    char **values;     /* as written (trimmed) */
    char **canon;      /* canonical text (cfg_get_text), for duplicates and exclusions */
} sweep_axis_t;

typedef struct {
    int line;
    int npairs;
    int *axis, *value; /* pair i: axes[axis[i]] == values[value[i]] */
} sweep_excl_t;

typedef struct {
    int index;
    char name[SWEEP_NAME_MAX + 1];
    int nover;
    char **over;          /* "key=value": the [sweep] set overrides, then one per axis */
    char config_hash[65]; /* SHA-256 of cfg_run_text: what the run log's config_hash must be */
    char sl_group[17];    /* runs sharing it share one cached SL checkpoint */
    int threads;
} sweep_run_t;

typedef struct {
    char *path, *base, *out_dir;
    int base_line;
    int nset;
    sweep_kv_t *set;
    int naxes;
    sweep_axis_t *axes;
    int nexcl;
    sweep_excl_t *excl;
    int nruns, nexcluded;
    sweep_run_t *runs;
    char fingerprint[17]; /* of the run list (names and config hashes), checked by --task */
} sweep_t;

/* Parses the spec, expands the runs and validates every run's config (base < set < axis values,
 * then cfg_validate). out_dir, when not NULL, replaces the spec's. On error the message names
 * SPEC:LINE or the run; *s is freed. */
int sweep_load(sweep_t *s, const char *path, const char *out_dir, err_t *err);
void sweep_free(sweep_t *s);

/* The file-name rule for run names (see above), into out (SWEEP_NAME_MAX + 1 bytes); -1 when
 * memory runs out. */
int sweep_name(const char *const *pairs, int n, char *out);

/* The `rlgf sweep` command; returns the process exit status. */
int sweep_main(int argc, char **argv);

#endif
