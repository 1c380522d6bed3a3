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
        char old[HERR_MSG_MAX];
        memcpy(old, e->msg, sizeof old);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        /* Append the old message after the prefix, truncating the whole line
         * to the buffer: a very long chain of context loses its tail. */
        size_t used = n < 0 ? 0 : (size_t)n < sizeof e->msg ? (size_t)n : sizeof e->msg - 1;
        size_t room = sizeof e->msg - 1 - used;
        size_t len = strnlen(old, sizeof old - 1);
        if (len > room)
            len = room;
        memcpy(e->msg + used, old, len);
        e->msg[used + len] = '\0';
    }
    return -1;
}

void herr_clear(struct herr *e)
{
    if (e)
        e->msg[0] = '\0';
}
