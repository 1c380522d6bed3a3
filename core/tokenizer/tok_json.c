/* core/tokenizer/tok_json.c — reading a Hugging Face tokenizer.json (byte-level
 * BPE) with jansson.
 *
 * Taken: model BPE (vocab, merges as "a b" strings or ["a", "b"] pairs,
 * ignore_merges), no normalizer, a ByteLevel pre-tokenizer (GPT-2's regex
 * when use_regex, add_prefix_space) or a Sequence of one Split regex
 * (behaviour Isolated) and ByteLevel without its regex (LLaMA-3's), and
 * added_tokens (special tokens). Anything else that would change the ids is
 * refused with a message naming it, rather than encoded differently. */
#include "core/tokenizer/tokenizer_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/tokenizer/byte_unicode.h"

static int load_json(const char *path, json_t **root, struct herr *err)
{
    json_error_t je;
    *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*root)
        return herr_set(err, "tokenizer %s: %s (line %d, column %d)", path, je.text, je.line,
                        je.column);
    return 0;
}

int tok_json_is_hf(const char *path, struct herr *err)
{
    json_t *root;
    if (load_json(path, &root, err))
        return -1;
    /* GPT-2's encoder.json has a token "model" too, with an id. */
    int hf = json_is_object(json_object_get(root, "model"));
    json_decref(root);
    return hf;
}

/* Regexes that look at nothing before a match's start (no lookbehind, no
 * anchors, no word boundaries) give the same pieces whether the text starts
 * at a piece boundary or earlier: such text may be cut there. */
static int pattern_split_safe(const char *p)
{
    if (strstr(p, "(?<") || strstr(p, "\\b") || strstr(p, "\\B") || strstr(p, "\\A") ||
        strstr(p, "\\G"))
        return 0;
    for (const char *c = strchr(p, '^'); c; c = strchr(c + 1, '^'))
        if (c == p || c[-1] != '[')
            return 0;
    return 1;
}

int tok_use_regex(struct tokenizer *t, const char *pattern, struct herr *err)
{
    if (pretok_compile(&t->pre, pattern, err))
        return -1;
    t->has_pre = 1;
    t->split_safe = pattern_split_safe(pattern);
    return 0;
}

static const char *type_of(json_t *o)
{
    const char *s = json_string_value(json_object_get(o, "type"));
    return s ? s : "(none)";
}

/* A ByteLevel pre-tokenizer: its regex (GPT-2's) and add_prefix_space. */
static int take_byte_level(struct tokenizer *t, json_t *bl, int allow_regex, struct herr *err)
{
    json_t *use = json_object_get(bl, "use_regex");
    int use_regex = !use || json_is_true(use); /* HF's default is true */
    t->add_prefix_space = json_is_true(json_object_get(bl, "add_prefix_space"));
    if (!use_regex)
        return 0;
    if (!allow_regex)
        return herr_set(err, "pre_tokenizer: a Split regex and ByteLevel's own regex together "
                        "are not supported");
    return tok_use_regex(t, PRETOK_GPT2_PATTERN, err);
}

static int take_split(struct tokenizer *t, json_t *sp, struct herr *err)
{
    json_t *pat = json_object_get(sp, "pattern");
    const char *re = json_string_value(json_object_get(pat, "Regex"));
    const char *behavior = json_string_value(json_object_get(sp, "behavior"));
    if (!re)
        return herr_set(err, "pre_tokenizer: a Split without a Regex pattern is not supported");
    if (!behavior || strcmp(behavior, "Isolated") != 0)
        return herr_set(err, "pre_tokenizer: Split behavior '%s' is not supported (only "
                        "Isolated)", behavior ? behavior : "(none)");
    if (json_is_true(json_object_get(sp, "invert")))
        return herr_set(err, "pre_tokenizer: an inverted Split is not supported");
    return tok_use_regex(t, re, err);
}

static int take_pre_tokenizer(struct tokenizer *t, json_t *pre, struct herr *err)
{
    const char *type = type_of(pre);
    if (json_is_null(pre) || !pre)
        return herr_set(err, "pre_tokenizer is null: not a byte-level BPE (heft reads "
                        "byte-level BPE tokenizers)");
    if (strcmp(type, "ByteLevel") == 0)
        return take_byte_level(t, pre, 1, err);
    if (strcmp(type, "Sequence") != 0)
        return herr_set(err, "pre_tokenizer '%s' is not supported (heft reads byte-level BPE: "
                        "ByteLevel, or a Sequence of Split and ByteLevel)", type);
    json_t *list = json_object_get(pre, "pretokenizers");
    size_t n = json_array_size(list);
    int have_split = 0, have_bl = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(list, i);
        const char *pt = type_of(p);
        int rc;
        if (strcmp(pt, "Split") == 0 && !have_split && !have_bl) {
            have_split = 1;
            rc = take_split(t, p, err);
        } else if (strcmp(pt, "ByteLevel") == 0 && !have_bl) {
            have_bl = 1;
            rc = take_byte_level(t, p, !have_split, err);
        } else {
            rc = herr_set(err, "pre_tokenizer: Sequence item %zu ('%s') is not supported (heft "
                          "takes one Split regex followed by ByteLevel)", i, pt);
        }
        if (rc)
            return -1;
    }
    if (!have_bl)
        return herr_set(err, "pre_tokenizer: the Sequence has no ByteLevel step: not a "
                        "byte-level BPE");
    return 0;
}

static int check_model_options(json_t *model, struct herr *err)
{
    json_t *d = json_object_get(model, "dropout");
    if (d && !json_is_null(d) && json_number_value(d) != 0.0)
        return herr_set(err, "model.dropout is set (BPE dropout makes encoding random)");
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const char *s = json_string_value(json_object_get(model, affixes[i]));
        if (s && *s)
            return herr_set(err, "model.%s '%s' is not supported (byte-level BPE has none)",
                            affixes[i], s);
    }
    if (json_is_true(json_object_get(model, "byte_fallback")))
        return herr_set(err, "model.byte_fallback is true: a SentencePiece-style BPE, not a "
                        "byte-level one (use its tokenizer.model)");
    return 0;
}

/* Special tokens: added_tokens marked special. */
static int special_ids(json_t *root, int **ids, size_t *n, struct herr *err)
{
    json_t *added = json_object_get(root, "added_tokens");
    *n = 0;
    *ids = malloc((json_array_size(added) + 1) * sizeof **ids);
    if (!*ids)
        return herr_set(err, "out of memory");
    for (size_t i = 0; i < json_array_size(added); i++) {
        json_t *a = json_array_get(added, i);
        json_t *id = json_object_get(a, "id");
        if (!json_is_integer(id) || !json_is_string(json_object_get(a, "content")))
            return herr_set(err, "added_tokens[%zu]: needs an integer id and a content", i);
        if (json_is_true(json_object_get(a, "special")))
            (*ids)[(*n)++] = (int)json_integer_value(id);
    }
    return 0;
}

static int is_in(const int *ids, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* One vocabulary entry: byte-level text -> bytes (special tokens keep their text). */
static int add_vocab_entry(struct bpe *m, const char *text, int id, int special, struct herr *err)
{
    size_t n = strlen(text);
    if (special)
        return bpe_add_token(m, id, text, n, 1, err);
    unsigned char stack[256], *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return herr_set(err, "out of memory");
    uint32_t bad;
    long k = byte_unicode_decode(text, n, buf, &bad);
    int rc;
    if (k < 0 && bad == 0xffffffffu)
        rc = herr_set(err, "token %d is not valid UTF-8", id);
    else if (k < 0)
        rc = herr_set(err, "token '%s' (id %d) has the character U+%04X, which stands for no "
                      "byte: not a byte-level BPE vocabulary", text, id, (unsigned)bad);
    else
        rc = bpe_add_token(m, id, buf, (size_t)k, 0, err);
    if (buf != stack)
        free(buf);
    return rc;
}

/* Looks a merge's side up by its byte-level text. */
static int side_id(const struct bpe *m, const char *text, size_t n)
{
    unsigned char stack[256], *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return -1;
    uint32_t bad;
    long k = byte_unicode_decode(text, n, buf, &bad);
    int id = k > 0 ? bpe_find(m, buf, (size_t)k) : -1;
    if (buf != stack)
        free(buf);
    return id;
}

static int add_merge_entry(struct bpe *m, json_t *e, size_t i, struct herr *err)
{
    const char *a, *b;
    size_t alen, blen;
    char *space = NULL;
    if (json_is_string(e)) { /* "a b" (tokenizers before 0.20, GPT-2's files) */
        a = json_string_value(e);
        space = strchr(a, ' ');
        if (!space || strchr(space + 1, ' ') || space == a || !space[1])
            return herr_set(err, "model.merges[%zu] '%s' is not two tokens separated by one "
                            "space", i, a);
        alen = (size_t)(space - a);
        b = space + 1;
        blen = strlen(b);
    } else if (json_is_array(e) && json_array_size(e) == 2 &&
               json_is_string(json_array_get(e, 0)) && json_is_string(json_array_get(e, 1))) {
        a = json_string_value(json_array_get(e, 0));
        b = json_string_value(json_array_get(e, 1));
        alen = strlen(a);
        blen = strlen(b);
    } else {
        return herr_set(err, "model.merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", i);
    }
    int l = side_id(m, a, alen), r = side_id(m, b, blen);
    if (l < 0 || r < 0)
        return herr_set(err, "model.merges[%zu] '%.*s %s': '%.*s' is not in the vocabulary", i,
                        (int)alen, a, b, l < 0 ? (int)alen : (int)blen, l < 0 ? a : b);
    if (bpe_add_merge(m, l, r, err))
        return herr_wrap(err, "model.merges[%zu] '%.*s %s': ", i, (int)alen, a, b);
    return 0;
}

static int load_model(struct tokenizer *t, json_t *root, struct herr *err)
{
    json_t *model = json_object_get(root, "model");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(model))
        return herr_set(err, "'model' is not an object");
    if (type && strcmp(type, "BPE") != 0)
        return herr_set(err, "unsupported model type '%s' (heft reads byte-level BPE)", type);
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab))
        return herr_set(err, "model has no 'vocab' object");
    if (!merges)
        return herr_set(err, "model has no 'merges'");
    if (!json_is_array(merges))
        return herr_set(err, "model.merges is not an array");
    if (check_model_options(model, err))
        return -1;
    json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm))
        return herr_set(err, "normalizer '%s' is not supported (heft reads byte-level BPE "
                        "without a normalizer)", type_of(norm));
    if (take_pre_tokenizer(t, json_object_get(root, "pre_tokenizer"), err))
        return -1;
    t->bpe.ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));

    int *special;
    size_t nspecial;
    int rc = special_ids(root, &special, &nspecial, err);
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        if (rc)
            break;
        if (!json_is_integer(val))
            rc = herr_set(err, "model.vocab['%s'] is not an integer id", key);
        else
            rc = add_vocab_entry(&t->bpe, key, (int)json_integer_value(val),
                                 is_in(special, nspecial, (int)json_integer_value(val)), err);
    }
    /* Added tokens missing from the vocabulary still have their ids. */
    json_t *added = json_object_get(root, "added_tokens");
    for (size_t i = 0; rc == 0 && i < json_array_size(added); i++) {
        json_t *a = json_array_get(added, i);
        int id = (int)json_integer_value(json_object_get(a, "id"));
        if (!bpe_has_id(&t->bpe, id))
            rc = add_vocab_entry(&t->bpe, json_string_value(json_object_get(a, "content")), id,
                                 1, err);
    }
    free(special);
    for (size_t i = 0; rc == 0 && i < json_array_size(merges); i++)
        rc = add_merge_entry(&t->bpe, json_array_get(merges, i), i, err);
    return rc ? -1 : bpe_finish(&t->bpe, err);
}

int tok_load_hf_json(struct tokenizer *t, const char *path, struct herr *err)
{
    json_t *root;
    if (load_json(path, &root, err))
        return -1;
    int rc = load_model(t, root, err);
    json_decref(root);
    if (rc)
        return herr_wrap(err, "tokenizer %s: ", path);
    return 0;
}
