/* pool: a fixed set of worker threads running parallel-for loops.
 *
 * Determinism: work is split into tasks whose boundaries never depend on the thread count; a task
 * writes only its own output slot, and any reduction over tasks is done afterwards by the caller
 * in task order. Which thread ran a task can differ from run to run; results cannot. */
#ifndef RLGF_POOL_H
#define RLGF_POOL_H

typedef struct pool pool_t;

/* fn(ctx, task, worker): worker in [0, n_threads) selects per-thread scratch. */
typedef void (*pool_fn)(void *ctx, int task, int worker);

pool_t *pool_create(int n_threads);
void pool_destroy(pool_t *p);
int pool_threads(const pool_t *p);
/* Runs fn for task = 0..n_tasks-1 and returns when all are done. */
void pool_run(pool_t *p, int n_tasks, pool_fn fn, void *ctx);

#endif
