/* tests/test_opencl_devices.c — `heft devices` (tools/cmd_devices.c): its
 * output lists the CPU and, when the OpenCL backend is built in, every device
 * opencl_list_devices finds, under its global index; --help and bad
 * arguments give the right exit codes. Runs with or without OpenCL. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cmd_devices.h"
#ifdef HAVE_OPENCL
#include "backends/opencl/opencl_backend.h"
#endif

/* Runs cmd_devices with stdout sent to a temporary file; returns what it
 * printed (malloc'ed) and stores the exit code in *rc. */
static char *run_devices(int argc, char **argv, int *rc)
{
    char path[] = "/tmp/heft-devices-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
    *rc = cmd_devices(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc((size_t)size + 1, 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    return text;
}

START_TEST(test_lists_cpu_and_opencl_devices)
{
    char *argv[] = { "devices", NULL };
    int rc;
    char *out = run_devices(1, argv, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "cpu backend: ") && strstr(out, "OpenBLAS core"),
                  "no CPU line in:\n%s", out);
#ifdef HAVE_OPENCL
    struct opencl_device_list list;
    struct herr err = { "" };
    if (opencl_list_devices(&list, &err) == 0) {
        for (int i = 0; i < list.n_devices; i++) {
            char line[300];
            snprintf(line, sizeof line, "  [%d] %s\n", i, list.devices[i].name);
            ck_assert_msg(strstr(out, line), "device line '%s' missing in:\n%s", line, out);
        }
        ck_assert_ptr_nonnull(strstr(out, "global memory"));
        ck_assert_ptr_nonnull(strstr(out, "max alloc"));
        ck_assert_ptr_nonnull(strstr(out, "compute units"));
        ck_assert_ptr_nonnull(strstr(out, "max work-group"));
        ck_assert_ptr_nonnull(strstr(out, "fp64"));
    } else {
        ck_assert_msg(strstr(out, err.msg), "the no-platform reason is missing:\n%s", out);
    }
    opencl_device_list_free(&list);
#else
    ck_assert_msg(strstr(out, "not built into this heft"), "no OpenCL note in:\n%s", out);
#endif
    free(out);
}
END_TEST

START_TEST(test_help_and_bad_argument)
{
    char *help[] = { "devices", "--help", NULL };
    int rc;
    char *out = run_devices(2, help, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: heft devices"));
    free(out);

    char *bad[] = { "devices", "--frobnicate", NULL };
    out = run_devices(2, bad, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_eq(out, ""); /* the complaint goes to stderr */
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("cmd_devices");
    tcase_add_test(tc, test_lists_cpu_and_opencl_devices);
    tcase_add_test(tc, test_help_and_bad_argument);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
