#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "world.h"

const char *const split_names[SPLIT_COUNT] = {"train", "validation", "test"};

task_t *task_create(const task_params_t *p, err_t *err) {
    if (!p || !p->name) {
        err_set(err, "task: no task name given, expected imdb, commongen, tldr, toy_match or toy_lock");
        return NULL;
    }
    if (strcmp(p->name, "imdb") == 0) return imdb_task_create(p, err);
    if (strcmp(p->name, "commongen") == 0) return commongen_task_create(p, err);
    if (strcmp(p->name, "tldr") == 0) return tldr_task_create(p, err);
    if (strcmp(p->name, "toy_match") == 0 || strcmp(p->name, "toy_lock") == 0)
        return toy_task_create(p, err);
    err_set(err, "task: unknown task '%.200s', expected imdb, commongen, tldr, toy_match or toy_lock", p->name);
    return NULL;
}

void task_destroy(task_t *t) {
    if (t && t->destroy) t->destroy(t);
}
