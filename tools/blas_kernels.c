/* tools/blas_kernels.c — see blas_kernels.h.
 *
 * Why a restart: Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) does not know the
 * newest Xeons and falls back to its SSE3 "Prescott" kernels, whose sgemm runs
 * at a sixth of what the CPU can do (docs/RESULTS.md). The kernel set is chosen
 * in the library's constructor from OPENBLAS_CORETYPE, before main() runs, so
 * the only way to change it is to exec the program again with the variable
 * set. The child finds OPENBLAS_CORETYPE set and does not restart again. */
#include "config.h"

#include "tools/blas_kernels.h"

#include <stdlib.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"

void blas_kernels_choose(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") != NULL || !cpu_blas_core_is_fallback())
        return;
    const char *core = cpu_blas_core_for_this_cpu();
    if (core == NULL)
        return;
    if (setenv("OPENBLAS_CORETYPE", core, 1) != 0 ||
        setenv(CPU_BLAS_FALLBACK_ENV, cpu_blas_core(), 1) != 0)
        return;
    /* exec the file itself, not /proc/self/exe: the process name (ps, top,
     * /proc/PID/comm) comes from the path's last component */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        execv(self, argv);
    }
    /* no /proc (not Linux) or exec refused: run on with the generic kernels */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(CPU_BLAS_FALLBACK_ENV);
}
