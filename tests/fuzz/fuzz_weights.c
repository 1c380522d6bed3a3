/* tests/fuzz/fuzz_weights.c — `heft weights` input (tools/cmd_weights.c):
 * LOSS [NTOKENS [DOMAIN]] lines, and the weights of whatever was accepted,
 * under the strategy and outlier cut the first input byte picks. The front
 * end's functions are static, so its file is compiled in here; its messages
 * for refused input go to stderr, which run.sh closes (-close_fd_mask=2:
 * libFuzzer's own reports stay visible). */
#include "tests/fuzz/fuzz_util.h"

#include "tools/cmd_weights.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n == 0)
        return 0;
    static const char *const strategies[] = { "uniform", "linupper", "quadratic", "extremes",
                                              "linear", "infobatch", "topq", "dro" };
    struct rw_config cfg;
    struct herr err;
    rw_config_default(&cfg);
    if (rw_strategy_parse(strategies[data[0] % 8], &cfg.strategy, &err))
        abort();
    cfg.outlier_k = (data[0] & 8) ? 3.0 : 0.0;
    if (rw_config_validate(&cfg, &err))
        abort();
    FILE *in = fmemopen((void *)(data + 1), n - 1, "r");
    if (!in)
        return 0;
    struct samples s = { 0 };
    int rc = read_samples(in, "fuzz", &s);
    fclose(in);
    if (rc == 0 && s.n > 0) {
        double *w = malloc(((size_t)s.n + 1) * sizeof *w);
        struct rw_stats *st = malloc(sizeof *st);
        struct rw_state state;
        rw_state_init(&state, &cfg);
        if (w && st)
            rw_compute(&cfg, &state, data[0] >> 4, s.loss, s.ntokens,
                       s.num_domains ? s.domain : NULL, s.num_domains, s.n, w, st, &err);
        free(w);
        free(st);
    }
    free(s.loss);
    free(s.ntokens);
    free(s.domain);
    free(s.ref);
    return 0;
}
