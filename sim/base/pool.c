#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

struct pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    long generation; /* bumped for every pool_run */
    int stop;
    /* current job */
    pool_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next_task;
    int busy; /* workers still in the current job */
};

typedef struct {
    pool_t *p;
    int worker;
} worker_arg_t;

static void run_tasks(pool_t *p, int worker) {
    for (;;) {
        int t = atomic_fetch_add(&p->next_task, 1);
        if (t >= p->n_tasks) break;
        p->fn(p->ctx, t, worker);
    }
}

static void *worker_main(void *arg) {
    worker_arg_t *wa = arg;
    pool_t *p = wa->p;
    int worker = wa->worker;
    free(wa);
    long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, worker);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pool_t *pool_create(int n_threads) {
    pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_threads = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    /* The calling thread is worker 0; helpers are workers 1..n-1. */
    p->threads = calloc((size_t)p->n_threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    /* Workers block every signal: a SIGINT/SIGTERM reaches the main thread only, which can defer
     * it around an atomic file write (sim/store/ckpt.c). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 1; i < p->n_threads; i++) {
        worker_arg_t *wa = malloc(sizeof *wa);
        if (wa) wa->p = p, wa->worker = i;
        if (!wa || pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
            /* fewer workers: slower, but the same bits (work is split into fixed blocks) */
            free(wa);
            p->n_threads = i;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;
}

void pool_destroy(pool_t *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int pool_threads(const pool_t *p) { return p->n_threads; }

void pool_run(pool_t *p, int n_tasks, pool_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
    if (p->n_threads == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next_task, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
