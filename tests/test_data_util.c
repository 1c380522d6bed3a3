/* tests/test_data_util.c — see test_data_util.h. */
#define _XOPEN_SOURCE 700
#include "tests/test_data_util.h"

#include "core/shard.h"

#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tmpdir_make(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(out, cap, "%s/heft-test-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tmpdir_remove(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tpath(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < cap);
}

void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

void write_raw_shard(const char *path, int32_t magic, int32_t version, int32_t count,
                     const uint16_t *tokens, size_t ntok, size_t extra)
{
    size_t n = 1024 + 2 * ntok + extra;
    unsigned char *buf = calloc(1, n);
    ck_assert_ptr_nonnull(buf);
    int32_t hdr[3] = {magic, version, count};
    memcpy(buf, hdr, sizeof hdr);
    if (ntok)
        memcpy(buf + 1024, tokens, 2 * ntok);
    write_bytes(path, buf, n);
    free(buf);
}

void make_dataset_dir(const char *dir, const struct test_shard *shards, int count)
{
    char manifest[8192];
    int len = snprintf(manifest, sizeof manifest,
                       "heft-dataset 1\ntokenizer test\nvocab_size 65536\neot 0\n");
    for (int k = 0; k < count; k++) {
        char name[64], path[1024];
        snprintf(name, sizeof name, "shard_%02d.bin", k);
        tpath(path, sizeof path, dir, name);
        uint16_t tok[1000];
        ck_assert_int_lt(shards[k].n, 1000);
        for (int i = 0; i < shards[k].n; i++)
            tok[i] = (uint16_t)(TEST_SHARD_BASE(k) + i);
        write_raw_shard(path, 20240520, 1, shards[k].n, tok, (size_t)shards[k].n, 0);
        len += snprintf(manifest + len, sizeof manifest - (size_t)len, "shard %s %s %s\n",
                        shards[k].split, shards[k].domain, name);
    }
    char mpath[1024];
    tpath(mpath, sizeof mpath, dir, "dataset.txt");
    write_text(mpath, manifest);
}

unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert(size >= 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size] = 0; /* a NUL past the end: text files can be searched as strings */
    *n = (size_t)size;
    return buf;
}

int dir_entries_matching(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open directory %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (!needle || strstr(e->d_name, needle)))
            n++;
    closedir(d);
    return n;
}

int dir_entries(const char *dir)
{
    return dir_entries_matching(dir, NULL);
}

void ck_assert_msg_has_impl(const char *msg, const char *file, int line, ...)
{
    va_list ap;
    va_start(ap, line);
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL)
        if (!strstr(msg, needle)) {
            va_end(ap);
            ck_abort_msg("%s:%d: message \"%s\" lacks \"%s\"", file, line, msg, needle);
        }
    va_end(ap);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

unsigned shard_token_at(const struct shard *sh, size_t i)
{
    uint32_t v = 0;
    struct herr err;
    ck_assert_msg(shard_read(sh, i, 1, &v, &err) == 0, "%s", err.msg);
    return v;
}

uint32_t *shard_all_tokens(const struct shard *sh)
{
    uint32_t *v = malloc((sh->n ? sh->n : 1) * sizeof *v);
    struct herr err;
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(shard_read(sh, 0, sh->n, v, &err) == 0, "%s", err.msg);
    return v;
}
