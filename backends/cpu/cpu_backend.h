/* backends/cpu/cpu_backend.h — the CPU backend: OpenMP threads and OpenBLAS
 * sgemm. It is the reference every other backend is compared against. */
#ifndef HEFT_CPU_BACKEND_H
#define HEFT_CPU_BACKEND_H

#include "backends/backend.h"

struct backend *cpu_backend_create(const struct backend_options *opts, struct herr *err);

/* The OpenBLAS kernel set in use ("SkylakeX", "Haswell", "Prescott", ...). A
 * generic core such as Prescott on a new CPU means Debian's OpenBLAS did not
 * recognise the processor and runs several times slower than it could; setting
 * OPENBLAS_CORETYPE (e.g. SkylakeX) fixes it. */
const char *cpu_blas_core(void);

/* 1 if the active core set looks like a generic fallback on a CPU that has
 * AVX2/AVX-512 (so the user should be told about OPENBLAS_CORETYPE). */
int cpu_blas_core_is_fallback(void);

#endif
