/* `rlgf sweep`: options, help, and the lines the command prints; the spec (sim/sweep/spec.c) and
 * the runner (sim/sweep/runner.c) do the work. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/util.h"
#include "../sweep/runner.h"

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
    "by signal N), wall_s, digest (`rlgf digest` of the log), cpu_s (user + system). A run continued\n"
    "from its checkpoint adds its earlier processes' wall_s and cpu_s from the manifest, or has `-`\n"
    "when those are unknown (its sweep was killed). A run is finished when OUT_DIR/NAME.h5\n"
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
    if (util_mkdir_p(s->out_dir, &e) != 0 || write_manifest(&c, &e) != 0) {
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
    if (!st) {
        fprintf(stderr, "rlgf sweep: out of memory for %d runs\n", s.nruns);
        sweep_free(&s);
        return 2;
    }
    for (int i = 0; i < s.nruns; i++) st[i].lock_fd = -1;
    if (load_manifests(&s, st, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        free(st);
        sweep_free(&s);
        return 2;
    }
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
        rc = write_sbatch(stdout, &s, st, o.resume, o.jobs_given ? o.jobs : 0, o.spec, o.out_dir, &err);
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
    if (util_mkdir_p(s.out_dir, &err) != 0) {
        fprintf(stderr, "rlgf sweep: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    ctx_t c = {.s = &s, .st = st, .manifest = manifest, .tag = tag, .jobs = o.jobs, .ntodo = ntodo, .t_start = util_now_s(),
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
    fmt_dur(util_now_s() - c.t_start, el, sizeof el);
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

