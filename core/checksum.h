/* core/checksum.h — integrity checks for heft's files.
 *
 * CRC-32 (the IEEE 802.3 / zlib / PNG polynomial, reflected 0xEDB88320, initial
 * and final XOR 0xFFFFFFFF; crc32("123456789") = 0xCBF43926) guards checkpoint
 * sections. It is computed "slicing-by-8": eight 256-entry tables let the loop
 * consume 8 bytes per step (several GB/s), which matters when a checkpoint is
 * tens of GB. The tables are built at run time into a caller-owned struct
 * (8 KiB, microseconds), so there is no global state.
 *
 * FNV-1a 64 is a fast non-cryptographic hash for fingerprints (is this the
 * same dataset on every MPI rank? did the generator produce the same bytes?).
 *
 * XXH64 (Yann Collet's xxHash, 64-bit, seed 0; XXH64("") = 0xef46db3751d8e999)
 * hashes the whole content of token shards: 8 bytes per multiply chain, four
 * chains, so it runs at memory speed where byte-wise FNV would not. Streamed:
 * the digest of chunks fed one after another is that of their concatenation.
 */
#ifndef HEFT_CORE_CHECKSUM_H
#define HEFT_CORE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct crc32_table {
    uint32_t t[8][256];
};

void crc32_table_init(struct crc32_table *tab);

/* Continues a CRC over n more bytes. Start with crc = 0; the result after the
 * last chunk is the CRC of the concatenation (no separate finalization). */
uint32_t crc32_update(const struct crc32_table *tab, uint32_t crc, const void *data, size_t n);

/* CRC-32 of one buffer (builds a table on the stack: for one-off use). */
uint32_t crc32_of(const void *data, size_t n);

#define FNV1A64_INIT 0xcbf29ce484222325ULL

/* Continues an FNV-1a 64 hash; start with FNV1A64_INIT. */
uint64_t fnv1a64_update(uint64_t h, const void *data, size_t n);
/* Hashes a 64-bit integer as its 8 little-endian bytes. */
uint64_t fnv1a64_u64(uint64_t h, uint64_t v);
/* Hashes a NUL-terminated string including its terminator (so "ab","c" and
 * "a","bc" differ). */
uint64_t fnv1a64_str(uint64_t h, const char *s);

struct xxh64 {
    uint64_t v[4];
    uint64_t total;
    unsigned char buf[32];
    size_t buffered;
};

void xxh64_init(struct xxh64 *s);
void xxh64_update(struct xxh64 *s, const void *data, size_t n);
uint64_t xxh64_digest(const struct xxh64 *s);
/* XXH64 of one buffer. */
uint64_t xxh64_of(const void *data, size_t n);

#endif
