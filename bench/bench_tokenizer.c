/* bench/bench_tokenizer.c — heft's encoder speed: MB/s of text -> ids with a
 * tokenizer, on 1 thread and on N, documents = the text's blank-line-separated
 * paragraphs (as bench/bench_tokenizer.py gives Hugging Face's encode_batch).
 * Prints one line per thread count with the best of R runs and a checksum of
 * the ids, so the driver can check both tools gave the same ids.
 *
 * usage: bench_tokenizer TOKENIZER TEXT [THREADS [RUNS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/checksum.h"
#include "core/fileio.h"
#include "core/tokenizer/encode_docs.h"
#include "core/tokenizer/tokenizer.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Paragraphs: the text split at every "\n\n" (Python's text.split("\n\n")). */
static struct doc_span *paragraphs(const char *t, size_t n, size_t *count)
{
    size_t cap = 1024, k = 0, start = 0;
    struct doc_span *d = malloc(cap * sizeof *d);
    for (size_t i = 0; d && i <= n; i++) {
        if (i < n && !(t[i] == '\n' && i + 1 < n && t[i + 1] == '\n'))
            continue;
        if (k == cap) {
            cap *= 2;
            struct doc_span *g = realloc(d, cap * sizeof *d);
            if (!g) {
                free(d);
                return NULL;
            }
            d = g;
        }
        d[k++] = (struct doc_span){start, i - start};
        start = i + 2;
        i++;
    }
    *count = k;
    return d;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenizer TOKENIZER TEXT [THREADS [RUNS]]\n");
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 0, runs = argc > 4 ? atoi(argv[4]) : 3;
    struct herr err;
    struct tokenizer *t;
    char *text;
    size_t n, ndocs = 0;
    if (tokenizer_load(&t, argv[1], &err) || read_text_file(argv[2], "text", &text, &n, &err)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
        return 1;
    }
    struct doc_span *docs = paragraphs(text, n, &ndocs);
    const int counts[2] = {1, threads};
    for (int c = 0; c < 2 && docs; c++) {
        struct encode_pool *pool;
        if (encode_pool_new(&pool, t, counts[c], &err)) {
            fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
            return 1;
        }
        double best = 1e30;
        struct id_buf ids = {0};
        for (int r = 0; r < runs; r++) {
            ids.n = 0;
            double t0 = now_s();
            if (encode_pool_docs(pool, text, docs, ndocs, -1, 0, &ids, &err)) {
                fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
                return 1;
            }
            double dt = now_s() - t0;
            best = dt < best ? dt : best;
        }
        uint64_t h = fnv1a64_update(FNV1A64_INIT, ids.ids, ids.n * sizeof *ids.ids);
        printf("heft threads %d docs %zu bytes %zu ids %zu MB/s %.2f checksum %016llx\n",
               encode_pool_threads(pool), ndocs, n, ids.n, (double)n / 1e6 / best,
               (unsigned long long)h);
        id_buf_free(&ids);
        encode_pool_free(pool);
    }
    free(docs);
    free(text);
    tokenizer_free(t);
    return 0;
}
