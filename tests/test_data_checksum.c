/* tests/test_data_checksum.c — CRC-32, FNV-1a and the deterministic PRNG. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/prng.h"
#include "tests/test_data_util.h"

/* The textbook bit-at-a-time CRC-32, written independently of the table code. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

START_TEST(test_crc32_check_value)
{
    /* The CRC catalogue's check value for CRC-32/ISO-HDLC. */
    ck_assert_uint_eq(crc32_of("123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(crc32_of("", 0), 0u);
}
END_TEST

START_TEST(test_crc32_matches_bitwise)
{
    struct crc32_table tab;
    crc32_table_init(&tab);
    struct prng g;
    prng_seed(&g, 42);
    unsigned char buf[1100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)prng_next(&g);
    /* All lengths 0..80 at every alignment 0..7, then long ones. */
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 80; n++)
            ck_assert_uint_eq(crc32_update(&tab, 0, buf + off, n), crc32_bitwise(buf + off, n));
    ck_assert_uint_eq(crc32_update(&tab, 0, buf, 1100), crc32_bitwise(buf, 1100));
}
END_TEST

START_TEST(test_crc32_incremental)
{
    struct crc32_table tab;
    crc32_table_init(&tab);
    unsigned char buf[777];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    uint32_t whole = crc32_update(&tab, 0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 13) {
        uint32_t c = crc32_update(&tab, 0, buf, cut);
        c = crc32_update(&tab, c, buf + cut, sizeof buf - cut);
        ck_assert_uint_eq(c, whole);
    }
    /* A single flipped bit changes it. */
    buf[400] ^= 0x10;
    ck_assert_uint_ne(crc32_update(&tab, 0, buf, sizeof buf), whole);
}
END_TEST

START_TEST(test_fnv1a64_vectors)
{
    /* Reference values of FNV-1a 64 (Fowler/Noll/Vo test suite). */
    ck_assert_uint_eq(fnv1a64_update(FNV1A64_INIT, "", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(fnv1a64_update(FNV1A64_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(fnv1a64_update(FNV1A64_INIT, "foobar", 6), 0x85944171f73967e8ULL);
    /* Strings hash with their terminator, so the split point matters. */
    uint64_t a = fnv1a64_str(fnv1a64_str(FNV1A64_INIT, "ab"), "c");
    uint64_t b = fnv1a64_str(fnv1a64_str(FNV1A64_INIT, "a"), "bc");
    ck_assert_uint_ne(a, b);
}
END_TEST

START_TEST(test_splitmix64_vector)
{
    /* First outputs of splitmix64 from state 0 (Vigna's reference code). */
    uint64_t s = 0;
    ck_assert_uint_eq(splitmix64_next(&s), 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(splitmix64_next(&s), 0x6e789e6aa1b965f4ULL);
}
END_TEST

START_TEST(test_prng_below_range_and_spread)
{
    struct prng g;
    prng_seed(&g, 7);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = prng_below(&g, 7);
        ck_assert_uint_lt(v, 7);
        counts[v]++;
    }
    /* Expected 10000 each; 5 sigma is about 450. */
    for (int k = 0; k < 7; k++)
        ck_assert_msg(counts[k] > 9500 && counts[k] < 10500, "bucket %d: %d", k, counts[k]);
    ck_assert_uint_eq(prng_below(&g, 1), 0);
}
END_TEST

START_TEST(test_prng_deterministic)
{
    struct prng a, b, c;
    prng_seed(&a, 123);
    prng_seed(&b, 123);
    prng_seed(&c, 124);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = prng_next(&a);
        ck_assert_uint_eq(x, prng_next(&b));
        differ += x != prng_next(&c);
    }
    ck_assert_int_gt(differ, 95);
    ck_assert_uint_ne(prng_mix(1, 2), prng_mix(2, 1));
}
END_TEST

START_TEST(test_xxh64_vectors)
{
    /* the vectors of xxHash's ports (cespare/xxhash): 63 bytes reach every path */
    static const struct { const char *in; uint64_t want; } v[] = {
        { "", 0xef46db3751d8e999ULL },     { "a", 0xd24ec4f1a98c6e5bULL },
        { "as", 0x1c330fb2d66be179ULL },   { "asd", 0x631c37ce72a97393ULL },
        { "asdf", 0x415872f599cea71eULL },
        { "Call me Ishmael. Some years ago--never mind how long precisely-",
          0x02a2e85470d6fd96ULL },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].in);
        ck_assert_uint_eq(xxh64_of(v[i].in, n), v[i].want);
        /* streamed in every chunk size: the same digest */
        for (size_t chunk = 1; chunk <= n; chunk++) {
            struct xxh64 s;
            xxh64_init(&s);
            for (size_t at = 0; at < n; at += chunk)
                xxh64_update(&s, v[i].in + at, n - at < chunk ? n - at : chunk);
            ck_assert_uint_eq(xxh64_digest(&s), v[i].want);
        }
    }
}
END_TEST

static Suite *checksum_suite(void)
{
    Suite *s = suite_create("data_checksum");
    TCase *tc = tcase_create("checksum");
    tcase_add_test(tc, test_crc32_check_value);
    tcase_add_test(tc, test_crc32_matches_bitwise);
    tcase_add_test(tc, test_crc32_incremental);
    tcase_add_test(tc, test_fnv1a64_vectors);
    tcase_add_test(tc, test_xxh64_vectors);
    tcase_add_test(tc, test_splitmix64_vector);
    tcase_add_test(tc, test_prng_below_range_and_spread);
    tcase_add_test(tc, test_prng_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(checksum_suite());
}
