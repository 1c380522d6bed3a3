/* reweight/rw_strategy.c — names of strategies and warm-up modes. */
#include "reweight/rw_internal.h"

#include <stdio.h>
#include <string.h>

/* Indexed by enum rw_strategy; one name, one meaning (METHOD.md: the published
 * code bases disagree on what "upper" means, so heft does not accept it). */
static const char *const strategy_names[RW_NUM_STRATEGIES] = {
    "uniform", "linupper", "quadratic", "extremes", "linear", "infobatch", "topq", "dro",
    "reducible", "learnability",
};

static const char *const warmup_mode_names[RW_NUM_WARMUP_MODES] = {
    "uniform", "r-step", "r-linear",
};

/* Finds name in a table of n names and stores its index in *out; otherwise fails
 * with a message that lists the valid names. */
static int parse_name(const char *what, const char *const *names, int n, const char *name,
                      int *out, struct herr *err)
{
    for (int i = 0; name != NULL && i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return herr_set(err, "unknown %s '%s' (valid: %s)", what, name ? name : "(none)", list);
}

int rw_strategy_parse(const char *name, enum rw_strategy *out, struct herr *err)
{
    if (name != NULL && strcmp(name, "upper") == 0)
        return herr_set(err, "reweighting strategy 'upper' is ambiguous (it means LinUpper in one "
                        "published code base and the linear map in the other): use 'linupper' "
                        "for min(h+1,1) or 'linear' for 0.5h+0.5");
    int i = 0; /* set by parse_name; initialized for -Wmaybe-uninitialized at -O3 */
    if (parse_name("reweighting strategy", strategy_names, RW_NUM_STRATEGIES, name, &i, err))
        return -1;
    *out = (enum rw_strategy)i;
    return 0;
}

const char *rw_strategy_name(enum rw_strategy s)
{
    return ((unsigned)s < RW_NUM_STRATEGIES) ? strategy_names[s] : "invalid";
}

int rw_warmup_mode_parse(const char *name, enum rw_warmup_mode *out, struct herr *err)
{
    int i = 0; /* set by parse_name; initialized for -Wmaybe-uninitialized at -O3 */
    if (parse_name("reweighting warm-up mode", warmup_mode_names, RW_NUM_WARMUP_MODES, name, &i, err))
        return -1;
    *out = (enum rw_warmup_mode)i;
    return 0;
}

const char *rw_warmup_mode_name(enum rw_warmup_mode m)
{
    return ((unsigned)m < RW_NUM_WARMUP_MODES) ? warmup_mode_names[m] : "invalid";
}

int rw_strategy_uses_r(enum rw_strategy s)
{
    return s == RW_LINUPPER || s == RW_QUADRATIC || s == RW_EXTREMES || s == RW_LINEAR ||
           s == RW_REDUCIBLE || s == RW_LEARNABILITY;
}
