#include "schema.h"

#include <string.h>

#include "h5read.h"

/* Root attributes are "@name". Order: as README shows them. */
const schema_entry_t SCHEMA[] = {
    {"@schema_version", "int32", "file", "layout version of this table (1)"},
    {"@program_version", "string", "file", "`git describe` of the binary (not in the digest)"},
    {"@task", "string", "file", "`task=`"},
    {"@algo", "string", "file", "`algo=`"},
    {"@seed", "int64", "file", "`seed=`"},
    {"@config", "string", "file", "the resolved config, canonical order, without the keys that cannot change results"},
    {"@config_hash", "string", "file", "SHA-256 of `config`"},
    {"@complete", "int32", "file", "1 when the run finished; 0 while running, interrupted or diverged"},
    {"@diverged", "int32", "file", "1 when a loss, gradient or weight became non-finite (then `complete` = 0)"},
    {"@diverged_iteration", "int64", "file", "the iteration where that happened"},
    {"@diverged_quantity", "string", "file", "what became non-finite, e.g. `policy_loss`"},

    {"/iterations/iteration", "int64", "iteration", "k: this row holds the batch sampled from policy k and the update to policy k+1"},
    {"/iterations/tokens", "int64", "iteration", "generated tokens so far"},
    {"/iterations/trajectories", "int64", "iteration", "training trajectories so far"},
    {"/iterations/reward", "float64", "iteration", "mean task reward of the batch"},
    {"/iterations/kl", "float64", "iteration", "mean summed log-ratio to pi_ref per trajectory"},
    {"/iterations/beta_kl", "float64", "iteration", "KL coefficient used"},
    {"/iterations/lr", "float64", "iteration", "learning rate used"},
    {"/iterations/policy_loss", "float64", "iteration", "clipped surrogate loss (mean over minibatches)"},
    {"/iterations/value_loss", "float64", "iteration", "value loss"},
    {"/iterations/entropy", "float64", "iteration", "mean policy entropy on trained tokens"},
    {"/iterations/target_loss", "float64", "iteration", "NLL of the reference continuations"},
    {"/iterations/approx_kl", "float64", "iteration", "mean (rho - 1) - log rho"},
    {"/iterations/clip_frac", "float64", "iteration", "fraction of trained tokens whose ratio was clipped"},
    {"/iterations/value_clip_frac", "float64", "iteration", "fraction of value targets clipped"},
    {"/iterations/explained_variance", "float64", "iteration", "of the returns by the values"},
    {"/iterations/grad_norm", "float64", "iteration", "global gradient norm before clipping"},
    {"/iterations/epochs_run", "int64", "iteration", "epochs before a target-KL stop"},
    {"/iterations/mode", "int64", "iteration", "what ran: 0 PPO, 1 PPO++, 2 AggreVaTeD (LOLS/D2LOLS choose)"},
    {"/iterations/critic", "int64", "iteration", "critic trained: 0 learner, 1 guide"},
    {"/iterations/beta", "float64", "iteration", "roll-in probability used"},

    {"/trajectories/iteration", "int64", "trajectory", "policy k that produced it (see `eval`)"},
    {"/trajectories/split", "int32", "trajectory", "0 train, 1 validation, 2 test"},
    {"/trajectories/who", "int32", "trajectory", "0 learner, 1 guide, 2 pi_ref"},
    {"/trajectories/eval", "uint8", "trajectory", "1 an evaluation trajectory, 0 a training one"},
    {"/trajectories/prompt_index", "int64", "trajectory", "prompt within its split (prompts are regenerable)"},
    {"/trajectories/u", "uint8", "trajectory", "roll-in decision"},
    {"/trajectories/k", "int32", "trajectory", "switch point (0: no roll-in)"},
    {"/trajectories/length", "int32", "trajectory", "generated tokens"},
    {"/trajectories/task_reward", "float64", "trajectory", "task reward R(x, y)"},
    {"/trajectories/return", "float64", "trajectory", "sum of the shaped per-token rewards"},
    {"/trajectories/group", "int32", "trajectory", "group of `group.size` completions of one prompt (j / K within the iteration); -1 for evaluations"},
    {"/trajectories/baseline", "float64", "trajectory", "the advantage estimator's baseline: the critic-free b_i, or the critic's V(s_0); NaN for evaluations"},
    {"/trajectories/metric_*", "float64", "trajectory", "every task metric"},
    {"/trajectories/token_offset", "int64", "trajectory", "first row of its tokens in the per-token arrays"},
    {"/trajectories/token", "int32", "token", "token id"},
    {"/trajectories/actor", "uint8", "token", "0 learner, 1 guide, 2 forced (a roll-in prefix)"},
    {"/trajectories/train_mask", "uint8", "token", "1 where the policy loss applies (0 on evaluation rows)"},
    {"/trajectories/value_mask", "uint8", "token", "1 where the value loss applies (0 on evaluation rows)"},
    {"/trajectories/logp", "float32", "token", "log-probability under the policy that sampled (NaN for the guide)"},
    {"/trajectories/logp_ref", "float32", "token", "log-probability under pi_ref"},
    {"/trajectories/value", "float32", "token", "critic value (NaN on evaluation rows)"},
    {"/trajectories/reward", "float32", "token", "shaped reward (task reward alone on evaluation rows)"},
    {"/trajectories/advantage", "float32", "token", "GAE advantage (NaN on evaluation rows)"},
    {"/trajectories/returns", "float32", "token", "advantage + value (undiscounted task return on evaluation rows)"},

    {"/eval/iteration", "int64", "evaluation", "policy k evaluated (0 = SL = pi_ref, N = final)"},
    {"/eval/split", "int64", "evaluation", "1 validation (every `eval.every` and at 0), 2 test (at the end)"},
    {"/eval/who", "int64", "evaluation", "0 learner, 1 guide, 2 pi_ref (the learner's iteration-0 sample again)"},
    {"/eval/n", "int64", "evaluation", "prompts evaluated"},
    {"/eval/*_mean", "float64", "evaluation", "mean of every metric, `kl` and `length`"},
    {"/eval/*_std", "float64", "evaluation", "standard deviation of the same"},
    {"/eval/ref_ppl", "float64", "evaluation", "perplexity of held-out references under the policy (NaN for the guide)"},

    {"/timing/*", "float64", "timing", "wall-clock figures, only with `log.timing=true`; outside the digest"},
};
const int SCHEMA_N = (int)(sizeof SCHEMA / sizeof *SCHEMA);

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
