/* core/tokenizer/bpe_train_count.c — step 1 of bpe_train: the distinct
 * pre-tokenized words of the inputs and their counts, counted in parallel
 * (one map per thread, summed at the end, so counts do not depend on the
 * thread count). */
#include "core/tokenizer/bpe_train_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/fileio.h"
#include "core/tokenizer/encode_docs.h"

/* Bytes per task: a part of a file ends at the first cut after this. */
#define PART_BYTES (1u << 20)

struct count_ctx {
    struct bytemap *map;
    uint64_t words;
};

static int count_piece(void *ctx, const char *w, size_t len, size_t offset, struct herr *err)
{
    (void)offset;
    struct count_ctx *c = ctx;
    int inserted;
    uint64_t *slot = bytemap_slot(c->map, w, len, tok_hash_bytes(w, len), &inserted);
    if (!slot)
        return herr_set(err, "out of memory counting words");
    (*slot)++;
    c->words++;
    return 0;
}

struct part {
    size_t from, to;
};

struct count_run {
    const struct bpe_train_options *o;
    int threads;
    struct pretok_state *st;
    struct bytemap *maps;
    uint64_t done, total; /* bytes */
    uint64_t *words;
};

static void report(const struct count_run *r)
{
    if (!r->o->progress)
        return;
    uint64_t distinct = 0;
    for (int t = 0; t < r->threads; t++)
        distinct += r->maps[t].count; /* an upper bound: threads share words */
    struct bpe_train_progress p = {0, r->done, r->total, distinct};
    r->o->progress(r->o->progress_ctx, &p);
}

static int count_file(const struct pretok *re, struct count_run *r, const char *text, size_t n,
                      const char *path, struct herr *err)
{
    const int threads = r->threads;
    struct pretok_state *st = r->st;
    struct bytemap *maps = r->maps;
    size_t nparts = 0, cap = n / PART_BYTES + 2;
    struct part *parts = malloc(cap * sizeof *parts);
    if (!parts)
        return herr_set(err, "out of memory");
    for (size_t from = 0; from < n;) {
        size_t to = n - from > 2 * PART_BYTES ? text_next_cut(text, n, from + PART_BYTES) : n;
        if (nparts == cap) {
            struct part *g = realloc(parts, 2 * cap * sizeof *g);
            if (!g) {
                free(parts);
                return herr_set(err, "out of memory");
            }
            parts = g;
            cap *= 2;
        }
        parts[nparts++] = (struct part){from, to};
        from = to;
    }
    int *rcs = calloc(nparts ? nparts : 1, sizeof *rcs);
    struct herr *errs = calloc(nparts ? nparts : 1, sizeof *errs);
    uint64_t *pw = calloc((size_t)threads, sizeof *pw);
    if (!rcs || !errs || !pw) {
        free(parts);
        free(rcs);
        free(errs);
        free(pw);
        return herr_set(err, "out of memory");
    }
    /* Batches of parts, with a progress report after each. */
    const long long np = (long long)nparts, batch = 8LL * threads;
    for (long long b = 0; b < np; b += batch) {
        const long long end = b + batch < np ? b + batch : np;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (long long k = b; k < end; k++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            struct count_ctx c = {&maps[tid], 0};
            rcs[k] = pretok_span(re, &st[tid], text, n, parts[k].from, parts[k].to, count_piece,
                                 &c, &errs[k]);
            pw[tid] += c.words;
        }
        r->done += parts[end - 1].to - parts[b].from;
        report(r);
    }
    int rc = 0;
    for (size_t k = 0; k < nparts && rc == 0; k++)
        if (rcs[k] < 0) {
            *err = errs[k];
            rc = herr_wrap(err, "input %s: ", path);
        } else if (rcs[k] > 0) { /* GPT-2's regex never crosses a cut */
            rc = herr_set(err, "input %s: internal: a word crosses byte %zu", path,
                          parts[k].to);
        }
    for (int t = 0; t < threads; t++)
        *r->words += pw[t];
    free(parts);
    free(rcs);
    free(errs);
    free(pw);
    return rc;
}

int bpe_train_count(const struct bpe_train_options *o, int threads, struct bytemap *words,
                    struct bpe_train_result *res, struct herr *err)
{
    struct pretok re;
    if (pretok_compile(&re, PRETOK_GPT2_PATTERN, err))
        return -1;
    struct pretok_state *st = calloc((size_t)threads, sizeof *st);
    struct bytemap *maps = calloc((size_t)threads, sizeof *maps);
    int rc = st && maps ? 0 : herr_set(err, "out of memory");
    for (int t = 0; t < threads && rc == 0; t++)
        if (pretok_state_init(&st[t], &re, err) || bytemap_init(&maps[t], 1 << 16))
            rc = -1;
    struct count_run run = {o, threads, st, maps, 0, 0, &res->words};
    for (int i = 0; i < o->ninputs && rc == 0; i++) {
        struct stat sb;
        if (stat(o->inputs[i], &sb) == 0)
            run.total += (uint64_t)sb.st_size;
    }
    for (int i = 0; i < o->ninputs && rc == 0; i++) {
        struct mapped_file mf;
        if (mapped_file_open(&mf, o->inputs[i], "input", err)) {
            rc = -1;
            break;
        }
        rc = count_file(&re, &run, mf.data, mf.size, o->inputs[i], err);
        res->bytes += mf.size;
        mapped_file_close(&mf);
    }
    /* Sum the threads' counts into one map. */
    if (rc == 0 && bytemap_init(words, 1 << 16))
        rc = herr_set(err, "out of memory");
    for (int t = 0; t < threads && rc == 0; t++)
        for (size_t i = 0; i < maps[t].cap && rc == 0; i++) {
            const struct bytemap_entry *e = &maps[t].tab[i];
            if (!e->used)
                continue;
            int inserted;
            uint64_t *slot = bytemap_slot(words, bytemap_key(&maps[t], e), e->len, e->hash,
                                          &inserted);
            if (!slot)
                rc = herr_set(err, "out of memory summing word counts");
            else
                *slot += e->val;
        }
    for (int t = 0; t < threads && st && maps; t++) {
        pretok_state_free(&st[t]);
        bytemap_free(&maps[t]);
    }
    free(st);
    free(maps);
    pretok_free(&re);
    if (rc == 0)
        res->distinct_words = words->count;
    return rc;
}
