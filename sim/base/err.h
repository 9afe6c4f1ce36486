/* err: user-facing error messages. Library code never exits: a function that can fail because of
 * user input (bad config, missing file, full disk) returns -1 and fills an err_t whose message names
 * the file, line, key or value and what was expected. Only the command line prints and exits. */
#ifndef RLGF_ERR_H
#define RLGF_ERR_H

typedef struct {
    char msg[1024];
} err_t;

/* Formats the message into e (when e is not NULL) and returns -1, so callers can write
 * `return err_set(e, "...")`. */
int err_set(err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (e.g. the file name when a lower layer failed). */
int err_prefix(err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
