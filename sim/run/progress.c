#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "../base/util.h"

progress_t progress_start(int quiet, int force_tty) {
    progress_t p = {force_tty >= 0 ? force_tty : isatty(2), quiet, util_now_s(), 0};
    return p;
}

void progress_note(const progress_t *p, const char *fmt, ...) {
    if (p->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void progress_line(progress_t *p, int it, int total, double reward, double kl, double tok_s, double eta, int final) {
    if (p->quiet) return;
    double now = util_now_s();
    char line[256];
    snprintf(line, sizeof line, "iter %d/%d  reward %.4f  kl %.4f  %.0f tok/s  ETA %.0fs", it, total,
             reward, kl, tok_s, eta);
    if (p->tty) {
        fprintf(stderr, "\r%-79s%s", line, final ? "\n" : "");
    } else if (final || now - p->last_print >= 10.0 || it == 1) {
        fprintf(stderr, "%s\n", line);
        p->last_print = now;
    }
    fflush(stderr);
}

void progress_sl_epoch(const sl_epoch_t *e, void *ctx) {
    progress_note(ctx, "SL epoch %d: loss %.4f\n", e->epoch + 1, e->loss);
}
