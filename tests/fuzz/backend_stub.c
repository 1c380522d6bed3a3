/* tests/fuzz/backend_stub.c — the backend calls the model families' code
 * refers to (models/), for the fuzz targets, which link the families for the
 * model-file and checkpoint parsers but never build a model: each aborts if
 * it is ever reached. */
#include <stdlib.h>

#include "backends/backend.h"

int backend_check(struct backend *be, struct herr *err)
{
    (void)be;
    (void)err;
    abort();
}

dptr backend_alloc_floats(struct backend *be, size_t n)
{
    (void)be;
    (void)n;
    abort();
}

dptr backend_alloc_named(struct backend *be, size_t n, const char *what)
{
    (void)be;
    (void)n;
    (void)what;
    abort();
}

void backend_release_ptr(struct backend *be, dptr p)
{
    (void)be;
    (void)p;
    abort();
}
