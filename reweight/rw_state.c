/* reweight/rw_state.c — the reweighting state: RNG, checkpoint format.
 *
 * Serialized form, version 3, all integers little-endian whatever the host:
 *   offset  0  4 bytes  magic "HRWS"
 *   offset  4  u32      version (3)
 *   offset  8  u64      rng
 *   offset 16  u64      calls
 *   offset 24  u64      domain_seen
 *   offset 32  u64      outlier_seen
 *   offset 40  64 x u64 domain_mean, the IEEE-754 bits of each double
 *   offset 552 64 x u64 outlier_share, likewise
 *   offset 1064 u64     learn_seen
 *   offset 1072 64 x u64 learn_fast, likewise
 *   offset 1584 64 x u64 learn_slow, likewise
 *   offset 2096 64 x u64 learn_share, likewise
 *   offset 2608 u32     FNV-1a hash of bytes 0..2607
 * Version 2 (heft before learnability) is the same up to offset 1064, where
 * its hash of bytes 0..1063 ends it (1068 bytes); it reads as no
 * learnability EMAs. Version 1 (before the per-domain state) ends at offset
 * 24 the same way (28 bytes); it reads as no domain means and no outlier
 * shares either.
 */
#include "reweight/rw_internal.h"

#include <string.h>

enum {
    STATE_VERSION = 3,
    MEANS_AT = 40,
    SHARES_AT = MEANS_AT + 8 * RW_MAX_DOMAINS,
    LEARN_SEEN_AT = SHARES_AT + 8 * RW_MAX_DOMAINS,
    LEARN_FAST_AT = LEARN_SEEN_AT + 8,
    LEARN_SLOW_AT = LEARN_FAST_AT + 8 * RW_MAX_DOMAINS,
    LEARN_SHARE_AT = LEARN_SLOW_AT + 8 * RW_MAX_DOMAINS,
    HASHED_BYTES = LEARN_SHARE_AT + 8 * RW_MAX_DOMAINS,
    V2_HASHED_BYTES = LEARN_SEEN_AT,
    V1_HASHED_BYTES = 24
};
static const unsigned char state_magic[4] = { 'H', 'R', 'W', 'S' };

_Static_assert(RW_STATE_SERIAL_SIZE == HASHED_BYTES + 4, "layout above and the size agree");

static void put_le(unsigned char *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* 32-bit FNV-1a: enough to catch a truncated or scribbled checkpoint field. */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

void rw_state_init(struct rw_state *s, const struct rw_config *c)
{
    memset(s, 0, sizeof *s);
    s->rng = c->seed;
}

static uint64_t double_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

double rw_rng_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

size_t rw_state_serialize(const struct rw_state *s, unsigned char *buf, size_t cap)
{
    if (buf == NULL || cap < RW_STATE_SERIAL_SIZE)
        return RW_STATE_SERIAL_SIZE;
    memcpy(buf, state_magic, sizeof state_magic);
    put_le(buf + 4, STATE_VERSION, 4);
    put_le(buf + 8, s->rng, 8);
    put_le(buf + 16, s->calls, 8);
    put_le(buf + 24, s->domain_seen, 8);
    put_le(buf + 32, s->outlier_seen, 8);
    for (int d = 0; d < RW_MAX_DOMAINS; d++) {
        put_le(buf + MEANS_AT + 8 * d, double_bits(s->domain_mean[d]), 8);
        put_le(buf + SHARES_AT + 8 * d, double_bits(s->outlier_share[d]), 8);
        put_le(buf + LEARN_FAST_AT + 8 * d, double_bits(s->learn_fast[d]), 8);
        put_le(buf + LEARN_SLOW_AT + 8 * d, double_bits(s->learn_slow[d]), 8);
        put_le(buf + LEARN_SHARE_AT + 8 * d, double_bits(s->learn_share[d]), 8);
    }
    put_le(buf + LEARN_SEEN_AT, s->learn_seen, 8);
    put_le(buf + HASHED_BYTES, fnv1a(buf, HASHED_BYTES), 4);
    return RW_STATE_SERIAL_SIZE;
}

int rw_state_deserialize(struct rw_state *s, const unsigned char *buf, size_t len, struct herr *err)
{
    if (buf == NULL || len < 8)
        return herr_set(err, "reweight state: buffer of %zu bytes is too short (a version-%d "
                        "state has %d)", buf ? len : 0, STATE_VERSION, RW_STATE_SERIAL_SIZE);
    if (memcmp(buf, state_magic, sizeof state_magic) != 0)
        return herr_set(err, "reweight state: bad magic (expected \"HRWS\"): not a reweight state");
    uint32_t version = (uint32_t)get_le(buf + 4, 4);
    if (version < 1 || version > STATE_VERSION)
        return herr_set(err, "reweight state: format version %u, this build reads versions 1 "
                        "to %d", (unsigned)version, STATE_VERSION);
    size_t hashed = version == 1 ? V1_HASHED_BYTES
                    : version == 2 ? V2_HASHED_BYTES : HASHED_BYTES;
    if (len != hashed + 4)
        return herr_set(err, "reweight state: %zu bytes, version %u has exactly %zu", len,
                        (unsigned)version, hashed + 4);
    uint32_t want = fnv1a(buf, hashed), got = (uint32_t)get_le(buf + hashed, 4);
    if (want != got)
        return herr_set(err, "reweight state: checksum 0x%08x does not match its contents "
                        "(0x%08x): the checkpoint is corrupt", (unsigned)got, (unsigned)want);
    struct rw_state t;
    memset(&t, 0, sizeof t);
    t.rng = get_le(buf + 8, 8);
    t.calls = get_le(buf + 16, 8);
    if (version >= 2) {
        t.domain_seen = get_le(buf + 24, 8);
        t.outlier_seen = get_le(buf + 32, 8);
        for (int d = 0; d < RW_MAX_DOMAINS; d++) {
            t.domain_mean[d] = bits_double(get_le(buf + MEANS_AT + 8 * d, 8));
            t.outlier_share[d] = bits_double(get_le(buf + SHARES_AT + 8 * d, 8));
        }
    }
    if (version >= 3) {
        t.learn_seen = get_le(buf + LEARN_SEEN_AT, 8);
        for (int d = 0; d < RW_MAX_DOMAINS; d++) {
            t.learn_fast[d] = bits_double(get_le(buf + LEARN_FAST_AT + 8 * d, 8));
            t.learn_slow[d] = bits_double(get_le(buf + LEARN_SLOW_AT + 8 * d, 8));
            t.learn_share[d] = bits_double(get_le(buf + LEARN_SHARE_AT + 8 * d, 8));
        }
    }
    *s = t;
    return 0;
}
