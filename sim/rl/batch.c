#include "batch.h"

#include <stdlib.h>
#include <string.h>

int batch_init(batch_t *b, int cap, int seq_cap, int gen_cap, int n_metrics) {
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->seq_cap = seq_cap;
    b->gen_cap = gen_cap;
    b->n_metrics = n_metrics;
    size_t c = (size_t)cap, g = (size_t)cap * (size_t)gen_cap;
    b->split = calloc(c, sizeof *b->split);
    b->prompt_index = calloc(c, sizeof *b->prompt_index);
    b->prompt_len = calloc(c, sizeof *b->prompt_len);
    b->gen_len = calloc(c, sizeof *b->gen_len);
    b->u = calloc(c, 1);
    b->k = calloc(c, sizeof *b->k);
    b->task_reward = calloc(c, sizeof(double));
    b->ret = calloc(c, sizeof(double));
    b->metrics = calloc(c * (size_t)(n_metrics > 0 ? n_metrics : 1), sizeof(double));
    b->seq = calloc(c * (size_t)seq_cap, sizeof *b->seq);
    b->actor = calloc(g, 1);
    b->pmask = calloc(g, 1);
    b->vmask = calloc(g, 1);
    b->logp = calloc(g, sizeof(float));
    b->logp_ref = calloc(g, sizeof(float));
    b->value = calloc(g, sizeof(float));
    b->reward = calloc(g, sizeof(float));
    b->advantage = calloc(g, sizeof(float));
    b->returns = calloc(g, sizeof(float));
    b->group = calloc(c, sizeof *b->group);
    b->baseline = calloc(c, sizeof *b->baseline);
    if (!b->group || !b->baseline ||
        !b->split || !b->prompt_index || !b->prompt_len || !b->gen_len || !b->u || !b->k ||
        !b->task_reward || !b->ret || !b->metrics || !b->seq || !b->actor || !b->pmask ||
        !b->vmask || !b->logp || !b->logp_ref || !b->value || !b->reward || !b->advantage ||
        !b->returns) {
        batch_free(b);
        return -1;
    }
    return 0;
}

void batch_free(batch_t *b) {
    free(b->split); free(b->prompt_index); free(b->prompt_len); free(b->gen_len);
    free(b->u); free(b->k); free(b->task_reward); free(b->ret); free(b->metrics); free(b->seq);
    free(b->actor); free(b->pmask); free(b->vmask); free(b->logp); free(b->logp_ref);
    free(b->value); free(b->reward); free(b->advantage); free(b->returns);
    free(b->group); free(b->baseline);
    memset(b, 0, sizeof *b);
}
