/* tests/fuzz/fuzz_tokenizer.c — a Hugging Face tokenizer.json
 * (core/tokenizer/: tok_json.c with jansson, bpe.c, pretok.c with PCRE2; a
 * file that is not one is read as GPT-2's vocab.json, whose merges file is
 * then missing).
 *
 * For a tokenizer tokenizer_load accepts: a vocabulary of at least 2 ids, an
 * encoder, and a fixed small text encoded (a byte the vocabulary cannot
 * encode may refuse it), every id inside the vocabulary, and decoded back to
 * exactly the text's bytes. Aborts if not. */
#include "tests/fuzz/fuzz_util.h"

#include <string.h>

#include "core/tokenizer/tokenizer.h"

static const char text[] = "Hello, world! It's 2024: naïve café\n\tdone  ok <|endoftext|> x";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct herr err;
    struct tokenizer *t;
    if (tokenizer_load(&t, path, &err))
        return 0;
    int vocab = tokenizer_vocab_size(t);
    if (vocab < 2)
        abort();
    (void)tokenizer_eot(t, NULL, &err);
    struct tok_encoder *e;
    if (tok_encoder_new(&e, t, &err))
        abort();
    struct id_buf ids = { 0 };
    if (tok_encode(e, text, sizeof text - 1, &ids, &err) == 0) {
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] >= (uint32_t)vocab)
                abort();
        char *back;
        size_t len;
        if (tokenizer_decode(t, ids.ids, ids.n, &back, &len, &err))
            abort();
        if (len != sizeof text - 1 || memcmp(back, text, len) != 0)
            abort();
        free(back);
    }
    id_buf_free(&ids);
    tok_encoder_free(e);
    tokenizer_free(t);
    return 0;
}
