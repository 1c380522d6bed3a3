/* tests/fuzz/make_seeds.c — writes a small valid input for each fuzz target
 * (with heft's own writers), so fuzzing starts from files heft accepts:
 *     make_seeds DIR      ->  DIR/<target>/seed-*
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checkpoint.h"
#include "core/ckpt_meta.h"
#include "core/fileio.h"
#include "core/hf_dir.h"
#include "core/model_file.h"
#include "models/family.h"
#include "models/gpt2/gpt2_config.h"
#include "core/shard.h"
#include "core/tokenizer/bpe_train.h"
#include "core/tokenizer/tok_write.h"
#include "core/train_config.h"
#include "reweight/reweight.h"

static void check(int rc, const struct herr *err)
{
    if (rc) {
        fprintf(stderr, "make_seeds: %s\n", err->msg);
        exit(1);
    }
}

static void put(const char *dir, const char *target, const char *name, const void *data,
                size_t n)
{
    char path[4096];
    struct herr err;
    snprintf(path, sizeof path, "%s/%s", dir, target);
    check(make_dirs(path, &err), &err);
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    check(atomic_write_file(path, data, n, &err), &err);
}

static void *slurp(const char *path, size_t *n)
{
    char *text;
    struct herr err;
    check(read_text_file(path, "seed", &text, n, &err), &err);
    return text;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    struct herr err;
    char path[4096];
    size_t n;
    check(make_dirs(dir, &err), &err);

    /* shard: 40 byte-level tokens, an empty one and a 32-bit one */
    uint16_t tok[40];
    for (int i = 0; i < 40; i++)
        tok[i] = (uint16_t)(i == 0 ? 256 : 'a' + i % 26);
    snprintf(path, sizeof path, "%s/shard.tmp", dir);
    check(shard_write(path, tok, 40, &err), &err);
    void *b = slurp(path, &n);
    put(dir, "shard", "seed-40", b, n);
    free(b);
    check(shard_write(path, tok, 0, &err), &err);
    b = slurp(path, &n);
    put(dir, "shard", "seed-empty", b, n);
    free(b);
    /* and a 32-bit shard (llm.c's LLaMA-3 kind) of the same ids and two big ones */
    uint32_t tok32[42];
    for (int i = 0; i < 40; i++)
        tok32[i] = tok[i];
    tok32[40] = 70000;
    tok32[41] = 128255;
    struct shard_writer sw;
    check(shard_writer_open_width(&sw, path, 4, &err), &err);
    if (shard_writer_append32(&sw, tok32, 42, &err)) {
        shard_writer_abort(&sw);
        check(-1, &err);
    }
    check(shard_writer_commit(&sw, &err), &err);
    b = slurp(path, &n);
    put(dir, "shard", "seed-32bit", b, n);
    free(b);
    remove(path);

    static const char manifest[] =
        "heft-dataset 1\n# a comment\ntokenizer bytes\nvocab_size 257\neot 256\n"
        "shard train arith train_arith_000000.bin\nshard val arith val_arith_000000.bin\n"
        "shard train my-domain.2 sub dir/file with spaces.bin\n";
    put(dir, "manifest", "seed", manifest, sizeof manifest - 1);

    /* model files: the smallest GPT-2, and a small LLaMA */
    struct gpt2_config g = { .max_seq_len = 2, .vocab_size = 3, .padded_vocab_size = 4,
                             .num_layers = 1, .num_heads = 1, .channels = 2 };
    struct model_config c;
    memset(&c, 0, sizeof c);
    c.family = model_family_by_name("gpt2");
    memcpy(model_config_body(&c), &g, sizeof g);
    size_t P = model_config_num_params(&c);
    float *params = calloc(P, sizeof *params);
    for (size_t i = 0; i < P; i++)
        params[i] = (float)i * 0.01f;
    snprintf(path, sizeof path, "%s/model.tmp", dir);
    check(model_file_write(path, &c, params, &err), &err);
    b = slurp(path, &n);
    put(dir, "model_file", "seed", b, n);
    free(b);
    struct model_config lc;
    struct model_overrides ov = { .layers = 1, .heads = 2, .channels = 4, .max_seq_len = 2,
                                  .vocab = 5, .kv_heads = 1, .ffn = 4 };
    check(model_config_preset("llama-tiny", 5, &lc, &err) ||
              model_config_override(&lc, &ov, &err),
          &err);
    size_t LP = model_config_num_params(&lc);
    float *lparams = calloc(LP, sizeof *lparams);
    for (size_t i = 0; i < LP; i++)
        lparams[i] = (float)i * 0.01f;
    check(model_file_write(path, &lc, lparams, &err), &err);
    free(lparams);
    b = slurp(path, &n);
    put(dir, "model_file", "seed-llama", b, n);
    free(b);
    remove(path);

    /* safetensors: the small GPT-2 as a Hugging Face directory (its
     * model.safetensors, and its config.json: the target reads both kinds) */
    snprintf(path, sizeof path, "%s/hf.tmp", dir);
    struct hf_extra ex = { .bos_token_id = 2, .eos_token_id = 2 };
    check(hf_dir_write(path, &c, params, &ex, &err), &err);
    char file[4200];
    snprintf(file, sizeof file, "%s/%s", path, HF_WEIGHTS_FILE);
    b = slurp(file, &n);
    put(dir, "safetensors", "seed", b, n);
    free(b);
    remove(file);
    snprintf(file, sizeof file, "%s/%s", path, HF_CONFIG_FILE);
    b = slurp(file, &n);
    put(dir, "safetensors", "seed-config", b, n);
    free(b);
    remove(file);
    remove(path);

    /* tokenizer: a byte-level BPE heft trains (280 tokens) as tokenizer.json,
     * and a hand-written LLaMA-3-like one (Split regex, then ByteLevel) */
    static const char corpus[] = "Hello, world! It's a small corpus: hello hello world, "
                                 "the cat sat on the mat; naïve café 2024.\n\tdone  ok\n";
    snprintf(path, sizeof path, "%s/corpus.tmp", dir);
    check(atomic_write_file(path, corpus, sizeof corpus - 1, &err), &err);
    const char *inputs[] = { path };
    struct bpe_train_options bo = { .inputs = inputs, .ninputs = 1, .vocab_size = 280,
                                    .min_frequency = 1, .threads = 1 };
    struct bpe bm;
    struct bpe_train_result br;
    check(bpe_train(&bo, &bm, &br, &err), &err);
    remove(path);
    snprintf(path, sizeof path, "%s/tokenizer.tmp", dir);
    check(tok_write_hf_json(&bm, path, &err), &err);
    bpe_free(&bm);
    b = slurp(path, &n);
    put(dir, "tokenizer", "seed-trained", b, n);
    free(b);
    remove(path);
    static const char tokjson[] =
        "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":7,\"content\":\"<|end_of_text|>\","
        "\"special\":true}],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Sequence\","
        "\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
        "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?"
        "[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
        "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","
        "\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]},"
        "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"ignore_merges\":true,"
        "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"abc\":4,\"\\u0120\":5,\"\\u0120a\":6},"
        "\"merges\":[\"a b\",[\"ab\",\"c\"],\"\\u0120 a\"]}}";
    put(dir, "tokenizer", "seed-hand", tokjson, sizeof tokjson - 1);

    /* config: every setting as a checkpoint records it, and a hand-written one */
    struct train_config tc;
    train_config_default(&tc);
    static char config[64 * 1024];
    if (opts_write_all(train_options(), &tc, config, sizeof config))
        return 1;
    put(dir, "config", "seed-all", config, strlen(config));
    static const char hand[] = "# a run\nbatch = 16\nlr=6e-4\nreweight = linupper  # r below\n"
                               "r = 0.4\nquiet = true\nseed = 0x10\n";
    put(dir, "config", "seed-hand", hand, sizeof hand - 1);

    /* checkpoint: the trainer's sections, small */
    struct ckpt_meta m;
    ckpt_meta_init(&m);
    check(ckpt_meta_put_str(&m, "format", "heft-train-1", &err) ||
              ckpt_meta_put_int(&m, "step", 4, &err) || ckpt_meta_put_int(&m, "ranks", 1, &err) ||
              ckpt_meta_put_str(&m, "model", "gpt2", &err) ||
              ckpt_meta_put_int(&m, "adam_t", 4, &err) ||
              ckpt_meta_put_u64(&m, "data_fingerprint", 0x1234, &err) ||
              ckpt_meta_put_double(&m, "lr", 1e-3, &err),
          &err);
    struct rw_config rc;
    struct rw_state rs;
    rw_config_default(&rc);
    rw_state_init(&rs, &rc);
    unsigned char rw[RW_STATE_SERIAL_SIZE];
    size_t rw_len = rw_state_serialize(&rs, rw, sizeof rw);
    snprintf(path, sizeof path, "%s/ckpt.tmp", dir);
    struct ckpt_writer *w;
    check(ckpt_writer_begin(&w, path, &err), &err);
    check(ckpt_writer_add(w, "meta", m.text, m.len, &err) ||
              ckpt_writer_add(w, "config", config, strlen(config), &err) ||
              ckpt_writer_add(w, "params", params, P * sizeof *params, &err) ||
              ckpt_writer_add(w, "reweight", rw, rw_len, &err),
          &err);
    check(ckpt_writer_commit(w, &err), &err);
    b = slurp(path, &n);
    put(dir, "checkpoint", "seed", b, n);
    free(b);
    remove(path);
    put(dir, "checkpoint", "seed-meta", m.text, m.len);
    ckpt_meta_free(&m);
    free(params);

    /* heft weights: byte 0 picks the strategy (1: linupper) */
    static const char losses[] = "\001# loss ntokens domain\n2.5 10 0\n3.25 12 1\n0.5 0 0\n"
                                 "nan 3 1\n7 8 0\n";
    put(dir, "weights", "seed", losses, sizeof losses - 1);
    static const char plain[] = "\003 1.0\n2.0\n\n3e0\n";
    put(dir, "weights", "seed-plain", plain, sizeof plain - 1);
    return 0;
}
