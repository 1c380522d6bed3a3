/* core/tokenizer/pretok.c — see pretok.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer/pretok.h"

#include "core/tokenizer/utf8.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Enough for the backtracking of the patterns in use on long whitespace runs. */
#define JIT_STACK_MAX (1 << 20)

static void pcre2_message(int code, char *buf, size_t cap)
{
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
        snprintf((char *)msg, sizeof msg, "error %d", code);
    snprintf(buf, cap, "%s", (const char *)msg);
}

int pretok_compile(struct pretok *p, const char *pattern, struct herr *err)
{
    memset(p, 0, sizeof *p);
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    if (!re) {
        char msg[256];
        pcre2_message(code, msg, sizeof msg);
        return herr_set(err, "pre-tokenizer regex '%s': %s at offset %zu", pattern, msg,
                        (size_t)at);
    }
    /* No JIT (a PCRE2 built without it) is slower, not wrong. */
    p->jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    p->code = re;
    return 0;
}

void pretok_free(struct pretok *p)
{
    pcre2_code_free(p->code);
    p->code = NULL;
}

int pretok_state_init(struct pretok_state *st, const struct pretok *p, struct herr *err)
{
    memset(st, 0, sizeof *st);
    st->match_data = pcre2_match_data_create_from_pattern(p->code, NULL);
    st->mcontext = pcre2_match_context_create(NULL);
    if (p->jit)
        st->jit_stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
    if (!st->match_data || !st->mcontext || (p->jit && !st->jit_stack)) {
        pretok_state_free(st);
        return herr_set(err, "out of memory for the pre-tokenizer");
    }
    if (p->jit)
        pcre2_jit_stack_assign(st->mcontext, NULL, st->jit_stack);
    return 0;
}

void pretok_state_free(struct pretok_state *st)
{
    pcre2_match_data_free(st->match_data);
    pcre2_match_context_free(st->mcontext);
    pcre2_jit_stack_free(st->jit_stack);
    memset(st, 0, sizeof *st);
}

void pretok_iter_start(struct pretok_iter *it, const char *subj, size_t len, size_t pos)
{
    it->subj = subj;
    it->len = len;
    it->pos = pos;
    it->pending = 0;
}

int pretok_next(const struct pretok *p, struct pretok_state *st, struct pretok_iter *it,
                size_t *start, size_t *end, struct herr *err)
{
    if (it->pending) {
        it->pending = 0;
        *start = it->pend_start;
        *end = it->pos = it->pend_end;
        return 1;
    }
    if (it->pos >= it->len)
        return 0;
    /* The stretch was validated by the caller (utf8_valid_prefix). */
    const uint32_t opts = PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY;
    int rc = p->jit ? pcre2_jit_match(p->code, (PCRE2_SPTR)it->subj, it->len, it->pos, opts,
                                      st->match_data, st->mcontext)
                    : pcre2_match(p->code, (PCRE2_SPTR)it->subj, it->len, it->pos, opts,
                                  st->match_data, st->mcontext);
    if (rc == PCRE2_ERROR_NOMATCH) {
        *start = it->pos;
        *end = it->pos = it->len;
        return 1;
    }
    if (rc < 0) {
        char msg[256];
        pcre2_message(rc, msg, sizeof msg);
        return herr_set(err, "pre-tokenizer: PCRE2 match failed at byte %zu: %s", it->pos, msg);
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->match_data);
    size_t ms = ov[0], me = ov[1];
    if (ms > it->pos) { /* the gap first, the match next time */
        *start = it->pos;
        *end = ms;
        it->pend_start = ms;
        it->pend_end = me;
        it->pending = 1;
        it->pos = ms;
        return 1;
    }
    *start = ms;
    *end = it->pos = me;
    return 1;
}

int pretok_span(const struct pretok *p, struct pretok_state *st, const char *text, size_t n,
                size_t from, size_t to, pretok_visit_fn visit, void *ctx, struct herr *err)
{
    const size_t subj_end = to == n || n - to < PRETOK_LOOKAHEAD ? n : to + PRETOK_LOOKAHEAD;
    size_t pos = from;
    while (pos < to) {
        size_t v = utf8_valid_prefix(text + pos, subj_end - pos);
        if (v == 0) { /* a byte that is not valid UTF-8: a piece by itself */
            if (visit(ctx, text + pos, 1, pos, err))
                return -1;
            pos++;
            continue;
        }
        if (!p) { /* no regex: the valid stretch is one piece */
            if (pos + v > to)
                return 1;
            if (visit(ctx, text + pos, v, pos, err))
                return -1;
            pos += v;
            continue;
        }
        struct pretok_iter it;
        pretok_iter_start(&it, text + pos, v, 0);
        size_t s = 0, e = 0;
        int rc;
        while ((rc = pretok_next(p, st, &it, &s, &e, err)) == 1) {
            if (pos + s >= to)
                return 0;
            if (pos + e > to)
                return 1;
            if (visit(ctx, text + pos + s, e - s, pos + s, err))
                return -1;
        }
        if (rc < 0)
            return -1;
        pos += v;
    }
    return 0;
}
