/* tools/cmd_score.c — `heft score`: a reference model's loss on every training
 * window of a dataset, once, into the side file core/ref_losses.h describes,
 * which `heft train --reweight reducible --ref-losses FILE` reads by window
 * index (docs/REWEIGHTING.md). Forward passes only, on any backend. */
#include "tools/cmd_score.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/dataset.h"
#include "core/gemm_rate.h"
#include "core/model_file.h"
#include "core/options.h"
#include "core/ref_losses.h"
#include "models/model.h"

struct score_settings {
    char model_file[OPT_STRING_MAX];
    char data[OPT_STRING_MAX];
    char out[OPT_STRING_MAX];
    int vocab, seq, batch;
    uint64_t max_windows, train_tokens;
    char backend[OPT_STRING_MAX];
    int device, threads, quiet;
};

#define F(field) offsetof(struct score_settings, field)

static const struct opt_spec score_options[] = {
    { "model-file", OPT_STRING, F(model_file), 1, 0, "FILE",
      "the reference model: any model file heft reads (llm.c GPT-2 or heft LLaMA)" },
    { "data", OPT_STRING, F(data), 1, 0, "PATH",
      "the dataset the run will train on (as heft train --data)" },
    { "vocab", OPT_INT, F(vocab), 0, 16777216, "N",
      "vocabulary of llm.c shards without a manifest (0 = GPT-2's 50257)" },
    { "seq", OPT_INT, F(seq), 1, 1048576, "T",
      "tokens per window: the --seq the run will train with" },
    { "batch", OPT_INT, F(batch), 1, 65536, "B", "windows per forward pass" },
    { "out", OPT_STRING, F(out), 1, 0, "FILE", "the side file to write (docs/FORMATS.md)" },
    { "max-windows", OPT_U64, F(max_windows), 1, 0, "N",
      "score only the first N windows (0 = all); the others have no reference loss" },
    { "train-tokens", OPT_U64, F(train_tokens), 1, 0, "N",
      "tokens the reference model was trained on: records its training FLOPs (0 = unknown)" },
    { "backend", OPT_STRING, F(backend), 1, 0, "NAME", "cpu or opencl" },
    { "device", OPT_INT, F(device), 0, 1024, "N", "OpenCL device index (see heft devices)" },
    { "threads", OPT_INT, F(threads), 0, 4096, "N", "CPU threads (0 = all)" },
    { "quiet", OPT_FLAG, F(quiet), 0, 1, NULL, "no progress lines" },
    OPT_END,
};

static void defaults(struct score_settings *s)
{
    memset(s, 0, sizeof *s);
    s->seq = 128; /* heft train's default */
    s->batch = 8;
    strcpy(s->backend, "cpu");
}

static void usage(FILE *out, const struct score_settings *s)
{
    fprintf(out,
            "usage: heft score --model-file REF.bin --data DATA --seq T --out FILE [options]\n\n"
            "Computes, once, the mean token loss a reference model gives every training window\n"
            "of DATA at sequence length T (windows numbered as heft train's loader numbers them),\n"
            "and writes them to FILE for heft train --reweight reducible --ref-losses FILE\n"
            "(RHO-LOSS's reducible loss: a sample's loss minus the reference's). Train the\n"
            "reference model (small) on held-out data of the same kind with heft train; give\n"
            "--train-tokens to have its training FLOPs recorded next to the scoring FLOPs:\n"
            "a speed-up claim must count both. Forward passes only, on any backend.\n\n");
    opts_print_help(out, score_options, s);
}

/* What a forward-only pass costs: a training step's forward + backward is
 * counted as 3 forwards (the backward computes two products per forward one). */
static double forward_flops(const struct model *m)
{
    return m->flops_per_step / 3.0;
}

static int score(const struct score_settings *s, struct herr *err)
{
    struct backend_options bo = { .name = s->backend, .device = s->device,
                                  .threads = s->threads };
    struct dataset *ds = NULL;
    struct backend *be = NULL;
    struct model m;
    struct window_index wi;
    struct ref_losses out;
    float *params = NULL;
    int32_t *in = NULL, *tg = NULL, *dom = NULL;
    float *sums = NULL;
    int have_model = 0, have_wi = 0, rc = -1;
    const int B = s->batch, T = s->seq;
    memset(&m, 0, sizeof m);
    memset(&out, 0, sizeof out);

    struct model_config mc;
    if (model_file_read_config(s->model_file, &mc, err)) {
        herr_wrap(err, "--model-file: ");
        goto done;
    }
    int vocab_hint = s->vocab ? s->vocab : 50257;
    if (dataset_open(&ds, s->data, vocab_hint, err)) {
        herr_wrap(err, "--data: ");
        goto done;
    }
    struct model_dims md;
    model_config_dims(&mc, &md);
    if (md.vocab_size < dataset_vocab_size(ds)) {
        herr_set(err, "--model-file %s has a vocabulary of %d but the data uses %d token ids",
                 s->model_file, md.vocab_size, dataset_vocab_size(ds));
        goto done;
    }
    if (T > md.max_seq_len) {
        herr_set(err, "--seq %d is longer than the reference model's max_seq_len %d", T,
                 md.max_seq_len);
        goto done;
    }
    if (window_index_build(&wi, ds, DATA_TRAIN, -1, T, err))
        goto done;
    have_wi = 1;
    uint64_t M = window_index_count(&wi);
    if (M == 0) {
        herr_set(err, "--data %s has no training window at --seq %d", s->data, T);
        goto done;
    }
    uint64_t n = s->max_windows && s->max_windows < M ? s->max_windows : M;
    if (!(be = backend_create(&bo, err)))
        goto done;
    if (model_create(&m, be, &mc, B, T, err))
        goto done;
    have_model = 1;
    params = malloc(m.num_params * sizeof *params);
    in = malloc((size_t)B * T * sizeof *in);
    tg = malloc((size_t)B * T * sizeof *tg);
    dom = malloc((size_t)B * sizeof *dom);
    sums = malloc((size_t)B * sizeof *sums);
    out.owned = malloc((size_t)n * sizeof *out.owned);
    if (!params || !in || !tg || !dom || !sums || !out.owned) {
        herr_set(err, "out of host memory for %llu windows", (unsigned long long)n);
        goto done;
    }
    if (model_file_read_params(s->model_file, &mc, params, err) ||
        m.ops->upload_params(m.impl, params, err))
        goto done;

    char desc[200];
    model_config_describe(&mc, desc, sizeof desc);
    if (!s->quiet)
        printf("heft score: %s %s, %zu parameters; %llu of %llu training windows of %d tokens "
               "in %s, %d per forward on %s\n", m.family, desc, m.num_params,
               (unsigned long long)n, (unsigned long long)M, T, s->data, B, be->name);
    fflush(stdout);
    double t0 = gemm_rate_clock(), last = t0, loss_sum = 0.0;
    uint64_t batches = (n + (uint64_t)B - 1) / (uint64_t)B, finite = 0;
    for (uint64_t k = 0; k < batches; k++) {
        for (int b = 0; b < B; b++) {
            uint64_t w = k * (uint64_t)B + (uint64_t)b;
            size_t off = (size_t)b * T;
            if (w >= n)  /* the last batch's padding contributes nothing */
                dataset_fill_empty_row(ds, T, in + off, tg + off, &dom[b]);
            else if (window_index_fill(&wi, w, in + off, tg + off, &dom[b], err) < 0)
                goto done;
        }
        if (m.ops->forward(m.impl, in, tg, err) || m.ops->row_loss_sums(m.impl, sums, err))
            goto done;
        for (int b = 0; b < B && k * (uint64_t)B + (uint64_t)b < n; b++) {
            int nt = row_num_targets(tg + (size_t)b * T, T);
            /* a window always keeps >= 1 target (core/dataset.h); NaN if not */
            float v = nt > 0 ? (float)(sums[b] / nt) : NAN;
            out.owned[k * (uint64_t)B + (uint64_t)b] = v;
            if (isfinite(v)) {
                loss_sum += v;
                finite++;
            }
        }
        double now = gemm_rate_clock();
        if (!s->quiet && (now - last >= 10.0 || k + 1 == batches)) {
            double done_share = (double)(k + 1) / (double)batches, el = now - t0;
            printf("heft score: %llu/%llu windows (%.0f%%), %.0f tok/s, mean loss %.4f, ETA "
                   "%.0f s\n", (unsigned long long)((k + 1) * B < n ? (k + 1) * B : n),
                   (unsigned long long)n, 100.0 * done_share, (k + 1) * (double)B * T / el,
                   finite ? loss_sum / (double)finite : NAN, el / done_share - el);
            fflush(stdout);
            last = now;
        }
    }

    out.seq = (uint32_t)T;
    out.windows = M;
    out.count = n;
    out.fingerprint = dataset_fingerprint(ds);
    out.score_flops = (double)batches * forward_flops(&m);
    /* training costs a forward + backward per token, at the same T */
    out.train_flops = (double)s->train_tokens * (m.flops_per_step / ((double)B * T));
    out.params = m.num_params;
    out.train_tokens = s->train_tokens;
    /* at most 63 characters: the header field keeps the first of a long description */
    snprintf(out.model, sizeof out.model, "%.15s %.47s", m.family, desc);
    if (ref_losses_write(s->out, &out, err))
        goto done;
    printf("heft score: wrote %s: %llu windows (%llu with a finite loss, mean %.4f)\n", s->out,
           (unsigned long long)n, (unsigned long long)finite,
           finite ? loss_sum / (double)finite : NAN);
    printf("heft score: FLOPs: scoring %.4g (forward passes, a training step's third)",
           out.score_flops);
    if (s->train_tokens)
        printf(", training the reference model %.4g (%llu tokens), together %.4g\n",
               out.train_flops, (unsigned long long)s->train_tokens,
               out.score_flops + out.train_flops);
    else
        printf("; training the reference model: not given (--train-tokens N)\n");
    rc = 0;
done:
    free(params);
    free(in);
    free(tg);
    free(dom);
    free(sums);
    free(out.owned);
    if (have_model)
        model_destroy(&m);
    if (be)
        be->ops->destroy(be);
    if (have_wi)
        window_index_free(&wi);
    if (ds)
        dataset_close(ds);
    return rc;
}

int cmd_score(int argc, char **argv)
{
    struct score_settings s;
    defaults(&s);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, &s);
            return 0;
        }
    struct herr err = { { 0 } };
    if (opts_parse_argv(score_options, &s, argc, argv, 1, "score", &err)) {
        fprintf(stderr, "heft score: %s\n", err.msg);
        return 2;
    }
    static const char *const required[][2] = {
        { "model-file", "the reference model" }, { "data", "the training data" },
        { "out", "the side file to write" },
    };
    const char *have[] = { s.model_file, s.data, s.out };
    for (int i = 0; i < 3; i++)
        if (!have[i][0]) {
            fprintf(stderr, "heft score: --%s is required (%s; see heft score --help)\n",
                    required[i][0], required[i][1]);
            return 2;
        }
    if (score(&s, &err)) {
        fprintf(stderr, "heft score: %s\n", err.msg);
        return 1;
    }
    return 0;
}
