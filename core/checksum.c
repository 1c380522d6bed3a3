/* core/checksum.c — see checksum.h. */
#include "core/checksum.h"

#include <string.h>

#define CRC32_POLY_REFLECTED 0xEDB88320u

void crc32_table_init(struct crc32_table *tab)
{
    /* t[0][b]: the CRC register after shifting byte b through 8 bit steps. */
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
        tab->t[0][b] = c;
    }
    /* t[s][b]: the same byte followed by s zero bytes, so 8 table lookups can
     * process 8 input bytes independently and be XOR-ed together. */
    for (int s = 1; s < 8; s++)
        for (int b = 0; b < 256; b++) {
            uint32_t prev = tab->t[s - 1][b];
            tab->t[s][b] = (prev >> 8) ^ tab->t[0][prev & 0xffu];
        }
}

uint32_t crc32_update(const struct crc32_table *tab, uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); /* little-endian host (see fileio.h) */
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = tab->t[7][lo & 0xffu] ^ tab->t[6][(lo >> 8) & 0xffu] ^
            tab->t[5][(lo >> 16) & 0xffu] ^ tab->t[4][lo >> 24] ^
            tab->t[3][hi & 0xffu] ^ tab->t[2][(hi >> 8) & 0xffu] ^
            tab->t[1][(hi >> 16) & 0xffu] ^ tab->t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        c = (c >> 8) ^ tab->t[0][(c ^ *p++) & 0xffu];
    return ~c;
}

uint32_t crc32_of(const void *data, size_t n)
{
    struct crc32_table tab;
    crc32_table_init(&tab);
    return crc32_update(&tab, 0, data, n);
}

#define FNV1A64_PRIME 0x100000001b3ULL

uint64_t fnv1a64_update(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

uint64_t fnv1a64_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return fnv1a64_update(h, b, 8);
}

uint64_t fnv1a64_str(uint64_t h, const char *s)
{
    return fnv1a64_update(h, s, strlen(s) + 1);
}

/* ---- XXH64 (the xxHash specification, seed 0) ---------------------------- */

#define XP1 0x9E3779B185EBCA87ULL
#define XP2 0xC2B2AE3D27D4EB4FULL
#define XP3 0x165667B19E3779F9ULL
#define XP4 0x85EBCA77C2B2AE63ULL
#define XP5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian host (core/fileio.h) */
    return v;
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t xround(uint64_t acc, uint64_t in)
{
    acc += in * XP2;
    return rotl64(acc, 31) * XP1;
}

static uint64_t xmerge(uint64_t acc, uint64_t v)
{
    acc ^= xround(0, v);
    return acc * XP1 + XP4;
}

void xxh64_init(struct xxh64 *s)
{
    s->v[0] = XP1 + XP2;
    s->v[1] = XP2;
    s->v[2] = 0;
    s->v[3] = 0 - XP1;
    s->total = 0;
    s->buffered = 0;
}

static void stripes(uint64_t v[4], const unsigned char *p, size_t n)
{
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    for (; n >= 32; p += 32, n -= 32) {
        a = xround(a, rd64(p));
        b = xround(b, rd64(p + 8));
        c = xround(c, rd64(p + 16));
        d = xround(d, rd64(p + 24));
    }
    v[0] = a;
    v[1] = b;
    v[2] = c;
    v[3] = d;
}

void xxh64_update(struct xxh64 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->buffered) {
        size_t take = 32 - s->buffered < n ? 32 - s->buffered : n;
        memcpy(s->buf + s->buffered, p, take);
        s->buffered += take;
        p += take;
        n -= take;
        if (s->buffered < 32)
            return;
        stripes(s->v, s->buf, 32);
        s->buffered = 0;
    }
    size_t whole = n / 32 * 32;
    stripes(s->v, p, whole);
    p += whole;
    n -= whole;
    memcpy(s->buf, p, n);
    s->buffered = n;
}

uint64_t xxh64_digest(const struct xxh64 *s)
{
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = xmerge(h, s->v[i]);
    } else {
        h = s->v[2] + XP5; /* the seed */
    }
    h += s->total;
    const unsigned char *p = s->buf;
    size_t n = s->buffered;
    for (; n >= 8; p += 8, n -= 8)
        h = rotl64(h ^ xround(0, rd64(p)), 27) * XP1 + XP4;
    if (n >= 4) {
        h = rotl64(h ^ (uint64_t)rd32(p) * XP1, 23) * XP2 + XP3;
        p += 4;
        n -= 4;
    }
    for (; n > 0; p++, n--)
        h = rotl64(h ^ (uint64_t)*p * XP5, 11) * XP1;
    h ^= h >> 33;
    h *= XP2;
    h ^= h >> 29;
    h *= XP3;
    h ^= h >> 32;
    return h;
}

uint64_t xxh64_of(const void *data, size_t n)
{
    struct xxh64 s;
    xxh64_init(&s);
    xxh64_update(&s, data, n);
    return xxh64_digest(&s);
}
