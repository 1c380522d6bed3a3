/* core/tokenizer/encode_docs.c — see encode_docs.h. */
#include "core/tokenizer/encode_docs.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Span length target: big enough that a task is worth scheduling, small
 * enough that a single-file corpus keeps every core busy. */
#define SPAN_BYTES (256u << 10)

struct encode_pool {
    const struct tokenizer *t;
    int threads;
    struct tok_encoder **enc; /* (threads) */
};

int encode_pool_new(struct encode_pool **out, const struct tokenizer *t, int threads,
                    struct herr *err)
{
    *out = NULL;
#ifdef _OPENMP
    if (threads <= 0)
        threads = omp_get_max_threads();
#else
    threads = 1;
#endif
    struct encode_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->enc = calloc((size_t)threads, sizeof *p->enc))) {
        free(p);
        return herr_set(err, "out of memory for %d encoders", threads);
    }
    p->t = t;
    p->threads = threads;
    for (int i = 0; i < threads; i++)
        if (tok_encoder_new(&p->enc[i], t, err)) {
            encode_pool_free(p);
            return -1;
        }
    *out = p;
    return 0;
}

void encode_pool_free(struct encode_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->threads; i++)
        tok_encoder_free(p->enc[i]);
    free(p->enc);
    free(p);
}

int encode_pool_threads(const struct encode_pool *p)
{
    return p->threads;
}

struct task {
    size_t doc;      /* index into docs */
    size_t from, to; /* bytes of the document */
    struct id_buf ids;
    int rc; /* 0, 1 (cut inside a piece), -1 */
    struct herr err;
};

size_t text_next_cut(const char *d, size_t n, size_t at)
{
    for (size_t i = at; i + 1 < n; i++) {
        const char *nl = memchr(d + i, '\n', n - 1 - i);
        if (!nl)
            return n;
        i = (size_t)(nl - d);
        unsigned char c = (unsigned char)d[i + 1];
        if (c > 0x20 && c < 0x7f)
            return i + 1;
    }
    return n;
}

static int make_tasks(const struct encode_pool *p, const char *text,
                      const struct doc_span *docs, size_t ndocs, struct task **out,
                      size_t *ntasks)
{
    size_t cap = ndocs + 16, n = 0;
    struct task *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    const int split = tokenizer_can_split(p->t) && p->threads > 1;
    for (size_t d = 0; d < ndocs; d++) {
        const char *doc = text + docs[d].start;
        size_t len = docs[d].len, from = 0;
        do {
            size_t to = split && len - from > 2 * SPAN_BYTES
                            ? text_next_cut(doc, len, from + SPAN_BYTES) : len;
            if (n == cap) {
                struct task *g = realloc(t, 2 * cap * sizeof *g);
                if (!g) {
                    free(t);
                    return -1;
                }
                memset(g + cap, 0, cap * sizeof *g);
                t = g;
                cap *= 2;
            }
            t[n].doc = d;
            t[n].from = from;
            t[n].to = to;
            n++;
            from = to;
        } while (from < len);
    }
    *out = t;
    *ntasks = n;
    return 0;
}

int encode_pool_docs(struct encode_pool *p, const char *text, const struct doc_span *docs,
                     size_t ndocs, int64_t eot, uint64_t doc_base, struct id_buf *out,
                     struct herr *err)
{
    struct task *tasks;
    size_t ntasks;
    if (make_tasks(p, text, docs, ndocs, &tasks, &ntasks))
        return herr_set(err, "out of memory for %zu documents' tasks", ndocs);

    const long long nt = (long long)ntasks;
#pragma omp parallel for schedule(dynamic, 1) num_threads(p->threads)
    for (long long k = 0; k < nt; k++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        struct task *tk = &tasks[k];
        const struct doc_span *d = &docs[tk->doc];
        tk->rc = tok_encode_span(p->enc[tid], text + d->start, d->len, tk->from, tk->to,
                                 &tk->ids, &tk->err);
    }

    int rc = 0;
    /* A cut that fell inside a piece: that document again, whole, on one thread. */
    for (size_t k = 0; k < ntasks && rc == 0; k++) {
        if (tasks[k].rc != 1)
            continue;
        size_t d = tasks[k].doc, first = k;
        while (first > 0 && tasks[first - 1].doc == d)
            first--;
        for (size_t j = first; j < ntasks && tasks[j].doc == d; j++) {
            tasks[j].ids.n = 0;
            tasks[j].rc = 0;
        }
        tasks[first].rc = tok_encode(p->enc[0], text + docs[d].start, docs[d].len,
                                     &tasks[first].ids, &tasks[first].err);
    }
    for (size_t k = 0; k < ntasks && rc == 0; k++) {
        struct task *tk = &tasks[k];
        if (tk->rc) {
            *err = tk->err;
            rc = herr_wrap(err, "document %llu (bytes %zu..%zu of the text): ",
                           (unsigned long long)(doc_base + tk->doc), docs[tk->doc].start,
                           docs[tk->doc].start + docs[tk->doc].len);
            break;
        }
        const int first_of_doc = k == 0 || tasks[k - 1].doc != tk->doc;
        if (id_buf_reserve(out, tk->ids.n + 1)) {
            rc = herr_set(err, "out of memory for token ids");
            break;
        }
        if (first_of_doc && eot >= 0)
            out->ids[out->n++] = (uint32_t)eot;
        memcpy(out->ids + out->n, tk->ids.ids, tk->ids.n * sizeof *out->ids);
        out->n += tk->ids.n;
    }
    for (size_t k = 0; k < ntasks; k++)
        id_buf_free(&tasks[k].ids);
    free(tasks);
    return rc;
}
