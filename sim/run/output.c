#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"
#include "../rl/rollout.h"

static int parent_dir_of(const char *path, char *buf, size_t len) {
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = 0;
    return buf[0] != 0;
}

/* About how many bytes the run will hold at once: models (params, grads, two moments) of policy,
 * pi_ref, two critics and a guide; SL's examples and per-worker workspaces; the training and
 * evaluation batches; the update's per-worker logits. Generous, for a clear error up front
 * instead of a crash (or the OOM killer) minutes in. */
static double memory_estimate(const config_t *cfg, const task_t *task) {
    double V = task->vocab, S = task->prompt_max + task->gen_max, G = task->gen_max, C = cfg->model.channels,
           L = cfg->model.layers, W = cfg->threads, B = ROLLOUT_BLOCK;
    double params = strcmp(cfg->model.kind, "tabular") == 0 ? S * V * V : V * C + S * C + L * (12 * C * C + 13 * C) + 3 * C;
    double models = 5 * params * 16;
    double sl = strcmp(cfg->model.kind, "gpt") == 0
                    ? (double)cfg->sl.examples * (S + 1) * 4 + (double)cfg->sl.examples * 4 +
                          ((double)cfg->sl.batch / B + 1) * params * 4
                    : 0;
    double per_traj = S * 4 + G * 31 + 64 + (double)task->n_metrics * 8;
    int n_eval = cfg->eval.prompts > cfg->eval.test_prompts ? cfg->eval.prompts : cfg->eval.test_prompts;
    double batches = ((double)cfg->trajectories + n_eval) * per_traj * 2;
    double work = W * B * S * (3 * V * 4 + L * C * 4 * 24 + 8);
    return models + sl + batches + work + 64.0 * (1 << 20);
}

/* The memory this process may use: the address-space and data limits (ulimit -v / -d) and the
 * machine's physical memory, whichever is smallest; 0 when unknown. */
static double memory_available(void) {
    double avail = 0;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && psz > 0) avail = (double)pages * (double)psz;
    int res[2] = {RLIMIT_AS, RLIMIT_DATA};
    for (int i = 0; i < 2; i++) {
        struct rlimit rl;
        if (getrlimit(res[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (avail == 0 || (double)rl.rlim_cur < avail))
            avail = (double)rl.rlim_cur;
    }
    return avail;
}

/* Every check that can fail without doing work: the output path, the SL cache directory, the
 * guide's checkpoint and the memory the config needs. */
int preflight(const config_t *cfg, const task_t *task, const char *out, int needs_sl, err_t *err) {
    struct stat st;
    size_t n = strlen(out);
    if (n == 0 || out[n - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode)))
        return err_set(err, "out = '%s' is a directory; expected a file name such as '%s%sRUN.h5'", out, out,
                       n && out[n - 1] == '/' ? "" : "/");
    char dir[1024];
    if (parent_dir_of(out, dir, sizeof dir) && util_mkdir_p(dir, err) != 0) return err_prefix(err, "out = '%s'", out);
    if (needs_sl) {
        if (stat(cfg->cache_dir, &st) == 0 && !S_ISDIR(st.st_mode))
            return err_set(err, "cache_dir = '%s' is not a directory (a file is in the way)", cfg->cache_dir);
        if (util_mkdir_p(cfg->cache_dir, err) != 0) return err_prefix(err, "cache_dir = '%s'", cfg->cache_dir);
        if (access(cfg->cache_dir, W_OK | X_OK) != 0)
            return err_set(err, "cache_dir = '%s' is not writable: %s", cfg->cache_dir, strerror(errno));
    }
    double need = memory_estimate(cfg, task), have = memory_available();
    if (have > 0 && need > have)
        return err_set(err, "this config needs about %.0f MiB of memory (sl.examples = %d, trajectories = %d, "
                       "model.channels = %d, threads = %d), more than the %.0f MiB available (ulimit -v / "
                       "physical memory)", need / (1 << 20), cfg->sl.examples, cfg->trajectories,
                       cfg->model.channels, cfg->threads, have / (1 << 20));
    return 0;
}

/* OUT.lock, held with flock for the whole run: a second run on the same output fails at once,
 * naming the first, and never touches its .partial, resume or policy files. The file holds the
 * owner's pid and host for that message. After locking, the inode is compared with the path's
 * so a lock file that its owner unlinked meanwhile is never trusted. */
int lock_output(const char *out, int *fd_out, err_t *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", out);
    *fd_out = -1;
    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return err_set(err, "cannot create lock file '%s': %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char who[200] = "";
            ssize_t got = pread(fd, who, sizeof who - 1, 0);
            who[got > 0 ? got : 0] = 0;
            who[strcspn(who, "\n")] = 0;
            close(fd);
            if (e == ENOLCK || e == EOPNOTSUPP) return 0; /* a file system without locks: go on unlocked */
            if (e == EWOULDBLOCK)
                return err_set(err, "output '%s' is being written by another run (%s; lock file %s); "
                               "not touching its files: wait for it or choose another out=", out,
                               who[0] ? who : "pid unknown", path);
            return err_set(err, "cannot lock '%s': %s", path, strerror(e));
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            char host[128] = "?", line[256];
            gethostname(host, sizeof host - 1);
            host[sizeof host - 1] = 0;
            int len = snprintf(line, sizeof line, "pid %ld on %s\n", (long)getpid(), host);
            if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) { /* only for messages */ }
            *fd_out = fd;
            return 0;
        }
        close(fd);
    }
    return err_set(err, "cannot lock '%s': it keeps being replaced", path);
}

void unlock_output(const char *out, int fd) {
    if (fd < 0) return;
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", out);
    unlink(path); /* while still holding the lock: a waiting run then sees another inode and retries */
    close(fd);
}


void output_sibling(const char *out, const char *suffix, char *buf, size_t len) {
    size_t n = strlen(out);
    int has_ext = n > 3 && !strcmp(out + n - 3, ".h5");
    snprintf(buf, len, "%.*s%s", (int)(has_ext ? n - 3 : n), out, suffix);
}
