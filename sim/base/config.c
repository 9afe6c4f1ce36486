/* config: the registry of every setting, INI loading (libinih), overrides, validation and the
 * canonical text of a resolved config. See config.h for the contract. */
#include "config.h"
#include "algo_names.h"

/* "|sl|ppo|ppopp|...": the allowed values of `algo` (after the leading '|'), from the registry's one list */
#define ALGO_CHOICE(name) "|" #name

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <ini.h>

#define CFG_MAX_FILE (1 << 20)

/* ------------------------------------------------------------------------------------------ */
/* The registry                                                                                */

typedef enum { T_INT, T_INT64, T_DOUBLE, T_BOOL, T_STRING, T_CHOICE } ktype_t;

typedef struct {
    const char *key;     /* dotted name, as written in files and on the command line */
    ktype_t type;
    size_t off;          /* offsetof into config_t */
    const char *def;     /* default, as text (parsed by cfg_defaults) */
    double lo, hi;       /* numeric bounds, inclusive; NOMAX = no upper bound */
    int lo_open;         /* 1: lower bound exclusive, e.g. (0, 1] */
    const char *choices; /* T_CHOICE: "a|b|c"; T_STRING: "nonempty" or NULL */
    const char *help;
} cfg_key_t;

#define NOMAX DBL_MAX
#define OFF(f) offsetof(config_t, f)
#define K_INT(k, f, d, lo, hi, h) {k, T_INT, OFF(f), d, lo, hi, 0, NULL, h}
#define K_I64(k, f, d, lo, h) {k, T_INT64, OFF(f), d, lo, NOMAX, 0, NULL, h}
#define K_DBL(k, f, d, lo, hi, h) {k, T_DOUBLE, OFF(f), d, lo, hi, 0, NULL, h}
#define K_DBLX(k, f, d, lo, hi, h) {k, T_DOUBLE, OFF(f), d, lo, hi, 1, NULL, h}
#define K_BOOL(k, f, d, h) {k, T_BOOL, OFF(f), d, 0, 1, 0, NULL, h}
#define K_STR(k, f, d, req, h) {k, T_STRING, OFF(f), d, 0, 0, 0, req, h}
#define K_CHO(k, f, d, ch, h) {k, T_CHOICE, OFF(f), d, 0, 0, 0, ch, h}

/* Every key, once. Reference values are those of the TRIL IMDB setup (Cornell-RL/tril configs). */
static const cfg_key_t KEYS[] = {
    K_CHO("task", task, "imdb", "imdb|toy_match|toy_lock|commongen|tldr", "which simulated task to train on"),
    K_CHO("algo", algo, "ppo", &(RLGF_ALGOS(ALGO_CHOICE))[1],
          "training algorithm (sl = supervised fine-tuning only)"),
    K_I64("seed", seed, "0", 0, "run seed: policy init, prompt order, sampling streams"),
    K_INT("iterations", iterations, "50", 1, INT_MAX, "RL iterations (reference: IMDB 50)"),
    K_INT("trajectories", trajectories, "112", 1, INT_MAX,
          "trajectories generated per RL iteration (reference: IMDB 112)"),
    K_INT("threads", threads, "1", 1, 64, "worker threads; results are identical for any count"),
    K_STR("out", out, "", NULL, "run-log path; empty = results/<task>-<algo>-s<seed>.h5"),
    K_STR("cache_dir", cache_dir, "results/cache", "nonempty",
          "directory for cached SL checkpoints"),
    K_DBL("beta", beta, "-1", -1, 1,
          "P(roll-in) per trajectory for ppopp/aggrevated/lols/d2lols; -1 = the spec's default for "
          "task and algo (IMDB: ppopp .6, aggrevated .8, lols/d2lols .8)"),
    K_DBL("tau", tau, "-1", -1, NOMAX,
          "lols: P(PPO++ iteration) in [0,1]; d2lols: iteration of the switch from AggreVaTeD to "
          "PPO++; -1 = default (lols .8; d2lols IMDB 20)"),
    K_BOOL("kl_in_guided_reward", kl_in_guided_reward, "true",
           "KL shaping on the learner's tokens in the guided algorithms too (false = reference code)"),
    K_BOOL("save_policy", save_policy, "true",
           "save the final policy to <out>.policy.h5 (usable as guide.type=checkpoint)"),
    K_CHO("guide.type", guide.type, "oracle", "oracle|checkpoint",
          "oracle: follow the task's expert w.p. guide.quality per token, else sample the base "
          "policy; checkpoint: sample the policy saved in guide.path"),
    K_DBL("guide.quality", guide.quality, "0.5", 0, 1,
          "oracle guide quality q: probability of taking the expert's token at each step; 0 = the "
          "base policy alone (the SL policy unless guide.path), sampled with guide.temperature, "
          "top_k, top_p: the reference code's guide (the SFT model with nucleus sampling)"),
    K_STR("guide.path", guide.path, "", NULL,
          "policy checkpoint for guide.type=checkpoint (e.g. a run's .policy.h5); for the oracle, "
          "its base policy (empty = the SL checkpoint)"),
    K_DBLX("guide.temperature", guide.temperature, "1", 0, 10, "guide sampling temperature"),
    K_INT("guide.top_k", guide.top_k, "50", 0, 100000, "guide top-k (0 = off; reference IMDB 50)"),
    K_DBLX("guide.top_p", guide.top_p, "0.92", 0, 1, "guide nucleus top-p (reference .92)"),
    K_CHO("guide.top_p_mass", guide.top_p_mass, "full", "full|top_k",
          "with both guide.top_k and guide.top_p: top-p keeps the smallest prefix holding top_p of "
          "the full distribution (full), or of the top-k tokens renormalised (top_k: Hugging Face "
          "generate's top-k-then-top-p, the reference's guide sampling)"),
    K_INT("checkpoint.every", checkpoint.every, "10", 0, INT_MAX,
          "write a resumable checkpoint (<out>.resume.h5) every this many iterations; 0 = never"),
    K_BOOL("log.timing", log.timing, "false",
           "record wall-clock timings in the run log (makes the log non-reproducible)"),
    K_INT("eval.every", eval.every, "10", 1, INT_MAX,
          "evaluate every this many RL iterations (reference: 10)"),
    K_INT("eval.prompts", eval.prompts, "32", 1, INT_MAX,
          "validation prompts per evaluation (reference: 5000 IMDB val prompts)"),
    K_INT("eval.test_prompts", eval.test_prompts, "32", 0, INT_MAX,
          "test prompts evaluated once at the end (0 = skip)"),
    K_I64("world.seed", world.seed, "1", 0,
          "seed of the synthetic world: language, prompts, references, reward model"),
    K_INT("world.vocab", world.vocab, "512", 64, 4096, "vocabulary size of the synthetic world (tokens)"),
    K_INT("imdb.prompt_len", imdb.prompt_len, "64", 8, 256, "IMDB-sim prompt length in tokens (reference: 64)"),
    K_INT("imdb.gen_len", imdb.gen_len, "48", 2, 128,
          "IMDB-sim continuation length in tokens, exact (reference: 48)"),
    K_DBL("imdb.threshold", imdb.threshold, "0", 0, 0.99,
          "IMDB-sim difficulty: the reward is max(0, (P - t) / (1 - t)), P the classifier's "
          "P(positive); 0 = P itself; higher t = the SL policy reaches a non-zero reward more rarely"),
    K_DBL("commongen.min_coverage", commongen.min_coverage, "0", 0, 1,
          "CommonGen-sim difficulty: a sentence using fewer than this fraction of the concepts scores "
          "0 (the reward of an empty text); 0 = off; higher = the SL policy is paid more rarely"),
    K_INT("tldr.post_len", tldr.post_len, "200", 16, 1024,
          "TL;DR-sim post (prompt) length in tokens (spec: 200-500; scaled down to 200)"),
    K_DBL("tldr.min_coverage", tldr.min_coverage, "0", 0, 1,
          "TL;DR-sim difficulty: a summary covering less than this fraction of the salient content "
          "gets the reward model's score of an empty summary; 0 = off; higher = paid more rarely"),
    K_CHO("model.kind", model.kind, "gpt", "gpt|tabular",
          "policy/critic model: tiny causal transformer, or a table (toy tasks only)"),
    K_INT("model.layers", model.layers, "2", 1, 12, "transformer blocks"),
    K_INT("model.channels", model.channels, "32", 8, 1024, "embedding width (channels per token)"),
    K_INT("model.heads", model.heads, "4", 1, 32, "attention heads; must divide model.channels"),
    K_DBLX("sample.temperature", sample.temperature, "1", 0, 10,
           "softmax temperature of training rollouts"),
    K_INT("sample.top_k", sample.top_k, "50", 0, 100000,
          "training rollouts keep the k most likely tokens (0 = off; reference IMDB: 50)"),
    K_DBLX("sample.top_p", sample.top_p, "1", 0, 1,
           "training rollouts keep the smallest set of tokens with this mass (1 = off)"),
    K_DBL("eval.temperature", eval_sample.temperature, "1", 0, 10,
          "softmax temperature of evaluation generations (0 = greedy)"),
    K_INT("eval.top_k", eval_sample.top_k, "50", 0, 100000,
          "evaluation keeps the k most likely tokens (0 = off; reference IMDB: 50)"),
    K_DBLX("eval.top_p", eval_sample.top_p, "1", 0, 1,
           "evaluation keeps the smallest set of tokens with this mass (1 = off)"),
    K_INT("ppo.epochs", ppo.epochs, "5", 1, 100, "passes over each iteration's batch (reference: IMDB 5)"),
    K_INT("ppo.minibatch", ppo.minibatch, "28", 1, INT_MAX,
          "trajectories per optimizer step (reference: IMDB 28)"),
    K_DBL("ppo.gamma", ppo.gamma, "0.99", 0, 1, "discount per token (reference: IMDB 0.99)"),
    K_DBL("ppo.lambda", ppo.lambda, "0.95", 0, 1, "GAE lambda (reference: 0.95)"),
    K_DBLX("ppo.clip", ppo.clip, "0.2", 0, 10, "policy ratio clip epsilon (reference: 0.2)"),
    K_DBLX("ppo.vf_clip", ppo.vf_clip, "0.2", 0, 1e9,
           "value clip: V stays within +-this of the rollout value (reference: 0.2)"),
    K_BOOL("ppo.value_clip", ppo.value_clip, "true", "use the clipped value loss (reference: on)"),
    K_DBL("ppo.vf_coef", ppo.vf_coef, "0.5", 0, 1e6, "value loss coefficient c_V (reference: IMDB 0.5)"),
    K_DBL("ppo.ent_coef", ppo.ent_coef, "0", 0, 1e6, "entropy bonus coefficient (reference: 0)"),
    K_DBL("ppo.tgt_coef", ppo.tgt_coef, "0.1", 0, 1e6,
          "coefficient of the NLL on reference continuations (reference: 0.1)"),
    K_BOOL("ppo.norm_adv", ppo.norm_adv, "false",
           "normalise advantages per minibatch (reference TRIL: off; RL4LMs: on)"),
    K_DBL("ppo.target_kl", ppo.target_kl, "0", 0, NOMAX,
          "stop an iteration's epochs when approx_kl > 1.5 * this (0 = off)"),
    K_DBLX("ppo.lr", ppo.lr, "1e-3", 0, 1, "AdamW learning rate (reference GPT-2: 1e-5)"),
    K_CHO("ppo.lr_schedule", ppo.lr_schedule, "linear", "linear|constant",
          "linear: decay to 0 at the last iteration; constant: fixed"),
    K_DBL("ppo.grad_clip", ppo.grad_clip, "1", 0, NOMAX, "global gradient-norm clip (0 = off)"),
    K_DBL("ppo.weight_decay", ppo.weight_decay, "1e-6", 0, 1,
          "AdamW decoupled weight decay, not on biases or norm gains (reference: 1e-6)"),
    K_DBLX("ppo.adam_eps", ppo.adam_eps, "1e-5", 0, 1, "Adam epsilon (reference: 1e-5)"),
    K_DBL("ppo.clip_high", ppo.clip_high, "-1", -1, 10,
          "upper ratio clip 1 + this (DAPO clip-higher); -1 = ppo.clip (symmetric)"),
    /* Upper bounds on coefficients keep every loss term finite: a summed KL or NLL is at most a
     * few hundred nats, so 1e6 times it is far from overflow, while 1e308 times it is inf. */
    K_DBL("kl.beta", kl.beta, "0.001", 0, 1e6,
          "per-token KL penalty to pi_ref in the reward (reference: IMDB 0.001)"),
    K_CHO("kl.controller", kl.controller, "fixed", "fixed|adaptive",
          "fixed beta, or adaptive (Ziegler) towards kl.target"),
    K_DBLX("kl.target", kl.target, "0.1", 0, NOMAX,
           "adaptive controller: target KL per trajectory (nats, summed over tokens)"),
    K_DBL("kl.k", kl.k, "0.1", 0, 1, "adaptive controller: step size of the beta update"),
    K_CHO("kl.estimator", kl.estimator, "k1", "k1|k2|k3",
          "per-token KL estimator (Schulman), rho = pi_ref/pi: k1 = -log rho, k2 = (log rho)^2/2, "
          "k3 = (rho - 1) - log rho"),
    K_CHO("kl.placement", kl.placement, "reward", "reward|loss",
          "KL penalty shapes the reward (then advantages) or is a loss term beta * agg(k)"),
    K_INT("group.size", group.size, "1", 1, 4096,
          "completions K of each prompt in a batch; trajectories (the total) must be a multiple of K"),
    K_CHO("grpo.scale", grpo.scale, "group", "group|batch|none",
          "grpo advantage (R - group mean) / std of the group, of the batch, or unscaled (Dr. GRPO)"),
    K_CHO("reinforce.baseline", reinforce.baseline, "mean", "mean|none",
          "reinforce baseline: the batch-mean sequence reward, or none"),
    K_CHO("loss.agg", loss.agg, "token_mean", "token_mean|seq_mean_token_mean|seq_mean_token_sum_norm",
          "policy-loss aggregation: mean over the minibatch's tokens; mean over sequences of each "
          "sequence's token mean; mean over sequences of token sums / the task's max length (Dr. GRPO)"),
    K_INT("sl.epochs", sl.epochs, "3", 1, 1000, "SL passes over the training pairs"),
    K_INT("sl.examples", sl.examples, "2048", 1, INT_MAX, "SL training (prompt, reference) pairs"),
    K_INT("sl.batch", sl.batch, "16", 1, INT_MAX, "SL pairs per optimizer step"),
    K_DBLX("sl.lr", sl.lr, "3e-3", 0, 1, "SL AdamW learning rate"),
    /* SL has its own optimizer keys: sweeping an RL knob (ppo.*) must never change pi_ref */
    K_DBL("sl.grad_clip", sl.grad_clip, "1", 0, NOMAX, "SL global gradient-norm clip (0 = off)"),
    K_DBL("sl.weight_decay", sl.weight_decay, "1e-6", 0, 1,
          "SL AdamW decoupled weight decay, not on biases or norm gains"),
    K_DBLX("sl.adam_eps", sl.adam_eps, "1e-5", 0, 1, "SL Adam epsilon"),
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static const cfg_key_t *find_key(const char *key) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0) return &KEYS[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                      */

static const char *type_name(ktype_t t) {
    switch (t) {
    case T_INT: case T_INT64: return "int";
    case T_DOUBLE: return "real";
    case T_BOOL: return "bool";
    case T_STRING: return "string";
    case T_CHOICE: return "choice";
    }
    return "?";
}

/* Choices "a|b|c" written as "a | b | c" (sep = " | ") or "a|b|c". */
static void choices_text(const char *choices, const char *sep, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = 0;
    for (const char *p = choices; *p && n + 1 < len; p++) {
        if (*p == '|') {
            for (const char *s = sep; *s && n + 1 < len; s++) buf[n++] = *s;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = 0;
}

/* What a key accepts. long_form: for messages ("a real number in (0, 1]"); else for the table. */
static void allowed_text(const cfg_key_t *k, int long_form, char *buf, size_t len) {
    char ch[256];
    switch (k->type) {
    case T_INT:
    case T_INT64:
        if (k->hi >= (k->type == T_INT ? (double)INT_MAX : NOMAX))
            snprintf(buf, len, "%s>= %.0f", long_form ? "an integer " : "", k->lo);
        else
            snprintf(buf, len, "%s[%.0f, %.0f]", long_form ? "an integer in " : "", k->lo, k->hi);
        return;
    case T_DOUBLE:
        if (k->hi == NOMAX)
            snprintf(buf, len, "%s%s %g", long_form ? "a real number " : "", k->lo_open ? ">" : ">=",
                     k->lo);
        else
            snprintf(buf, len, "%s%c%g, %g]", long_form ? "a real number in " : "",
                     k->lo_open ? '(' : '[', k->lo, k->hi);
        return;
    case T_BOOL:
        snprintf(buf, len, "%s", long_form ? "true or false (also 1/0, yes/no, on/off)" : "true|false");
        return;
    case T_CHOICE:
        choices_text(k->choices, long_form ? " | " : "|", ch, sizeof ch);
        snprintf(buf, len, "%s%s", long_form ? "one of " : "", ch);
        return;
    case T_STRING:
        snprintf(buf, len, "%s%s", k->choices ? "non-empty text" : "text",
                 long_form ? " without ';' or '#', at most 255 characters" : "");
        return;
    }
}

static int ascii_lower(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch; }

static int streq_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* Parses text for key k into *out (a value of the key's C type). On failure returns -1 and puts
 * what is wrong with the value ("is not a number") into why. */
typedef union {
    int i;
    int64_t i64;
    double d;
    char s[CFG_STR];
} value_t;

static int parse_value(const cfg_key_t *k, const char *v, value_t *out, char *why, size_t wlen) {
    char *end;
    switch (k->type) {
    case T_INT:
    case T_INT64: {
        if (!*v) return snprintf(why, wlen, "is empty"), -1;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (end == v || *end) {
            /* Say "not an integer" for 1.5 or 1e3, "trailing characters" for 10x. */
            char *dend;
            strtod(v, &dend);
            if (dend != v && !*dend) return snprintf(why, wlen, "is not an integer"), -1;
            if (end == v) return snprintf(why, wlen, "is not a number"), -1;
            return snprintf(why, wlen, "has trailing characters '%.40s'", end), -1;
        }
        double hi = (k->type == T_INT && k->hi > INT_MAX) ? INT_MAX : k->hi;
        if (errno == ERANGE || (double)x < k->lo || (double)x > hi)
            return snprintf(why, wlen, "is out of range"), -1;
        if (k->type == T_INT) out->i = (int)x;
        else out->i64 = (int64_t)x;
        return 0;
    }
    case T_DOUBLE: {
        if (!*v) return snprintf(why, wlen, "is empty"), -1;
        errno = 0;
        double x = strtod(v, &end);
        if (end == v) return snprintf(why, wlen, "is not a number"), -1;
        if (*end) return snprintf(why, wlen, "has trailing characters '%.40s'", end), -1;
        if (!isfinite(x)) return snprintf(why, wlen, "is not a finite number"), -1;
        if (x == 0) x = 0.0; /* canonical: -0 is 0, so it hashes, names and groups as 0 */
        if (k->lo_open ? !(x > k->lo) : !(x >= k->lo)) return snprintf(why, wlen, "is out of range"), -1;
        if (k->hi != NOMAX && !(x <= k->hi)) return snprintf(why, wlen, "is out of range"), -1;
        out->d = x;
        return 0;
    }
    case T_BOOL: {
        static const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
        for (int i = 0; i < 4; i++) {
            if (streq_nocase(v, yes[i])) return out->i = 1, 0;
            if (streq_nocase(v, no[i])) return out->i = 0, 0;
        }
        return snprintf(why, wlen, "is not a boolean"), -1;
    }
    case T_CHOICE: {
        size_t n = strlen(v);
        for (const char *p = k->choices; *p;) {
            size_t m = strcspn(p, "|");
            if (m == n && n > 0 && strncmp(p, v, n) == 0) {
                memcpy(out->s, v, n + 1);
                return 0;
            }
            p += m;
            if (*p) p++;
        }
        return snprintf(why, wlen, "is not allowed"), -1;
    }
    case T_STRING: {
        size_t n = strlen(v);
        if (n >= CFG_STR) return snprintf(why, wlen, "is too long (%zu characters)", n), -1;
        if (k->choices && n == 0) return snprintf(why, wlen, "is empty"), -1;
        /* ';' and '#' would start a comment when the canonical text is read back as INI. */
        for (const char *p = v; *p; p++) {
            if (*p == ';' || *p == '#') return snprintf(why, wlen, "contains '%c'", *p), -1;
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return snprintf(why, wlen, "contains a control character"), -1;
        }
        memcpy(out->s, v, n + 1);
        return 0;
    }
    }
    return -1;
}

static void store_value(config_t *c, const cfg_key_t *k, const value_t *v) {
    char *p = (char *)c + k->off;
    switch (k->type) {
    case T_INT: case T_BOOL: memcpy(p, &v->i, sizeof(int)); break;
    case T_INT64: memcpy(p, &v->i64, sizeof(int64_t)); break;
    case T_DOUBLE: memcpy(p, &v->d, sizeof(double)); break;
    case T_STRING: case T_CHOICE: memcpy(p, v->s, strlen(v->s) + 1); break;
    }
}

/* The shortest of %.15g, %.16g, %.17g that reads back to the same bits (%.17g always does). */
static void format_double(double x, char *buf, size_t len) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        double y = strtod(buf, NULL);
        if (memcmp(&x, &y, sizeof x) == 0) return;
    }
}

/* Canonical text of one value. Returns the length it needs (as snprintf). */
static int value_text(const config_t *c, const cfg_key_t *k, char *buf, size_t len) {
    const char *p = (const char *)c + k->off;
    int i;
    int64_t i64;
    double d;
    char tmp[64];
    switch (k->type) {
    case T_INT: memcpy(&i, p, sizeof i); return snprintf(buf, len, "%d", i);
    case T_BOOL: memcpy(&i, p, sizeof i); return snprintf(buf, len, "%s", i ? "true" : "false");
    case T_INT64: memcpy(&i64, p, sizeof i64); return snprintf(buf, len, "%" PRId64, i64);
    case T_DOUBLE:
        memcpy(&d, p, sizeof d);
        format_double(d, tmp, sizeof tmp);
        return snprintf(buf, len, "%s", tmp);
    case T_STRING: case T_CHOICE: return snprintf(buf, len, "%.*s", CFG_STR - 1, p);
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Unknown keys: did you mean                                                                  */

static int levenshtein(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= m; j++) row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int cost = ascii_lower((unsigned char)a[i - 1]) != ascii_lower((unsigned char)b[j - 1]);
            int best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

static const char *last_part(const char *key) {
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* Fills buf with " (did you mean 'a' or 'b'?)" or a pointer to the key list. Tries, in order:
 * the closest keys within edit distance 2 (1 for names under 6 characters, 0 under 3), a key the name is a unique prefix of, keys in
 * another section with the same last part (ppo.beta -> kl.beta). At most 3 names. */
static void suggest(const char *key, char *buf, size_t len) {
    const cfg_key_t *hits[3];
    int nh = 0;
    /* edit distance at most 2, and at most a third of the name: 'lr' is not a typo of 'out' */
    size_t len_key = strlen(key);
    int best = (len_key / 3 < 2 ? (int)(len_key / 3) : 2) + 1;
    for (size_t i = 0; i < NKEYS; i++) {
        int d = levenshtein(key, KEYS[i].key);
        if (d < best) best = d, nh = 0;
        if (d == best && nh < 3) hits[nh++] = &KEYS[i];
    }
    if (nh == 0) {
        size_t n = strlen(key);
        int count = 0;
        for (size_t i = 0; i < NKEYS; i++)
            if (n > 0 && strncmp(KEYS[i].key, key, n) == 0 && count++ == 0) hits[0] = &KEYS[i];
        if (count == 1) nh = 1;
    }
    if (nh == 0) {
        const char *tail = last_part(key);
        int count = 0;
        for (size_t i = 0; i < NKEYS; i++)
            if (*tail && strcmp(last_part(KEYS[i].key), tail) == 0) {
                if (count < 3) hits[count] = &KEYS[i];
                count++;
            }
        if (count <= 3) nh = count;
    }
    if (nh == 0) {
        snprintf(buf, len, " (`rlgf config --list` shows every key)");
        return;
    }
    size_t n = (size_t)snprintf(buf, len, " (did you mean");
    for (int i = 0; i < nh && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s'%s'", i == 0 ? " " : i == nh - 1 ? " or " : ", ",
                              hits[i]->key);
    if (n < len) snprintf(buf + n, len - n, "?)");
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                  */

void cfg_defaults(config_t *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++) {
        value_t v;
        char why[128];
        int ok = parse_value(&KEYS[i], KEYS[i].def, &v, why, sizeof why) == 0;
        /* A bug in the registry, not a user error: tests/test_config.c loads the defaults. */
        if (!ok) fprintf(stderr, "config: built-in default of '%s' %s\n", KEYS[i].key, why);
        assert(ok && "every built-in default of the registry parses");
        store_value(c, &KEYS[i], &v);
    }
}

/* Copies s without leading/trailing white space into buf; -1 if it does not fit. */
static int trim_copy(const char *s, char *buf, size_t len) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    if (n >= len) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return 0;
}

int cfg_set(config_t *c, const char *key, const char *value, const char *origin, err_t *err) {
    char k[128], v[1024], why[128], allowed[256], hint[256];
    if (!origin) origin = "command line";
    if (trim_copy(key, k, sizeof k) != 0)
        return err_set(err, "%s: unknown key '%.60s...' (too long)", origin, key);
    const cfg_key_t *spec = find_key(k);
    if (!spec) {
        suggest(k, hint, sizeof hint);
        return err_set(err, "%s: unknown key '%s'%s", origin, k, hint);
    }
    allowed_text(spec, 1, allowed, sizeof allowed);
    if (trim_copy(value, v, sizeof v) != 0)
        return err_set(err, "%s: key '%s': value '%.60s...' is too long (expected %s)", origin, k, value,
                       allowed);
    value_t parsed;
    if (parse_value(spec, v, &parsed, why, sizeof why) != 0)
        return err_set(err, "%s: key '%s': value '%.200s' %s (expected %s)", origin, k, v, why, allowed);
    store_value(c, spec, &parsed);
    return 0;
}

/* INI loading. libinih (as packaged) does not pass line numbers to the handler, so we feed it
 * lines ourselves through ini_parse_stream and count them. The reader also strips leading white
 * space (so indented keys are keys, not inih's multi-line continuations) and ` # comments`. */
typedef struct {
    config_t *c;
    const char *path;
    FILE *f;
    int line;       /* lines handed to inih so far = the line inih is processing */
    int err_line;   /* first line with an error we detected (0 = none) */
    int read_errno; /* errno of a read error, 0 = none */
    int seen[sizeof KEYS / sizeof KEYS[0]]; /* line where each key was set in this file, 0 = not */
    err_t err;
} loader_t;

char *cfg_ini_next_line(FILE *f, char *str, int num, int *line, int *read_errno, int *too_long) {
    int ch = getc(f);
    *too_long = 0;
    if (ch == EOF) {
        if (ferror(f)) *read_errno = errno ? errno : EIO;
        return NULL;
    }
    ++*line;
    int n = 0, leading = 1;
    for (; ch != EOF && ch != '\n'; ch = getc(f)) {
        if (leading && (ch == ' ' || ch == '\t')) continue;
        leading = 0;
        if (n < num - 2) str[n++] = (char)ch;
        else *too_long = 1;
    }
    if (ch == EOF && ferror(f)) *read_errno = errno ? errno : EIO;
    str[n] = 0;
    if (str[0] != '[' && str[0] != '#' && str[0] != ';') {
        for (int i = 1; i < n; i++)
            if (str[i] == '#' && (str[i - 1] == ' ' || str[i - 1] == '\t')) {
                str[i] = 0;
                break;
            }
    }
    if (*too_long) str[0] = 0;
    return str;
}

static char *loader_read(char *str, int num, void *stream) {
    loader_t *ld = stream;
    int too_long;
    if (!cfg_ini_next_line(ld->f, str, num, &ld->line, &ld->read_errno, &too_long)) return NULL;
    if (too_long) {
        if (!ld->err_line) {
            ld->err_line = ld->line;
            err_set(&ld->err, "%s:%d: line longer than %d characters", ld->path, ld->line, num - 2);
        }
    }
    return str;
}

static int loader_handler(void *user, const char *section, const char *name, const char *value) {
    loader_t *ld = user;
    char key[300], origin[1100];
    if (ld->err_line) return 1; /* report only the first error; inih already has its line */
    if (!*name) {
        ld->err_line = ld->line;
        err_set(&ld->err, "%s:%d: malformed line (expected `key = value` or `[section]`)", ld->path,
                ld->line);
        return 0;
    }
    if (section && *section) snprintf(key, sizeof key, "%s.%s", section, name);
    else snprintf(key, sizeof key, "%s", name);
    snprintf(origin, sizeof origin, "%s:%d", ld->path, ld->line);
    if (cfg_set(ld->c, key, value, origin, &ld->err) != 0) {
        ld->err_line = ld->line;
        return 0;
    }
    /* A key set twice in one file is a mistake (which one did the author mean?), not "last wins" */
    char k[300];
    trim_copy(key, k, sizeof k);
    size_t ki = (size_t)(find_key(k) - KEYS);
    if (ld->seen[ki]) {
        ld->err_line = ld->line;
        err_set(&ld->err, "%s:%d: key '%s' is set twice in this file (first at line %d)", ld->path, ld->line,
                KEYS[ki].key, ld->seen[ki]);
        return 0;
    }
    ld->seen[ki] = ld->line;
    return 1;
}

int cfg_load_file(config_t *c, const char *path, err_t *err) {
    loader_t ld = {.c = c, .path = path};
    ld.f = fopen(path, "r");
    if (!ld.f) return err_set(err, "%s: cannot open config file: %s", path, strerror(errno));
    /* A device (/dev/zero, /dev/stdin of a terminal...) or a directory would hang or read forever;
     * a pipe is fine (bounded by its writer), a regular file must be of config size. */
    struct stat st;
    if (fstat(fileno(ld.f), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) ||
        (S_ISREG(st.st_mode) && st.st_size > CFG_MAX_FILE)) {
        int isdir = S_ISDIR(st.st_mode), big = S_ISREG(st.st_mode);
        fclose(ld.f);
        if (big) return err_set(err, "%s: config file is larger than %d bytes", path, CFG_MAX_FILE);
        return err_set(err, "%s: not a regular file (%s): a config file is expected", path,
                       isdir ? "a directory" : "a device or socket");
    }
    int rc = ini_parse_stream(loader_read, &ld, loader_handler, &ld);
    fclose(ld.f);
    if (ld.read_errno) return err_set(err, "%s: cannot read config file: %s", path, strerror(ld.read_errno));
    if (rc < 0) return err_set(err, "%s: cannot parse config file (out of memory)", path);
    if (rc > 0 && (!ld.err_line || rc < ld.err_line))
        return err_set(err, "%s:%d: malformed line (expected `key = value` or `[section]`)", path, rc);
    if (ld.err_line) {
        if (err) *err = ld.err;
        return -1;
    }
    return 0;
}

int cfg_validate(const config_t *c, err_t *err) {
    char text[CFG_STR + 64];
    /* Per-key checks again, for configs built or modified in code. */
    for (size_t i = 0; i < NKEYS; i++) {
        value_text(c, &KEYS[i], text, sizeof text);
        config_t tmp;
        if (cfg_set(&tmp, KEYS[i].key, text, "config", err) != 0) return -1;
    }
    if (c->model.channels % c->model.heads != 0)
        return err_set(err, "config: model.heads = %d must divide model.channels = %d", c->model.heads,
                       c->model.channels);
    if (c->ppo.minibatch > c->trajectories)
        return err_set(err, "config: ppo.minibatch = %d is larger than trajectories = %d",
                       c->ppo.minibatch, c->trajectories);
    if (c->sample.top_k > c->world.vocab)
        return err_set(err, "config: sample.top_k = %d is larger than world.vocab = %d (0 = off)",
                       c->sample.top_k, c->world.vocab);
    if (c->eval_sample.top_k > c->world.vocab)
        return err_set(err, "config: eval.top_k = %d is larger than world.vocab = %d (0 = off)",
                       c->eval_sample.top_k, c->world.vocab);
    if (c->sl.batch > c->sl.examples)
        return err_set(err, "config: sl.batch = %d is larger than sl.examples = %d", c->sl.batch,
                       c->sl.examples);
    if (strcmp(c->model.kind, "tabular") == 0 && strncmp(c->task, "toy_", 4) != 0)
        return err_set(err, "config: model.kind = tabular works only for the toy tasks (task = %s)",
                       c->task);
    if (c->beta != -1 && c->beta < 0)
        return err_set(err, "config: beta = %g must be -1 (default) or in [0, 1]", c->beta);
    if (c->tau != -1 && c->tau < 0)
        return err_set(err, "config: tau = %g must be -1 (default) or >= 0", c->tau);
    if (strcmp(c->algo, "lols") == 0 && c->tau > 1)
        return err_set(err, "config: tau = %g: for algo = lols it is a probability in [0, 1]", c->tau);
    if (strcmp(c->algo, "d2lols") == 0 && c->tau != -1 && c->tau != (double)(long)c->tau)
        return err_set(err, "config: tau = %g: for algo = d2lols it is an iteration number", c->tau);
    if (strcmp(c->guide.type, "checkpoint") == 0 && !c->guide.path[0])
        return err_set(err, "config: guide.type = checkpoint needs guide.path (a policy checkpoint)");
    if (c->guide.top_k > c->world.vocab)
        return err_set(err, "config: guide.top_k = %d is larger than world.vocab = %d (0 = off)",
                       c->guide.top_k, c->world.vocab);
    if (c->trajectories % c->group.size != 0)
        return err_set(err, "config: trajectories = %d is not a multiple of group.size = %d (K completions "
                       "of each prompt; trajectories is the total)", c->trajectories, c->group.size);
    if (strcmp(c->algo, "rloo") == 0 && c->group.size < 2)
        return err_set(err, "config: algo = rloo needs group.size >= 2 (the leave-one-out baseline is the "
                       "mean of the other K-1 completions), got %d", c->group.size);
    if (c->ppo.clip_high != -1 && c->ppo.clip_high <= 0)
        return err_set(err, "config: ppo.clip_high = %g must be -1 (= ppo.clip) or > 0", c->ppo.clip_high);
    /* a difficulty knob of another task would be silently ignored: refuse it */
    static const struct { const char *key, *task; size_t off; } difficulty[] = {
        {"imdb.threshold", "imdb", offsetof(config_t, imdb.threshold)},
        {"commongen.min_coverage", "commongen", offsetof(config_t, commongen.min_coverage)},
        {"tldr.min_coverage", "tldr", offsetof(config_t, tldr.min_coverage)},
    };
    for (size_t i = 0; i < sizeof difficulty / sizeof difficulty[0]; i++) {
        double v = *(const double *)((const char *)c + difficulty[i].off);
        if (v != 0 && strcmp(c->task, difficulty[i].task) != 0)
            return err_set(err, "config: %s = %g is the difficulty of task = %s only (task = %s); leave it at 0",
                           difficulty[i].key, v, difficulty[i].task, c->task);
    }
    if (strcmp(c->kl.controller, "adaptive") == 0 && c->kl.beta <= 0)
        return err_set(err, "config: kl.controller = adaptive needs kl.beta > 0 (it scales beta)");
    return 0;
}

/* Appends "key = value\n" for every key accepted by keep (all when keep is NULL). */
static char *to_text(const config_t *c, int (*keep)(const char *key)) {
    size_t cap = NKEYS * (CFG_STR + 80) + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    buf[0] = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (keep && !keep(KEYS[i].key)) continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s = ", KEYS[i].key);
        n += (size_t)value_text(c, &KEYS[i], buf + n, cap - n);
        n += (size_t)snprintf(buf + n, cap - n, "\n");
    }
    return buf;
}

static int affects_sl(const char *key) {
    static const char *const prefixes[] = {"world.", "imdb.", "tldr.", "model.", "sl."};
    static const char *const keys[] = {"task", "seed"};
    /* the difficulty keys change only the reward, which SL (trained on references) never reads */
    static const char *const reward_only[] = {"imdb.threshold", "tldr.min_coverage"};
    for (size_t i = 0; i < sizeof reward_only / sizeof reward_only[0]; i++)
        if (strcmp(key, reward_only[i]) == 0) return 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0) return 1;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    return 0;
}

char *cfg_to_text(const config_t *c) { return to_text(c, NULL); }

/* Keys that only say where and how fast a run happens, never what it computes. */
static int affects_results(const char *key) {
    static const char *const runtime[] = {"threads", "out", "cache_dir", "log.timing", "save_policy",
                                          "checkpoint.every"};
    for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++)
        if (strcmp(key, runtime[i]) == 0) return 0;
    return 1;
}

char *cfg_run_text(const config_t *c) { return to_text(c, affects_results); }

char *cfg_sl_text(const config_t *c) { return to_text(c, affects_sl); }

void cfg_print_list(FILE *f) {
    char allowed[NKEYS][160];
    int wk = 3, wt = 4, wd = 7, wa = 7;
    for (size_t i = 0; i < NKEYS; i++) {
        const cfg_key_t *k = &KEYS[i];
        allowed_text(k, 0, allowed[i], sizeof allowed[i]);
        int l = (int)strlen(k->key), t = (int)strlen(type_name(k->type));
        int d = *k->def ? (int)strlen(k->def) : 2, a = (int)strlen(allowed[i]);
        if (l > wk) wk = l;
        if (t > wt) wt = t;
        if (d > wd) wd = d;
        if (a > wa) wa = a;
    }
    fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wk, "key", wt, "type", wd, "default", wa, "allowed", "help");
    for (size_t i = 0; i < NKEYS; i++) {
        const cfg_key_t *k = &KEYS[i];
        fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wk, k->key, wt, type_name(k->type), wd,
                *k->def ? k->def : "\"\"", wa, allowed[i], k->help);
    }
}

int cfg_get_text(const config_t *c, const char *key, char *buf, size_t len) {
    const cfg_key_t *k = find_key(key);
    if (!k) return -1;
    int n = value_text(c, k, buf, len);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
