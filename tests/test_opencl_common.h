/* tests/test_opencl_common.h — what every OpenCL test program shares: skip
 * when no platform exists, the test program cache, and running a suite
 * without fork (OpenCL runtimes start threads that do not survive fork()). */
#ifndef HEFT_TEST_OPENCL_COMMON_H
#define HEFT_TEST_OPENCL_COMMON_H

#include <check.h>

#include "backends/backend.h"

/* Exit code automake reads as SKIP. */
#define TEST_SKIP 77

/* 0 when an OpenCL device exists; otherwise prints why and returns TEST_SKIP. */
int opencl_test_need_device(void);

/* The program cache of the tests: $HEFT_CACHE_DIR when set, else a directory
 * under the current one (the build tree under `make check`), so that tests
 * never write to the user's ~/.cache. */
const char *opencl_test_cache_dir(void);

/* An OpenCL backend on device 0 with the test cache; prints the error and
 * returns NULL when it cannot be created. */
struct backend *opencl_test_backend(void);

/* Runs the suite in Check's no-fork mode, frees it, and returns the exit
 * status: 0 when every test passed, 1 otherwise. */
int opencl_test_run(Suite *s);

#endif
