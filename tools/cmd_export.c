/* tools/cmd_export.c — `heft export --format hf SOURCE DIR`: a run, a
 * checkpoint or a model file as a Hugging Face model directory that
 * transformers loads (core/model_source.h finds the model, core/hf_dir.h
 * writes it). */
#include "tools/cmd_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/hf_dir.h"
#include "core/model_source.h"
#include "core/text_codec.h"
#include "models/hf.h"

static const char usage[] =
    "usage: heft export --format hf SOURCE DIR [--tokenizer FILE] [--force]\n"
    "\n"
    "Writes the model in SOURCE as a Hugging Face model directory: DIR/config.json\n"
    "(GPT2Config or LlamaConfig), DIR/model.safetensors (float32, transformers'\n"
    "tensor names) and, when the run has one, its tokenizer (DIR/tokenizer.json or\n"
    "DIR/tokenizer.model). transformers\n"
    "loads it as GPT2LMHeadModel or LlamaForCausalLM:\n"
    "    from transformers import AutoModelForCausalLM\n"
    "    model = AutoModelForCausalLM.from_pretrained(\"DIR\")\n"
    "\n"
    "  SOURCE        a run directory (its latest checkpoint, else its model.bin), a\n"
    "                heft checkpoint (ckpt_*.heft), or a model file (llm.c GPT-2 or\n"
    "                heft LLaMA)\n"
    "  --format hf   the output format (Hugging Face transformers; the only one)\n"
    "  --tokenizer FILE  the tokenizer to put with the model (tokenizer.json or a\n"
    "                SentencePiece .model), when the run's is not found by itself\n"
    "  --force       replace a model already in DIR\n"
    "  --help        this text\n";

static int usage_error(const char *msg, const char *what)
{
    fprintf(stderr, "heft export: ");
    fprintf(stderr, msg, what);
    fprintf(stderr, " (see heft export --help)\n");
    return 2;
}

/* A model already in dir is replaced only with --force. */
static int check_out(const char *dir, int force, struct herr *err)
{
    static const char *const names[] = { HF_CONFIG_FILE, HF_WEIGHTS_FILE, NULL };
    char path[4096];
    for (int i = 0; names[i] && !force; i++) {
        if (path_join(path, sizeof path, dir, names[i], err))
            return -1;
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            return herr_set(err, "%s already holds a model (%s); add --force to replace it",
                            dir, names[i]);
        }
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *format = NULL, *tokenizer = NULL, *pos[2] = { NULL, NULL };
    int npos = 0, force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--format")) {
            if (i + 1 == argc)
                return usage_error("--format needs a value%s", "");
            format = argv[++i];
        } else if (!strncmp(a, "--format=", 9)) {
            format = a + 9;
        } else if (!strcmp(a, "--tokenizer")) {
            if (i + 1 == argc)
                return usage_error("--tokenizer needs a value%s", "");
            tokenizer = argv[++i];
        } else if (!strncmp(a, "--", 2)) {
            return usage_error("unknown option '%s'", a);
        } else if (npos == 2) {
            return usage_error("one SOURCE and one DIR, but also '%s'", a);
        } else {
            pos[npos++] = a;
        }
    }
    if (npos != 2)
        return usage_error("needs SOURCE and DIR%s", "");
    if (!format)
        return usage_error("--format is required (hf: Hugging Face transformers)%s", "");
    if (strcmp(format, "hf") != 0)
        return usage_error("--format '%s': heft exports 'hf' (Hugging Face transformers)", format);

    struct herr err = { { 0 } };
    struct model_source src;
    if (model_source_open(&src, pos[0], &err) || check_out(pos[1], force, &err)) {
        fprintf(stderr, "heft export: %s\n", err.msg);
        return 1;
    }
    if (tokenizer) {
        /* one the model can use: it loads, and its ids fit the vocabulary */
        struct text_codec codec;
        struct model_dims dims;
        model_config_dims(&src.cfg, &dims);
        if (text_codec_open(&codec, tokenizer, "", "", dims.vocab_size, -1, &err)) {
            fprintf(stderr, "heft export: %s\n", err.msg);
            return 1;
        }
        text_codec_close(&codec);
        snprintf(src.tokenizer_file, sizeof src.tokenizer_file, "%s", tokenizer);
    }
    size_t P = model_config_num_params(&src.cfg);
    float *params = malloc(P * sizeof *params);
    if (!params) {
        fprintf(stderr, "heft export: out of memory for %zu parameters\n", P);
        return 1;
    }
    struct hf_extra extra = { src.eot, src.eot };
    int rc = model_source_read_params(&src, params, &err) ||
             hf_dir_write(pos[1], &src.cfg, params, &extra, &err);
    free(params);
    /* transformers finds a tokenizer by these names */
    size_t tl = strlen(src.tokenizer_file);
    const char *tok_name = tl > 6 && !strcmp(src.tokenizer_file + tl - 6, ".model")
                               ? "tokenizer.model"
                               : "tokenizer.json";
    if (rc == 0 && src.tokenizer_file[0])
        rc = hf_dir_add_file(pos[1], tok_name, src.tokenizer_file, &err);
    if (rc) {
        fprintf(stderr, "heft export: %s\n", err.msg);
        return 1;
    }

    char shape[256];
    model_config_describe(&src.cfg, shape, sizeof shape);
    struct hf_config hc;
    hf_config_of(&src.cfg, &hc);
    const struct hf_kv *arch = hf_find(&hc, "architectures");
    printf("heft export: %s %s, %zu parameters, from the %s %s", model_config_family(&src.cfg),
           shape, P, model_source_kind_name(&src), src.file);
    if (src.step >= 0)
        printf(" (step %ld)", src.step);
    printf("\nheft export: wrote %s/%s and %s/%s (%s, float32)\n", pos[1], HF_CONFIG_FILE, pos[1],
           HF_WEIGHTS_FILE, arch ? arch->str : "?");
    if (src.tokenizer_file[0])
        printf("heft export: copied the tokenizer %s to %s/%s\n", src.tokenizer_file, pos[1],
               tok_name);
    else if (!strcmp(src.tokenizer, "bytes"))
        printf("heft export: note: the model's vocabulary is heft's bytes (ids 0-255 are the "
               "bytes, %d is end of text); there is no tokenizer.json for it: encode text as its "
               "bytes and decode ids below 256 as bytes\n", src.eot);
    else
        printf("heft export: note: no tokenizer file found for this model%s%s; put the one "
               "the data was made with next to the model\n", src.note[0] ? ": " : "", src.note);
    return 0;
}
