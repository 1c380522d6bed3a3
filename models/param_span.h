/* models/param_span.h — a named range of a model's flat parameter buffer.
 * The optimizer walks spans (to apply weight decay where it belongs, and to
 * update only its shard under ZeRO-1) without knowing which model it trains. */
#ifndef HEFT_PARAM_SPAN_H
#define HEFT_PARAM_SPAN_H

#include <stddef.h>

struct param_span {
    const char *name; /* "qkvw" */
    size_t offset;    /* first element in the flat buffer */
    size_t count;     /* elements */
    int decays;       /* 1 if AdamW weight decay applies */
};

#endif
