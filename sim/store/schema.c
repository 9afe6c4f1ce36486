#include "schema.h"

#include <string.h>

#include "h5read.h"

/* Root attributes are "@name". Order: as README shows them. */
const schema_entry_t SCHEMA[SCHEMA_ROWS] = {
    [ATTR_SCHEMA_VERSION] = {"@schema_version", "int32", "file", "layout version of this table (1)"},
    [ATTR_PROGRAM_VERSION] = {"@program_version", "string", "file", "`git describe` of the binary (not in the digest)"},
    [ATTR_TASK] = {"@task", "string", "file", "`task=`"},
    [ATTR_ALGO] = {"@algo", "string", "file", "`algo=`"},
    [ATTR_SEED] = {"@seed", "int64", "file", "`seed=`"},
    [ATTR_CONFIG] = {"@config", "string", "file", "the resolved config, canonical order, without the keys that cannot change results"},
    [ATTR_CONFIG_HASH] = {"@config_hash", "string", "file", "SHA-256 of `config`"},
    [ATTR_COMPLETE] = {"@complete", "int32", "file", "1 when the run finished; 0 while running, interrupted or diverged"},
    [ATTR_DIVERGED] = {"@diverged", "int32", "file", "1 when a loss, gradient or weight became non-finite (then `complete` = 0)"},
    [ATTR_DIVERGED_ITERATION] = {"@diverged_iteration", "int64", "file", "the iteration where that happened"},
    [ATTR_DIVERGED_QUANTITY] = {"@diverged_quantity", "string", "file", "what became non-finite, e.g. `policy_loss`"},

    [COL_IT_ITERATION] = {"/iterations/iteration", "int64", "iteration", "k: this row holds the batch sampled from policy k and the update to policy k+1"},
    [COL_IT_TOKENS] = {"/iterations/tokens", "int64", "iteration", "generated tokens so far"},
    [COL_IT_TRAJECTORIES] = {"/iterations/trajectories", "int64", "iteration", "training trajectories so far"},
    [COL_IT_REWARD] = {"/iterations/reward", "float64", "iteration", "mean task reward of the batch"},
    [COL_IT_KL] = {"/iterations/kl", "float64", "iteration", "mean summed log-ratio to pi_ref per trajectory"},
    [COL_IT_BETA_KL] = {"/iterations/beta_kl", "float64", "iteration", "KL coefficient used"},
    [COL_IT_LR] = {"/iterations/lr", "float64", "iteration", "learning rate used"},
    [COL_IT_POLICY_LOSS] = {"/iterations/policy_loss", "float64", "iteration", "clipped surrogate loss (mean over minibatches)"},
    [COL_IT_VALUE_LOSS] = {"/iterations/value_loss", "float64", "iteration", "value loss"},
    [COL_IT_ENTROPY] = {"/iterations/entropy", "float64", "iteration", "mean policy entropy on trained tokens"},
    [COL_IT_TARGET_LOSS] = {"/iterations/target_loss", "float64", "iteration", "NLL of the reference continuations"},
    [COL_IT_APPROX_KL] = {"/iterations/approx_kl", "float64", "iteration", "mean (rho - 1) - log rho"},
    [COL_IT_CLIP_FRAC] = {"/iterations/clip_frac", "float64", "iteration", "fraction of trained tokens whose ratio was clipped"},
    [COL_IT_VALUE_CLIP_FRAC] = {"/iterations/value_clip_frac", "float64", "iteration", "fraction of value targets clipped"},
    [COL_IT_EXPLAINED_VARIANCE] = {"/iterations/explained_variance", "float64", "iteration", "of the returns by the values"},
    [COL_IT_GRAD_NORM] = {"/iterations/grad_norm", "float64", "iteration", "global gradient norm before clipping"},
    [COL_IT_EPOCHS_RUN] = {"/iterations/epochs_run", "int64", "iteration", "epochs before a target-KL stop"},
    [COL_IT_MODE] = {"/iterations/mode", "int64", "iteration", "what ran: 0 PPO, 1 PPO++, 2 AggreVaTeD (LOLS/D2LOLS choose)"},
    [COL_IT_CRITIC] = {"/iterations/critic", "int64", "iteration", "critic trained: 0 learner, 1 guide"},
    [COL_IT_BETA] = {"/iterations/beta", "float64", "iteration", "roll-in probability used"},

    [COL_TR_ITERATION] = {"/trajectories/iteration", "int64", "trajectory", "policy k that produced it (see `eval`)"},
    [COL_TR_SPLIT] = {"/trajectories/split", "int32", "trajectory", "0 train, 1 validation, 2 test"},
    [COL_TR_WHO] = {"/trajectories/who", "int32", "trajectory", "0 learner, 1 guide, 2 pi_ref"},
    [COL_TR_EVAL] = {"/trajectories/eval", "uint8", "trajectory", "1 an evaluation trajectory, 0 a training one"},
    [COL_TR_PROMPT_INDEX] = {"/trajectories/prompt_index", "int64", "trajectory", "prompt within its split (prompts are regenerable)"},
    [COL_TR_U] = {"/trajectories/u", "uint8", "trajectory", "roll-in decision"},
    [COL_TR_K] = {"/trajectories/k", "int32", "trajectory", "switch point (0: no roll-in)"},
    [COL_TR_LENGTH] = {"/trajectories/length", "int32", "trajectory", "generated tokens"},
    [COL_TR_TASK_REWARD] = {"/trajectories/task_reward", "float64", "trajectory", "task reward R(x, y)"},
    [COL_TR_RETURN] = {"/trajectories/return", "float64", "trajectory", "sum of the shaped per-token rewards"},
    [COL_TR_GROUP] = {"/trajectories/group", "int32", "trajectory", "group of `group.size` completions of one prompt (j / K within the iteration); -1 for evaluations"},
    [COL_TR_BASELINE] = {"/trajectories/baseline", "float64", "trajectory", "the advantage estimator's baseline: the critic-free b_i, or the critic's V(s_0); NaN for evaluations"},
    [COL_TR_METRIC] = {"/trajectories/metric_*", "float64", "trajectory", "every task metric"},
    [COL_TR_TOKEN_OFFSET] = {"/trajectories/token_offset", "int64", "trajectory", "first row of its tokens in the per-token arrays"},
    [COL_TR_TOKEN] = {"/trajectories/token", "int32", "token", "token id"},
    [COL_TR_ACTOR] = {"/trajectories/actor", "uint8", "token", "0 learner, 1 guide, 2 forced (a roll-in prefix)"},
    [COL_TR_TRAIN_MASK] = {"/trajectories/train_mask", "uint8", "token", "1 where the policy loss applies (0 on evaluation rows)"},
    [COL_TR_VALUE_MASK] = {"/trajectories/value_mask", "uint8", "token", "1 where the value loss applies (0 on evaluation rows)"},
    [COL_TR_LOGP] = {"/trajectories/logp", "float32", "token", "log-probability under the policy that sampled (NaN for the guide)"},
    [COL_TR_LOGP_REF] = {"/trajectories/logp_ref", "float32", "token", "log-probability under pi_ref"},
    [COL_TR_VALUE] = {"/trajectories/value", "float32", "token", "critic value (NaN on evaluation rows)"},
    [COL_TR_REWARD] = {"/trajectories/reward", "float32", "token", "shaped reward (task reward alone on evaluation rows)"},
    [COL_TR_ADVANTAGE] = {"/trajectories/advantage", "float32", "token", "GAE advantage (NaN on evaluation rows)"},
    [COL_TR_RETURNS] = {"/trajectories/returns", "float32", "token", "advantage + value (undiscounted task return on evaluation rows)"},

    [COL_EV_ITERATION] = {"/eval/iteration", "int64", "evaluation", "policy k evaluated (0 = SL = pi_ref, N = final)"},
    [COL_EV_SPLIT] = {"/eval/split", "int64", "evaluation", "1 validation (every `eval.every` and at 0), 2 test (at the end)"},
    [COL_EV_WHO] = {"/eval/who", "int64", "evaluation", "0 learner, 1 guide, 2 pi_ref (the learner's iteration-0 sample again)"},
    [COL_EV_N] = {"/eval/n", "int64", "evaluation", "prompts evaluated"},
    [COL_EV_MEAN] = {"/eval/*_mean", "float64", "evaluation", "mean of every metric, `kl` and `length`"},
    [COL_EV_STD] = {"/eval/*_std", "float64", "evaluation", "standard deviation of the same"},
    [COL_EV_REF_PPL] = {"/eval/ref_ppl", "float64", "evaluation", "perplexity of held-out references under the policy (NaN for the guide)"},

    [COL_TIMING] = {"/timing/*", "float64", "timing", "per iteration: `iteration_seconds` (wall clock), `cpu_seconds` (the process's CPU, all threads), `tokens_per_second`; only with `log.timing=true`; outside the digest"},
};
const int SCHEMA_N = SCHEMA_ROWS;

int schema_dataset(schema_id_t id, const char *wild, char *buf, size_t len) {
    const char *p = (unsigned)id < SCHEMA_ROWS ? SCHEMA[id].path : NULL;
    if (!p || p[0] != '/' || len == 0) return -1;
    const char *star = strchr(p, '*');
    int n = star ? snprintf(buf, len, "%.*s%s%s", (int)(star - p - 1), p + 1, wild ? wild : "", star + 1)
                 : snprintf(buf, len, "%s", p + 1);
    return n < 0 || (size_t)n >= len || (star && !wild) ? -1 : 0;
}

const char *schema_attr(schema_id_t id) {
    const char *p = (unsigned)id < SCHEMA_ROWS ? SCHEMA[id].path : NULL;
    return p && p[0] == '@' ? p + 1 : NULL;
}

/* glob with one kind of wildcard: '*' matches any text */
static int match(const char *pat, const char *s) {
    if (!*pat) return !*s;
    if (*pat == '*') {
        for (const char *t = s;; t++) {
            if (match(pat + 1, t)) return 1;
            if (!*t) return 0;
        }
    }
    return *pat == *s && match(pat + 1, s + 1);
}

const schema_entry_t *schema_find(const char *path) {
    for (int i = 0; i < SCHEMA_N; i++)
        if (strchr(SCHEMA[i].path, '*') == NULL && strcmp(SCHEMA[i].path, path) == 0) return &SCHEMA[i];
    for (int i = 0; i < SCHEMA_N; i++)
        if (strchr(SCHEMA[i].path, '*') && match(SCHEMA[i].path, path)) return &SCHEMA[i];
    return NULL;
}

void schema_markdown(FILE *out) {
    char group[64] = ""; /* "@" for the root attributes, else "/iterations" etc. */
    for (int i = 0; i < SCHEMA_N; i++) {
        const schema_entry_t *e = &SCHEMA[i];
        char g[64];
        size_t glen = e->path[0] == '@' ? 1 : (size_t)(strchr(e->path + 1, '/') - e->path);
        snprintf(g, sizeof g, "%.*s", (int)glen, e->path);
        if (strcmp(g, group) != 0) {
            snprintf(group, sizeof group, "%s", g);
            if (e->path[0] == '@') fprintf(out, "%s**root attributes**\n\n| name | type | meaning |\n|---|---|---|\n", i ? "\n" : "");
            else fprintf(out, "\n**`%s/`** (one row per %s)\n\n| column | type | meaning |\n|---|---|---|\n", g, e->per);
        }
        const char *name = e->path[0] == '@' ? e->path + 1 : e->path + glen + 1;
        fprintf(out, "| `%s` | %s%s | %s |\n", name, e->type, strcmp(e->per, "token") == 0 ? " per token" : "",
                e->meaning);
    }
}

int schema_check(const char *path, err_t *err) {
    h5read_listing_t l;
    if (h5read_list(path, NULL, &l, err)) return -1;
    char msg[1024] = "";
    size_t used = 0;
    int bad = 0;
    for (size_t i = 0; i < l.n_datasets; i++) {
        const schema_entry_t *e = schema_find(l.datasets[i].path);
        const char *why = !e ? "not in the schema" : strcmp(e->type, l.datasets[i].type) ? "of another type" : NULL;
        if (!why) continue;
        if (bad++ < 5 && used < sizeof msg)
            used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s (%s) is %s%s%s", used ? "; " : "",
                                     l.datasets[i].path, l.datasets[i].type, why, e ? ": the schema says " : "",
                                     e ? e->type : "");
    }
    for (size_t i = 0; i < l.n_attrs; i++) {
        if (strcmp(l.attrs[i].object, "/") != 0) continue; /* attributes of datasets: HDF5's own */
        char key[256];
        snprintf(key, sizeof key, "@%s", l.attrs[i].name);
        if (schema_find(key)) continue;
        if (bad++ < 5 && used < sizeof msg)
            used += (size_t)snprintf(msg + used, sizeof msg - used, "%sroot attribute %s is not in the schema",
                                     used ? "; " : "", l.attrs[i].name);
    }
    h5read_listing_free(&l);
    if (bad) return err_set(err, "'%s': %d item(s) not as the schema describes them: %s", path, bad, msg);
    return 0;
}
