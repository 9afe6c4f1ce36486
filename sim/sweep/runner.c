/* sweep runner: the state of each run of a sweep on disk and in its manifests, the local pool of
 * child processes (`rlgf train ...`), locks, and the Slurm job script. Progress lines go to stderr
 * (the user's terminal); what a command prints as its result is sim/cli/cmd_sweep.c's. */
#include "runner.h"

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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/config.h"
#include "../base/util.h"
#include "../store/h5log.h"

const char *const ST_NAME[] = {"missing", "running", "ok", "failed", "stale"};

/* ------------------------------------------------------------------------------------------ */
/* The command: state of each run on disk and in manifests                                    */


void log_path(const sweep_t *s, int i, const char *ext, char *buf, size_t len) {
    snprintf(buf, len, "%s/%s%s", s->out_dir, s->runs[i].name, ext);
}

/* What the run log at OUT_DIR/NAME.h5 is: absent, only a .partial, complete with this run's config,
 * complete with another config (the spec changed), or unreadable. */
int disk_state(const sweep_t *s, int i) {
    char p[PATH_MAX];
    log_path(s, i, ".h5", p, sizeof p);
    if (access(p, F_OK) != 0) {
        log_path(s, i, ".h5.partial", p, sizeof p);
        return access(p, F_OK) == 0 ? DISK_PARTIAL : DISK_NONE;
    }
    /* read through the forked reader: a damaged log must not crash the sweep (README, fuzzing) */
    char *complete = NULL, *hash = NULL;
    err_t e;
    if (h5log_read_attr(p, schema_attr(ATTR_COMPLETE), &complete, &e) != 0) return DISK_BAD;
    int state = DISK_PARTIAL;
    if (strtol(complete, NULL, 10) == 1)
        state = h5log_read_attr(p, schema_attr(ATTR_CONFIG_HASH), &hash, &e) == 0 && !strncmp(hash, s->runs[i].config_hash, 64)
                    ? DISK_COMPLETE
                    : DISK_STALE;
    free(complete);
    free(hash);
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
int load_manifests(const sweep_t *s, rstate_t *st, err_t *err) {
    int *order = malloc(sizeof *order * (size_t)(s->nruns + 1));
    if (!order) return err_set(err, "out of memory reading the manifests of %s", s->out_dir);
    for (int i = 0; i < s->nruns; i++) order[i] = i;
    qsort_r(order, (size_t)s->nruns, sizeof *order, sweep_cmp_name_idx, s->runs);
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
            char *col[7];
            int nc = 0;
            for (char *q = line; nc < 7;) {
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
            double cpu = nc >= 7 && strcmp(col[6], "-") ? atof(col[6]) : -1; /* older manifests: 6 columns */
            if (!strcmp(col[2], "ok")) {
                r->prev_ok = 1;
                r->prev_wall = wall;
                r->prev_cpu = cpu;
            } else if (!strcmp(col[2], "failed")) {
                r->prev_failed = 1;
                r->prev_exit = strcmp(col[3], "-") ? atoi(col[3]) : -1;
                if (!r->prev_ok) r->prev_wall = wall, r->prev_cpu = cpu;
            } else if (!strcmp(col[2], "running")) {
                r->prev_running = 1;
            }
        }
        fclose(f);
    }
    if (d) closedir(d);
    free(order);
    return 0;
}

/* Status from the disk and the previous manifests: a complete log is ok, whatever a stale row
 * says; otherwise failed if a row says so, running if a row says so (another rank, or a killed
 * sweep), else missing. */
void merged_status(const sweep_t *s, int i, rstate_t *r, int disk) {
    r->exit_code = -1;
    r->wall = -1;
    r->cpu = -1;
    r->digest[0] = 0;
    if (disk == DISK_COMPLETE) {
        r->status = ST_OK;
        r->exit_code = 0;
        if (r->prev_ok) r->wall = r->prev_wall, r->cpu = r->prev_cpu;
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
        r->cpu = r->prev_cpu;
    } else if (r->prev_running) {
        r->status = ST_RUNNING;
    } else {
        r->status = ST_MISSING;
    }
}

/* Rewrites the manifest atomically (temporary file + rename): one row per run this invocation
 * owns (all runs for a local sweep or --merge). */
int write_manifest(const ctx_t *c, err_t *err) {
    const sweep_t *s = c->s;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", c->manifest, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
    fputs("run\toverrides\tstatus\texit_code\twall_s\tdigest\tcpu_s\n", f);
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
        fprintf(f, "%s\t", r->digest[0] ? r->digest : "-");
        if (r->cpu >= 0) fprintf(f, "%.2f\n", r->cpu);
        else fputs("-\n", f);
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

void save_manifest(const ctx_t *c) {
    err_t e;
    if (write_manifest(c, &e) != 0) fprintf(stderr, "rlgf sweep: %s\n", e.msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                   */

void fmt_dur(double sec, char *buf, size_t len) {
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
    /* The sweep deletes nothing itself: `rlgf train` replaces an earlier complete log only with
     * --force and only while it holds OUT.lock, so a second sweep (or run) on the same out_dir
     * can never delete a live run's files. An interrupted run left NAME.resume.h5 (every
     * checkpoint.every iterations): with --resume, `rlgf train --resume` continues from it to the
     * same run log; otherwise the run starts afresh and overwrites its stale .partial. */
    int cont = c->continue_runs && access(ckpt, R_OK) == 0;
    int replace = !cont && access(logp, F_OK) == 0; /* --force, or a failed run's stale log */
    (void)part;
    snprintf(outarg, sizeof outarg, "out=%s", logp);
    int n = s->runs[i].nover;
    char **argv = malloc(sizeof *argv * (size_t)(n + 6));
    if (!argv) {
        fprintf(stderr, "rlgf sweep: %scannot start run %s: out of memory\n", c->tag, s->runs[i].name);
        return -1;
    }
    int k = 0;
    argv[k++] = "rlgf";
    argv[k++] = "train";
    argv[k++] = s->base;
    for (int j = 0; j < n; j++) argv[k++] = s->runs[i].over[j];
    argv[k++] = outarg;
    if (cont) argv[k++] = "--resume";
    if (replace) argv[k++] = "--force";
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
    r->t0 = util_now_s();
    r->carry_wall = r->carry_cpu = 0;
    if (cont) { /* known only from a failed row that nothing ran after */
        int known = r->prev_failed && !r->prev_running && r->prev_wall >= 0 && r->prev_cpu >= 0;
        r->carry_wall = known ? r->prev_wall : -1;
        r->carry_cpu = known ? r->prev_cpu : -1;
    }
    r->status = ST_RUNNING;
    r->exit_code = -1;
    r->wall = -1;
    r->cpu = -1;
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

static void finish(ctx_t *c, int i, int wstatus, const struct rusage *ru, int interrupted) {
    const sweep_t *s = c->s;
    rstate_t *r = &c->st[i];
    r->pid = 0;
    r->done = 1;
    double seg_wall = util_now_s() - r->t0; /* this process's; the manifest's adds the earlier ones' */
    double seg_cpu = (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec + (double)ru->ru_stime.tv_sec +
                     1e-6 * (double)ru->ru_stime.tv_usec;
    r->wall = r->carry_wall < 0 ? -1 : seg_wall + r->carry_wall;
    r->cpu = r->carry_cpu < 0 ? -1 : seg_cpu + r->carry_cpu;
    c->wall_sum += seg_wall;
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
    fmt_dur(seg_wall, wall, sizeof wall);
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
int run_pool(ctx_t *c) {
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
        struct rusage ru;
        while ((p = wait4(-1, &ws, WNOHANG, &ru)) > 0) /* wait4: the child's CPU time for the manifest */
            for (int i = 0; i < s->nruns; i++)
                if (c->st[i].pid == p) {
                    finish(c, i, ws, &ru, stop != 0);
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
                kill_at = util_now_s() + 5;
                fprintf(stderr, "%s%s: stopping: no new runs; ending the %d running (again to kill at once)\n", c->tag,
                        strsignal(sig), running);
            }
            for (int i = 0; i < s->nruns; i++)
                if (c->st[i].pid > 0) kill(c->st[i].pid, hard ? SIGKILL : SIGTERM);
        }
        if (stop && kill_at > 0 && util_now_s() > kill_at) {
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

int write_sbatch(FILE *out, const sweep_t *s, const rstate_t *st, int resume, int jobs, const char *spec,
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
    char *arr = malloc(cap);
    if (!arr) return err_set(err, "out of memory writing the job array");
    arr[0] = 0;
    int count = 0, threads = 1;
    for (int i = 0; i < s->nruns; i++) {
        if (s->runs[i].threads > threads) threads = s->runs[i].threads;
        if (!st[i].todo) continue;
        int j = i;
        while (j + 1 < s->nruns && st[j + 1].todo) j++;
        if (len + 48 > cap) {
            char *t = realloc(arr, cap *= 2);
            if (!t) return free(arr), err_set(err, "out of memory writing the job array");
            arr = t;
        }
        len += (size_t)(j > i ? sprintf(arr + len, "%s%d-%d", len ? "," : "", i, j) : sprintf(arr + len, "%s%d", len ? "," : "", i));
        for (int k = i; k <= j; k++) count++;
        i = j;
    }
    if (count == 0) {
        free(arr);
        fprintf(stderr, "rlgf sweep: every run of %s has a complete log; no job array to write\n", spec);
        return 1;
    }
    if (util_mkdir_p(s->out_dir, err) != 0) return free(arr), -1;
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
    fprintf(out, "wrote %s: a job array of %d tasks (%d runs in the spec%s)\n", path, count, s->nruns,
           resume ? ", the complete ones left out" : "");
    fprintf(out, "submit it with:\n  sbatch %s\n", path);
    fprintf(out, "when it has finished, rebuild the manifest from the run logs:\n  %s sweep %s%s%s --merge\n", exe, spec,
           out_dir_opt ? " --out-dir " : "", out_dir_opt ? out_dir_opt : "");
    fprintf(out, "(or queue that after the array: sbatch --dependency=afterany:JOBID --wrap '%s sweep %s --merge')\n", exe, spec);
    return 0;
}

