/* core/error.c — see error.h. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int herr_set(struct herr *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int herr_wrap(struct herr *e, const char *fmt, ...)
{
    if (e) {
        char prefix[HERR_MSG_MAX];
        char old[HERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof old);
        /* Both halves are bounded; truncation of a very long chain is acceptable. */
        int n = snprintf(e->msg, sizeof e->msg, "%s%s", prefix, old);
        (void)n;
    }
    return -1;
}

void herr_clear(struct herr *e)
{
    if (e)
        e->msg[0] = '\0';
}
