/* tests/ckpt_edit.c — rewrites a checkpoint with some of its meta values
 * changed and every checksum valid, for tests of what a loader must refuse
 * even from a file whose integrity checks pass (and as fuzzing seeds).
 *
 *   ckpt_edit IN OUT key=value...     (a key that is not there is added)
 *   ckpt_edit IN OUT --drop SECTION   (the section is left out)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"

static int die(const char *what, const struct herr *err)
{
    fprintf(stderr, "ckpt_edit: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    return 1;
}

/* meta text with key's line replaced (or appended); malloc'ed */
static char *set_key(const char *meta, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    char *out = malloc(strlen(meta) + strlen(kv) + 2);
    if (!out)
        return NULL;
    size_t n = 0;
    int found = 0;
    for (const char *line = meta; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (len > klen && !strncmp(line, kv, klen) && line[klen] == '=') {
            n += (size_t)sprintf(out + n, "%s\n", kv);
            found = 1;
        } else {
            memcpy(out + n, line, len);
            n += len;
        }
        line += len;
    }
    if (!found)
        n += (size_t)sprintf(out + n, "%s\n", kv);
    out[n] = '\0';
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return die("usage: ckpt_edit IN OUT [key=value | --drop SECTION]...", NULL);
    struct herr err;
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, argv[1], &err))
        return die("reading", &err);
    int n = ckpt_reader_num_sections(r);
    void **data = calloc((size_t)n, sizeof *data);
    size_t *len = calloc((size_t)n, sizeof *len);
    struct ckpt_writer *w;
    if (!data || !len || ckpt_writer_begin(&w, argv[2], &err))
        return die("writing", &err);
    for (int i = 0; i < n; i++) {
        const char *name = ckpt_reader_section_name(r, i);
        int drop = 0;
        for (int a = 3; a + 1 < argc; a++)
            if (!strcmp(argv[a], "--drop") && !strcmp(argv[a + 1], name))
                drop = 1;
        if (drop)
            continue;
        if (ckpt_reader_read_alloc(r, name, &data[i], &len[i], &err))
            return die("reading", &err);
        if (!strcmp(name, "meta"))
            for (int a = 3; a < argc; a++) {
                if (!strcmp(argv[a], "--drop")) {
                    a++;
                    continue;
                }
                char *m = set_key(data[i], argv[a]);
                if (!m)
                    return die("out of memory", NULL);
                free(data[i]);
                data[i] = m;
                len[i] = strlen(m);
            }
        if (ckpt_writer_add(w, name, data[i], len[i], &err))
            return die("writing", &err);
    }
    if (ckpt_writer_commit(w, &err))
        return die("writing", &err);
    ckpt_reader_close(r);
    for (int i = 0; i < n; i++)
        free(data[i]);
    free(data);
    free(len);
    return 0;
}
