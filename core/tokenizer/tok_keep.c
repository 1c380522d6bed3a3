/* core/tokenizer/tok_keep.c — a tokenizer stored with the data made with it
 * (see tokenizer_keep in tokenizer.h), so that what reads the data later
 * (heft sample, heft export; core/text_codec.h) finds it by name. */
#include "core/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#ifdef HAVE_TOKENIZERS
#include "core/tokenizer/tok_write.h"
#endif

static int copy_file(const char *src, const char *dst, struct herr *err)
{
    char *data;
    size_t len;
    if (read_text_file(src, "tokenizer", &data, &len, err))
        return -1;
    int rc = atomic_write_file(dst, data, len, err);
    free(data);
    return rc;
}

int tokenizer_keep(const struct tokenizer *t, const char *dir, char *name, size_t cap,
                   struct herr *err)
{
    char path[4096];
    const char *kept = NULL;
    int rc = 0;
    if (cap)
        name[0] = '\0';
    switch (t->kind) {
    case TOKENIZER_BYTES:
        return 0; /* nothing to keep: the manifest's "bytes" says it all */
    case TOKENIZER_SENTENCEPIECE:
        kept = "tokenizer.model";
        rc = path_join(path, sizeof path, dir, kept, err) || copy_file(t->source, path, err);
        break;
    case TOKENIZER_BPE:
        kept = "tokenizer.json";
        if (path_join(path, sizeof path, dir, kept, err))
            return -1;
#ifdef HAVE_TOKENIZERS
        /* a tokenizer.json as it was (its own pre-tokenizer regex, LLaMA-3's
         * say); GPT-2's vocab.json + merges.txt written as one, which their
         * GPT-2 regex and byte map make exact */
        if (!strchr(t->source, ',') && tok_json_is_hf(t->source, err) == 1)
            rc = copy_file(t->source, path, err);
        else
            rc = tok_write_hf_json(&t->bpe, path, err);
#else
        rc = herr_set(err, "this heft was built without BPE tokenizers");
#endif
        break;
    }
    if (rc)
        return herr_wrap(err, "keeping tokenizer %s in %s: ", t->source, dir);
    snprintf(name, cap, "%s", kept);
    return 0;
}
