/* progress: what a run tells the person watching it, on stderr (stdout belongs to the command
 * line): one line per iteration (a single updating line on a terminal, else a line every 10 s),
 * SL's epochs, and the notes of the set-up. Nothing here reaches the run log. */
#ifndef RLGF_PROGRESS_H
#define RLGF_PROGRESS_H

#include "../../algos/sl.h"

typedef struct {
    int tty, quiet;
    double t0, last_print;
} progress_t;

/* quiet: print nothing; force_tty: -1 asks isatty(2), 0 plain lines, 1 one updating line. */
progress_t progress_start(int quiet, int force_tty);

/* A note of the set-up ("resuming ...", "SL: using cached checkpoint ..."), unless quiet. */
void progress_note(const progress_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The line of iteration `it` of `total`: the batch's reward and KL, throughput and time left. */
void progress_line(progress_t *p, int it, int total, double reward, double kl, double tok_s, double eta, int final);

/* sl_train's per-epoch callback (ctx: a progress_t). */
void progress_sl_epoch(const sl_epoch_t *e, void *ctx);

#endif
