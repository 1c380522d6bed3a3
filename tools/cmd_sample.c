/* tools/cmd_sample.c — `heft sample SOURCE`: text from a model, streamed to
 * stdout. core/model_source.h finds the model, core/textgen.h generates
 * (KV cache, or the full forward with --no-kv-cache), core/text_codec.h
 * turns text into ids and back. stdout holds only the text (or the ids with
 * --print-ids); what was run and how fast goes to stderr. */
#include "tools/cmd_sample.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/gemm_rate.h"
#include "core/model_source.h"
#include "core/options.h"
#include "core/sampling.h"
#include "core/text_codec.h"
#include "core/textgen.h"

struct sample_settings {
    char prompt[OPT_STRING_MAX];
    char prompt_ids[OPT_STRING_MAX];
    char tokenizer[OPT_STRING_MAX];
    int max_tokens;
    double temperature, top_p;
    int top_k;
    uint64_t seed;
    char backend[OPT_STRING_MAX];
    int device, threads;
    int no_kv_cache, ignore_eot, print_ids;
    char dump_logits[OPT_STRING_MAX];
};

#define F(field) offsetof(struct sample_settings, field)

static const struct opt_spec sample_options[] = {
    OPT_HEADING("What to generate"),
    { "prompt", OPT_STRING, F(prompt), 1, 0, "TEXT",
      "text to continue (after an end-of-text token, as documents start in heft's data)" },
    { "prompt-ids", OPT_STRING, F(prompt_ids), 1, 0, "LIST",
      "the prompt as comma-separated token ids, used as they are" },
    { "max-tokens", OPT_INT, F(max_tokens), 0, 1 << 20, "N", "new tokens at most" },
    { "tokenizer", OPT_STRING, F(tokenizer), 1, 0, "SPEC",
      "encode and decode with this tokenizer (bytes, tokenizer.json, vocab.json[,merges.txt], "
      "a SentencePiece .model) instead of the one found with the model" },
    { "ignore-eot", OPT_FLAG, F(ignore_eot), 0, 1, NULL,
      "go on past an end-of-text token (else generation stops there)" },
    OPT_HEADING("Sampling"),
    { "temperature", OPT_DOUBLE, F(temperature), 0, 1e6, "X", "0 = greedy" },
    { "top-k", OPT_INT, F(top_k), 0, 1 << 24, "N", "draw from the N most likely tokens (0 = all)" },
    { "top-p", OPT_DOUBLE, F(top_p), 1e-9, 1, "X",
      "then from the fewest whose probability reaches X (1 = all)" },
    { "seed", OPT_U64, F(seed), 1, 0, "N", "seed of the draws" },
    OPT_HEADING("Run"),
    { "backend", OPT_STRING, F(backend), 1, 0, "NAME", "cpu or opencl" },
    { "device", OPT_INT, F(device), 0, 1024, "N", "OpenCL device index (see heft devices)" },
    { "threads", OPT_INT, F(threads), 0, 4096, "N", "CPU threads (0 = all)" },
    { "no-kv-cache", OPT_FLAG, F(no_kv_cache), 0, 1, NULL,
      "recompute a full forward for every token (slow; for comparison)" },
    { "print-ids", OPT_FLAG, F(print_ids), 0, 1, NULL, "print the new token ids, not text" },
    OPT_END,
};

/* Not in --help: what tests compare against transformers. */
static const struct opt_spec hidden_options[] = {
    { "dump-logits", OPT_STRING, F(dump_logits), 1, 0, "FILE",
      "write the logits after every prompt token (float32, prompt length x V) and stop" },
    OPT_END,
};

static void defaults(struct sample_settings *s)
{
    memset(s, 0, sizeof *s);
    s->max_tokens = 256;
    s->temperature = 1.0;
    s->top_p = 1.0;
    s->seed = 1337;
    strcpy(s->backend, "cpu");
}

static void usage(FILE *out, const struct sample_settings *s)
{
    fprintf(out,
            "usage: heft sample SOURCE [options]\n\n"
            "Generates text with a model, using a KV cache. SOURCE: a run directory (its latest\n"
            "checkpoint), a heft checkpoint, a model file (llm.c GPT-2 or heft LLaMA) or a\n"
            "Hugging Face directory (config.json + model.safetensors). Text is encoded and\n"
            "decoded with the model's tokenizer: heft's bytes for byte data, a tokenizer file\n"
            "found with the model (tokenizer.json, tokenizer.model in the run, Hugging Face or\n"
            "dataset directory), or --tokenizer; without one, give --prompt-ids and read ids.\n");
    opts_print_help(out, sample_options, s);
}

static int fail(const char *what, const struct herr *err)
{
    fprintf(stderr, "heft sample: %s%s\n", what, err->msg);
    return 1;
}

/* Splits argv into SOURCE and the flags, routed to the table that knows each. */
static int parse(int argc, char **argv, struct sample_settings *s, const char **source,
                 struct herr *err)
{
    *source = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (*source)
                return herr_set(err, "one SOURCE, but also '%s'", a);
            *source = a;
            continue;
        }
        char name[128];
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
                 a + 2);
        const struct opt_spec *table = opts_find(sample_options, name) ? sample_options
                                                                       : hidden_options;
        const struct opt_spec *spec = opts_find(table, name);
        if (!spec)
            return herr_set(err, "unknown option --%s (see heft sample --help)", name);
        const char *value = eq ? eq + 1 : NULL;
        if (!value && spec->type == OPT_FLAG)
            value = "1";
        if (!value) {
            if (i + 1 == argc)
                return herr_set(err, "--%s needs a value", name);
            value = argv[++i];
        }
        char source_name[160];
        snprintf(source_name, sizeof source_name, "--%s", name);
        if (opts_set(table, s, spec->name, value, source_name, err))
            return -1;
    }
    if (!*source)
        return herr_set(err, "needs a SOURCE (a run directory, checkpoint, model file or "
                             "Hugging Face directory; see heft sample --help)");
    if (s->prompt[0] && s->prompt_ids[0])
        return herr_set(err, "--prompt and --prompt-ids: give one");
    return 0;
}

struct stream {
    const struct text_codec *codec;
    int print_ids, count;
    int32_t *ids;  /* the prompt, then each new token */
    int n;
    size_t shown;  /* bytes of the decoded text printed so far */
};

/* Each new token as it comes: its id, or the text it adds. The whole
 * sequence is decoded each time and the new end printed, since a token's
 * text can depend on its neighbours (SentencePiece's leading space). */
static int on_token(void *ctx, int32_t id)
{
    struct stream *st = ctx;
    st->ids[st->n++] = id;
    if (st->print_ids) {
        printf("%s%d", st->count ? " " : "", id);
    } else {
        char *text;
        size_t len;
        struct herr ignore;
        if (text_codec_decode(st->codec, st->ids, st->n, &text, &len, &ignore) == 0) {
            /* the text as the model wrote it, bytes as they are */
            if (len > st->shown)
                fwrite(text + st->shown, 1, len - st->shown, stdout);
            st->shown = len;
            free(text);
        }
    }
    st->count++;
    fflush(stdout);
    return 0;
}

/* --dump-logits: the logits after each prompt token, as float32 rows. */
static int dump_logits(struct textgen *tg, const int32_t *prompt, int np, const char *path,
                       struct herr *err)
{
    int V = textgen_vocab(tg);
    float *row = malloc((size_t)V * sizeof *row);
    FILE *f = fopen(path, "wb");
    int rc = 0;
    if (!row || !f)
        rc = herr_set(err, "--dump-logits %s: cannot write", path);
    textgen_reset(tg);
    for (int i = 0; i < np && rc == 0; i++) {
        rc = textgen_push(tg, prompt[i], row, err);
        if (rc == 0 && fwrite(row, sizeof *row, (size_t)V, f) != (size_t)V)
            rc = herr_set(err, "--dump-logits %s: write failed", path);
    }
    if (f && fclose(f) != 0 && rc == 0)
        rc = herr_set(err, "--dump-logits %s: write failed", path);
    free(row);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    struct sample_settings s;
    defaults(&s);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, &s);
            return 0;
        }
    struct herr err = { { 0 } };
    const char *source;
    if (parse(argc, argv, &s, &source, &err)) {
        fprintf(stderr, "heft sample: %s\n", err.msg);
        return 2;
    }
    struct sample_params sp = { s.temperature, s.top_k, s.top_p };
    if (sample_params_validate(&sp, &err)) {
        fprintf(stderr, "heft sample: %s\n", err.msg);
        return 2;
    }
    struct model_source src;
    if (model_source_open(&src, source, &err))
        return fail("", &err);
    struct model_dims dims;
    model_config_dims(&src.cfg, &dims);
    struct text_codec codec;
    if (text_codec_open(&codec, s.tokenizer, src.tokenizer_file, src.tokenizer, dims.vocab_size,
                        src.eot, &err)) {
        fprintf(stderr, "heft sample: %s\n", err.msg);
        return 2;
    }

    /* the prompt: ids as given, or end of text + the text's tokens */
    int cap = dims.max_seq_len, np = 0;
    int32_t *prompt = malloc((size_t)cap * sizeof *prompt);
    int32_t *out = malloc(((size_t)s.max_tokens + 1) * sizeof *out);
    int32_t *all = malloc(((size_t)cap + s.max_tokens + 1) * sizeof *all);
    if (!prompt || !out || !all) {
        free(prompt);
        free(out);
        free(all);
        text_codec_close(&codec);
        fprintf(stderr, "heft sample: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (s.prompt_ids[0]) {
        rc = text_codec_parse_ids(&codec, s.prompt_ids, prompt, cap, &np, &err);
    } else {
        if (codec.eot >= 0)
            prompt[np++] = codec.eot;
        int more = 0;
        rc = text_codec_encode(&codec, s.prompt, strlen(s.prompt), prompt + np, cap - np, &more,
                               &err);
        np += more;
        if (rc == 0 && np == 0)
            rc = herr_set(&err, "the model's end-of-text id is not known: give a --prompt");
    }
    if (rc) {
        free(prompt);
        free(out);
        free(all);
        text_codec_close(&codec);
        fprintf(stderr, "heft sample: %s\n", err.msg);
        return 2;
    }

    size_t P = model_config_num_params(&src.cfg);
    float *params = malloc(P * sizeof *params);
    struct backend_options bo = { .name = s.backend, .device = s.device, .threads = s.threads };
    struct backend *be = NULL;
    struct textgen *tg = NULL;
    int window = np + s.max_tokens < dims.max_seq_len ? np + s.max_tokens : dims.max_seq_len;
    if (!params)
        rc = herr_set(&err, "out of memory for %zu parameters", P);
    if (rc == 0)
        rc = model_source_read_params(&src, params, &err);
    if (rc == 0 && !(be = backend_create(&bo, &err)))
        rc = -1;
    if (rc == 0)
        rc = textgen_create(&tg, be, &src.cfg, params, window > np ? window : np,
                            !s.no_kv_cache, &err);
    free(params);
    char shape[256];
    model_config_describe(&src.cfg, shape, sizeof shape);
    if (rc == 0)
        fprintf(stderr, "heft sample: %s %s from the %s %s; %s\n", model_config_family(&src.cfg),
                shape, model_source_kind_name(&src), src.file, codec.why);
    if (rc == 0 && s.dump_logits[0]) {
        rc = dump_logits(tg, prompt, np, s.dump_logits, &err);
    } else if (rc == 0) {
        struct sampler smp;
        struct stream st = { &codec, s.print_ids, 0, all, np, 0 };
        int n = 0;
        memcpy(all, prompt, (size_t)np * sizeof *all);
        rc = sampler_init(&smp, &sp, s.seed, dims.vocab_size, &err);
        if (rc == 0) {
            if (!s.print_ids) {
                /* the text given (not its leading end of text), or what the
                 * --prompt-ids decode to; new text is what decodes past it */
                char *text;
                size_t len;
                if (text_codec_decode(&codec, prompt, np, &text, &len, &err) == 0) {
                    if (s.prompt_ids[0])
                        fwrite(text, 1, len, stdout);
                    else
                        fputs(s.prompt, stdout);
                    st.shown = len;
                    free(text);
                }
            }
            double t0 = gemm_rate_clock();
            rc = textgen_run(tg, prompt, np, s.max_tokens, &smp, s.ignore_eot ? -1 : codec.eot,
                             out, &n, on_token, &st, &err);
            double secs = gemm_rate_clock() - t0;
            putchar('\n');
            fflush(stdout);
            if (rc == 0)
                fprintf(stderr, "heft sample: %d prompt + %d new tokens in %.3f s (%.1f tokens/s, "
                                "%s, %s backend)\n",
                        np, n, secs, secs > 0 ? (np + n) / secs : 0.0,
                        s.no_kv_cache ? "full forward per token" : "KV cache", be->name);
        }
        sampler_free(&smp);
    }
    textgen_destroy(tg);
    if (be)
        be->ops->destroy(be);
    free(prompt);
    free(out);
    free(all);
    text_codec_close(&codec);
    if (rc)
        return fail("", &err);
    return 0;
}
