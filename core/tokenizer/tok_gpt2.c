/* core/tokenizer/tok_gpt2.c — GPT-2's own files: vocab.json (encoder.json), a
 * JSON object from byte-level token text to id, and merges.txt (vocab.bpe),
 * one "a b" merge per line in rank order after a "#version" line. The
 * pre-tokenizer is GPT-2's regex; <|endoftext|> is the special token. */
#include "core/tokenizer/tokenizer_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/tokenizer/byte_unicode.h"

#define GPT2_SPECIAL "<|endoftext|>"

static int add_vocab(struct bpe *m, const char *text, int id, struct herr *err)
{
    size_t n = strlen(text);
    if (strcmp(text, GPT2_SPECIAL) == 0)
        return bpe_add_token(m, id, text, n, 1, err);
    unsigned char stack[256], *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return herr_set(err, "out of memory");
    uint32_t bad;
    long k = byte_unicode_decode(text, n, buf, &bad);
    int rc = k < 0 ? herr_set(err, "token '%s' (id %d) is not byte-level text", text, id)
                   : bpe_add_token(m, id, buf, (size_t)k, 0, err);
    if (buf != stack)
        free(buf);
    return rc;
}

static int load_vocab(struct bpe *m, const char *path, struct herr *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return herr_set(err, "vocabulary %s: %s (line %d, column %d)", path, je.text, je.line,
                        je.column);
    int rc = 0;
    if (!json_is_object(root))
        rc = herr_set(err, "vocabulary %s: not a JSON object of token -> id", path);
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (rc)
            break;
        if (!json_is_integer(val))
            rc = herr_set(err, "vocabulary %s: '%s' has no integer id", path, key);
        else if (add_vocab(m, key, (int)json_integer_value(val), err))
            rc = herr_wrap(err, "vocabulary %s: ", path);
    }
    json_decref(root);
    return rc;
}

/* The id of one side of a merge line, by its byte-level text. */
static int side(const struct bpe *m, const char *text, size_t n)
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

static int load_merges(struct bpe *m, const char *path, struct herr *err)
{
    char *text;
    size_t len;
    if (read_text_file(path, "merges", &text, &len, err))
        return -1;
    int rc = 0, lineno = 0;
    for (char *line = text; rc == 0 && line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *end = nl ? nl : text + len;
        lineno++;
        if (end > line && end[-1] == '\r')
            end--;
        *end = '\0';
        if (*line && strncmp(line, "#version", 8) != 0) {
            char *sp = strchr(line, ' ');
            if (!sp || sp == line || !sp[1] || strchr(sp + 1, ' ')) {
                rc = herr_set(err, "merges %s line %d: '%s' is not two tokens separated by one "
                              "space", path, lineno, line);
                break;
            }
            int l = side(m, line, (size_t)(sp - line)), r = side(m, sp + 1, strlen(sp + 1));
            if (l < 0 || r < 0)
                rc = herr_set(err, "merges %s line %d: '%s' is not in the vocabulary", path,
                              lineno, l < 0 ? line : sp + 1);
            else if (bpe_add_merge(m, l, r, err))
                rc = herr_wrap(err, "merges %s line %d: ", path, lineno);
        }
        line = nl ? nl + 1 : text + len;
    }
    free(text);
    return rc;
}

int tok_load_gpt2_pair(struct tokenizer *t, const char *vocab_path, const char *merges_path,
                       struct herr *err)
{
    if (load_vocab(&t->bpe, vocab_path, err) || load_merges(&t->bpe, merges_path, err) ||
        bpe_finish(&t->bpe, err) || tok_use_regex(t, PRETOK_GPT2_PATTERN, err))
        return -1;
    return 0;
}
