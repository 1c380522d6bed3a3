/* backends/opencl/kernel_source.h — the OpenCL C source of heft's kernels,
 * generated at build time from the .cl files in kernels/ by embed_cl.awk (see
 * backends/Makemodule.am), one string per source line. */
#ifndef HEFT_KERNEL_SOURCE_H
#define HEFT_KERNEL_SOURCE_H

#include <stddef.h>

extern const char *const opencl_program_lines[];
extern const size_t opencl_program_line_count;

#endif
