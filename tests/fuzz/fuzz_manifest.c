/* tests/fuzz/fuzz_manifest.c — dataset.txt (core/manifest.h): parse any text,
 * and write back what was accepted and parse it again. */
#include "tests/fuzz/fuzz_util.h"

#include <string.h>

#include "core/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *text = fuzz_text(data, n);
    struct manifest m;
    struct herr err;
    if (manifest_parse(&m, text, "fuzz/dataset.txt", &err) == 0) {
        /* what parsed must satisfy the documented bounds */
        if (m.vocab_size < 1 || m.vocab_size > MANIFEST_MAX_VOCAB || m.eot < 0 ||
            m.eot >= m.vocab_size)
            abort();
        for (int i = 0; i < m.nshards; i++)
            if (manifest_check_domain(m.shards[i].domain, &err) != 0 || !m.shards[i].file)
                abort();
        manifest_free(&m);
    }
    free(text);
    return 0;
}
