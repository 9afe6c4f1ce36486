/* algo_names: the registry's list of algorithms, one line each: SL (supervised fine-tuning only,
 * no RL iterations) and the RL algorithms. Adding an algorithm is a file algos/NAME.c defining
 * `const algo_t algo_NAME` (its name, help, per-task defaults and plan) and one X(NAME) line here. Data only, kept in sim/base because the config registry (which every
 * layer uses) builds the `algo` key's allowed values from it; algos/algo.c builds the registry. */
#ifndef RLGF_ALGO_NAMES_H
#define RLGF_ALGO_NAMES_H

#define RLGF_ALGOS(X) \
    X(sl)             \
    X(ppo)            \
    X(ppopp)          \
    X(aggrevated)     \
    X(lols)           \
    X(d2lols)         \
    X(grpo)           \
    X(rloo)           \
    X(reinforce)      \
    X(remax)          \
    X(guidebase)

#endif
