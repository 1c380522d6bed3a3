/* tests/test_tokenizer.c — core/tokenizer: GPT-2's byte map, UTF-8 stretches,
 * the BPE encoder against GPT-2's own algorithm, exact round trips, merges
 * of a tiny corpus checked by hand (ties included), thread-count
 * independence, and every bad tokenizer file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dataset.h"
#include "core/prepare.h"
#include "core/tokenizer/bpe.h"
#include "core/tokenizer/bpe_train.h"
#include "core/tokenizer/byte_unicode.h"
#include "core/tokenizer/encode_docs.h"
#include "core/tokenizer/tok_write.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/utf8.h"
#include "tests/test_data_util.h"

static char dir[512];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

/* The committed corpus: ASCII, accented Latin, CJK, emoji, code, whitespace. */
static char *corpus(size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/tokenizer_corpus.txt", HEFT_SRCDIR);
    unsigned char *t = read_bytes(path, n);
    return (char *)t;
}

/* Trains a tokenizer on `text` into dir/name and loads it. */
static struct tokenizer *trained(const char *text, size_t n, int vocab, unsigned long long minf,
                                 const char *name, struct bpe_train_result *res)
{
    char in[1024], out[1024];
    tpath(in, sizeof in, dir, "train.txt");
    tpath(out, sizeof out, dir, name);
    write_bytes(in, text, n);
    const char *inputs[1] = {in};
    struct bpe_train_options o = {inputs, 1, vocab, minf, 2, NULL, NULL};
    struct bpe m;
    struct bpe_train_result r;
    struct herr err;
    ck_assert_msg(bpe_train(&o, &m, &r, &err) == 0, "%s", err.msg);
    ck_assert_msg(tok_write_hf_json(&m, out, &err) == 0, "%s", err.msg);
    bpe_free(&m);
    if (res)
        *res = r;
    struct tokenizer *t;
    ck_assert_msg(tokenizer_load(&t, out, &err) == 0, "%s", err.msg);
    return t;
}

static void encode_all(const struct tokenizer *t, const char *text, size_t n, struct id_buf *ids)
{
    struct tok_encoder *e;
    struct herr err;
    ck_assert_int_eq(tok_encoder_new(&e, t, &err), 0);
    ids->n = 0;
    ck_assert_msg(tok_encode(e, text, n, ids, &err) == 0, "%s", err.msg);
    tok_encoder_free(e);
}

/* ---- GPT-2's byte map and UTF-8 -------------------------------------------------- */

START_TEST(test_byte_unicode)
{
    ck_assert_uint_eq(byte_to_unicode(' '), 0x120);  /* 'Ġ' */
    ck_assert_uint_eq(byte_to_unicode('\n'), 0x10a); /* 'Ċ' */
    ck_assert_uint_eq(byte_to_unicode('A'), 'A');
    ck_assert_uint_eq(byte_to_unicode(0), 0x100);
    ck_assert_uint_eq(byte_to_unicode(0x7f), 0x121);
    ck_assert_uint_eq(byte_to_unicode(0xa0), 0x142);
    ck_assert_uint_eq(byte_to_unicode(0xad), 0x143);
    ck_assert_uint_eq(byte_to_unicode(0xe9), 0xe9);
    /* A bijection onto 256 code points below U+0144. */
    int seen[0x144] = {0};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = byte_to_unicode((unsigned char)b);
        ck_assert_uint_lt(cp, 0x144);
        ck_assert_int_eq(seen[cp]++, 0);
        ck_assert_int_eq(unicode_to_byte(cp), b);
    }
    ck_assert_int_eq(unicode_to_byte(0x144), -1);
    ck_assert_int_eq(unicode_to_byte(0x20), -1);
    unsigned char out[16];
    uint32_t bad;
    ck_assert_int_eq(byte_unicode_decode("\xc4\xa0hi", 4, out, &bad), 3);
    ck_assert_int_eq(memcmp(out, " hi", 3), 0);
    ck_assert_int_eq(byte_unicode_decode("a\xe2\x82\xac", 4, out, &bad), -1); /* '€' */
    ck_assert_uint_eq(bad, 0x20ac);
}
END_TEST

START_TEST(test_utf8_stretches)
{
    ck_assert_uint_eq(utf8_valid_prefix("plain ascii text", 16), 16);
    ck_assert_uint_eq(utf8_valid_prefix("caf\xc3\xa9!", 6), 6);
    ck_assert_uint_eq(utf8_valid_prefix("ab\xff", 3), 2);          /* never valid */
    ck_assert_uint_eq(utf8_valid_prefix("ab\xc3", 3), 2);          /* cut short */
    ck_assert_uint_eq(utf8_valid_prefix("\xc0\xaf", 2), 0);        /* overlong */
    ck_assert_uint_eq(utf8_valid_prefix("\xed\xa0\x80", 3), 0);    /* surrogate */
    ck_assert_uint_eq(utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    ck_assert_uint_eq(utf8_valid_prefix("\xf0\x9f\x98\x80x", 5), 5); /* emoji */
}
END_TEST

/* ---- merges -------------------------------------------------------------------------- */

/* "hug hug hug pug pun bun": words hug, Ġhug x2, Ġpug, Ġpun, Ġbun. By hand:
 * (u,g) 4 -> 256; (h,256) 3 -> 257; then three pairs occur twice: (Ġ,257),
 * (Ġ,p), (u,n); the smaller left id wins (Ġ = 32 < u = 117), then the smaller
 * right id (p = 112 < 257): Ġp -> 258, Ġhug -> 259, un -> 260; every other
 * pair occurs once, below --min-frequency 2. */
START_TEST(test_train_tiny_by_hand)
{
    const char *text = "hug hug hug pug pun bun";
    struct bpe_train_result r;
    struct tokenizer *t = trained(text, strlen(text), 300, 2, "tiny.json", &r);
    ck_assert_int_eq(r.vocab_size, 262);
    ck_assert_int_eq(r.merges, 5);
    ck_assert_int_eq(tokenizer_vocab_size(t), 262);
    ck_assert_int_eq(tokenizer_token_id(t, "ug"), 256);
    ck_assert_int_eq(tokenizer_token_id(t, "hug"), 257);
    ck_assert_int_eq(tokenizer_token_id(t, " p"), 258);
    ck_assert_int_eq(tokenizer_token_id(t, " hug"), 259);
    ck_assert_int_eq(tokenizer_token_id(t, "un"), 260);
    ck_assert_int_eq(tokenizer_token_id(t, "<|endoftext|>"), 261);
    struct herr err;
    ck_assert_int_eq(tokenizer_eot(t, NULL, &err), 261);
    struct id_buf ids = {0};
    encode_all(t, "hug pug bun", 11, &ids);
    const uint32_t want[] = {257, 258, 256, 32, 98, 260};
    ck_assert_uint_eq(ids.n, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(ids.ids[i], want[i]);
    id_buf_free(&ids);
    tokenizer_free(t);
    /* The file lists them in that order, as Hugging Face's "a b" strings. */
    char path[1024];
    tpath(path, sizeof path, dir, "tiny.json");
    size_t n;
    char *json = (char *)read_bytes(path, &n);
    json[n - 1] = '\0';
    const char *m = strstr(json, "\"merges\"");
    ck_assert_ptr_nonnull(m);
    const char *order[] = {"\"u g\"", "\"h ug\"", "\"\xc4\xa0 p\"", "\"\xc4\xa0 hug\"",
                           "\"u n\""};
    for (int i = 0; i < 5; i++) {
        const char *at = strstr(m, order[i]);
        ck_assert_msg(at != NULL, "merge %s missing", order[i]);
        m = at;
    }
    free(json);
}
END_TEST

/* With --min-frequency 1 merging goes on through pairs seen once; a
 * vocabulary size caps it. */
START_TEST(test_train_vocab_cap)
{
    const char *text = "hug hug hug pug pun bun";
    struct bpe_train_result r;
    struct tokenizer *t = trained(text, strlen(text), 259, 1, "cap.json", &r);
    ck_assert_int_eq(r.vocab_size, 259);
    ck_assert_int_eq(tokenizer_token_id(t, "hug"), 257);
    ck_assert_int_eq(tokenizer_token_id(t, "<|endoftext|>"), 258);
    tokenizer_free(t);
}
END_TEST

/* GPT-2's encoder.py: repeatedly merge every occurrence (left to right) of
 * the lowest-ranked pair. heft's scan and heap paths must agree with it. */
static size_t reference_bpe(const struct bpe *m, const unsigned char *w, size_t n, uint32_t *out)
{
    size_t k = n;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)m->byte_id[w[i]];
    for (;;) {
        uint64_t best = UINT64_MAX;
        for (size_t i = 0; i + 1 < k; i++) {
            const uint64_t *v = u64map_get(&m->merges, (uint64_t)out[i] << 32 | out[i + 1]);
            if (v && *v < best)
                best = *v;
        }
        if (best == UINT64_MAX)
            return k;
        size_t o = 0;
        for (size_t i = 0; i < k;) {
            const uint64_t *v = i + 1 < k ? u64map_get(&m->merges, (uint64_t)out[i] << 32 |
                                                                        out[i + 1])
                                          : NULL;
            if (v && *v == best) {
                out[o++] = (uint32_t)best;
                i += 2;
            } else {
                out[o++] = out[i++];
            }
        }
        k = o;
    }
}

START_TEST(test_encoder_matches_gpt2_algorithm)
{
    /* Long words of three letters (no spaces: each text is one piece), so
     * merges chain deeply and words exceed the scan/heap threshold. */
    uint64_t s = 12345;
    enum { N = 20000 };
    char *text = malloc(N);
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int r = (int)(s >> 60);
        text[i] = r < 8 ? 'a' : r < 13 ? 'b' : 'c';
        if (i % 97 == 96)
            text[i] = '\n';
    }
    struct bpe m;
    struct bpe_train_result res;
    char in[1024];
    tpath(in, sizeof in, dir, "abc.txt");
    write_bytes(in, text, N);
    const char *inputs[1] = {in};
    struct bpe_train_options o = {inputs, 1, 400, 2, 1, NULL, NULL};
    struct herr err;
    ck_assert_msg(bpe_train(&o, &m, &res, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(res.vocab_size, 400);
    struct bpe_scratch sc = {0};
    uint32_t got[400], want[400];
    for (size_t len = 1; len <= 300; len += (len < 60 ? 1 : 13)) {
        for (size_t start = 0; start + len < N; start += 1777) {
            const unsigned char *w = (const unsigned char *)text + start;
            if (memchr(w, '\n', len))
                continue;
            size_t bad;
            long k = bpe_encode_word(&m, w, len, &sc, got, &bad);
            size_t kw = reference_bpe(&m, w, len, want);
            ck_assert_int_eq(k, (long)kw);
            for (size_t i = 0; i < kw; i++)
                ck_assert_uint_eq(got[i], want[i]);
        }
    }
    bpe_scratch_free(&sc);
    bpe_free(&m);
    free(text);
}
END_TEST

/* ---- round trips and threads ------------------------------------------------------------- */

START_TEST(test_roundtrip_corpus)
{
    size_t n;
    char *text = corpus(&n);
    /* Bytes that are not UTF-8 too: they are pieces of their own. */
    char *mixed = malloc(n + 8);
    memcpy(mixed, text, n);
    memcpy(mixed + n, "\xff\xc3(\xed\xa0\x80z", 7);
    const size_t nm = n + 7;
    struct tokenizer *t = trained(text, n, 600, 2, "rt.json", NULL);
    struct id_buf ids = {0};
    encode_all(t, mixed, nm, &ids);
    ck_assert_uint_lt(ids.n, nm * 3 / 4); /* it compresses */
    char *back;
    size_t blen;
    struct herr err;
    ck_assert_int_eq(tokenizer_decode(t, ids.ids, ids.n, &back, &blen, &err), 0);
    ck_assert_uint_eq(blen, nm);
    ck_assert_int_eq(memcmp(back, mixed, nm), 0);
    free(back);
    /* Decoding an id outside the vocabulary is an error. */
    uint32_t big = 600;
    ck_assert_int_eq(tokenizer_decode(t, &big, 1, &back, &blen, &err), -1);
    ck_assert_msg_has(err.msg, "600", "outside");
    id_buf_free(&ids);
    tokenizer_free(t);
    free(mixed);
    free(text);
}
END_TEST

/* One long document (cut into spans) and many short ones: the same ids on 1
 * and 4 threads, EOT before each document. */
START_TEST(test_threads_same_ids)
{
    size_t n;
    char *text = corpus(&n);
    struct tokenizer *t = trained(text, n, 500, 2, "th.json", NULL);
    size_t big = 0, cap = 1200 * n;
    char *doc = malloc(cap);
    for (int k = 0; big + n + 1 < cap; k++) {
        memcpy(doc + big, text, n);
        big += n;
        doc[big++] = k % 2 ? '\n' : ' ';
    }
    struct doc_span docs[3] = {{0, 100}, {100, big - 200}, {big - 100, 100}};
    struct id_buf one = {0}, four = {0};
    struct encode_pool *p1, *p4;
    struct herr err;
    ck_assert_int_eq(encode_pool_new(&p1, t, 1, &err), 0);
    ck_assert_int_eq(encode_pool_new(&p4, t, 4, &err), 0);
    ck_assert_int_eq(encode_pool_docs(p1, doc, docs, 3, 499, 0, &one, &err), 0);
    ck_assert_int_eq(encode_pool_docs(p4, doc, docs, 3, 499, 0, &four, &err), 0);
    ck_assert_uint_eq(one.n, four.n);
    ck_assert_int_eq(memcmp(one.ids, four.ids, one.n * sizeof *one.ids), 0);
    ck_assert_uint_eq(one.ids[0], 499);
    int eots = 0;
    for (size_t i = 0; i < one.n; i++)
        eots += one.ids[i] == 499;
    ck_assert_int_eq(eots, 3);
    id_buf_free(&one);
    id_buf_free(&four);
    encode_pool_free(p1);
    encode_pool_free(p4);
    tokenizer_free(t);
    free(doc);
    free(text);
}
END_TEST

/* ---- tokenizer.json variants and bad files ------------------------------------------------ */

/* A tokenizer.json with every byte, merges "a b" -> "ab", "ab c" -> "abc",
 * and the given pre-tokenizer JSON. */
static void write_json(const char *name, const char *pre, const char *model_extra,
                       const char *merges, int drop_byte)
{
    char path[1024];
    tpath(path, sizeof path, dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"added_tokens\": [{\"id\": 259, \"content\": \"<|endoftext|>\", "
               "\"special\": true}], \"normalizer\": null, \"pre_tokenizer\": %s, "
               "\"model\": {\"type\": \"BPE\"%s, \"vocab\": {", pre, model_extra);
    for (int b = 0; b < 256; b++) {
        if (b == drop_byte)
            continue;
        char s[8];
        s[byte_unicode_encode((const unsigned char *)&b, 1, s)] = '\0';
        fprintf(f, "\"%s%s\": %d, ", s[0] == '"' || s[0] == '\\' ? "\\" : "", s, b);
    }
    fprintf(f, "\"ab\": 256, \"abc\": 257, \"\xc4\xa0" "a\": 258, \"<|endoftext|>\": 259}%s}}",
            merges);
    fclose(f);
}

static const char *const bytelevel =
    "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";
static const char *const merges_ok = ", \"merges\": [\"a b\", [\"ab\", \"c\"], \"\xc4\xa0 a\"]";

static struct tokenizer *load_ok(const char *name)
{
    char path[1024];
    tpath(path, sizeof path, dir, name);
    struct tokenizer *t;
    struct herr err;
    ck_assert_msg(tokenizer_load(&t, path, &err) == 0, "%s", err.msg);
    return t;
}

static const char *load_fails(const char *name)
{
    static char msg[HERR_MSG_MAX];
    char path[1024];
    tpath(path, sizeof path, dir, name);
    struct tokenizer *t;
    struct herr err;
    ck_assert_int_eq(tokenizer_load(&t, path, &err), -1);
    snprintf(msg, sizeof msg, "%s", err.msg);
    return msg;
}

START_TEST(test_hf_json_variants)
{
    /* Both merge spellings. Pieces "abc", " ab"; in " ab" the pair (a, b) has
     * the lower rank, so Ġ stays alone: abc, Ġ, ab. */
    write_json("bl.json", bytelevel, "", merges_ok, -1);
    struct tokenizer *t = load_ok("bl.json");
    struct id_buf ids = {0};
    encode_all(t, "abc ab", 6, &ids);
    const uint32_t want[] = {257, ' ', 256};
    ck_assert_uint_eq(ids.n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(ids.ids[i], want[i]);
    tokenizer_free(t);
    /* add_prefix_space: "abc" is encoded as " abc": Ġ, abc. */
    write_json("ps.json", "{\"type\": \"ByteLevel\", \"add_prefix_space\": true}", "",
               merges_ok, -1);
    t = load_ok("ps.json");
    encode_all(t, "abc", 3, &ids);
    ck_assert_uint_eq(ids.n, 2);
    ck_assert_uint_eq(ids.ids[0], ' ');
    ck_assert_uint_eq(ids.ids[1], 257);
    tokenizer_free(t);
    /* LLaMA-3's shape: a Split regex, then ByteLevel without its own; and
     * ignore_merges: the piece " a" is the token Ġa although no merge makes it. */
    write_json("split.json",
               "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
               "{\"Regex\": \"[a-c]+| [a-c]+|[^a-c ]+| \"}, \"behavior\": \"Isolated\", "
               "\"invert\": false}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}",
               ", \"ignore_merges\": true", ", \"merges\": [\"a b\", \"ab c\"]", -1);
    t = load_ok("split.json");
    encode_all(t, "abcxx a", 7, &ids);
    const uint32_t want2[] = {257, 'x', 'x', 258};
    ck_assert_uint_eq(ids.n, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(ids.ids[i], want2[i]);
    id_buf_free(&ids);
    tokenizer_free(t);
}
END_TEST

START_TEST(test_bad_tokenizer_files)
{
    write_json("wp.json", bytelevel, "", merges_ok, -1);
    char path[1024];
    tpath(path, sizeof path, dir, "wp.json");
    size_t n;
    char *j = (char *)read_bytes(path, &n);
    j[n] = '\0';
    char *bpe = strstr(j, "\"BPE\"");
    memcpy(bpe, "\"WPC\"", 5);
    write_text(path, j);
    ck_assert_msg_has(load_fails("wp.json"), "wp.json", "unsupported model type 'WPC'");
    free(j);

    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}}}");
    ck_assert_msg_has(load_fails("wp.json"), "wp.json", "line 1");

    write_json("nomerges.json", bytelevel, "", "", -1);
    ck_assert_msg_has(load_fails("nomerges.json"), "nomerges.json", "no 'merges'");

    write_json("badmerge.json", bytelevel, "", ", \"merges\": [\"a zz\"]", -1);
    ck_assert_msg_has(load_fails("badmerge.json"), "merges[0]", "'zz' is not in the vocabulary");

    write_json("badmerge2.json", bytelevel, "", ", \"merges\": [\"b c\"]", -1);
    ck_assert_msg_has(load_fails("badmerge2.json"), "merges[0]", "not in the vocabulary");

    write_json("meta.json", "{\"type\": \"Metaspace\"}", "", merges_ok, -1);
    ck_assert_msg_has(load_fails("meta.json"), "pre_tokenizer 'Metaspace'", "not supported");

    write_json("bf.json", bytelevel, ", \"byte_fallback\": true", merges_ok, -1);
    ck_assert_msg_has(load_fails("bf.json"), "byte_fallback", "SentencePiece");

    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\xe2\x82\xac\": 0}, "
                     "\"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
    ck_assert_msg_has(load_fails("wp.json"), "U+20AC", "not a byte-level");

    ck_assert_msg_has(load_fails("missing.json"), "missing.json");
    ck_assert_msg_has(load_fails("x.model"), "x.model");

    /* A vocabulary without the byte 'z': text with a 'z' cannot be encoded. */
    write_json("noz.json", bytelevel, "", merges_ok, 'z');
    struct tokenizer *t = load_ok("noz.json");
    struct tok_encoder *e;
    struct herr err;
    struct id_buf ids = {0};
    ck_assert_int_eq(tok_encoder_new(&e, t, &err), 0);
    ck_assert_int_eq(tok_encode(e, "ab c lazy", 9, &ids, &err), -1);
    ck_assert_msg_has(err.msg, "0x7a", "offset 7", "cannot encode");
    tok_encoder_free(e);
    ck_assert_int_eq(tokenizer_eot(t, "<nope>", &err), -1);
    ck_assert_msg_has(err.msg, "no token '<nope>'");
    id_buf_free(&ids);
    tokenizer_free(t);
}
END_TEST

/* A regex whose pieces start at newlines: every cut falls inside a piece, so
 * documents are encoded whole again, and the ids still match one thread's. */
START_TEST(test_threads_cut_inside_piece)
{
    write_json("nl.json",
               "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
               "{\"Regex\": \"\\\\n[^\\\\n]*|[^\\\\n]+\"}, \"behavior\": \"Isolated\"}, "
               "{\"type\": \"ByteLevel\", \"use_regex\": false}]}",
               "", merges_ok, -1);
    struct tokenizer *t = load_ok("nl.json");
    ck_assert(tokenizer_can_split(t));
    size_t n = 3u << 20;
    char *doc = malloc(n);
    for (size_t i = 0; i < n; i++)
        doc[i] = i % 41 == 40 ? '\n' : "abcab xy"[i % 8];
    struct doc_span d = {0, n};
    struct id_buf one = {0}, four = {0};
    struct encode_pool *p1, *p4;
    struct herr err;
    ck_assert_int_eq(encode_pool_new(&p1, t, 1, &err), 0);
    ck_assert_int_eq(encode_pool_new(&p4, t, 4, &err), 0);
    ck_assert_int_eq(encode_pool_docs(p1, doc, &d, 1, -1, 0, &one, &err), 0);
    ck_assert_int_eq(encode_pool_docs(p4, doc, &d, 1, -1, 0, &four, &err), 0);
    ck_assert_uint_eq(one.n, four.n);
    ck_assert_int_eq(memcmp(one.ids, four.ids, one.n * sizeof *one.ids), 0);
    id_buf_free(&one);
    id_buf_free(&four);
    encode_pool_free(p1);
    encode_pool_free(p4);
    tokenizer_free(t);
    free(doc);
}
END_TEST

/* A vocabulary beyond 65536 ids: heft prepare writes 32-bit shards, and the
 * dataset reads the big ids back. */
START_TEST(test_prepare_32bit_vocabulary)
{
    char path[1024], in[1024], out[1024];
    tpath(path, sizeof path, dir, "big.json");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"added_tokens\": [{\"id\": 70001, \"content\": \"<|endoftext|>\", "
               "\"special\": true}], \"pre_tokenizer\": %s, \"model\": {\"type\": \"BPE\", "
               "\"vocab\": {", bytelevel);
    for (int b = 0; b < 256; b++) {
        char t[8];
        t[byte_unicode_encode((const unsigned char *)&b, 1, t)] = '\0';
        fprintf(f, "\"%s%s\": %d, ", t[0] == '"' || t[0] == '\\' ? "\\" : "", t, b);
    }
    fprintf(f, "\"ab\": 70000, \"<|endoftext|>\": 70001}, \"merges\": [\"a b\"]}}");
    fclose(f);
    struct tokenizer *t = load_ok("big.json");
    ck_assert_int_eq(tokenizer_vocab_size(t), 70002);
    tpath(in, sizeof in, dir, "ab.txt");
    write_text(in, "ab ab abc ab");
    tpath(out, sizeof out, dir, "ds");
    struct prepare_input inputs[1] = {{"d", in}};
    struct herr err;
    struct prepare_options o = {inputs, 1, out, 0.0, DOC_SPLIT_FILE, 1000, 0, NULL, 0, t,
                                tokenizer_eot(t, NULL, &err), 2, NULL, NULL};
    ck_assert_int_eq(o.eot, 70001);
    struct prepare_summary *sum = malloc(sizeof *sum);
    ck_assert_msg(prepare_text_dataset(&o, sum, &err) == 0, "%s", err.msg);
    free(sum);
    struct dataset *ds;
    ck_assert_msg(dataset_open(&ds, out, 0, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(dataset_vocab_size(ds), 70002);
    const struct shard *sh = &dataset_shard_at(ds, 0)->shard;
    ck_assert_uint_eq(shard_id_bytes(sh), 4);
    /* EOT, ab, " ", ab, " ", ab, c, " ", ab */
    const uint32_t want[] = {70001, 70000, ' ', 70000, ' ', 70000, 'c', ' ', 70000};
    ck_assert_uint_eq(sh->n, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(shard_token(sh, i), want[i]);
    dataset_close(ds);
    tokenizer_free(t);
}
END_TEST

static Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("tokenizer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_byte_unicode);
    tcase_add_test(tc, test_utf8_stretches);
    tcase_add_test(tc, test_train_tiny_by_hand);
    tcase_add_test(tc, test_train_vocab_cap);
    tcase_add_test(tc, test_encoder_matches_gpt2_algorithm);
    tcase_add_test(tc, test_roundtrip_corpus);
    tcase_add_test(tc, test_threads_same_ids);
    tcase_add_test(tc, test_threads_cut_inside_piece);
    tcase_add_test(tc, test_hf_json_variants);
    tcase_add_test(tc, test_bad_tokenizer_files);
    tcase_add_test(tc, test_prepare_32bit_vocabulary);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(tokenizer_suite());
}
