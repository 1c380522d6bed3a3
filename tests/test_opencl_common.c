/* tests/test_opencl_common.c — see test_opencl_common.h. */
#include "tests/test_opencl_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "backends/opencl/opencl_backend.h"

int opencl_test_need_device(void)
{
    struct herr err = { "" };
    struct opencl_device_list list;
    int found = opencl_list_devices(&list, &err) == 0 && list.n_devices > 0;
    opencl_device_list_free(&list);
    if (found)
        return 0;
    printf("SKIP: %s\n", err.msg[0] ? err.msg : "no OpenCL device");
    return TEST_SKIP;
}

const char *opencl_test_cache_dir(void)
{
    const char *dir = getenv("HEFT_CACHE_DIR");
    return dir && *dir ? dir : "opencl-test-cache";
}

struct backend *opencl_test_backend(void)
{
    struct herr err = { "" };
    struct backend_options opts = { .name = "opencl", .device = 0,
                                    .cache_dir = opencl_test_cache_dir() };
    struct backend *be = opencl_backend_create(&opts, &err);
    if (!be)
        fprintf(stderr, "cannot create the OpenCL backend: %s\n", err.msg);
    return be;
}

int opencl_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
