/* core/text_codec.c — see text_codec.h. */
#include "core/text_codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/tokenizer/tokenizer.h"

#define BYTE_VOCAB 257

int text_codec_find_in_dir(const char *dir, const char *word, char *out, size_t cap)
{
    const char *names[] = { "tokenizer.json", "tokenizer.model", word };
    for (int i = 0; i < 3; i++) {
        /* the manifest's word names a file only if it looks like one */
        if (!names[i] || !names[i][0] || strchr(names[i], '/') ||
            (i == 2 && !strchr(names[i], '.')))
            continue;
        if (file_in_dir(dir, names[i], out, cap))
            return 1;
    }
    if (cap)
        out[0] = '\0';
    return 0;
}

/* Loads spec and checks it against the model's vocabulary. */
static int load(struct text_codec *c, const char *spec, struct herr *err)
{
    if (tokenizer_load(&c->tok, spec, err))
        return -1;
    int n = tokenizer_vocab_size(c->tok);
    if (n > c->vocab) {
        tokenizer_free(c->tok);
        c->tok = NULL;
        return herr_set(err, "tokenizer %s has %d ids, more than the model's %d", spec, n,
                        c->vocab);
    }
    if (tok_encoder_new(&c->enc, c->tok, err)) {
        tokenizer_free(c->tok);
        c->tok = NULL;
        return -1;
    }
    if (c->eot < 0) {
        struct herr ignore;
        int id = tokenizer_eot(c->tok, NULL, &ignore);
        c->eot = id >= 0 ? id : -1;
    }
    c->kind = TEXT_CODEC_TOKENIZER;
    return 0;
}

int text_codec_open(struct text_codec *c, const char *spec, const char *found, const char *word,
                    int vocab, int eot, struct herr *err)
{
    memset(c, 0, sizeof *c);
    c->kind = TEXT_CODEC_IDS;
    c->vocab = vocab;
    c->eot = eot;
    if (spec && spec[0]) {
        if (load(c, spec, err))
            return herr_wrap(err, "--tokenizer: ");
        snprintf(c->why, sizeof c->why, "tokenizer %.400s (%s)", spec,
                 tokenizer_kind_name(c->tok));
        return 0;
    }
    struct herr why;
    if (found && found[0]) {
        if (load(c, found, &why) == 0) {
            snprintf(c->why, sizeof c->why, "the model's tokenizer %.400s (%s)", found,
                     tokenizer_kind_name(c->tok));
            return 0;
        }
        snprintf(c->why, sizeof c->why, "the tokenizer found with the model cannot be used "
                 "(%.300s): prompts and output are token ids", why.msg);
        return 0;
    }
    int bytes = vocab == BYTE_VOCAB && (!strcmp(word, "bytes") || !word[0]);
    if (bytes && load(c, "bytes", &why) == 0) {
        snprintf(c->why, sizeof c->why, "%s", word[0]
                 ? "the run's data uses heft's byte vocabulary"
                 : "a 257-id vocabulary with no tokenizer known: taken as heft's bytes "
                   "(256 = end of text)");
        return 0;
    }
    snprintf(c->why, sizeof c->why, "no tokenizer file is known for this model (%d ids%s%s; "
             "name one with --tokenizer): prompts and output are token ids",
             vocab, word[0] ? ", data tokenized with " : "", word);
    return 0;
}

void text_codec_close(struct text_codec *c)
{
    tok_encoder_free(c->enc);
    tokenizer_free(c->tok);
    c->enc = NULL;
    c->tok = NULL;
}

int text_codec_encode(struct text_codec *c, const char *text, size_t len, int32_t *ids, int cap,
                      int *n, struct herr *err)
{
    *n = 0;
    if (c->kind != TEXT_CODEC_TOKENIZER)
        return herr_set(err, "--prompt: %s; give the prompt as ids with --prompt-ids", c->why);
    struct id_buf buf = { 0 };
    if (tok_encode(c->enc, text, len, &buf, err)) {
        id_buf_free(&buf);
        return herr_wrap(err, "--prompt: ");
    }
    int rc = 0;
    if (buf.n > (size_t)cap)
        rc = herr_set(err, "--prompt: %zu tokens, more than fit (%d)", buf.n, cap);
    for (size_t i = 0; i < buf.n && rc == 0; i++)
        ids[(*n)++] = (int32_t)buf.ids[i];
    id_buf_free(&buf);
    return rc;
}

int text_codec_parse_ids(const struct text_codec *c, const char *list, int32_t *ids, int cap,
                         int *n, struct herr *err)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno)
            return herr_set(err, "--prompt-ids: '%s' is not a comma-separated list of ids", list);
        if (v < 0 || v >= c->vocab)
            return herr_set(err, "--prompt-ids: id %ld is outside the vocabulary [0, %d)", v,
                            c->vocab);
        if (*n == cap)
            return herr_set(err, "--prompt-ids: more ids than fit (%d)", cap);
        ids[(*n)++] = (int32_t)v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return herr_set(err, "--prompt-ids: '%s' is not a comma-separated list of ids", list);
    }
    if (*n == 0)
        return herr_set(err, "--prompt-ids: no ids");
    return 0;
}

int text_codec_decode(const struct text_codec *c, const int32_t *ids, int n, char **text,
                      size_t *len, struct herr *err)
{
    *text = NULL;
    *len = 0;
    /* ids the model has but its tokenizer does not (padding of the embedding
     * the data never used) are shown as ids */
    int known = c->kind == TEXT_CODEC_TOKENIZER;
    for (int i = 0; i < n && known; i++)
        known = ids[i] >= 0 && ids[i] < tokenizer_vocab_size(c->tok);
    if (known) {
        uint32_t *u = malloc(((size_t)n + 1) * sizeof *u);
        if (!u)
            return herr_set(err, "out of memory");
        for (int i = 0; i < n; i++)
            u[i] = (uint32_t)ids[i];
        int rc = tokenizer_decode(c->tok, u, (size_t)n, text, len, err);
        free(u);
        return rc;
    }
    size_t cap = (size_t)n * 12 + 1, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return herr_set(err, "out of memory");
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%d ", ids[i]);
    *text = buf;
    *len = used;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 (NUL included). */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    size_t need;
    unsigned char c = s[0];
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4;
    else
        return 0;
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* overlong 3- and 4-byte forms, surrogates, and above U+10FFFF */
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
        return 0;
    return need;
}

void text_codec_show(const struct text_codec *c, const int32_t *ids, int n, char *out,
                     size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    char *text;
    size_t len, used = 0;
    struct herr ignore;
    if (text_codec_decode(c, ids, n, &text, &len, &ignore))
        return;
    for (size_t j = 0; j < len;) {
        size_t k = utf8_len((const unsigned char *)text + j, len - j);
        const char *piece = k ? text + j : "\xEF\xBF\xBD"; /* U+FFFD */
        size_t m = k ? k : 3;
        if (used + m + 1 > cap)
            break;
        memcpy(out + used, piece, m);
        used += m;
        j += k ? k : 1;
    }
    out[used] = '\0';
    free(text);
}
