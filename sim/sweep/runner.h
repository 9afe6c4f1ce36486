/* sweep runner: what `rlgf sweep` knows about each run (its state on disk and in manifests) and
 * how it runs them (a local pool of child processes, Slurm). Used by sim/cli/cmd_sweep.c. */
#ifndef RLGF_SWEEP_RUNNER_H
#define RLGF_SWEEP_RUNNER_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "sweep.h"

enum { ST_MISSING, ST_RUNNING, ST_OK, ST_FAILED, ST_STALE };
extern const char *const ST_NAME[]; /* "missing", "running", "ok", "failed", "stale" */

enum { DISK_NONE, DISK_PARTIAL, DISK_COMPLETE, DISK_STALE, DISK_BAD };

typedef struct {
    int status, exit_code; /* exit_code -1: none */
    double wall;           /* < 0: unknown */
    double cpu;            /* CPU seconds of the run's process (user + system, wait4); < 0: unknown */
    char digest[65];
    /* execution */
    int mine, todo, done;
    pid_t pid;
    double t0;
    int lock_fd;
    /* previous manifests */
    int prev_ok, prev_failed, prev_running, prev_exit;
    double prev_wall, prev_cpu;
    /* a run continued from its checkpoint: what its earlier processes took, added to this one's
     * in the manifest (< 0: unknown, e.g. the sweep that ran them was killed; then the manifest
     * says "-" rather than a part presented as the whole) */
    double carry_wall, carry_cpu;
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

void log_path(const sweep_t *s, int i, const char *ext, char *buf, size_t len);
int disk_state(const sweep_t *s, int i);
int load_manifests(const sweep_t *s, rstate_t *st, err_t *err);
void merged_status(const sweep_t *s, int i, rstate_t *r, int disk);
int write_manifest(const ctx_t *c, err_t *err);
void save_manifest(const ctx_t *c);
void fmt_dur(double sec, char *buf, size_t len);
int run_pool(ctx_t *c);
/* writes OUT_DIR/sweep.sbatch and tells `out` how to submit and merge it */
int write_sbatch(FILE *out, const sweep_t *s, const rstate_t *st, int resume, int jobs, const char *spec, const char *out_dir_opt, err_t *err);

/* spec.c's helper the runner shares: the order of runs by name (qsort_r comparator over
 * sweep_run_t). */
int sweep_cmp_name_idx(const void *a, const void *b, void *runs);

#endif
