/* core/tokenizer/tok_write.c — see tok_write.h. */
#include "core/tokenizer/tok_write.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/tokenizer/byte_unicode.h"

/* A token's text as it appears in vocab and merges. */
static int token_text(const struct bpe *m, int id, char **buf, size_t *cap)
{
    size_t len;
    const char *b = bpe_token_bytes(m, id, &len);
    if (2 * len + 1 > *cap) {
        char *p = realloc(*buf, 2 * len + 1);
        if (!p)
            return -1;
        *buf = p;
        *cap = 2 * len + 1;
    }
    if (m->tok_kind[id] == BPE_TOK_SPECIAL) {
        memcpy(*buf, b, len);
        (*buf)[len] = '\0';
    } else {
        size_t n = byte_unicode_encode((const unsigned char *)b, len, *buf);
        (*buf)[n] = '\0';
    }
    return 0;
}

static json_t *byte_level(int add_prefix_space, int trim_offsets)
{
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space",
                     add_prefix_space, "trim_offsets", trim_offsets, "use_regex", 1);
}

static json_t *added_tokens(const struct bpe *m)
{
    json_t *a = json_array();
    for (int id = 0; a && id < m->nids; id++) {
        if (m->tok_kind[id] != BPE_TOK_SPECIAL)
            continue;
        size_t len;
        const char *b = bpe_token_bytes(m, id, &len);
        json_t *t = json_pack("{s:i, s:s%, s:b, s:b, s:b, s:b, s:b}", "id", id, "content", b,
                              len, "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0,
                              "special", 1);
        if (!t || json_array_append_new(a, t)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Merges in rank order, from the (pair -> rank, merged) map. */
static json_t *merges(const struct bpe *m, char **buf, size_t *cap)
{
    uint64_t *pairs = calloc(m->nmerges ? m->nmerges : 1, sizeof *pairs);
    json_t *a = json_array();
    if (!pairs || !a) {
        free(pairs);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < m->merges.cap; i++)
        if (m->merges.keys[i] != U64MAP_EMPTY)
            pairs[m->merges.vals[i] >> 32] = m->merges.keys[i];
    char *left = NULL;
    size_t lcap = 0;
    for (uint32_t r = 0; r < m->nmerges; r++) {
        int l = (int)(pairs[r] >> 32), rt = (int)(uint32_t)pairs[r];
        if (token_text(m, l, &left, &lcap) || token_text(m, rt, buf, cap))
            goto fail;
        size_t ll = strlen(left), rl = strlen(*buf);
        char *s = malloc(ll + rl + 2);
        if (!s)
            goto fail;
        memcpy(s, left, ll);
        s[ll] = ' ';
        memcpy(s + ll + 1, *buf, rl + 1);
        int bad = json_array_append_new(a, json_string(s));
        free(s);
        if (bad)
            goto fail;
    }
    free(left);
    free(pairs);
    return a;
fail:
    free(left);
    free(pairs);
    json_decref(a);
    return NULL;
}

static json_t *model(const struct bpe *m, char **buf, size_t *cap)
{
    json_t *vocab = json_object();
    for (int id = 0; vocab && id < m->nids; id++) {
        if (!bpe_has_id(m, id))
            continue;
        if (token_text(m, id, buf, cap) || json_object_set_new(vocab, *buf, json_integer(id))) {
            json_decref(vocab);
            return NULL;
        }
    }
    json_t *mg = merges(m, buf, cap);
    if (!vocab || !mg) {
        json_decref(vocab);
        json_decref(mg);
        return NULL;
    }
    return json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE",
                     "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
                     "fuse_unk", 0, "byte_fallback", 0, "ignore_merges", m->ignore_merges,
                     "vocab", vocab, "merges", mg);
}

int tok_write_hf_json(const struct bpe *m, const char *path, struct herr *err)
{
    char *buf = NULL;
    size_t cap = 0;
    json_t *mod = model(m, &buf, &cap);
    free(buf);
    json_t *added = added_tokens(m);
    json_t *pre = byte_level(0, 1), *post = byte_level(1, 0), *dec = byte_level(1, 1);
    if (!mod || !added || !pre || !post || !dec) {
        json_decref(mod);
        json_decref(added);
        json_decref(pre);
        json_decref(post);
        json_decref(dec);
        return herr_set(err, "tokenizer %s: out of memory building the JSON", path);
    }
    /* Keys in Hugging Face's order (jansson keeps insertion order). */
    json_t *root = json_pack("{s:s, s:n, s:n, s:o, s:n, s:o, s:o, s:o, s:o}", "version", "1.0",
                             "truncation", "padding", "added_tokens", added, "normalizer",
                             "pre_tokenizer", pre, "post_processor", post, "decoder", dec,
                             "model", mod);
    if (!root)
        return herr_set(err, "tokenizer %s: out of memory building the JSON", path);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return herr_set(err, "tokenizer %s: out of memory writing the JSON", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the terminator: the file ends with a newline */
    int rc = atomic_write_file(path, text, len + 1, err);
    free(text);
    return rc;
}
