/* core/error.h — how heft library code reports failure.
 *
 * Library functions never exit and never print: they return 0 on success and
 * -1 on failure, with a one-line message in a caller-provided struct herr that
 * names the thing that failed and why ("shard data/train_00.bin: bad magic
 * 1234 (expected 20240520)"). Only the front end (tools/) prints and exits.
 */
#ifndef HEFT_CORE_ERROR_H
#define HEFT_CORE_ERROR_H

#include <stddef.h>

#define HERR_MSG_MAX 1024

struct herr {
    char msg[HERR_MSG_MAX];
};

/* Records a printf-style message in e (if e is not NULL) and returns -1, so that
 * `return herr_set(e, "...", ...);` both reports and fails. */
int herr_set(struct herr *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the message already in e with more context ("loading checkpoint X: ")
 * and returns -1. */
int herr_wrap(struct herr *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears e to the empty message. */
void herr_clear(struct herr *e);

#endif
