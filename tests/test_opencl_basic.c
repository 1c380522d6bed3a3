/* tests/test_opencl_basic.c — the OpenCL backend on its own: creation,
 * memory round trips, error paths, the program cache, and every op against a
 * straightforward float64 host computation on small inputs whose sizes are
 * not multiples of any work-group size.
 *
 * Exits 77 (automake's SKIP) when no OpenCL platform is installed. The tests
 * run without fork and share one backend (tests/test_opencl_common.h). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/opencl/opencl_backend.h"
#include "core/prng.h"
#include "tests/test_opencl_common.h"

/* Per-element tolerance: |got - want| <= TOL * (1 + |want|). The host
 * computes in double; float32 kernels on these small sizes stay well inside. */
#define TOL 2e-5

static struct backend *be; /* shared by all tests; created in main */

/* ---- helpers ------------------------------------------------------------ */

static float *random_floats(uint64_t seed, size_t n, float lo, float hi)
{
    struct prng g;
    prng_seed(&g, seed);
    float *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)((prng_next(&g) >> 11) * 0x1.0p-53);
    return x;
}

static int32_t *random_ints(uint64_t seed, size_t n, int below)
{
    struct prng g;
    prng_seed(&g, seed);
    int32_t *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (int32_t)prng_below(&g, (uint64_t)below);
    return x;
}

static dptr to_device(const void *host, size_t n)
{
    dptr p = backend_alloc_floats(be, n);
    ck_assert_msg(p.buf, "alloc: %s", be->error);
    be->ops->upload(be, p, host, n * 4);
    return p;
}

static float *from_device(dptr p, size_t n)
{
    float *h = malloc((n ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    be->ops->download(be, h, p, n * 4);
    ck_assert_msg(!be->failed, "backend failed: %s", be->error);
    return h;
}

static void expect_close(const char *what, const float *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        ck_assert_msg(err <= TOL * (1.0 + fabs(want[i])), "%s[%zu]: got %.9g, want %.9g", what,
                      i, got[i], want[i]);
    }
}

/* Downloads p and compares it with want (n elements), then frees want. */
static void expect_device(const char *what, dptr p, double *want, size_t n)
{
    float *got = from_device(p, n);
    expect_close(what, got, want, n);
    free(got);
    free(want);
}

static double *doubles(size_t n)
{
    double *x = calloc(n ? n : 1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    return x;
}

static double *widen(const float *x, size_t n)
{
    double *y = doubles(n);
    for (size_t i = 0; i < n; i++)
        y[i] = x[i];
    return y;
}

static void release(dptr p)
{
    backend_release_ptr(be, p);
}

static struct backend *create_with_cache(const char *dir, struct herr *err)
{
    struct backend_options opts = { .name = "opencl", .device = 0, .cache_dir = dir };
    return opencl_backend_create(&opts, err);
}

/* ---- creation and memory --------------------------------------------------- */

START_TEST(test_identity)
{
    ck_assert_str_eq(be->name, "opencl");
    /* "<platform> / <device> (<driver version>)" */
    ck_assert_ptr_nonnull(strstr(be->device, " / "));
    ck_assert_ptr_nonnull(strchr(be->device, '('));
    ck_assert_int_eq(be->failed, 0);
}
END_TEST

/* The front end reaches this backend through backend_create (backends/backend.c),
 * which must have been compiled with HAVE_OPENCL. */
START_TEST(test_backend_create_by_name)
{
    ck_assert_msg(strstr(backend_available(), "opencl"), "backend_available() = '%s'",
                  backend_available());
    struct herr err = { "" };
    struct backend_options opts = { .name = "opencl", .device = 0,
                                    .cache_dir = opencl_test_cache_dir() };
    struct backend *b = backend_create(&opts, &err);
    ck_assert_msg(b, "backend_create(opencl): %s", err.msg);
    ck_assert_str_eq(b->name, "opencl");
    b->ops->destroy(b);
}
END_TEST

START_TEST(test_upload_download_roundtrip)
{
    const size_t n = 1237;
    float *x = random_floats(1, n, -3, 3);
    dptr p = to_device(x, n);
    float *y = from_device(p, n);
    ck_assert_int_eq(memcmp(x, y, n * sizeof *x), 0);
    /* at an offset, partial */
    float part[5] = { 1, 2, 3, 4, 5 };
    be->ops->upload(be, dptr_at(p, 100), part, sizeof part);
    float back[7];
    be->ops->download(be, back, dptr_at(p, 99), sizeof back);
    ck_assert_int_eq(be->failed, 0);
    ck_assert(back[0] == x[99] && back[6] == x[105]);
    ck_assert_int_eq(memcmp(back + 1, part, sizeof part), 0);
    free(x);
    free(y);
    release(p);
}
END_TEST

START_TEST(test_fill_and_copy)
{
    const size_t n = 1000, off = 3, len = 777; /* odd sizes, odd offset */
    float *x = random_floats(2, n, -1, 1);
    dptr p = to_device(x, n);
    be->ops->fill(be, dptr_at(p, off), 2.5f, len);
    float *y = from_device(p, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(y[i], (i >= off && i < off + len) ? 2.5f : x[i]);
    free(y);

    dptr q = backend_alloc_floats(be, n);
    be->ops->fill(be, q, 0.0f, n);
    be->ops->copy(be, dptr_at(q, 11), dptr_at(p, 1), 501);
    be->ops->finish(be);
    y = from_device(q, n);
    for (size_t i = 0; i < n; i++) {
        float want = 0.0f;
        if (i >= 11 && i < 512)
            want = (i - 10 >= off && i - 10 < off + len) ? 2.5f : x[i - 10];
        ck_assert_float_eq(y[i], want);
    }
    free(x);
    free(y);
    release(p);
    release(q);
}
END_TEST

START_TEST(test_bad_device_index)
{
    struct herr err = { "" };
    struct backend_options opts = { .name = "opencl", .device = 999, .cache_dir = opencl_test_cache_dir() };
    ck_assert_ptr_null(opencl_backend_create(&opts, &err));
    ck_assert_msg(strstr(err.msg, "device 999 does not exist") && strstr(err.msg, "found"),
                  "unexpected message: %s", err.msg);
    opts.device = -1;
    ck_assert_ptr_null(opencl_backend_create(&opts, &err));
    ck_assert_msg(strstr(err.msg, "device -1 does not exist"), "unexpected message: %s",
                  err.msg);
}
END_TEST

START_TEST(test_huge_alloc_is_sticky_error)
{
    struct herr err = { "" };
    struct backend *b = create_with_cache(opencl_test_cache_dir(), &err);
    ck_assert_msg(b, "%s", err.msg);
    struct dev_buffer *huge = b->ops->alloc(b, (size_t)1 << 50); /* 1 PiB */
    ck_assert_ptr_null(huge);
    ck_assert_int_eq(b->failed, 1);
    ck_assert_msg(strstr(b->error, "a buffer of 1.00 PiB") &&
                      strstr(b->error, "CL_DEVICE_MAX_MEM_ALLOC_SIZE") &&
                      strstr(b->error, "global memory"),
                  "unexpected message: %s", b->error);
    char first[sizeof b->error];
    strcpy(first, b->error);
    /* later calls are no-ops and keep the first message */
    ck_assert_ptr_null(b->ops->alloc(b, 16));
    b->ops->finish(b);
    ck_assert_str_eq(b->error, first);
    ck_assert_int_eq(backend_check(b, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "opencl backend"));
    b->ops->destroy(b);
}
END_TEST

/* One float more than the device's largest single allocation: refused with
 * the buffer's name, its exact size, the device's limit and what to do;
 * exactly the limit is allowed. */
START_TEST(test_alloc_past_max_alloc_is_named)
{
    struct herr err = { "" };
    struct backend *b = create_with_cache(opencl_test_cache_dir(), &err);
    ck_assert_msg(b, "%s", err.msg);
    struct opencl_limits lim;
    ck_assert_int_eq(opencl_backend_limits(b, &lim), 0);
    size_t n = (size_t)(lim.max_alloc_bytes / sizeof(float));
    dptr fits = backend_alloc_named(b, n, "parameters");
    ck_assert_msg(fits.buf, "%zu floats, the device's limit: %s", n, b->error);
    backend_release_ptr(b, fits);
    dptr p = backend_alloc_named(b, n + 1, "parameters");
    ck_assert_ptr_null(p.buf);
    char size[48];
    snprintf(size, sizeof size, "(%zu bytes)", (n + 1) * sizeof(float));
    ck_assert_msg(strncmp(b->error, "parameters: a buffer of ", 24) == 0 &&
                      strstr(b->error, size) &&
                      strstr(b->error, "CL_DEVICE_MAX_MEM_ALLOC_SIZE = ") &&
                      strstr(b->error, "ZeRO") && strstr(b->error, "--recompute"),
                  "unexpected message: %s", b->error);
    b->ops->destroy(b);
}
END_TEST

START_TEST(test_out_of_range_is_sticky_error)
{
    struct herr err = { "" };
    struct backend *b = create_with_cache(opencl_test_cache_dir(), &err);
    ck_assert_msg(b, "%s", err.msg);
    dptr p = backend_alloc_floats(b, 10);
    b->ops->fill(b, dptr_at(p, 4), 1.0f, 7);
    ck_assert_int_eq(b->failed, 1);
    ck_assert_msg(strstr(b->error, "fill: argument 'dst' needs elements [4, 11)"),
                  "unexpected message: %s", b->error);
    backend_release_ptr(b, p);
    b->ops->destroy(b);
}
END_TEST

/* ---- program cache ----------------------------------------------------------- */

static void flip_byte(const char *path, long at_from_end)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_msg(f, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, -at_from_end, SEEK_END), 0);
    int c = fgetc(f);
    ck_assert_int_ne(c, EOF);
    ck_assert_int_eq(fseek(f, -at_from_end, SEEK_END), 0);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static struct opencl_setup_info create_and_probe(const char *dir)
{
    struct herr err = { "" };
    struct backend *b = create_with_cache(dir, &err);
    ck_assert_msg(b, "%s", err.msg);
    struct opencl_setup_info info;
    ck_assert_int_eq(opencl_backend_setup_info(b, &info), 0);
    /* the program works whichever way it was obtained */
    dptr p = backend_alloc_floats(b, 3);
    b->ops->fill(b, p, 4.0f, 3);
    ck_assert_double_eq(b->ops->sum_squares(b, p, 3), 48.0);
    ck_assert_msg(!b->failed, "%s", b->error);
    backend_release_ptr(b, p);
    b->ops->destroy(b);
    return info;
}

START_TEST(test_program_cache)
{
    char dir[] = "/tmp/heft-cl-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[sizeof dir + 16];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* missing parents are created */

    struct opencl_setup_info cold = create_and_probe(sub);
    ck_assert_int_eq(cold.cache_hit, 0);
    ck_assert_int_eq(cold.cache_written, 1);
    struct stat st;
    ck_assert_int_eq(stat(cold.cache_file, &st), 0);

    struct opencl_setup_info warm = create_and_probe(sub);
    ck_assert_int_eq(warm.cache_hit, 1);
    ck_assert_str_eq(warm.cache_file, cold.cache_file);
    printf("program: compiled in %.2f s, loaded from the cache in %.2f s\n",
           cold.program_seconds, warm.program_seconds);

    /* a flipped byte in the binary: detected, rebuilt, rewritten */
    flip_byte(cold.cache_file, 100);
    struct opencl_setup_info rebuilt = create_and_probe(sub);
    ck_assert_int_eq(rebuilt.cache_hit, 0);
    ck_assert_int_eq(rebuilt.cache_rejected, 1);
    ck_assert_int_eq(rebuilt.cache_written, 1);
    ck_assert_int_eq(create_and_probe(sub).cache_hit, 1);

    /* a truncated file: the same */
    ck_assert_int_eq(truncate(cold.cache_file, st.st_size / 2), 0);
    rebuilt = create_and_probe(sub);
    ck_assert_int_eq(rebuilt.cache_rejected, 1);
    ck_assert_int_eq(create_and_probe(sub).cache_hit, 1);

    unlink(cold.cache_file);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

START_TEST(test_unwritable_cache_is_not_an_error)
{
    /* a directory path that runs through a regular file can never be created */
    char file[] = "/tmp/heft-cl-notadir-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char dir[sizeof file + 8];
    snprintf(dir, sizeof dir, "%s/cache", file);
    struct opencl_setup_info info = create_and_probe(dir);
    ck_assert_int_eq(info.cache_hit, 0);
    ck_assert_int_eq(info.cache_written, 0);
    unlink(file);
}
END_TEST

/* ---- ops against host computations ---------------------------------------- */

static double host_gemm_elem(int ta, int tb, int k, const float *a, int lda, const float *b,
                             int ldb, int i, int j)
{
    double acc = 0.0;
    for (int p = 0; p < k; p++) {
        double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
        double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
        acc += av * bv;
    }
    return acc;
}

START_TEST(test_gemm_single)
{
    const int m = 13, n = 7, k = 5, pad = 3;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb,
                   nc = (size_t)m * ldc;
            float *a = random_floats(10 + ta, na, -1, 1), *b = random_floats(20 + tb, nb, -1, 1);
            float *c = random_floats(30, nc, -1, 1);
            dptr da = to_device(a, na), db = to_device(b, nb), dc = to_device(c, nc);
            be->ops->gemm(be, ta, tb, m, n, k, 0.75f, da, lda, db, ldb, -0.5f, dc, ldc, NULL);
            double *want = widen(c, nc); /* padding columns stay as they were */
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    want[(size_t)i * ldc + j] =
                        0.75 * host_gemm_elem(ta, tb, k, a, lda, b, ldb, i, j) -
                        0.5 * c[(size_t)i * ldc + j];
            expect_device("gemm", dc, want, nc);
            free(a);
            free(b);
            free(c);
            release(da);
            release(db);
            release(dc);
        }
}
END_TEST

START_TEST(test_gemm_beta_zero_ignores_nan)
{
    /* beta = 0 must overwrite C even if it holds NaN (uninitialized memory) */
    const int m = 3, n = 5, k = 4;
    float *a = random_floats(40, m * k, -1, 1), *b = random_floats(41, k * n, -1, 1);
    float c[15];
    for (int i = 0; i < 15; i++)
        c[i] = NAN;
    dptr da = to_device(a, m * k), db = to_device(b, k * n), dc = to_device(c, 15);
    be->ops->gemm(be, 0, 0, m, n, k, 1.0f, da, k, db, n, 0.0f, dc, n, NULL);
    double *want = doubles(15);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            want[i * n + j] = host_gemm_elem(0, 0, k, a, k, b, n, i, j);
    expect_device("gemm beta=0", dc, want, 15);
    /* k = 0: C = beta * C, and beta = 0 clears NaN */
    be->ops->gemm(be, 0, 0, m, n, 0, 1.0f, da, 1, db, n, 0.0f, dc, n, NULL);
    expect_device("gemm k=0", dc, doubles(15), 15);
    free(a);
    free(b);
    release(da);
    release(db);
    release(dc);
}
END_TEST

/* A (outer, inner) grid of problems laid out like attention's Q K^T on a
 * (B, T, 3C) tensor: the heads are interleaved inside each row. */
static void check_batched(int outer, int inner, int ta, int tb)
{
    const int m = 5, n = 6, k = 3;
    const int lda = inner * (ta ? m : k) + 1, ldb = inner * (tb ? k : n) + 2;
    const int ldc = inner * n + 1;
    const int rows_a = ta ? k : m, rows_b = tb ? n : k;
    struct gemm_batch batch = { outer, inner,
                                (size_t)rows_a * lda, (size_t)(ta ? m : k),
                                (size_t)rows_b * ldb, (size_t)(tb ? k : n),
                                (size_t)m * ldc, (size_t)n };
    size_t na = outer * batch.a_outer, nb = outer * batch.b_outer, nc = outer * batch.c_outer;
    float *a = random_floats(50, na, -1, 1), *b = random_floats(51, nb, -1, 1);
    float *c = random_floats(52, nc, -1, 1);
    dptr da = to_device(a, na), db = to_device(b, nb), dc = to_device(c, nc);
    be->ops->gemm(be, ta, tb, m, n, k, 1.5f, da, lda, db, ldb, 0.25f, dc, ldc, &batch);
    double *want = widen(c, nc);
    for (int o = 0; o < outer; o++)
        for (int j = 0; j < inner; j++) {
            const float *ap = a + o * batch.a_outer + j * batch.a_inner;
            const float *bp = b + o * batch.b_outer + j * batch.b_inner;
            size_t c0 = o * batch.c_outer + j * batch.c_inner;
            for (int r = 0; r < m; r++)
                for (int s = 0; s < n; s++)
                    want[c0 + (size_t)r * ldc + s] =
                        1.5 * host_gemm_elem(ta, tb, k, ap, lda, bp, ldb, r, s) +
                        0.25 * c[c0 + (size_t)r * ldc + s];
        }
    expect_device("batched gemm", dc, want, nc);
    free(a);
    free(b);
    free(c);
    release(da);
    release(db);
    release(dc);
}

START_TEST(test_gemm_batched)
{
    check_batched(1, 3, 0, 1); /* one level: strided */
    check_batched(2, 1, 1, 0); /* one level on the outer axis */
    check_batched(2, 3, 0, 1); /* two levels: per-problem offsets */
    check_batched(3, 2, 1, 1);
}
END_TEST

START_TEST(test_add_bias_col_sums_row_sums)
{
    const int N = 131, OC = 37;
    float *x = random_floats(60, (size_t)N * OC, -1, 1), *bias = random_floats(61, OC, -1, 1);
    float *acc0 = random_floats(62, OC, -1, 1);
    dptr dx = to_device(x, (size_t)N * OC), db = to_device(bias, OC), dacc = to_device(acc0, OC);

    be->ops->add_bias(be, dx, db, N, OC);
    double *want = doubles((size_t)N * OC);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++)
            want[(size_t)i * OC + o] = (double)x[(size_t)i * OC + o] + bias[o];
    expect_device("add_bias", dx, want, (size_t)N * OC);

    be->ops->upload(be, dx, x, (size_t)N * OC * 4);
    be->ops->col_sums(be, dacc, dx, N, OC); /* += */
    want = widen(acc0, OC);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++)
            want[o] += x[(size_t)i * OC + o];
    expect_device("col_sums", dacc, want, OC);

    dptr rows = backend_alloc_floats(be, N);
    be->ops->row_sums(be, rows, dx, N, OC); /* = */
    want = doubles(N);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++)
            want[i] += x[(size_t)i * OC + o];
    expect_device("row_sums", rows, want, N);

    /* a long row: more elements than any work-group has items */
    be->ops->row_sums(be, rows, dx, 1, N * OC);
    want = doubles(1);
    for (size_t i = 0; i < (size_t)N * OC; i++)
        want[0] += x[i];
    expect_device("row_sums long", rows, want, 1);
    free(x);
    free(bias);
    free(acc0);
    release(dx);
    release(db);
    release(dacc);
    release(rows);
}
END_TEST

START_TEST(test_encoder)
{
    const int B = 3, T = 7, C = 37, V = 4, maxT = 9; /* V = 4: tokens repeat */
    int32_t *tok = random_ints(70, (size_t)B * T, V);
    float *wte = random_floats(71, (size_t)V * C, -1, 1), *wpe = random_floats(72, (size_t)maxT * C, -1, 1);
    float *dout = random_floats(73, (size_t)B * T * C, -1, 1);
    dptr dtok = to_device(tok, (size_t)B * T), dwte = to_device(wte, (size_t)V * C),
         dwpe = to_device(wpe, (size_t)maxT * C), ddout = to_device(dout, (size_t)B * T * C);
    dptr out = backend_alloc_floats(be, (size_t)B * T * C);

    be->ops->encoder_forward(be, out, dtok, dwte, dwpe, B, T, C);
    double *want = doubles((size_t)B * T * C);
    for (int p = 0; p < B * T; p++)
        for (int c = 0; c < C; c++)
            want[(size_t)p * C + c] = (double)wte[tok[p] * C + c] + wpe[(p % T) * C + c];
    expect_device("encoder_forward", out, want, (size_t)B * T * C);

    /* backward accumulates into the existing gradients (here wte/wpe values) */
    be->ops->encoder_backward(be, dwte, dwpe, ddout, dtok, B, T, C);
    double *want_wte = widen(wte, (size_t)V * C), *want_wpe = widen(wpe, (size_t)maxT * C);
    for (int p = 0; p < B * T; p++)
        for (int c = 0; c < C; c++) {
            want_wte[tok[p] * C + c] += dout[(size_t)p * C + c];
            want_wpe[(p % T) * C + c] += dout[(size_t)p * C + c];
        }
    expect_device("encoder_backward dwte", dwte, want_wte, (size_t)V * C);
    expect_device("encoder_backward dwpe", dwpe, want_wpe, (size_t)maxT * C);
    free(tok);
    free(wte);
    free(wpe);
    free(dout);
    release(dtok);
    release(dwte);
    release(dwpe);
    release(ddout);
    release(out);
}
END_TEST

START_TEST(test_layernorm)
{
    const int N = 7, C = 301;
    const size_t NC = (size_t)N * C;
    float *x = random_floats(80, NC, -2, 3), *w = random_floats(81, C, 0.5f, 1.5f);
    float *b = random_floats(82, C, -1, 1), *dout = random_floats(83, NC, -1, 1);
    float *dinp0 = random_floats(84, NC, -1, 1), *dw0 = random_floats(85, C, -1, 1);
    float *db0 = random_floats(86, C, -1, 1);
    dptr dx = to_device(x, NC), dw_ = to_device(w, C), db_ = to_device(b, C);
    dptr ddout = to_device(dout, NC), ddinp = to_device(dinp0, NC);
    dptr ddw = to_device(dw0, C), ddb = to_device(db0, C);
    dptr out = backend_alloc_floats(be, NC), mean = backend_alloc_floats(be, N),
         rstd = backend_alloc_floats(be, N);

    be->ops->layernorm_forward(be, out, mean, rstd, dx, dw_, db_, N, C);
    double *want = doubles(NC), *want_mean = doubles(N), *want_rstd = doubles(N);
    double *want_dinp = widen(dinp0, NC), *want_dw = widen(dw0, C), *want_db = widen(db0, C);
    for (int n = 0; n < N; n++) {
        const float *r = x + (size_t)n * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++)
            m += r[c];
        m /= C;
        for (int c = 0; c < C; c++)
            v += (r[c] - m) * (r[c] - m);
        double s = 1.0 / sqrt(v / C + 1e-5);
        want_mean[n] = m;
        want_rstd[n] = s;
        double mean_d = 0, mean_dn = 0;
        for (int c = 0; c < C; c++) {
            double norm = (r[c] - m) * s, d = dout[(size_t)n * C + c];
            want[(size_t)n * C + c] = norm * w[c] + b[c];
            want_dw[c] += d * norm;
            want_db[c] += d;
            mean_d += w[c] * d / C;
            mean_dn += w[c] * d * norm / C;
        }
        for (int c = 0; c < C; c++) {
            double norm = (r[c] - m) * s, dnorm = w[c] * dout[(size_t)n * C + c];
            want_dinp[(size_t)n * C + c] += s * (dnorm - mean_d - norm * mean_dn);
        }
    }
    expect_device("layernorm_forward out", out, want, NC);
    expect_device("layernorm_forward mean", mean, want_mean, N);
    expect_device("layernorm_forward rstd", rstd, want_rstd, N);

    be->ops->layernorm_backward(be, ddinp, ddw, ddb, ddout, dx, dw_, mean, rstd, N, C);
    expect_device("layernorm_backward dinp", ddinp, want_dinp, NC);
    expect_device("layernorm_backward dw", ddw, want_dw, C);
    expect_device("layernorm_backward db", ddb, want_db, C);
    free(x);
    free(w);
    free(b);
    free(dout);
    free(dinp0);
    free(dw0);
    free(db0);
    dptr all[] = { dx, dw_, db_, ddout, ddinp, ddw, ddb, out, mean, rstd };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        release(all[i]);
}
END_TEST

static double gelu(double x)
{
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

START_TEST(test_gelu)
{
    const size_t n = 1001;
    float *x = random_floats(90, n, -5, 5), *dout = random_floats(91, n, -1, 1);
    dptr dx = to_device(x, n), dd = to_device(dout, n), out = backend_alloc_floats(be, n);
    be->ops->gelu_forward(be, out, dx, n);
    double *want = doubles(n);
    for (size_t i = 0; i < n; i++)
        want[i] = gelu(x[i]);
    expect_device("gelu_forward", out, want, n);

    /* backward in place (dinp aliases dout), against a central difference of
     * the host GELU: an independent check of the derivative formula */
    be->ops->gelu_backward(be, dd, dx, dd, n);
    want = doubles(n);
    for (size_t i = 0; i < n; i++) {
        double h = 1e-4;
        want[i] = (gelu(x[i] + h) - gelu(x[i] - h)) / (2 * h) * dout[i];
    }
    float *got = from_device(dd, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-4 * (1 + fabs(want[i])),
                      "gelu_backward[%zu]: got %g want %g", i, got[i], want[i]);
    free(got);
    free(want);

    /* forward in place */
    be->ops->gelu_forward(be, dx, dx, n);
    want = doubles(n);
    for (size_t i = 0; i < n; i++)
        want[i] = gelu(x[i]);
    expect_device("gelu_forward in place", dx, want, n);
    free(x);
    free(dout);
    release(dx);
    release(dd);
    release(out);
}
END_TEST

START_TEST(test_softmax_causal)
{
    const int R = 3, T = 13;
    const size_t n = (size_t)R * T * T;
    float *pre = random_floats(100, n, -4, 4), *datt = random_floats(101, n, -1, 1);
    dptr dpre = to_device(pre, n), ddatt = to_device(datt, n);
    dptr att = backend_alloc_floats(be, n);
    be->ops->softmax_causal_forward(be, att, dpre, R, T);
    double *want = doubles(n), *want_d = doubles(n);
    for (int g = 0; g < R * T; g++) {
        int i = g % T;
        const float *x = pre + (size_t)g * T;
        double m = x[0], s = 0, dot = 0;
        for (int j = 0; j <= i; j++)
            m = x[j] > m ? x[j] : m;
        for (int j = 0; j <= i; j++)
            s += exp(x[j] - m);
        for (int j = 0; j <= i; j++) {
            want[(size_t)g * T + j] = exp(x[j] - m) / s;
            dot += want[(size_t)g * T + j] * datt[(size_t)g * T + j];
        }
        for (int j = 0; j <= i; j++)
            want_d[(size_t)g * T + j] =
                want[(size_t)g * T + j] * (datt[(size_t)g * T + j] - dot);
    }
    double *want_copy = doubles(n);
    memcpy(want_copy, want, n * sizeof *want);
    expect_device("softmax_causal_forward", att, want, n);
    /* backward in place: dpre aliases datt */
    be->ops->softmax_causal_backward(be, ddatt, ddatt, att, R, T);
    expect_device("softmax_causal_backward", ddatt, want_d, n);
    /* forward in place: att aliases pre */
    be->ops->softmax_causal_forward(be, dpre, dpre, R, T);
    expect_device("softmax_causal_forward in place", dpre, want_copy, n);
    free(pre);
    free(datt);
    release(dpre);
    release(ddatt);
    release(att);
}
END_TEST

START_TEST(test_crossentropy)
{
    const int T = 3, N = 6, V = 37, Vp = 40;
    float *logits = random_floats(110, (size_t)N * Vp, -3, 3);
    int32_t targets[6] = { 0, 36, -1, 5, 17, 2 }; /* one ignored, both ends of V */
    float scale[2] = { 0.5f, 2.0f };
    dptr dl = to_device(logits, (size_t)N * Vp), dt = to_device(targets, N),
         ds = to_device(scale, 2);
    dptr losses = backend_alloc_floats(be, N), lse = backend_alloc_floats(be, N);
    be->ops->crossentropy_forward(be, losses, lse, dl, dt, N, V, Vp);
    double *want_loss = doubles(N), *want_lse = doubles(N), *want_d = doubles((size_t)N * Vp);
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * Vp;
        double s = 0;
        for (int v = 0; v < V; v++)
            s += exp(z[v]);
        want_lse[n] = log(s);
        want_loss[n] = targets[n] < 0 ? 0.0 : log(s) - z[targets[n]];
        if (targets[n] < 0)
            continue;
        for (int v = 0; v < V; v++)
            want_d[(size_t)n * Vp + v] =
                scale[n / T] * (exp(z[v]) / s - (v == targets[n] ? 1.0 : 0.0));
    }
    expect_device("crossentropy_forward losses", losses, want_loss, N);
    expect_device("crossentropy_forward lse", lse, want_lse, N);
    /* in place: dlogits aliases logits; padding and the ignored row become 0 */
    be->ops->crossentropy_backward(be, dl, dl, lse, dt, ds, T, N, V, Vp);
    expect_device("crossentropy_backward", dl, want_d, (size_t)N * Vp);
    free(logits);
    release(dl);
    release(dt);
    release(ds);
    release(losses);
    release(lse);
}
END_TEST

START_TEST(test_adamw)
{
    const size_t n = 1001;
    float *p = random_floats(120, n, -1, 1), *g = random_floats(121, n, -1, 1);
    float *m = random_floats(122, n, -0.1f, 0.1f), *v = random_floats(123, n, 0, 0.01f);
    dptr dp = to_device(p, n), dg = to_device(g, n), dm = to_device(m, n), dv = to_device(v, n);
    struct adamw_args a = { .lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
                            .weight_decay = 0.1f, .grad_scale = 0.5f,
                            .bias_correction1 = 1 - 0.9f * 0.9f * 0.9f,
                            .bias_correction2 = 1 - 0.95f * 0.95f * 0.95f };
    be->ops->adamw(be, dp, dg, dm, dv, n, &a);
    double *wp = doubles(n), *wm = doubles(n), *wv = doubles(n);
    for (size_t i = 0; i < n; i++) {
        double gi = (double)g[i] * a.grad_scale;
        wm[i] = a.beta1 * (double)m[i] + (1 - (double)a.beta1) * gi;
        wv[i] = a.beta2 * (double)v[i] + (1 - (double)a.beta2) * gi * gi;
        wp[i] = p[i] * (1 - (double)a.lr * a.weight_decay) -
                a.lr * (wm[i] / a.bias_correction1) / (sqrt(wv[i] / a.bias_correction2) + a.eps);
    }
    expect_device("adamw params", dp, wp, n);
    expect_device("adamw m", dm, wm, n);
    expect_device("adamw v", dv, wv, n);
    free(p);
    free(g);
    free(m);
    free(v);
    release(dp);
    release(dg);
    release(dm);
    release(dv);
}
END_TEST

START_TEST(test_sum_squares)
{
    const size_t sizes[] = { 1, 7, 100003, 2000003 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        float *x = random_floats(130 + s, n + 5, -1, 1);
        dptr dx = to_device(x, n + 5);
        double want = 0;
        for (size_t i = 0; i < n; i++)
            want += (double)x[i + 5] * x[i + 5];
        double got = be->ops->sum_squares(be, dptr_at(dx, 5), n);
        ck_assert_msg(!be->failed, "%s", be->error);
        ck_assert_msg(fabs(got - want) <= 1e-5 * want, "sum_squares n=%zu: got %.9g want %.9g",
                      n, got, want);
        free(x);
        release(dx);
    }
}
END_TEST

/* ---- the LLaMA family's ops ---------------------------------------------------- */

START_TEST(test_embedding)
{
    const int N = 19, C = 37, V = 4; /* V = 4: tokens repeat */
    int32_t *tok = random_ints(140, N, V);
    float *wte = random_floats(141, (size_t)V * C, -1, 1);
    float *dout = random_floats(142, (size_t)N * C, -1, 1);
    dptr dtok = to_device(tok, N), dwte = to_device(wte, (size_t)V * C),
         ddout = to_device(dout, (size_t)N * C);
    dptr out = backend_alloc_floats(be, (size_t)N * C);

    be->ops->embedding_forward(be, out, dtok, dwte, N, C);
    float *got = from_device(out, (size_t)N * C);
    for (int n = 0; n < N; n++) /* a gather: exact */
        ck_assert_msg(memcmp(got + (size_t)n * C, wte + (size_t)tok[n] * C, C * sizeof *got) == 0,
                      "embedding_forward row %d is not wte row %d", n, tok[n]);
    free(got);

    /* backward accumulates into the existing gradient (here the wte values) */
    be->ops->embedding_backward(be, dwte, ddout, dtok, N, C);
    double *want = widen(wte, (size_t)V * C);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            want[tok[n] * C + c] += dout[(size_t)n * C + c];
    expect_device("embedding_backward", dwte, want, (size_t)V * C);
    free(tok);
    free(wte);
    free(dout);
    release(dtok);
    release(dwte);
    release(ddout);
    release(out);
}
END_TEST

START_TEST(test_rmsnorm)
{
    const int N = 7, C = 301;
    const size_t NC = (size_t)N * C;
    const float eps = 1e-6f;
    float *x = random_floats(150, NC, -2, 3), *w = random_floats(151, C, 0.5f, 1.5f);
    float *dout = random_floats(152, NC, -1, 1), *dinp0 = random_floats(153, NC, -1, 1);
    float *dw0 = random_floats(154, C, -1, 1);
    dptr dx = to_device(x, NC), dw_ = to_device(w, C), ddout = to_device(dout, NC);
    dptr ddinp = to_device(dinp0, NC), ddw = to_device(dw0, C);
    dptr out = backend_alloc_floats(be, NC), rstd = backend_alloc_floats(be, N);

    be->ops->rmsnorm_forward(be, out, rstd, dx, dw_, N, C, eps);
    double *want = doubles(NC), *want_rstd = doubles(N);
    double *want_dinp = widen(dinp0, NC), *want_dw = widen(dw0, C);
    for (int n = 0; n < N; n++) {
        const float *r = x + (size_t)n * C, *d = dout + (size_t)n * C;
        double ms = 0, dot = 0;
        for (int c = 0; c < C; c++)
            ms += (double)r[c] * r[c];
        double s = 1.0 / sqrt(ms / C + eps);
        want_rstd[n] = s;
        for (int c = 0; c < C; c++) {
            want[(size_t)n * C + c] = r[c] * s * w[c];
            want_dw[c] += d[c] * r[c] * s;
            dot += (double)d[c] * w[c] * r[c];
        }
        /* d/dx_c of sum_j d_j w_j x_j s, with ds/dx_c = -s^3 x_c / C */
        for (int c = 0; c < C; c++)
            want_dinp[(size_t)n * C + c] += s * d[c] * w[c] - s * s * s * r[c] * dot / C;
    }
    expect_device("rmsnorm_forward out", out, want, NC);
    expect_device("rmsnorm_forward rstd", rstd, want_rstd, N);

    be->ops->rmsnorm_backward(be, ddinp, ddw, ddout, dx, dw_, rstd, N, C);
    expect_device("rmsnorm_backward dinp", ddinp, want_dinp, NC);
    expect_device("rmsnorm_backward dw", ddw, want_dw, C);
    free(x);
    free(w);
    free(dout);
    free(dinp0);
    free(dw0);
    dptr all[] = { dx, dw_, ddout, ddinp, ddw, out, rstd };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        release(all[i]);
}
END_TEST

/* RoPE on the k heads of (q | k | one spare column) rows: q and the spare
 * column stay as they are; backward undoes forward. */
START_TEST(test_rope)
{
    const int B = 2, T = 5, nh = 3, hs = 6, pairs = hs / 2, C = nh * hs, ld = 2 * C + 1;
    const size_t n = (size_t)B * T * ld;
    float *x = random_floats(160, n, -2, 2), *freqs = malloc((size_t)T * hs * sizeof *freqs);
    ck_assert_ptr_nonnull(freqs);
    double *angle = doubles((size_t)T * pairs);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < pairs; i++) {
            angle[t * pairs + i] = t * pow(10000.0, -2.0 * i / hs);
            freqs[(t * pairs + i) * 2] = (float)cos(angle[t * pairs + i]);
            freqs[(t * pairs + i) * 2 + 1] = (float)sin(angle[t * pairs + i]);
        }
    dptr dx = to_device(x, n), dfreqs = to_device(freqs, (size_t)T * hs);

    be->ops->rope_forward(be, dptr_at(dx, C), dfreqs, B, T, nh, hs, ld);
    double *want = widen(x, n);
    for (int r = 0; r < B * T; r++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < pairs; i++) {
                size_t lo = (size_t)r * ld + C + h * hs + i, hi = lo + pairs;
                double a = angle[(r % T) * pairs + i];
                want[lo] = x[lo] * cos(a) - x[hi] * sin(a);
                want[hi] = x[lo] * sin(a) + x[hi] * cos(a);
            }
    float *got = from_device(dx, n);
    for (size_t i = 0; i < n; i++)
        if (i % ld < (size_t)C || i % ld == (size_t)ld - 1)
            ck_assert_msg(got[i] == x[i], "rope_forward changed column %zu", i % ld);
    free(got);
    expect_device("rope_forward", dx, want, n);

    be->ops->rope_backward(be, dptr_at(dx, C), dfreqs, B, T, nh, hs, ld);
    expect_device("rope_backward of rope_forward", dx, widen(x, n), n);

    /* hs must be even: a sticky error on a backend of its own */
    struct herr err = { "" };
    struct backend *b = create_with_cache(opencl_test_cache_dir(), &err);
    ck_assert_msg(b, "%s", err.msg);
    dptr p = backend_alloc_floats(b, 10);
    b->ops->rope_forward(b, p, p, 1, 1, 1, 5, 10);
    ck_assert_msg(b->failed && strstr(b->error, "rope_forward") && strstr(b->error, "hs=5"),
                  "odd hs: %s", b->error);
    backend_release_ptr(b, p);
    b->ops->destroy(b);
    free(x);
    free(freqs);
    free(angle);
    release(dx);
    release(dfreqs);
}
END_TEST

static double silu(double g)
{
    return g / (1.0 + exp(-g));
}

START_TEST(test_swiglu)
{
    const int N = 3, F = 333;
    const size_t nf = (size_t)N * F;
    float *inp = random_floats(170, 2 * nf, -6, 6), *dout = random_floats(171, nf, -1, 1);
    dptr dinp_in = to_device(inp, 2 * nf), ddout = to_device(dout, nf);
    dptr out = backend_alloc_floats(be, nf), dinp = backend_alloc_floats(be, 2 * nf);

    be->ops->swiglu_forward(be, out, dinp_in, N, F);
    double *want = doubles(nf);
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++)
            want[(size_t)n * F + f] =
                silu(inp[(size_t)n * 2 * F + f]) * inp[(size_t)n * 2 * F + F + f];
    expect_device("swiglu_forward", out, want, nf);

    /* the gate's gradient against a central difference of the host silu: an
     * independent check of the derivative formula */
    be->ops->swiglu_backward(be, dinp, dinp_in, ddout, N, F);
    float *got = from_device(dinp, 2 * nf);
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++) {
            double g = inp[(size_t)n * 2 * F + f], u = inp[(size_t)n * 2 * F + F + f];
            double d = dout[(size_t)n * F + f], h = 1e-4;
            double dg = (silu(g + h) - silu(g - h)) / (2 * h) * u * d, du = silu(g) * d;
            float got_dg = got[(size_t)n * 2 * F + f], got_du = got[(size_t)n * 2 * F + F + f];
            ck_assert_msg(fabs(got_dg - dg) <= 1e-4 * (1 + fabs(dg)),
                          "swiglu_backward dg[%d, %d]: got %g want %g", n, f, got_dg, dg);
            ck_assert_msg(fabs(got_du - du) <= TOL * (1 + fabs(du)),
                          "swiglu_backward du[%d, %d]: got %g want %g", n, f, got_du, du);
        }
    free(got);
    free(inp);
    free(dout);
    release(dinp_in);
    release(ddout);
    release(out);
    release(dinp);
}
END_TEST

/* ---- runner ------------------------------------------------------------------- */

static Suite *opencl_suite(void)
{
    Suite *s = suite_create("opencl");
    TCase *basics = tcase_create("basics");
    tcase_add_test(basics, test_identity);
    tcase_add_test(basics, test_backend_create_by_name);
    tcase_add_test(basics, test_upload_download_roundtrip);
    tcase_add_test(basics, test_fill_and_copy);
    tcase_add_test(basics, test_bad_device_index);
    tcase_add_test(basics, test_huge_alloc_is_sticky_error);
    tcase_add_test(basics, test_alloc_past_max_alloc_is_named);
    tcase_add_test(basics, test_out_of_range_is_sticky_error);
    suite_add_tcase(s, basics);

    TCase *cache = tcase_create("program cache");
    tcase_set_timeout(cache, 120); /* compiles the program from source three times */
    tcase_add_test(cache, test_program_cache);
    tcase_add_test(cache, test_unwritable_cache_is_not_an_error);
    suite_add_tcase(s, cache);

    TCase *ops = tcase_create("ops");
    tcase_set_timeout(ops, 60);
    tcase_add_test(ops, test_gemm_single);
    tcase_add_test(ops, test_gemm_beta_zero_ignores_nan);
    tcase_add_test(ops, test_gemm_batched);
    tcase_add_test(ops, test_add_bias_col_sums_row_sums);
    tcase_add_test(ops, test_encoder);
    tcase_add_test(ops, test_layernorm);
    tcase_add_test(ops, test_gelu);
    tcase_add_test(ops, test_softmax_causal);
    tcase_add_test(ops, test_crossentropy);
    tcase_add_test(ops, test_adamw);
    tcase_add_test(ops, test_sum_squares);
    tcase_add_test(ops, test_embedding);
    tcase_add_test(ops, test_rmsnorm);
    tcase_add_test(ops, test_rope);
    tcase_add_test(ops, test_swiglu);
    suite_add_tcase(s, ops);
    return s;
}

int main(void)
{
    int skip = opencl_test_need_device();
    if (skip)
        return skip;
    be = opencl_test_backend();
    if (!be)
        return 1;
    printf("device: %s\n", be->device);
    int status = opencl_test_run(opencl_suite());
    be->ops->destroy(be);
    return status;
}
