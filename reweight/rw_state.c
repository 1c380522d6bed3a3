/* reweight/rw_state.c — the reweighting state: RNG, checkpoint format.
 *
 * Serialized form, version 1, all integers little-endian whatever the host:
 *   offset  0  4 bytes  magic "HRWS"
 *   offset  4  u32      version (1)
 *   offset  8  u64      rng
 *   offset 16  u64      calls
 *   offset 24  u32      FNV-1a hash of bytes 0..23
 */
#include "reweight/rw_internal.h"

#include <string.h>

enum { STATE_VERSION = 1, HASHED_BYTES = 24 };
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
    s->rng = c->seed;
    s->calls = 0;
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
    put_le(buf + 24, fnv1a(buf, HASHED_BYTES), 4);
    return RW_STATE_SERIAL_SIZE;
}

int rw_state_deserialize(struct rw_state *s, const unsigned char *buf, size_t len, struct herr *err)
{
    if (buf == NULL || len < 8)
        return herr_set(err, "reweight state: buffer of %zu bytes is too short (a version-1 state has %d)",
                        buf ? len : 0, RW_STATE_SERIAL_SIZE);
    if (memcmp(buf, state_magic, sizeof state_magic) != 0)
        return herr_set(err, "reweight state: bad magic (expected \"HRWS\"): not a reweight state");
    uint32_t version = (uint32_t)get_le(buf + 4, 4);
    if (version != STATE_VERSION)
        return herr_set(err, "reweight state: format version %u, this build reads version %d",
                        (unsigned)version, STATE_VERSION);
    if (len != RW_STATE_SERIAL_SIZE)
        return herr_set(err, "reweight state: %zu bytes, version %d has exactly %d", len,
                        STATE_VERSION, RW_STATE_SERIAL_SIZE);
    uint32_t want = fnv1a(buf, HASHED_BYTES), got = (uint32_t)get_le(buf + 24, 4);
    if (want != got)
        return herr_set(err, "reweight state: checksum 0x%08x does not match its contents "
                        "(0x%08x): the checkpoint is corrupt", (unsigned)got, (unsigned)want);
    s->rng = get_le(buf + 8, 8);
    s->calls = get_le(buf + 16, 8);
    return 0;
}
