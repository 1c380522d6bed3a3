/* tools/blas_kernels.h — run OpenBLAS's fast kernels where Debian's build
 * falls back to generic ones. */
#ifndef HEFT_TOOLS_BLAS_KERNELS_H
#define HEFT_TOOLS_BLAS_KERNELS_H

/* If OpenBLAS picked a generic kernel set (e.g. Prescott) on a CPU that can run
 * SkylakeX or Haswell kernels, and the user has not set OPENBLAS_CORETYPE,
 * restart this program (same argv, same pid) with OPENBLAS_CORETYPE set:
 * OpenBLAS reads it only when the library is loaded. Returns only when there
 * is nothing to do or the restart failed (then heft runs on, slower, and
 * says so in its start-up lines). Must run before any thread or MPI starts. */
void blas_kernels_choose(char **argv);

#endif
