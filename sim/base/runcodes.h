/* runcodes: the integer codes of the run log (split, who, actor), owned here once: the tasks, the
 * rollout engine, the writer and every reader (info, summary, analyze, export, diff) use these
 * names, never bare numbers. Their meaning is in the schema table (sim/store/schema.c). */
#ifndef RLGF_RUNCODES_H
#define RLGF_RUNCODES_H

/* trajectories/split and eval/split: which prompts */
enum { SPLIT_TRAIN = 0, SPLIT_VALID = 1, SPLIT_TEST = 2, SPLIT_COUNT = 3 };
/* trajectories/who and eval/who: which policy an evaluation row describes */
enum { WHO_LEARNER = 0, WHO_GUIDE = 1, WHO_REF = 2, WHO_COUNT = 3 };
/* trajectories/actor: who wrote a token */
enum { ACTOR_LEARNER = 0, ACTOR_GUIDE = 1, ACTOR_FORCED = 2, ACTOR_COUNT = 3 };

/* "train", "validation", "test" / "learner", "guide", "pi_ref" / "learner", "guide", "forced";
 * "?" outside the range (a reader must not trust a file's codes). */
static inline const char *runcodes_split_name(long long v) {
    static const char *const n[SPLIT_COUNT] = {"train", "validation", "test"};
    return v >= 0 && v < SPLIT_COUNT ? n[v] : "?";
}
static inline const char *runcodes_who_name(long long v) {
    static const char *const n[WHO_COUNT] = {"learner", "guide", "pi_ref"};
    return v >= 0 && v < WHO_COUNT ? n[v] : "?";
}
static inline const char *runcodes_actor_name(long long v) {
    static const char *const n[ACTOR_COUNT] = {"learner", "guide", "forced"};
    return v >= 0 && v < ACTOR_COUNT ? n[v] : "?";
}

#endif
