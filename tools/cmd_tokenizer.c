/* tools/cmd_tokenizer.c — `heft tokenizer train|encode|decode`. The work is in
 * core/tokenizer/; this file parses the command line, reads and prints. */
#include "config.h"

#include "tools/cmd_tokenizer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fileio.h"
#include "core/tokenizer/encode_docs.h"
#include "core/tokenizer/tokenizer.h"
#ifdef HAVE_TOKENIZERS
#include "core/tokenizer/bpe_train.h"
#include "core/tokenizer/tok_write.h"
#endif

static const char usage[] =
    "usage: heft tokenizer train --vocab-size N --input FILE[,FILE...] [--input ...]\n"
    "                            [--output tokenizer.json] [--min-frequency K] [--threads N]\n"
    "       heft tokenizer encode --tokenizer SPEC [--input FILE] [--threads N]\n"
    "       heft tokenizer decode --tokenizer SPEC [--input FILE]\n"
    "\n"
    "train   learns a byte-level BPE from text (GPT-2's pre-tokenizer regex, the 256\n"
    "        bytes as ids 0..255, merges by count, ties to the smaller ids, and\n"
    "        <|endoftext|> as the last id) and writes a Hugging Face tokenizer.json.\n"
    "encode  prints the ids of a text (a file, or standard input) on one line.\n"
    "decode  reads ids (separated by blanks) and writes the bytes they stand for.\n"
    "\n"
    "  --vocab-size N       tokens in all: 256 bytes + merges + <|endoftext|> (>= 257)\n"
    "  --input FILE,...     text to train on or to encode/decode (repeatable)\n"
    "  --output PATH        where train writes (default tokenizer.json)\n"
    "  --min-frequency K    stop merging when the best pair occurs fewer than K\n"
    "                       times (default 2)\n"
    "  --threads N          threads (default: all cores)\n"
    "  --tokenizer SPEC     bytes, a tokenizer.json, vocab.json (with its merges.txt\n"
    "                       beside it), VOCAB.json,MERGES.txt, or a SentencePiece .model\n"
    "  --help               this text\n";

#define MAX_INPUTS 4096

struct args {
    const char *verb;
    const char *inputs[MAX_INPUTS];
    int ninputs;
    char *lists[MAX_INPUTS];
    int nlists;
    const char *output, *tokenizer;
    long vocab_size, threads;
    unsigned long long min_frequency;
    int help;
};

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "heft tokenizer: error: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see heft tokenizer --help)\n");
    return 2;
}

static int add_inputs(struct args *a, const char *value)
{
    if (a->nlists == MAX_INPUTS)
        return usage_error("more than %s --input options", "4096");
    char *copy = strdup(value);
    if (!copy)
        return usage_error("%s", "out of memory");
    a->lists[a->nlists++] = copy;
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (a->ninputs == MAX_INPUTS)
            return usage_error("more than %s input files", "4096");
        a->inputs[a->ninputs++] = p;
    }
    return 0;
}

static int parse_long(const char *flag, const char *value, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "heft tokenizer: error: %s '%s' is not an integer in [%ld, %ld]\n",
                flag, value, lo, hi);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    a->output = "tokenizer.json";
    a->min_frequency = 2;
    int i = 1;
    if (argc > 1 && argv[1][0] != '-')
        a->verb = argv[i++];
    for (; i < argc; i++) {
        const char *flag = argv[i], *value = NULL;
        char name[64];
        const char *eq = strchr(flag, '=');
        if (eq && strncmp(flag, "--", 2) == 0 && (size_t)(eq - flag) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - flag), flag);
            flag = name;
            value = eq + 1;
        }
        int takes = !strcmp(flag, "--vocab-size") || !strcmp(flag, "--input") ||
                    !strcmp(flag, "--output") || !strcmp(flag, "--min-frequency") ||
                    !strcmp(flag, "--threads") || !strcmp(flag, "--tokenizer");
        if (takes && !value) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", flag);
            value = argv[++i];
        } else if (!takes && value) {
            return usage_error("%s takes no value", flag);
        }
        if (takes && !*value)
            return usage_error("%s needs a value", flag);
        int rc = 0;
        long v;
        if (!strcmp(flag, "--vocab-size"))
            rc = parse_long(flag, value, 257, 1L << 24, &a->vocab_size);
        else if (!strcmp(flag, "--input"))
            rc = add_inputs(a, value);
        else if (!strcmp(flag, "--output"))
            a->output = value;
        else if (!strcmp(flag, "--tokenizer"))
            a->tokenizer = value;
        else if (!strcmp(flag, "--min-frequency")) {
            rc = parse_long(flag, value, 1, 1L << 40, &v);
            a->min_frequency = (unsigned long long)v;
        } else if (!strcmp(flag, "--threads"))
            rc = parse_long(flag, value, 1, 4096, &a->threads);
        else if (!strcmp(flag, "--help") || !strcmp(flag, "-h"))
            a->help = 1;
        else
            rc = usage_error("unknown option '%s'", argv[i]);
        if (rc)
            return rc;
    }
    if (a->help)
        return 0;
    if (!a->verb)
        return usage_error("%s", "say what to do: train, encode or decode");
    if (!strcmp(a->verb, "train")) {
        if (!a->vocab_size)
            return usage_error("%s", "train needs --vocab-size N");
        if (a->ninputs == 0)
            return usage_error("%s", "train needs --input FILE");
        if (a->tokenizer)
            return usage_error("%s", "train makes a tokenizer; --tokenizer is for encode/decode");
    } else if (!strcmp(a->verb, "encode") || !strcmp(a->verb, "decode")) {
        if (!a->tokenizer)
            return usage_error("%s needs --tokenizer SPEC", a->verb);
        if (a->ninputs > 1)
            return usage_error("%s reads one --input (or standard input)", a->verb);
    } else {
        return usage_error("unknown action '%s' (train, encode or decode)", a->verb);
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* All of a file, or of standard input (input NULL). */
static int read_all(const char *input, char **text, size_t *len, struct herr *err)
{
    if (input)
        return read_text_file(input, "input", text, len, err);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return herr_set(err, "out of memory reading standard input");
        size_t k = fread(buf + n, 1, cap - n - 1, stdin);
        n += k;
        if (k == 0)
            break;
        if (n + 1 == cap) {
            char *p = realloc(buf, 2 * cap);
            if (!p)
                free(buf);
            buf = p;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(buf);
        return herr_set(err, "standard input: read error");
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static int do_encode(const struct args *a, struct herr *err)
{
    struct tokenizer *t;
    if (tokenizer_load(&t, a->tokenizer, err))
        return -1;
    char *text = NULL;
    size_t len = 0;
    struct encode_pool *pool = NULL;
    struct id_buf ids = {0};
    int rc = read_all(a->ninputs ? a->inputs[0] : NULL, &text, &len, err) ||
             encode_pool_new(&pool, t, (int)a->threads, err);
    if (rc == 0) {
        struct doc_span doc = {0, len};
        rc = encode_pool_docs(pool, text, &doc, 1, -1, 0, &ids, err);
    }
    for (size_t i = 0; rc == 0 && i < ids.n; i++)
        printf(i ? " %" PRIu32 : "%" PRIu32, ids.ids[i]);
    if (rc == 0)
        printf("\n");
    id_buf_free(&ids);
    encode_pool_free(pool);
    free(text);
    tokenizer_free(t);
    return rc ? -1 : 0;
}

static int do_decode(const struct args *a, struct herr *err)
{
    struct tokenizer *t;
    if (tokenizer_load(&t, a->tokenizer, err))
        return -1;
    char *text = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    struct id_buf ids = {0};
    int rc = read_all(a->ninputs ? a->inputs[0] : NULL, &text, &len, err);
    for (char *p = text; rc == 0 && p && *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || v > UINT32_MAX || *p == '-')
            rc = herr_set(err, "input: '%.20s' is not a token id", p);
        else if (id_buf_reserve(&ids, 1))
            rc = herr_set(err, "out of memory");
        else
            ids.ids[ids.n++] = (uint32_t)v;
        p = end;
    }
    if (rc == 0)
        rc = tokenizer_decode(t, ids.ids, ids.n, &out, &olen, err);
    if (rc == 0 && fwrite(out, 1, olen, stdout) != olen)
        rc = herr_set(err, "standard output: write error");
    free(out);
    id_buf_free(&ids);
    free(text);
    tokenizer_free(t);
    return rc ? -1 : 0;
}

#ifdef HAVE_TOKENIZERS
struct progress {
    double start, last;
};

/* At most one line every 2 s, and only once a run has taken that long. */
static void print_progress(void *ctx, const struct bpe_train_progress *p)
{
    struct progress *pr = ctx;
    double t = now_s();
    if (t - pr->last < 2.0)
        return;
    pr->last = t;
    if (p->stage == 0)
        printf("heft tokenizer: counting words: %.0f%% (%.1f of %.1f MB), %" PRIu64
               " distinct, %.0f s\n", p->total ? 100.0 * (double)p->done / (double)p->total : 0,
               (double)p->done / 1e6, (double)p->total / 1e6, p->words, t - pr->start);
    else
        printf("heft tokenizer: merging: %" PRIu64 " of %" PRIu64 " tokens, %.0f s\n", p->done,
               p->total, t - pr->start);
    fflush(stdout);
}

static int do_train(const struct args *a, struct herr *err)
{
    struct progress pr = {now_s(), now_s()};
    struct bpe_train_options o = {a->inputs, a->ninputs, (int)a->vocab_size, a->min_frequency,
                                  (int)a->threads, print_progress, &pr};
    struct bpe m;
    struct bpe_train_result r;
    if (bpe_train(&o, &m, &r, err))
        return -1;
    int rc = tok_write_hf_json(&m, a->output, err);
    bpe_free(&m);
    if (rc)
        return -1;
    printf("heft tokenizer: %d files, %.1f MB, %" PRIu64 " words (%" PRIu64 " distinct) in "
           "%.1f s\n", a->ninputs, (double)r.bytes / 1e6, r.words, r.distinct_words,
           now_s() - pr.start);
    printf("heft tokenizer: wrote %s: %d tokens (256 bytes, %d merges, <|endoftext|> = %d)\n",
           a->output, r.vocab_size, r.merges, r.vocab_size - 1);
    if (r.vocab_size < a->vocab_size && a->min_frequency > 1)
        printf("heft tokenizer: stopped at %d of the %ld tokens asked for: no pair of tokens "
               "occurs %llu times or more (use more text or --min-frequency 1)\n", r.vocab_size,
               a->vocab_size, a->min_frequency);
    else if (r.vocab_size < a->vocab_size)
        printf("heft tokenizer: stopped at %d of the %ld tokens asked for: every word is one "
               "token already (use more text)\n", r.vocab_size, a->vocab_size);
    return 0;
}
#else
static int do_train(const struct args *a, struct herr *err)
{
    (void)a;
    return herr_set(err, "this heft was built without BPE tokenizers (install libjansson-dev "
                    "and libpcre2-dev, then run configure again)");
}
#endif

int cmd_tokenizer(int argc, char **argv)
{
    struct args *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "heft tokenizer: error: out of memory\n");
        return 1;
    }
    int rc = parse_args(argc, argv, a);
    if (rc == 0 && a->help) {
        fputs(usage, stdout);
    } else if (rc == 0) {
        struct herr err;
        int failed = !strcmp(a->verb, "train")    ? do_train(a, &err)
                     : !strcmp(a->verb, "encode") ? do_encode(a, &err)
                                                  : do_decode(a, &err);
        if (failed) {
            fflush(stdout);
            fprintf(stderr, "heft tokenizer: error: %s\n", err.msg);
            rc = 1;
        }
    }
    for (int i = 0; i < a->nlists; i++)
        free(a->lists[i]);
    free(a);
    return rc;
}
