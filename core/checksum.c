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
