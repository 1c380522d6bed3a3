/* core/tokenizer/tokenizer.c — see tokenizer.h: loading by kind, and the
 * calls every kind answers (the byte tokenizer's are here too). */
#include "core/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tokenizer/sp_shim.h"

#define BYTES_VOCAB 257
#define BYTES_EOT 256
#define EOT_TEXT "<|endoftext|>"

int id_buf_reserve(struct id_buf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra)
        cap *= 2;
    uint32_t *p = realloc(b->ids, cap * sizeof *p);
    if (!p)
        return -1;
    b->ids = p;
    b->cap = cap;
    return 0;
}

void id_buf_free(struct id_buf *b)
{
    free(b->ids);
    memset(b, 0, sizeof *b);
}

int tokenizer_have_bpe(void)
{
#ifdef HAVE_TOKENIZERS
    return 1;
#else
    return 0;
#endif
}

int tokenizer_have_sentencepiece(void)
{
#ifdef HAVE_SENTENCEPIECE
    return 1;
#else
    return 0;
#endif
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

#ifdef HAVE_TOKENIZERS
/* vocab.json -> the merges file beside it (merges.txt, else vocab.bpe). */
static int find_merges_beside(const char *vocab, char *out, size_t cap, struct herr *err)
{
    static const char *const names[] = {"merges.txt", "vocab.bpe"};
    const char *slash = strrchr(vocab, '/');
    int dirlen = slash ? (int)(slash - vocab + 1) : 0;
    for (int i = 0; i < 2; i++) {
        snprintf(out, cap, "%.*s%s", dirlen, vocab, names[i]);
        FILE *f = fopen(out, "rb");
        if (f) {
            fclose(f);
            return 0;
        }
    }
    return herr_set(err, "%s is a vocabulary without merges, and no merges.txt or vocab.bpe "
                    "is beside it (give both: --tokenizer VOCAB.json,MERGES.txt)", vocab);
}

static int load_bpe(struct tokenizer *t, const char *spec, struct herr *err)
{
    char vocab[4096], merges[4096];
    const char *comma = strchr(spec, ',');
    int rc;
    if (comma) {
        snprintf(vocab, sizeof vocab, "%.*s", (int)(comma - spec), spec);
        snprintf(merges, sizeof merges, "%s", comma + 1);
        rc = tok_load_gpt2_pair(t, vocab, merges, err);
    } else {
        int hf = tok_json_is_hf(spec, err);
        if (hf < 0)
            return -1;
        if (hf)
            rc = tok_load_hf_json(t, spec, err);
        else
            rc = find_merges_beside(spec, merges, sizeof merges, err) ||
                 tok_load_gpt2_pair(t, spec, merges, err);
    }
    if (rc == 0)
        t->vocab_size = t->bpe.nids;
    return rc;
}
#endif

int tokenizer_load(struct tokenizer **out, const char *spec, struct herr *err)
{
    *out = NULL;
    struct tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return herr_set(err, "out of memory for a tokenizer");
    snprintf(t->source, sizeof t->source, "%s", spec);
    int rc = 0;
    if (strcmp(spec, "bytes") == 0) {
        t->kind = TOKENIZER_BYTES;
        t->vocab_size = BYTES_VOCAB;
    } else if (ends_with(spec, ".model")) {
        t->kind = TOKENIZER_SENTENCEPIECE;
#ifdef HAVE_SENTENCEPIECE
        char msg[HERR_MSG_MAX];
        t->sp = sp_shim_load(spec, msg, sizeof msg);
        if (!t->sp)
            rc = herr_set(err, "%s", msg);
        else
            t->vocab_size = sp_shim_vocab_size(t->sp);
#else
        rc = herr_set(err, "tokenizer %s: this heft was built without SentencePiece (install "
                      "libsentencepiece-dev and g++, then run configure again)", spec);
#endif
    } else {
        t->kind = TOKENIZER_BPE;
#ifdef HAVE_TOKENIZERS
        rc = bpe_init(&t->bpe, err) || load_bpe(t, spec, err);
        if (rc == 0 && t->vocab_size < 2)
            rc = herr_set(err, "tokenizer %s: a vocabulary of %d tokens", spec, t->vocab_size);
#else
        rc = herr_set(err, "tokenizer %s: this heft was built without BPE tokenizers (install "
                      "libjansson-dev and libpcre2-dev, then run configure again)", spec);
#endif
    }
    if (rc) {
        tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void tokenizer_free(struct tokenizer *t)
{
    if (!t)
        return;
#ifdef HAVE_TOKENIZERS
    if (t->kind == TOKENIZER_BPE) {
        bpe_free(&t->bpe);
        if (t->has_pre)
            pretok_free(&t->pre);
    }
#endif
#ifdef HAVE_SENTENCEPIECE
    if (t->sp)
        sp_shim_free(t->sp);
#endif
    free(t);
}

enum tokenizer_kind tokenizer_kind(const struct tokenizer *t) { return t->kind; }
int tokenizer_vocab_size(const struct tokenizer *t) { return t->vocab_size; }

const char *tokenizer_kind_name(const struct tokenizer *t)
{
    switch (t->kind) {
    case TOKENIZER_BYTES: return "bytes";
    case TOKENIZER_BPE: return "bpe";
    case TOKENIZER_SENTENCEPIECE: return "sentencepiece";
    }
    return "?";
}

int tokenizer_can_split(const struct tokenizer *t)
{
#ifdef HAVE_TOKENIZERS
    if (t->kind == TOKENIZER_BPE)
        return t->has_pre && t->split_safe;
#endif
    return t->kind == TOKENIZER_BYTES;
}

int tokenizer_token_id(const struct tokenizer *t, const char *text)
{
    switch (t->kind) {
    case TOKENIZER_BYTES:
        if (strcmp(text, EOT_TEXT) == 0)
            return BYTES_EOT;
        return strlen(text) == 1 ? (unsigned char)text[0] : -1;
    case TOKENIZER_BPE:
#ifdef HAVE_TOKENIZERS
        for (int id = 0; id < t->bpe.nids; id++)
            if (t->bpe.tok_kind[id] == BPE_TOK_SPECIAL) {
                size_t len;
                const char *b = bpe_token_bytes(&t->bpe, id, &len);
                if (len == strlen(text) && memcmp(b, text, len) == 0)
                    return id;
            }
        return bpe_find(&t->bpe, text, strlen(text));
#else
        return -1;
#endif
    case TOKENIZER_SENTENCEPIECE:
#ifdef HAVE_SENTENCEPIECE
        return sp_shim_piece_id(t->sp, text);
#else
        return -1;
#endif
    }
    return -1;
}

int tokenizer_eot(const struct tokenizer *t, const char *name, struct herr *err)
{
    if (name) {
        int id = tokenizer_token_id(t, name);
        if (id < 0)
            return herr_set(err, "tokenizer %s has no token '%s'", t->source, name);
        return id;
    }
    static const char *const names[] = {EOT_TEXT, "<|end_of_text|>", "</s>", "<eos>"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int id = tokenizer_token_id(t, names[i]);
        if (id >= 0)
            return id;
    }
    return herr_set(err, "tokenizer %s has none of the usual end-of-text tokens "
                    "(<|endoftext|>, <|end_of_text|>, </s>, <eos>); name the one to put "
                    "between documents with --eot", t->source);
}

int tok_encoder_new(struct tok_encoder **out, const struct tokenizer *t, struct herr *err)
{
    *out = NULL;
    struct tok_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return herr_set(err, "out of memory for an encoder");
    e->t = t;
#ifdef HAVE_TOKENIZERS
    if (t->kind == TOKENIZER_BPE && bpe_encoder_init(e, err)) {
        free(e);
        return -1;
    }
#endif
    *out = e;
    return 0;
}

void tok_encoder_free(struct tok_encoder *e)
{
    if (!e)
        return;
#ifdef HAVE_TOKENIZERS
    if (e->t->kind == TOKENIZER_BPE)
        bpe_encoder_free(e);
#endif
    free(e);
}

int tok_encode_span(struct tok_encoder *e, const char *text, size_t n, size_t from, size_t to,
                    struct id_buf *out, struct herr *err)
{
    const struct tokenizer *t = e->t;
    switch (t->kind) {
    case TOKENIZER_BYTES:
        if (id_buf_reserve(out, to - from))
            return herr_set(err, "out of memory for token ids");
        for (size_t i = from; i < to; i++)
            out->ids[out->n++] = (unsigned char)text[i];
        return 0;
    case TOKENIZER_BPE:
#ifdef HAVE_TOKENIZERS
        return bpe_encode_span(e, text, n, from, to, out, err);
#else
        break;
#endif
    case TOKENIZER_SENTENCEPIECE:
#ifdef HAVE_SENTENCEPIECE
        if (from != 0 || to != n)
            return herr_set(err, "SentencePiece encodes whole documents only");
        {
            char msg[HERR_MSG_MAX];
            if (sp_shim_encode(t->sp, text, n, out, msg, sizeof msg))
                return herr_set(err, "%s", msg);
        }
        return 0;
#else
        break;
#endif
    }
    return herr_set(err, "tokenizer %s: not built into this heft", t->source);
}

int tok_encode(struct tok_encoder *e, const char *text, size_t n, struct id_buf *out,
               struct herr *err)
{
    int rc = tok_encode_span(e, text, n, 0, n, out, err);
    /* A span to the end always ends on a boundary. */
    return rc > 0 ? herr_set(err, "internal: the whole text is not one span") : rc;
}

int tokenizer_decode(const struct tokenizer *t, const uint32_t *ids, size_t n, char **text,
                     size_t *len, struct herr *err)
{
    *text = NULL;
    *len = 0;
#ifdef HAVE_SENTENCEPIECE
    if (t->kind == TOKENIZER_SENTENCEPIECE) {
        char msg[HERR_MSG_MAX];
        if (sp_shim_decode(t->sp, ids, n, text, len, msg, sizeof msg))
            return herr_set(err, "%s", msg);
        return 0;
    }
#endif
    size_t cap = 64, o = 0;
    char *buf = malloc(cap);
    if (!buf)
        return herr_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *b = NULL;
        size_t k = 0;
        char one;
        if (ids[i] >= (uint32_t)t->vocab_size) {
            free(buf);
            return herr_set(err, "id %u (position %zu) is outside the vocabulary of %d",
                            (unsigned)ids[i], i, t->vocab_size);
        }
        if (t->kind == TOKENIZER_BYTES) {
            if (ids[i] == BYTES_EOT) {
                b = EOT_TEXT;
                k = strlen(EOT_TEXT);
            } else {
                one = (char)ids[i];
                b = &one;
                k = 1;
            }
        }
#ifdef HAVE_TOKENIZERS
        else if (t->kind == TOKENIZER_BPE) {
            if (!bpe_has_id(&t->bpe, (int)ids[i])) {
                free(buf);
                return herr_set(err, "id %u (position %zu) is not a token of %s",
                                (unsigned)ids[i], i, t->source);
            }
            b = bpe_token_bytes(&t->bpe, (int)ids[i], &k);
        }
#endif
        else {
            free(buf);
            return herr_set(err, "tokenizer %s: not built into this heft", t->source);
        }
        if (o + k + 1 > cap) {
            while (o + k + 1 > cap)
                cap *= 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                return herr_set(err, "out of memory");
            }
            buf = p;
        }
        memcpy(buf + o, b, k);
        o += k;
    }
    buf[o] = '\0';
    *text = buf;
    *len = o;
    return 0;
}
