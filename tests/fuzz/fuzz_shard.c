/* tests/fuzz/fuzz_shard.c — llm.c token shards (core/shard.h), 16- and
 * 32-bit: header, size, reads, the content scan and the vocabulary check, on
 * any bytes. */
#include "tests/fuzz/fuzz_util.h"

#include <string.h>

#include "core/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct shard sh;
    struct herr err;
    if (shard_open(&sh, path, &err) != 0)
        return 0;
    uint32_t buf[64], raw[64];
    size_t k = sh.n < 64 ? sh.n : 64;
    if (shard_read(&sh, 0, k, buf, &err) == 0 && sh.n > k)
        shard_read(&sh, sh.n - k, k, buf, &err);
    shard_read(&sh, sh.n, 1, buf, &err); /* past the end: refused */
    shard_read_raw(&sh, sh.n - k, k, raw, &err);
    if (shard_scan(&sh, &err) == 0) {
        int vocab = n > 0 ? 1 + data[0] * 257 : 50257;
        shard_check_vocab(&sh, vocab, &err);
    }
    shard_close(&sh);
    return 0;
}
