/* core/train_config.c — see train_config.h. */
#include "core/train_config.h"

#include <stddef.h>
#include <string.h>

#define F(field) offsetof(struct train_config, field)

static const struct opt_spec options[] = {
    OPT_HEADING("Model"),
    { "model", OPT_STRING, F(model), 1, 0, "NAME",
      "preset: tiny small gpt2 gpt2-medium gpt2-large gpt2-xl (GPT-2); llama-tiny llama-120m "
      "llama-1.4b llama-7b (LLaMA)" },
    { "init-from", OPT_STRING, F(init_from), 1, 0, "PATH",
      "start from a model file (llm.c GPT-2 or heft LLaMA) or a Hugging Face directory "
      "(config.json + model.safetensors) instead of random weights" },
    { "layers", OPT_INT, F(shape.layers), 0, 1024, "N", "override the preset's layers (0 = preset)" },
    { "heads", OPT_INT, F(shape.heads), 0, 65536, "N", "override the preset's heads (0 = preset)" },
    { "channels", OPT_INT, F(shape.channels), 0, 65536, "N",
      "override the preset's width (0 = preset)" },
    { "max-seq-len", OPT_INT, F(shape.max_seq_len), 0, 1048576, "N",
      "override the preset's longest sequence (0 = preset)" },
    { "kv-heads", OPT_INT, F(shape.kv_heads), 0, 65536, "N",
      "LLaMA: key/value heads, dividing --heads (grouped-query attention; 0 = preset)" },
    { "ffn", OPT_INT, F(shape.ffn), 0, 1048576, "N",
      "LLaMA: SwiGLU width (0 = preset, or 8/3 x width rounded up to 256 with --channels)" },
    { "rope-theta", OPT_DOUBLE, F(shape.rope_theta), 0, 1e12, "X",
      "LLaMA: rotary base, 10000 (LLaMA-2) or 500000 (LLaMA-3) (0 = preset)" },
    { "norm-eps", OPT_DOUBLE, F(shape.norm_eps), 0, 0.5, "X", "LLaMA: RMSNorm eps (0 = preset, 1e-5)" },
    { "tie-embeddings", OPT_FLAG, F(shape.tie_embeddings), 0, 1, NULL,
      "LLaMA: the LM head is the token embedding (GPT-2's always is)" },
    OPT_HEADING("Data"),
    { "data", OPT_STRING, F(data), 1, 0, "PATH",
      "'builtin', a dataset directory from heft prepare, or llm.c shard file(s) (glob)" },
    { "vocab", OPT_INT, F(vocab), 0, 16777216, "N",
      "vocabulary of llm.c shards without a manifest (0 = GPT-2's 50257)" },
    { "batch", OPT_INT, F(batch), 1, 65536, "B", "rows per rank per micro-batch" },
    { "seq", OPT_INT, F(seq), 1, 1048576, "T", "tokens per row" },
    { "grad-accum", OPT_INT, F(grad_accum), 1, 65536, "K", "micro-batches per optimizer step" },
    OPT_HEADING("Optimizer"),
    { "steps", OPT_LONG, F(steps), 1, 1e12, "N", "optimizer steps" },
    { "lr", OPT_DOUBLE, F(lr), 1e-12, 10, "X", "peak learning rate" },
    { "min-lr-frac", OPT_DOUBLE, F(min_lr_frac), 0, 1, "X", "final learning rate / peak" },
    { "warmup", OPT_LONG, F(warmup), 0, 1e12, "N", "learning-rate warm-up steps" },
    { "schedule", OPT_STRING, F(schedule), 1, 0, "NAME", "cosine, linear or constant" },
    { "weight-decay", OPT_DOUBLE, F(weight_decay), 0, 10, "X",
      "AdamW weight decay (matrices and embeddings only)" },
    { "beta1", OPT_DOUBLE, F(beta1), 0, 0.999999, "X", "AdamW beta1" },
    { "beta2", OPT_DOUBLE, F(beta2), 0, 0.999999, "X", "AdamW beta2" },
    { "adam-eps", OPT_DOUBLE, F(adam_eps), 1e-30, 1, "X", "AdamW epsilon" },
    { "grad-clip", OPT_DOUBLE, F(grad_clip), 0, 1e12, "X", "max gradient norm (0 = off)" },
    { "loss-guard", OPT_DOUBLE, F(loss_guard), 0, 1e6, "F",
      "stop a diverging run: loss above F x ln(vocab) after the warm-up, or not finite "
      "(0: only not finite)" },
    OPT_HEADING("Reweighting (docs/REWEIGHTING.md)"),
    { "reweight", OPT_STRING, F(reweight), 1, 0, "NAME",
      "uniform linupper quadratic extremes linear infobatch topq dro reducible learnability" },
    { "r", OPT_DOUBLE, F(r), 1e-6, 1e12, "X", "softmax temperature of the weights" },
    { "rw-warmup", OPT_LONG, F(rw_warmup), 0, 1e12, "N", "reweighting warm-up steps" },
    { "rw-warmup-mode", OPT_STRING, F(rw_warmup_mode), 1, 0, "MODE",
      "uniform (K uniform steps), r-step or r-linear (r held at --rw-r-start)" },
    { "rw-r-start", OPT_DOUBLE, F(rw_r_start), 1e-6, 1e12, "X", "temperature during r warm-up" },
    { "rw-normalize", OPT_STRING, F(rw_normalize), 1, 0, "SET",
      "weights sum to 1 over each 'micro'-batch or over the whole optimizer 'step'" },
    { "infobatch-prune", OPT_DOUBLE, F(infobatch_prune), 0, 0.999, "X",
      "infobatch: share of below-mean-loss samples dropped" },
    { "topq", OPT_DOUBLE, F(topq), 1e-9, 1, "X", "topq: share of highest-loss samples kept" },
    { "dro-tau", OPT_DOUBLE, F(dro_tau), 1e-9, 1e12, "X", "dro: temperature of exp(loss/tau)" },
    { "rw-outlier-k", OPT_DOUBLE, F(rw_outlier_k), 0, 1e12, "K",
      "weight 0 for losses above median + K robust std devs (1.4826 MAD); 0 = off" },
    { "rw-outlier-domains", OPT_FLAG, F(rw_outlier_domains), 0, 1, NULL,
      "the outlier cut removes whole domains: those with mostly outliers lately" },
    { "rw-domain-ema", OPT_DOUBLE, F(rw_domain_ema), 0, 0.999999, "E",
      "shape rules judge each loss against its domain's running mean (EMA decay E); 0 = off" },
    { "ref-losses", OPT_STRING, F(ref_losses), 1, 0, "FILE",
      "reducible: each training window's reference loss, made by heft score" },
    { "rw-learn-fast", OPT_DOUBLE, F(rw_learn_fast), 0, 0.999999, "E",
      "learnability: decay of the fast EMA of each domain's loss" },
    { "rw-learn-slow", OPT_DOUBLE, F(rw_learn_slow), 0, 0.999999, "E",
      "learnability: decay of the slow EMA (its lag minus the fast one's spans the slope)" },
    { "rw-learn-raw", OPT_FLAG, F(rw_learn_raw), 0, 1, NULL,
      "learnability: weigh by the loss slope itself, not per unit of weight (steadier)" },
    OPT_HEADING("Run"),
    { "seed", OPT_U64, F(seed), 1, 0, "N", "seed of initialization and data order" },
    { "backend", OPT_STRING, F(backend), 1, 0, "NAME", "cpu or opencl" },
    { "device", OPT_INT, F(device), 0, 1024, "N", "OpenCL device index (see heft devices)" },
    { "threads", OPT_INT, F(threads), 0, 4096, "N", "CPU threads (0 = all)" },
    { "out", OPT_STRING, F(out), 1, 0, "DIR",
      "run directory for metrics, checkpoints and the model (default runs/<time>)" },
    { "resume", OPT_STRING, F(resume), 1, 0, "DIR",
      "continue the run saved in DIR (its latest checkpoint)" },
    { "ckpt-every", OPT_LONG, F(ckpt_every), 0, 1e12, "N",
      "save a resumable checkpoint every N steps (0 = only at the end)" },
    { "keep", OPT_INT, F(keep), 1, 1000000, "N", "checkpoints to keep" },
    { "val-every", OPT_LONG, F(val_every), 0, 1e12, "N", "validate every N steps (0 = end only)" },
    { "val-batches", OPT_INT, F(val_batches), 0, 1000000, "N",
      "validation batches per domain (0 = the whole validation split)" },
    { "log-every", OPT_LONG, F(log_every), 1, 1e12, "N", "progress line every N steps" },
    { "stop-after", OPT_LONG, F(stop_after), 0, 1e12, "N",
      "stop this invocation after N steps, saving a checkpoint (resume with --resume)" },
    OPT_HEADING("Memory"),
    { "recompute", OPT_STRING, F(recompute), 1, 0, "MODE",
      "none (keep all activations), attn (recompute attention probabilities: no T x T "
      "memory per layer) or layer (keep each layer's input, recompute the rest: ~1 more forward)" },
    { "attn-chunk", OPT_INT, F(attn_chunk), 0, 1048576, "N",
      "rows per attention pass when recomputing (0 = as many as fit 64 MiB)" },
    { "attn-heads", OPT_INT, F(attn_heads), 0, 1048576, "N",
      "key/value heads per attention pass when recomputing (0 = all, or as many as fit 64 MiB "
      "when one row does not)" },
    OPT_HEADING("Parallel (mpiexec -n W heft train ...)"),
    { "zero", OPT_INT, F(zero), 0, 3, "N",
      "ZeRO stage: 0 all-reduce; 1 shard Adam's state; 2 and gradients; 3 and parameters "
      "(each layer gathered when used)" },
    { "zero1", OPT_FLAG, F(zero1), 0, 1, NULL, "the same as --zero 1" },
    { "zero-prefetch", OPT_STRING, F(zero_prefetch), 1, 0, "auto|on|off",
      "stage 3: gather the next layer on a communication thread while the current one "
      "computes (on; CPU backend and an MPI with MPI_THREAD_SERIALIZED, else in line), or "
      "when the model asks for it (off); auto: on when this node's ranks x --threads leave "
      "a core free for the thread; the same results either way" },
    { "comm-timeout", OPT_DOUBLE, F(comm_timeout), -1, 1e9, "S",
      "end the job when a collective waits longer than S seconds for a hung rank (0 = never; "
      "-1 = auto: 20 s + 2 x the longest recent step, 600 s at start-up and checkpoints)" },
    OPT_HEADING("Output"),
    { "trace", OPT_STRING, F(trace), 1, 0, "FILE",
      "write every step's global losses, token counts, domains and weights (%.17g JSONL)" },
    { "sample-every", OPT_LONG, F(sample_every), 0, 1e12, "N",
      "print and log a 64-token sample of the model's text every N steps (0 = never)" },
    { "quiet", OPT_FLAG, F(quiet), 0, 1, NULL, "no progress lines (metrics are still written)" },
    { "force", OPT_FLAG, F(force), 0, 1, NULL, "allow --out to name a directory with checkpoints" },
    OPT_END,
};

const struct opt_spec *train_options(void) { return options; }

void train_config_default(struct train_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->model, "tiny");
    strcpy(c->data, "builtin");
    c->batch = 8;
    c->seq = 128;
    c->grad_accum = 1;
    c->steps = 300;
    c->lr = 1e-3;
    c->min_lr_frac = 0.1;
    c->warmup = 20;
    strcpy(c->schedule, "cosine");
    c->weight_decay = 0.1;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->adam_eps = 1e-8;
    c->grad_clip = 1.0;
    c->loss_guard = 3.0;
    strcpy(c->reweight, "uniform");
    c->r = 0.4;
    c->rw_warmup = 0;
    strcpy(c->rw_warmup_mode, "uniform");
    c->rw_r_start = 100.0;
    strcpy(c->rw_normalize, "micro");
    c->infobatch_prune = 0.5;
    c->topq = 0.5;
    c->dro_tau = 1.0;
    c->rw_learn_fast = 0.9;
    c->rw_learn_slow = 0.98;
    c->seed = 1337;
    strcpy(c->backend, "cpu");
    strcpy(c->recompute, "none");
    strcpy(c->zero_prefetch, "auto");
    c->ckpt_every = 100;
    c->keep = 2;
    c->val_every = 100;
    c->val_batches = 8;
    c->log_every = 10;
    /* auto (core/train_guard.c): follows the measured step time */
    c->comm_timeout = -1;
}

int train_config_resolve_zero(struct train_config *c, struct herr *err)
{
    if (!c->zero1)
        return 0;
    if (c->zero > 1)
        return herr_set(err, "--zero1 means --zero 1, but --zero %d is given too: keep one",
                        c->zero);
    /* one way to record it: checkpoints and the rank check see --zero only */
    c->zero = 1;
    c->zero1 = 0;
    return 0;
}

int train_config_validate(const struct train_config *c, struct herr *err)
{
    enum model_recompute rc;
    if (model_recompute_parse(c->recompute, &rc, err))
        return -1;
    if (strcmp(c->zero_prefetch, "auto") != 0 && strcmp(c->zero_prefetch, "on") != 0 &&
        strcmp(c->zero_prefetch, "off") != 0)
        return herr_set(err, "--zero-prefetch '%s': expected auto, on or off", c->zero_prefetch);
    if (strcmp(c->rw_normalize, "micro") != 0 && strcmp(c->rw_normalize, "step") != 0)
        return herr_set(err, "--rw-normalize '%s': expected 'micro' or 'step'", c->rw_normalize);
    if (c->shape.max_seq_len && c->seq > c->shape.max_seq_len)
        return herr_set(err, "--seq %d is longer than --max-seq-len %d", c->seq,
                        c->shape.max_seq_len);
    if (c->comm_timeout < 0 && c->comm_timeout != -1)
        return herr_set(err, "--comm-timeout %g: give seconds, 0 (never) or -1 (auto)",
                        c->comm_timeout);
    if ((double)c->batch * c->seq > 1e9)
        return herr_set(err, "--batch %d x --seq %d is absurdly large", c->batch, c->seq);
    return 0;
}
