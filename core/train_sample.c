/* core/train_sample.c — --sample-every N: every N steps rank 0 writes a short
 * sample of what the model generates (as llm.c does), to the progress output
 * and as a "sample" line of metrics.jsonl, so a run shows what its loss means.
 *
 * The sample starts from the end-of-text token (documents in heft's data
 * start after one), draws SAMPLE_TOKENS tokens at temperature 1 from the full
 * distribution with a seed of (--seed, step), so a run and its resumption
 * print the same samples, and stops at the next end of text. It runs on the
 * training backend with the KV cache (core/textgen.h) over the parameters
 * where they are: nothing is copied, and the cache is made at the first
 * sample and kept. */
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"
#include "core/text_codec.h"
#include "core/textgen.h"
#include "core/train_internal.h"

#define SAMPLE_TOKENS 64

/* The text for a progress line: newlines and tabs as \n and \t. */
static void one_line(const char *text, char *out, size_t cap)
{
    size_t used = 0;
    for (const char *p = text; *p && used + 3 < cap; p++) {
        if (*p == '\n' || *p == '\t') {
            out[used++] = '\\';
            out[used++] = *p == '\n' ? 'n' : 't';
        } else {
            out[used++] = *p;
        }
    }
    out[used] = '\0';
}

int trainer_sample(struct trainer *t, struct herr *err)
{
    if (t->rank != 0)
        return 0;
    struct model_dims d;
    model_config_dims(&t->model.config, &d);
    const int window = SAMPLE_TOKENS + 1 < d.max_seq_len ? SAMPLE_TOKENS + 1 : d.max_seq_len;
    if (!t->textgen &&
        textgen_create_on(&t->textgen, t->be, &t->model.config, t->model.params, window, err))
        return herr_wrap(err, "--sample-every: ");
    /* the data's tokenizer: heft's bytes, or a tokenizer file kept in the
     * dataset directory; else the sample is shown as ids */
    struct text_codec codec;
    char found[OPT_STRING_MAX + 64] = "";
    text_codec_find_in_dir(t->cfg.data, dataset_tokenizer(t->ds), found, sizeof found);
    if (text_codec_open(&codec, "", found, dataset_tokenizer(t->ds), d.vocab_size,
                        dataset_eot(t->ds), err))
        return herr_wrap(err, "--sample-every: ");
    struct sample_params sp = { 1.0, 0, 1.0 };
    struct sampler smp;
    int32_t prompt = dataset_eot(t->ds), out[SAMPLE_TOKENS];
    int n = 0;
    if (sampler_init(&smp, &sp, prng_mix(t->cfg.seed, (uint64_t)t->step), d.vocab_size, err)) {
        text_codec_close(&codec);
        return herr_wrap(err, "--sample-every: ");
    }
    int rc = textgen_run(t->textgen, &prompt, 1, window - 1, &smp, prompt, out, &n, NULL, NULL,
                         err);
    sampler_free(&smp);
    char text[16 * SAMPLE_TOKENS + 64], line[32 * SAMPLE_TOKENS + 64];
    if (rc == 0)
        text_codec_show(&codec, out, n, text, sizeof text);
    text_codec_close(&codec);
    if (rc)
        return herr_wrap(err, "--sample-every at step %ld: ", t->step);
    if (t->metrics) {
        struct jsonl j;
        jsonl_begin(&j);
        jsonl_str(&j, "type", "sample");
        jsonl_int(&j, "step", t->step);
        jsonl_int(&j, "tokens", n);
        jsonl_str(&j, "text", text);
        jsonl_end(&j, t->metrics);
    }
    if (t->progress) {
        one_line(text, line, sizeof line);
        fprintf(t->progress, "sample step %ld | %s\n", t->step, line);
        fflush(t->progress);
    }
    return 0;
}
