/* tests/test_opencl_noplatform.c — a machine without any OpenCL driver: the
 * backend must fail cleanly, saying how to install one. Simulated by pointing
 * the ICD loader at an empty vendors directory before the first OpenCL call
 * (OCL_ICD_VENDORS, honoured by the ocl-icd and Khronos loaders); exits 77
 * (SKIP) when the loader in use ignores it and still finds a platform. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/opencl/opencl_backend.h"
#include "tests/test_opencl_common.h"

START_TEST(test_create_fails_cleanly)
{
    struct herr err = { "" };
    struct backend_options opts = { .name = "opencl", .device = 0 };
    ck_assert_ptr_null(opencl_backend_create(&opts, &err));
    ck_assert_msg(strstr(err.msg, "no OpenCL platform found") &&
                      strstr(err.msg, "pocl-opencl-icd"),
                  "unexpected message: %s", err.msg);

    struct opencl_device_list list;
    ck_assert_int_eq(opencl_list_devices(&list, &err), -1);
    ck_assert_int_eq(list.n_devices, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "no OpenCL platform found"));
    opencl_device_list_free(&list);
}
END_TEST

int main(void)
{
    char dir[] = "/tmp/heft-no-icd-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    setenv("OCL_ICD_VENDORS", dir, 1);
    setenv("OCL_ICD_FILENAMES", "", 1);

    struct opencl_device_list list;
    struct herr err = { "" };
    int found = opencl_list_devices(&list, &err) == 0;
    opencl_device_list_free(&list);
    if (found) {
        printf("SKIP: this OpenCL ICD loader ignores OCL_ICD_VENDORS\n");
        rmdir(dir);
        return TEST_SKIP;
    }

    Suite *s = suite_create("opencl without a platform");
    TCase *tc = tcase_create("create");
    tcase_add_test(tc, test_create_fails_cleanly);
    suite_add_tcase(s, tc);
    int status = opencl_test_run(s);
    rmdir(dir);
    return status;
}
