#include "models.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "../store/ckpt.h"
#include "output.h"

/* Weights and Adam moments all finite: a model read back with a NaN is never used. */
int run_model_finite(const model_t *m) {
    if (!m) return 1;
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]) || !isfinite(m->adam_m[i]) || !isfinite(m->adam_v[i])) return 0;
    return 1;
}

model_config_t run_model_config(const config_t *cfg, const task_t *task, head_kind_t head) {
    model_config_t mc = {0};
    mc.kind = strcmp(cfg->model.kind, "tabular") == 0 ? MODEL_TABULAR : MODEL_GPT;
    mc.head = head;
    mc.vocab = task->vocab;
    mc.max_seq = task->prompt_max + task->gen_max;
    mc.channels = cfg->model.channels;
    mc.layers = cfg->model.layers;
    mc.heads = cfg->model.heads;
    return mc;
}

model_t *run_new_model(const model_config_t *mc, uint64_t seed, uint32_t purpose, uint64_t index, err_t *err) {
    char eb[512] = "";
    rng_t r = rng_stream(seed, purpose, 0, index);
    model_t *m = model_create(mc, &r, eb, sizeof eb);
    if (!m) err_set(err, "model: %s", eb);
    return m;
}

/* Copies the transformer backbone of src (an LM) into dst (a critic of the same shape): the GPT
 * arena lays out the backbone first and the scalar head last (sim/nn/gpt.h), so it is a prefix. */
static void model_copy_backbone(model_t *dst, const model_t *src) {
    assert(dst->cfg.kind == MODEL_GPT && src->cfg.kind == MODEL_GPT && src->cfg.head == HEAD_LM &&
           dst->n_params == src->n_params + (size_t)dst->cfg.channels + 1);
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

/* The critic starts from the policy's backbone (as in the reference code: a separate copy of the
 * same pretrained LM with a fresh scalar head). */
model_t *run_make_critic(const config_t *cfg, const task_t *task, const model_t *policy, int index, err_t *err) {
    model_config_t mc = run_model_config(cfg, task, HEAD_SCALAR);
    model_t *c = run_new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_CRITIC, (uint64_t)index, err);
    if (c && mc.kind == MODEL_GPT) model_copy_backbone(c, policy);
    return c;
}

/* The guide: a black box that continues prefixes. `oracle` follows the task's expert with
 * probability guide.quality per token and otherwise samples its base policy (guide.path, or the
 * SL checkpoint = pi_ref); `checkpoint` samples the policy saved in guide.path. A loaded model is
 * returned in *owned for the caller to destroy. */
int run_load_guide_model(const config_t *cfg, const task_t *task, model_t **owned, err_t *err) {
    if (!(*owned = ckpt_load(cfg->guide.path, "policy", err))) return err_prefix(err, "guide.path");
    if (!run_model_finite(*owned))
        return err_set(err, "guide.path '%s': the policy there has non-finite weights (from a diverged run?)",
                       cfg->guide.path);
    const model_config_t *mc = &(*owned)->cfg;
    if (mc->vocab != task->vocab || mc->max_seq < task->prompt_max + task->gen_max || mc->head != HEAD_LM)
        return err_set(err, "guide.path '%s': the policy there has vocab %d and max_seq %d; task %s needs "
                       "vocab %d and max_seq >= %d", cfg->guide.path, mc->vocab, mc->max_seq, task->name,
                       task->vocab, task->prompt_max + task->gen_max);
    return 0;
}

/* `owned`: the model of guide.path, loaded (and checked) before any work by run_load_guide_model. */
int run_make_guide(const config_t *cfg, const task_t *task, const model_t *ref, const model_t *owned,
                      actor_t *guide, err_t *err) {
    const model_t *base = owned ? owned : ref;
    guide->model = base;
    guide->sampling = (sample_cfg_t){cfg->guide.temperature, cfg->guide.top_k, cfg->guide.top_p};
    guide->expert_q = strcmp(cfg->guide.type, "oracle") == 0 ? cfg->guide.quality : 0.0;
    guide->top_p_of_top_k = strcmp(cfg->guide.top_p_mass, "top_k") == 0;
    if (guide->expert_q > 0 && !task->expert_next)
        return err_set(err, "guide.type = oracle: task %s has no expert", task->name);
    return 0;
}

/* <out>.policy.h5 (".h5" replaced): the final policy, loadable as guide.type=checkpoint. */
int run_save_final_policy(const char *out, model_t *policy, const char *cfg_text, long step, err_t *err) {
    char path[1100];
    output_sibling(out, ".policy.h5", path, sizeof path);
    return ckpt_save(path, (model_t *const[]){policy}, (const char *const[]){"policy"}, 1, cfg_text, step, err);
}

