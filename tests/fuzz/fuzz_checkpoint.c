/* tests/fuzz/fuzz_checkpoint.c — heft checkpoints (core/checkpoint.h): the
 * container (header, table, offsets, CRCs), every section, and the parsers of
 * the sections' contents (meta key=value, the recorded settings, the
 * reweighting state). Mutations rarely keep the CRCs right, so the input is
 * also handed to the section parsers as it is. */
#include "tests/fuzz/fuzz_util.h"

#include <string.h>

#include "core/checkpoint.h"
#include "core/ckpt_meta.h"
#include "core/train_config.h"
#include "reweight/reweight.h"

static void parse_meta(const char *text)
{
    static const char *const ints[] = { "step", "ranks", "adam_t", "num_layers", "channels",
                                        "num_heads", "vocab_size", "padded_vocab_size",
                                        "max_seq_len", "num_kv_heads", "ffn", "tied" };
    static const char *const u64s[] = { "num_params", "data_epoch", "data_row",
                                        "data_fingerprint" };
    struct herr err;
    int64_t v;
    uint64_t u;
    double d;
    char s[64];
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        ckpt_meta_get_int(text, ints[i], &v, &err);
    for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++)
        ckpt_meta_get_u64(text, u64s[i], &u, &err);
    ckpt_meta_get_double(text, "lr", &d, &err);
    ckpt_meta_get_double(text, "norm_eps", &d, &err);
    ckpt_meta_get_double(text, "rope_theta", &d, &err);
    ckpt_meta_get_str(text, "format", s, sizeof s, &err);
    ckpt_meta_get_str(text, "model", s, sizeof s, &err);
}

static void parse_config(const char *text)
{
    struct train_config c;
    struct herr err;
    train_config_default(&c);
    if (opts_parse_text(train_options(), &c, text, "fuzz config", &err) == 0)
        train_config_validate(&c, &err);
}

static void parse_reweight(const void *data, size_t n)
{
    struct rw_config cfg;
    struct rw_state st;
    struct herr err;
    rw_config_default(&cfg);
    rw_state_init(&st, &cfg);
    rw_state_deserialize(&st, data, n, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *text = fuzz_text(data, n);
    parse_meta(text);
    parse_config(text);
    parse_reweight(data, n);
    free(text);

    const char *path = fuzz_file(data, n);
    struct ckpt_reader *r;
    struct herr err;
    if (ckpt_reader_open(&r, path, &err) != 0)
        return 0;
    for (int i = 0; i < ckpt_reader_num_sections(r); i++) {
        const char *name = ckpt_reader_section_name(r, i);
        uint64_t bytes;
        if (ckpt_reader_size(r, name, &bytes, &err) != 0 || bytes > ((uint64_t)1 << 24))
            continue;
        void *sec = NULL;
        size_t len = 0;
        if (ckpt_reader_read_alloc(r, name, &sec, &len, &err) != 0)
            continue;
        if (!strcmp(name, "meta"))
            parse_meta(sec);
        else if (!strcmp(name, "config"))
            parse_config(sec);
        else if (!strcmp(name, "reweight"))
            parse_reweight(sec, len);
        free(sec);
    }
    ckpt_reader_close(r);
    return 0;
}
