#include "minari.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sim/store/h5log.h"
#include "../sim/store/h5util.h"
#include "../sim/base/util.h"

enum { C_OFF, C_LEN, C_IT, C_SPLIT, C_WHO, C_PIDX, C_TR, C_U, C_K, T_TOK, T_ACTOR, T_REW, T_LOGP, T_LOGPR, T_VAL, T_ADV, NCOL };
static const char *const COLS[NCOL] = {
    "trajectories/token_offset", "trajectories/length", "trajectories/iteration", "trajectories/split",
    "trajectories/who", "trajectories/prompt_index", "trajectories/task_reward", "trajectories/u", "trajectories/k",
    "trajectories/token", "trajectories/actor", "trajectories/reward", "trajectories/logp", "trajectories/logp_ref",
    "trajectories/value", "trajectories/advantage"};

static int write_ds(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *buf) {
    hid_t d = h5util_write_dataset(g, name, ftype, mtype, rank, dims, buf);
    return d >= 0 ? H5Dclose(d), 0 : -1;
}

static int write_attr_i64(hid_t obj, const char *name, int64_t v) {
    return h5util_write_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

static int write_attr_f64(hid_t obj, const char *name, double v) {
    return h5util_write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int minari_export(const char *run_path, const char *dir, int split, int force, err_t *err) {
    double *c[NCOL] = {0};
    size_t n[NCOL] = {0};
    int rc = -1;
    char data_dir[1024], h5path[1100], json[1100], task[128], algo[128], cause[300];
    hid_t out = -1;
    /* an earlier export (or anything else) at dir is never overwritten without --force */
    if (util_export_dir_ok(dir, force, "its data/", err)) return -1;
    /* the columns are read in the isolated reader first: a damaged file fails there cleanly */
    for (int i = 0; i < NCOL; i++)
        if (h5log_read_column(run_path, COLS[i], &c[i], &n[i], err)) goto done;
    size_t ntraj = n[C_OFF], ntok = n[T_TOK];
    for (int i = 0; i < NCOL; i++)
        if (n[i] != (i < T_TOK ? ntraj : ntok)) {
            err_set(err, "'%s': '%s' has %zu rows, expected %zu", run_path, COLS[i], n[i], i < T_TOK ? ntraj : ntok);
            goto done;
        }
    /* task, algo and seed through the isolated reader too (never H5Fopen on a user's file here) */
    int64_t seed = 0;
    {
        char *v[3] = {NULL, NULL, NULL};
        const char *names[3] = {schema_attr(ATTR_TASK), schema_attr(ATTR_ALGO), schema_attr(ATTR_SEED)};
        for (int q = 0; q < 3; q++)
            if (h5log_read_attr(run_path, names[q], &v[q], err)) {
                for (int z = 0; z < q; z++) free(v[z]);
                goto done;
            }
        snprintf(task, sizeof task, "%s", v[0]);
        snprintf(algo, sizeof algo, "%s", v[1]);
        seed = strtoll(v[2], NULL, 10);
        for (int q = 0; q < 3; q++) free(v[q]);
    }
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    if ((mkdir(dir, 0777) != 0 && errno != EEXIST) || (mkdir(data_dir, 0777) != 0 && errno != EEXIST)) {
        err_set(err, "cannot create '%s': %s", data_dir, strerror(errno));
        goto done;
    }
    snprintf(h5path, sizeof h5path, "%s/main_data.hdf5", data_dir);
    out = H5Fcreate(h5path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (out < 0) {
        err_set(err, "cannot create '%s': %s", h5path, h5log_error_cause(cause));
        goto done;
    }
    int64_t episodes = 0, steps = 0;
    for (size_t i = 0; i < ntraj; i++) {
        if (split >= 0 && (int)c[C_SPLIT][i] != split) continue;
        int64_t T = (int64_t)c[C_LEN][i], off = (int64_t)c[C_OFF][i];
        if (T < 0 || off < 0 || (size_t)(off + T) > ntok) {
            err_set(err, "'%s': trajectory %zu points outside the token arrays", run_path, i);
            goto done;
        }
        char name[64];
        snprintf(name, sizeof name, "episode_%lld", (long long)episodes);
        hid_t g = H5Gcreate2(out, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t inf = g >= 0 ? H5Gcreate2(g, "infos", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
        size_t tn = (size_t)(T > 0 ? T : 1);
        int64_t *act = malloc(tn * sizeof *act), *obs = malloc((tn + 1) * 2 * sizeof *obs);
        double *rew = malloc(tn * sizeof *rew), *f64[5];
        uint8_t *term = calloc(tn, 1), *trunc = calloc(tn, 1), *actor = malloc(tn);
        for (int q = 0; q < 5; q++) f64[q] = malloc(tn * sizeof(double));
        for (int64_t t = 0; t < T; t++) {
            act[t] = (int64_t)c[T_TOK][off + t];
            rew[t] = c[T_REW][off + t];
            actor[t] = (uint8_t)c[T_ACTOR][off + t];
            f64[0][t] = c[T_LOGP][off + t];
            f64[1][t] = c[T_LOGPR][off + t];
            f64[2][t] = c[T_VAL][off + t];
            f64[3][t] = c[T_ADV][off + t];
        }
        for (int64_t t = 0; t <= T; t++) {
            obs[2 * t] = (int64_t)c[C_PIDX][i];
            obs[2 * t + 1] = t;
        }
        if (T > 0) term[T - 1] = 1;
        hsize_t dT = (hsize_t)T, dO[2] = {(hsize_t)T + 1, 2};
        int bad = g < 0 || inf < 0 ||
                  write_ds(g, "actions", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &dT, act) ||
                  write_ds(g, "observations", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, dO, obs) ||
                  write_ds(g, "rewards", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dT, rew) ||
                  write_ds(g, "terminations", H5T_NATIVE_HBOOL, H5T_NATIVE_HBOOL, 1, &dT, term) ||
                  write_ds(g, "truncations", H5T_NATIVE_HBOOL, H5T_NATIVE_HBOOL, 1, &dT, trunc) ||
                  write_ds(inf, "actor", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, &dT, actor) ||
                  write_ds(inf, "logp", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dT, f64[0]) ||
                  write_ds(inf, "logp_ref", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dT, f64[1]) ||
                  write_ds(inf, "value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dT, f64[2]) ||
                  write_ds(inf, "advantage", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dT, f64[3]) ||
                  write_attr_i64(g, "id", episodes) || write_attr_i64(g, "total_steps", T) ||
                  write_attr_i64(g, "iteration", (int64_t)c[C_IT][i]) || write_attr_i64(g, "split", (int64_t)c[C_SPLIT][i]) ||
                  write_attr_i64(g, "who", (int64_t)c[C_WHO][i]) || write_attr_i64(g, "prompt_index", (int64_t)c[C_PIDX][i]) ||
                  write_attr_i64(g, "u", (int64_t)c[C_U][i]) || write_attr_i64(g, "k", (int64_t)c[C_K][i]) ||
                  write_attr_f64(g, "task_reward", c[C_TR][i]);
        free(act); free(obs); free(rew); free(term); free(trunc); free(actor);
        for (int q = 0; q < 5; q++) free(f64[q]);
        if (inf >= 0) H5Gclose(inf);
        if (g >= 0) H5Gclose(g);
        if (bad) {
            err_set(err, "'%s': cannot write episode %lld: %s", h5path, (long long)episodes, h5log_error_cause(cause));
            goto done;
        }
        episodes++;
        steps += T;
    }
    if (write_attr_i64(out, "total_episodes", episodes) || write_attr_i64(out, "total_steps", steps)) {
        err_set(err, "'%s': cannot write attributes", h5path);
        goto done;
    }
    if (H5Fclose(out) < 0) {
        out = -1;
        err_set(err, "cannot close '%s' (disk full?)", h5path);
        goto done;
    }
    out = -1;
    snprintf(json, sizeof json, "%s/metadata.json", data_dir);
    FILE *j = fopen(json, "w");
    if (!j) {
        err_set(err, "cannot write '%s': %s", json, strerror(errno));
        goto done;
    }
    fprintf(j,
            "{\n  \"dataset_id\": \"rlgf/%s/%s-s%lld-v0\",\n  \"total_episodes\": %lld,\n  \"total_steps\": %lld,\n"
            "  \"data_format\": \"hdf5\",\n  \"algorithm_name\": \"%s\",\n  \"author\": \"rlgf\",\n"
            "  \"code_permalink\": null,\n  \"minari_version\": \"0.4.3\",\n  \"env_spec\": null,\n"
            "  \"action_space\": \"Discrete(vocab): token ids\",\n"
            "  \"observation_space\": \"Box(int64, (2,)): [prompt_index, tokens generated so far]\",\n"
            "  \"rlgf_source\": \"%s\",\n  \"rlgf_split\": %d\n}\n",
            task, algo, (long long)seed, (long long)episodes, (long long)steps, algo, run_path, split);
    if (fclose(j) != 0) {
        err_set(err, "cannot write '%s' (disk full?)", json);
        goto done;
    }
    rc = 0;
done:
    if (out >= 0) H5Fclose(out);
    for (int i = 0; i < NCOL; i++) free(c[i]);
    return rc;
}
