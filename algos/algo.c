/* The registry of RL algorithms (SL is not an RL algorithm: see algos/sl.h). */
#include <string.h>

#include "algo.h"

extern const algo_t algo_ppo;

const algo_t *algo_find(const char *name) {
    static const algo_t *const all[] = {&algo_ppo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->name, name)) return all[i];
    return NULL;
}
