/* tools/cmd_prepare.c — `heft prepare`: text files (or the built-in data) to a
 * dataset directory. The work is done by core/prepare.c; this file parses the
 * command line and prints. */
#include "tools/cmd_prepare.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "core/prepare.h"
#include "core/tokenizer/tokenizer.h"

static const char usage[] =
    "usage: heft prepare --out DIR --input [DOMAIN=]PATH[,PATH...] [--input ...]\n"
    "                    [--val-fraction F] [--split-docs file|blank-line|line]\n"
    "                    [--shard-tokens N] [--train-only DOMAIN[,DOMAIN...]] [--force]\n"
    "                    [--tokenizer SPEC [--eot TOKEN]] [--threads N]\n"
    "       heft prepare --builtin --out DIR [--shard-tokens N] [--force]\n"
    "\n"
    "Makes a dataset directory (llm.c token shards + dataset.txt) that `heft train\n"
    "--data DIR` reads. Tokens are bytes (vocab 257) unless --tokenizer names one; EOT\n"
    "(256 for bytes) precedes every document. Text is encoded on all cores.\n"
    "\n"
    "  --out DIR            output directory (created; must be empty unless --force)\n"
    "  --input D=P1,P2      text files of domain D (letters, digits, _ - .); without\n"
    "                       'D=' the domain is 'default'. Repeat for more domains.\n"
    "  --val-fraction F     last fraction F of each domain's tokens is validation\n"
    "                       data (default 0.05; 0 for none)\n"
    "  --split-docs MODE    what one document is: a whole file (default), each\n"
    "                       paragraph (blank-line), or each line (line)\n"
    "  --shard-tokens N     at most N tokens per shard file (default 100000000)\n"
    "  --train-only D1,D2   these domains get no validation split (all their text\n"
    "                       trains), so they stay out of the validation loss\n"
    "  --force              write into a non-empty directory (same names replaced)\n"
    "  --tokenizer SPEC     bytes (default), a byte-level BPE tokenizer.json, GPT-2's\n"
    "                       vocab.json (merges.txt beside it) or VOCAB.json,MERGES.txt,\n"
    "                       or a SentencePiece .model (see heft tokenizer --help)\n"
    "  --eot TOKEN          the token put before each document (default: the first of\n"
    "                       <|endoftext|>, <|end_of_text|>, </s>, <eos> the vocabulary has)\n"
    "  --threads N          encoding threads (default: all cores)\n"
    "  --builtin            write heft's built-in dataset instead of text files\n"
    "  --help               this text\n";

#define MAX_INPUTS 4096

struct args {
    struct prepare_input inputs[MAX_INPUTS];
    int ninputs;
    char *lists[MAX_INPUTS]; /* strdup'ed --input/--train-only values the names point into */
    int nlists;
    const char *train_only[DATASET_MAX_DOMAINS];
    int ntrain_only;
    const char *out, *tokenizer, *eot;
    long threads;
    double val_fraction;
    int split;
    unsigned long long shard_tokens;
    int force, builtin, help;
};

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "heft prepare: error: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n(see heft prepare --help)\n");
    return 2;
}

/* "[DOMAIN=]P1,P2,..." -> inputs. */
static int add_inputs(struct args *a, const char *value)
{
    if (a->nlists == MAX_INPUTS)
        return usage_error("more than %s --input options", "4096");
    char *copy = strdup(value);
    if (!copy)
        return usage_error("%s", "out of memory");
    a->lists[a->nlists++] = copy;
    const char *domain = "default";
    char *paths = copy;
    char *eq = strchr(copy, '=');
    if (eq) {
        *eq = '\0';
        domain = copy;
        paths = eq + 1;
    }
    if (!*domain)
        return usage_error("--input '%s': empty domain name before '='", value);
    char *save = NULL;
    int n = 0;
    for (char *p = strtok_r(paths, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (a->ninputs == MAX_INPUTS)
            return usage_error("more than %s input files", "4096");
        a->inputs[a->ninputs].domain = domain;
        a->inputs[a->ninputs].path = p;
        a->ninputs++;
        n++;
    }
    if (n == 0)
        return usage_error("--input '%s' names no file", value);
    return 0;
}

/* "D1,D2,..." -> train-only domain names. */
static int add_train_only(struct args *a, const char *value)
{
    if (a->nlists == MAX_INPUTS)
        return usage_error("more than %s list options", "4096");
    char *copy = strdup(value);
    if (!copy)
        return usage_error("%s", "out of memory");
    a->lists[a->nlists++] = copy;
    char *save = NULL;
    int n = 0;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save), n++) {
        if (a->ntrain_only == DATASET_MAX_DOMAINS)
            return usage_error("--train-only names more than %s domains", "64");
        a->train_only[a->ntrain_only++] = p;
    }
    if (n == 0)
        return usage_error("--train-only '%s' names no domain", value);
    return 0;
}

static int parse_number(const char *flag, const char *value, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno)
        return usage_error("%s needs a number", flag);
    *out = v;
    return 0;
}

/* Accepts "--flag value" and "--flag=value". */
static int parse_args(int argc, char **argv, struct args *a)
{
    a->val_fraction = 0.05;
    a->split = DOC_SPLIT_FILE;
    a->shard_tokens = PREPARE_DEFAULT_SHARD_TOKENS;
    for (int i = 1; i < argc; i++) {
        char flag[64];
        const char *arg = argv[i], *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t flen = eq && strncmp(arg, "--", 2) == 0 ? (size_t)(eq - arg) : strlen(arg);
        if (flen >= sizeof flag)
            return usage_error("unknown option '%s'", arg);
        memcpy(flag, arg, flen);
        flag[flen] = '\0';
        if (eq && flen < strlen(arg))
            value = eq + 1;
        int takes_value = !strcmp(flag, "--out") || !strcmp(flag, "--input") ||
                          !strcmp(flag, "--val-fraction") || !strcmp(flag, "--split-docs") ||
                          !strcmp(flag, "--shard-tokens") || !strcmp(flag, "--train-only") ||
                          !strcmp(flag, "--tokenizer") || !strcmp(flag, "--eot") ||
                          !strcmp(flag, "--threads");
        if (takes_value && !value) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", flag);
            value = argv[++i];
        } else if (!takes_value && value) {
            return usage_error("%s takes no value", flag);
        }
        if (takes_value && !*value)
            return usage_error("%s needs a value", flag);
        int rc = 0;
        if (!strcmp(flag, "--out")) {
            a->out = value;
        } else if (!strcmp(flag, "--input")) {
            rc = add_inputs(a, value);
        } else if (!strcmp(flag, "--val-fraction")) {
            rc = parse_number(flag, value, &a->val_fraction);
            if (rc == 0 && !(a->val_fraction >= 0 && a->val_fraction < 1))
                rc = usage_error("--val-fraction %s is outside [0, 1)", value);
        } else if (!strcmp(flag, "--split-docs")) {
            a->split = doc_split_parse(value);
            if (a->split < 0)
                rc = usage_error("--split-docs '%s': use file, blank-line or line", value);
        } else if (!strcmp(flag, "--shard-tokens")) {
            char *end;
            errno = 0;
            a->shard_tokens = strtoull(value, &end, 10);
            if (!*value || *end || errno || value[0] == '-' || a->shard_tokens < 1)
                rc = usage_error("--shard-tokens '%s' is not a positive integer", value);
        } else if (!strcmp(flag, "--train-only")) {
            rc = add_train_only(a, value);
        } else if (!strcmp(flag, "--tokenizer")) {
            a->tokenizer = value;
        } else if (!strcmp(flag, "--eot")) {
            a->eot = value;
        } else if (!strcmp(flag, "--threads")) {
            char *end;
            errno = 0;
            a->threads = strtol(value, &end, 10);
            if (!*value || *end || errno || a->threads < 1 || a->threads > 4096)
                rc = usage_error("--threads '%s' is not an integer in [1, 4096]", value);
        } else if (!strcmp(flag, "--force")) {
            a->force = 1;
        } else if (!strcmp(flag, "--builtin")) {
            a->builtin = 1;
        } else if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
            a->help = 1;
        } else {
            rc = usage_error("unknown option '%s'", arg);
        }
        if (rc)
            return rc;
    }
    if (a->help)
        return 0;
    if (!a->out)
        return usage_error("%s", "--out DIR is required");
    if (a->builtin && a->ninputs > 0)
        return usage_error("%s", "--builtin and --input exclude each other");
    if (!a->builtin && a->ninputs == 0)
        return usage_error("%s", "give --input files (or --builtin)");
    if (a->builtin && a->ntrain_only > 0)
        return usage_error("%s", "--train-only applies to --input files, not --builtin");
    if (a->builtin && a->tokenizer)
        return usage_error("%s", "--tokenizer applies to --input files, not --builtin");
    if (a->eot && !a->tokenizer)
        return usage_error("%s", "--eot names a token of --tokenizer");
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct progress {
    double start, last;
};

/* At most one line every 2 s, and only once a run has taken that long. */
static void print_progress(void *ctx, const char *domain, uint64_t bytes, uint64_t tokens)
{
    struct progress *p = ctx;
    double t = now_s();
    if (t - p->last < 2.0)
        return;
    p->last = t;
    printf("heft prepare: %s: %.1f MB encoded into %llu tokens (%.1f MB/s)\n", domain,
           (double)bytes / 1e6, (unsigned long long)tokens, (double)bytes / 1e6 / (t - p->start));
    fflush(stdout);
}

static void print_summary(const char *out, const struct prepare_summary *s, const char *spec,
                          double seconds)
{
    uint64_t docs = 0, tok[2] = {0, 0};
    int shards[2] = {0, 0};
    printf("heft prepare: wrote %s (tokenizer %s%s%s: vocab %d, EOT %d)\n", out, s->tokenizer,
           spec ? " " : "", spec ? spec : "", s->vocab_size, s->eot);
    printf("  %-20s %10s %14s %7s %12s %7s\n", "domain", "docs", "train tokens", "shards",
           "val tokens", "shards");
    for (int d = 0; d < s->ndomains; d++) {
        const struct prepare_domain_stats *st = &s->domains[d];
        printf("  %-20s %10llu %14llu %7d %12llu %7d\n", st->name,
               (unsigned long long)st->docs, (unsigned long long)st->tokens[DATA_TRAIN],
               st->shards[DATA_TRAIN], (unsigned long long)st->tokens[DATA_VAL],
               st->shards[DATA_VAL]);
        docs += st->docs;
        for (int sp = 0; sp < 2; sp++) {
            tok[sp] += st->tokens[sp];
            shards[sp] += st->shards[sp];
        }
    }
    printf("  %-20s %10llu %14llu %7d %12llu %7d\n", "total", (unsigned long long)docs,
           (unsigned long long)tok[0], shards[0], (unsigned long long)tok[1], shards[1]);
    if (s->bytes > 0 && seconds > 0)
        printf("heft prepare: %.1f MB of text in %.2f s (%.1f MB/s)\n", (double)s->bytes / 1e6,
               seconds, (double)s->bytes / 1e6 / seconds);
    if (s->tokenizer_file[0])
        printf("heft prepare: the tokenizer is kept as %s/%s (heft sample and heft export use "
               "it)\n", out, s->tokenizer_file);
}

int cmd_prepare(int argc, char **argv)
{
    struct args *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "heft prepare: error: out of memory\n");
        return 1;
    }
    int rc = parse_args(argc, argv, a);
    if (rc == 0 && a->help) {
        fputs(usage, stdout);
    } else if (rc == 0) {
        struct prepare_summary *sum = malloc(sizeof *sum);
        const double t0 = now_s();
        struct herr err;
        int failed;
        if (!sum) {
            failed = herr_set(&err, "out of memory");
        } else if (a->builtin) {
            failed = prepare_builtin_dataset(a->out, a->shard_tokens, a->force, sum, &err);
        } else {
            struct tokenizer *tok = NULL;
            struct progress pr = {t0, t0};
            struct prepare_options o = {a->inputs, a->ninputs, a->out, a->val_fraction,
                                        (enum doc_split)a->split, a->shard_tokens, a->force,
                                        a->train_only, a->ntrain_only, NULL, -1,
                                        (int)a->threads, print_progress, &pr};
            failed = a->tokenizer && tokenizer_load(&tok, a->tokenizer, &err);
            if (!failed && tok) {
                o.tok = tok;
                o.eot = tokenizer_eot(tok, a->eot, &err);
                failed = o.eot < 0;
            }
            if (!failed)
                failed = prepare_text_dataset(&o, sum, &err);
            tokenizer_free(tok);
        }
        if (failed) {
            fprintf(stderr, "heft prepare: error: %s\n", err.msg);
            rc = 1;
        } else {
            print_summary(a->out, sum, a->tokenizer, now_s() - t0);
        }
        free(sum);
    }
    for (int i = 0; i < a->nlists; i++)
        free(a->lists[i]);
    free(a);
    return rc;
}
