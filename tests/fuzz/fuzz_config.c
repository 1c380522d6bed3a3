/* tests/fuzz/fuzz_config.c — config files (core/options.h): `name = value`
 * lines of heft train's settings, read as a file (regular, size-capped, NUL
 * bytes refused) and validated as a whole. */
#include "tests/fuzz/fuzz_util.h"

#include "core/train_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct train_config c;
    struct herr err;
    train_config_default(&c);
    if (opts_parse_file(train_options(), &c, path, &err) == 0) {
        train_config_validate(&c, &err);
        char buf[64 * 1024];
        /* what was accepted is written back and read again as a checkpoint does */
        if (opts_write_all(train_options(), &c, buf, sizeof buf) == 0) {
            struct train_config d;
            train_config_default(&d);
            if (opts_parse_text(train_options(), &d, buf, "written back", &err) != 0)
                abort();
        }
    }
    return 0;
}
