/* core/text_codec.c — see text_codec.h. */
#include "core/text_codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BYTE_VOCAB 257
#define BYTE_EOT 256

void text_codec_choose(struct text_codec *c, const char *tokenizer, int vocab, int eot,
                       const char *tokenizer_json)
{
    memset(c, 0, sizeof *c);
    c->vocab = vocab;
    c->eot = eot;
    if (vocab == BYTE_VOCAB && !strcmp(tokenizer, "bytes")) {
        c->kind = TEXT_CODEC_BYTES;
        c->eot = eot >= 0 ? eot : BYTE_EOT;
        snprintf(c->why, sizeof c->why, "the run's data uses heft's byte vocabulary");
    } else if (vocab == BYTE_VOCAB && !tokenizer[0] && !tokenizer_json[0]) {
        c->kind = TEXT_CODEC_BYTES;
        c->eot = eot >= 0 ? eot : BYTE_EOT;
        snprintf(c->why, sizeof c->why, "a 257-id vocabulary with no tokenizer known: taken as "
                                        "heft's bytes (256 = end of text)");
    } else {
        c->kind = TEXT_CODEC_IDS;
        snprintf(c->why, sizeof c->why, "this heft has no tokenizer for %.150s (%d ids): "
                                        "prompts and output are token ids",
                 tokenizer_json[0] ? tokenizer_json : tokenizer[0] ? tokenizer : "this model",
                 vocab);
    }
}

int text_codec_encode(const struct text_codec *c, const char *text, size_t len, int32_t *ids,
                      int cap, int *n, struct herr *err)
{
    *n = 0;
    if (c->kind != TEXT_CODEC_BYTES)
        return herr_set(err, "--prompt: %s; give the prompt as ids with --prompt-ids", c->why);
    for (size_t i = 0; i < len; i++) {
        if (*n == cap)
            return herr_set(err, "--prompt: %zu bytes are more tokens than fit (%d)", len, cap);
        ids[(*n)++] = (unsigned char)text[i];
    }
    return 0;
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

/* Length of the valid UTF-8 sequence at s[0..len), or 0. */
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

static void append(char *out, size_t cap, size_t *used, const char *s, size_t n)
{
    if (*used + n + 1 > cap)
        return;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
}

void text_codec_show(const struct text_codec *c, const int32_t *ids, int n, char *out,
                     size_t cap)
{
    size_t used = 0;
    if (!cap)
        return;
    out[0] = '\0';
    if (c->kind != TEXT_CODEC_BYTES) {
        append(out, cap, &used, "[", 1);
        for (int i = 0; i < n; i++) {
            char num[24];
            int k = snprintf(num, sizeof num, "%s%d", i ? " " : "", ids[i]);
            append(out, cap, &used, num, (size_t)k);
        }
        append(out, cap, &used, "]", 1);
        return;
    }
    unsigned char *bytes = malloc((size_t)n + 1);
    if (!bytes)
        return;
    for (int i = 0; i < n;) {
        if (ids[i] == c->eot || ids[i] > 255) {
            append(out, cap, &used, "<|endoftext|>", 13);
            i++;
            continue;
        }
        /* a run of byte ids, cut where the next one is not a byte */
        int m = 0;
        while (i + m < n && ids[i + m] >= 0 && ids[i + m] <= 255 && ids[i + m] != c->eot) {
            bytes[m] = (unsigned char)ids[i + m];
            m++;
        }
        for (int j = 0; j < m;) {
            size_t k = utf8_len(bytes + j, (size_t)(m - j));
            if (k)
                append(out, cap, &used, (const char *)bytes + j, k);
            else
                append(out, cap, &used, "\xEF\xBF\xBD", 3); /* U+FFFD */
            j += k ? (int)k : 1;
        }
        i += m;
    }
    free(bytes);
}
