/* bench/bench_sample.c — how much faster generation runs with the KV cache
 * (models/nn/generate.h) than without it, measured in one run.
 *
 * For each model: a random prompt of P tokens, then N tokens decoded
 * greedily (the token choice does not change the cost) three ways:
 *   kv      the KV cache: each token one position (heft sample)
 *   exact   no cache: a full training forward over exactly the n tokens so far
 *           for every new token (a model of T = n is made for each length and
 *           run once, outside the timed region: only a second forward and
 *           the logits count)
 *   window  no cache, as llm.c samples and heft sample --no-kv-cache does:
 *           a full forward over the whole window (P + N, padded) per token
 * All three must produce the same tokens (printed: a check that they
 * compute the same model). Tokens/s counts the N new tokens over the time
 * from the first prompt token to the last new one; ratios are kv over the
 * others, taken minutes apart on the same machine state.
 *
 *   bench_sample [--model small[,llama-120m]] [--vocab 257] [--prompt 64]
 *                [--new 192] [--backend cpu] [--device N] [--threads 0]
 *                [--layers N] [--skip-window]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/gemm_rate.h"
#include "core/prng.h"
#include "core/sampling.h"
#include "core/textgen.h"
#include "models/model.h"

struct opts {
    const char *models, *backend;
    int vocab, prompt, gen, threads, layers, device, skip_window;
};

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ "small", "cpu", 257, 64, 192, 0, 0, 0, 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            printf("usage: bench_sample [--model small[,llama-120m,...]] [--vocab 257]\n"
                   "                    [--prompt 64] [--new 192] [--backend cpu|opencl]\n"
                   "                    [--device N] [--threads N] [--layers N] [--skip-window]\n");
            exit(0);
        }
        if (!strcmp(a, "--skip-window")) {
            o->skip_window = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench_sample: %s needs a value\n", a);
            return -1;
        }
        if (!strcmp(a, "--model")) o->models = v;
        else if (!strcmp(a, "--backend")) o->backend = v;
        else if (!strcmp(a, "--vocab")) o->vocab = atoi(v);
        else if (!strcmp(a, "--prompt")) o->prompt = atoi(v);
        else if (!strcmp(a, "--new")) o->gen = atoi(v);
        else if (!strcmp(a, "--threads")) o->threads = atoi(v);
        else if (!strcmp(a, "--layers")) o->layers = atoi(v);
        else if (!strcmp(a, "--device")) o->device = atoi(v);
        else {
            fprintf(stderr, "bench_sample: unknown flag %s\n", a);
            return -1;
        }
        i++;
    }
    if (o->prompt < 1 || o->gen < 1 || o->vocab < 2) {
        fprintf(stderr, "bench_sample: --prompt, --new must be >= 1 and --vocab >= 2\n");
        return -1;
    }
    return 0;
}

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* kv or window: through core/textgen.h, as heft sample runs. */
static int run_textgen(struct backend *be, const struct model_config *cfg, const float *params,
                       const int32_t *prompt, int np, int gen, int kv, int32_t *out,
                       double *secs, struct herr *err)
{
    struct textgen *tg;
    if (textgen_create(&tg, be, cfg, params, np + gen, kv, err))
        return -1;
    struct sample_params greedy = { 0, 0, 1 };
    struct sampler smp;
    int n = 0, rc = sampler_init(&smp, &greedy, 1, textgen_vocab(tg), err);
    if (rc == 0) {
        be->ops->finish(be);
        double t0 = gemm_rate_clock();
        rc = textgen_run(tg, prompt, np, gen, &smp, -1, out, &n, NULL, NULL, err);
        be->ops->finish(be);
        *secs = gemm_rate_clock() - t0;
        sampler_free(&smp);
    }
    textgen_destroy(tg);
    if (rc == 0 && n != gen)
        rc = herr_set(err, "generated %d tokens, not %d", n, gen);
    return rc;
}

/* exact: a model of T = n for each length n; only forward + logits timed. */
static int run_exact(struct backend *be, const struct model_config *cfg, const float *params,
                     const int32_t *prompt, int np, int gen, int32_t *out, double *secs,
                     struct herr *err)
{
    struct model_dims d;
    model_config_dims(cfg, &d);
    const int total = np + gen;
    int32_t *tokens = malloc((size_t)total * sizeof *tokens);
    int32_t *targets = malloc((size_t)total * sizeof *targets);
    float *logits = malloc((size_t)total * d.padded_vocab_size * sizeof *logits);
    if (!tokens || !targets || !logits) {
        free(tokens);
        free(targets);
        free(logits);
        return herr_set(err, "out of memory");
    }
    memcpy(tokens, prompt, (size_t)np * sizeof *tokens);
    for (int i = 0; i < total; i++)
        targets[i] = -1;
    *secs = 0;
    int rc = 0;
    for (int k = 0; k < gen && rc == 0; k++) {
        int n = np + k;
        struct model m;
        if (model_create(&m, be, cfg, 1, n, err))
            break;
        rc = m.ops->upload_params(m.impl, params, err);
        /* an untimed forward first: a new model's memory is touched for the
         * first time there (page faults), which a reused one never pays */
        if (rc == 0)
            rc = m.ops->forward(m.impl, tokens, targets, err);
        be->ops->finish(be);
        double t0 = gemm_rate_clock();
        if (rc == 0)
            rc = m.ops->forward(m.impl, tokens, targets, err) ||
                 m.ops->download_logits(m.impl, logits, err);
        *secs += gemm_rate_clock() - t0;
        if (rc == 0)
            tokens[n] = out[k] = argmax(logits + (size_t)(n - 1) * d.padded_vocab_size,
                                        d.vocab_size);
        model_destroy(&m);
    }
    free(tokens);
    free(targets);
    free(logits);
    return rc;
}

static int bench_model(struct backend *be, const char *name, const struct opts *o)
{
    struct herr err;
    struct model_config cfg;
    struct model_overrides ov = { .layers = o->layers };
    if (model_config_preset(name, o->vocab, &cfg, &err) ||
        model_config_override(&cfg, &ov, &err)) {
        fprintf(stderr, "bench_sample: %s\n", err.msg);
        return 2;
    }
    struct model_dims d;
    model_config_dims(&cfg, &d);
    if (o->prompt + o->gen > d.max_seq_len) {
        fprintf(stderr, "bench_sample: %s: --prompt + --new = %d is over max_seq_len %d\n", name,
                o->prompt + o->gen, d.max_seq_len);
        return 2;
    }
    size_t P = model_config_num_params(&cfg);
    float *params = malloc(P * sizeof *params);
    int32_t *prompt = malloc((size_t)o->prompt * sizeof *prompt);
    int32_t *out[3];
    for (int i = 0; i < 3; i++)
        out[i] = calloc((size_t)o->gen, sizeof *out[i]);
    /* the family's initialization (a fresh model: the cost does not depend
     * on the weights) and random prompt ids */
    struct model m;
    if (model_create(&m, be, &cfg, 1, 1, &err)) {
        fprintf(stderr, "bench_sample: %s\n", err.msg);
        return 1;
    }
    model_init_params(&m, 7, params);
    model_destroy(&m);
    struct prng g;
    prng_seed(&g, 11);
    for (int i = 0; i < o->prompt; i++)
        prompt[i] = (int32_t)prng_below(&g, (uint64_t)d.vocab_size);

    double secs[3] = { 0, 0, 0 };
    int rc = run_textgen(be, &cfg, params, prompt, o->prompt, o->gen, 1, out[0], &secs[0], &err);
    if (rc == 0)
        rc = run_exact(be, &cfg, params, prompt, o->prompt, o->gen, out[1], &secs[1], &err);
    if (rc == 0 && !o->skip_window)
        rc = run_textgen(be, &cfg, params, prompt, o->prompt, o->gen, 0, out[2], &secs[2], &err);
    if (rc) {
        fprintf(stderr, "bench_sample: %s: %s\n", name, err.msg);
    } else {
        char shape[256];
        model_config_describe(&cfg, shape, sizeof shape);
        double kv = o->gen / secs[0], ex = o->gen / secs[1];
        int same = !memcmp(out[0], out[1], (size_t)o->gen * sizeof *out[0]) &&
                   (o->skip_window || !memcmp(out[0], out[2], (size_t)o->gen * sizeof *out[0]));
        printf("%-11s %-10s %8.1f %10.1f %8.1f", name, be->name, kv, ex, kv / ex);
        if (!o->skip_window) {
            double win = o->gen / secs[2];
            printf(" %10.1f %8.1f", win, kv / win);
        } else {
            printf(" %10s %8s", "-", "-");
        }
        printf("   %s   (%s, %.1fM parameters)\n", same ? "yes" : "NO", shape, P / 1e6);
    }
    free(params);
    free(prompt);
    for (int i = 0; i < 3; i++)
        free(out[i]);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o))
        return 2;
    struct backend_options bo = { .name = o.backend, .device = o.device, .threads = o.threads };
    struct herr err;
    struct backend *be = backend_create(&bo, &err);
    if (!be) {
        fprintf(stderr, "bench_sample: %s\n", err.msg);
        return 1;
    }
    printf("bench_sample: %d prompt + %d new tokens, greedy; backend %s (%s)\n", o.prompt, o.gen,
           be->name, be->device);
    printf("%-11s %-10s %8s %10s %8s %10s %8s   %s\n", "model", "backend", "kv tok/s",
           "exact tok/s", "kv/exact", "window tok/s", "kv/window", "same tokens");
    int rc = 0;
    char *list = strdup(o.models);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name && rc == 0;
         name = strtok_r(NULL, ",", &save))
        rc = bench_model(be, name, &o);
    free(list);
    be->ops->destroy(be);
    return rc;
}
