/* core/train_agree.c — the start-up check that every rank trains the same
 * thing: same settings, same data.
 *
 * Each rank describes its run as a list of items (label, value): one per
 * setting that defines the computation, and the data's vocabulary, domains
 * and shards (name, size, a hash of every token). The ranks
 * exchange a hash per item, find the first item in which some rank differs
 * from rank 0, and exchange that item's value text, so the message names the
 * setting or shard and both values. Two small collectives, whatever the
 * number of items. */
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/train_internal.h"

/* Settings that may differ between ranks: where rank 0 writes, how each rank
 * runs (a node may have another device or core count), and where the data
 * and the initial model are mounted (the data's contents and the model's
 * shape are compared below; rank 0 sends the initial parameters). */
static const char *const per_rank[] = {
    "out", "resume", "trace", "threads", "device", "quiet", "data", "init-from", "recompute",
    "attn-chunk", "attn-heads", "ref-losses", NULL,
};

enum { LABEL_MAX = 96, VALUE_MAX = 768 };

struct item {
    char label[LABEL_MAX];
    char value[VALUE_MAX];
};

struct items {
    struct item *v;
    int n, cap;
};

static struct item *add(struct items *l)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        struct item *p = realloc(l->v, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        l->v = p;
        l->cap = cap;
    }
    struct item *it = &l->v[l->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static int is_per_rank(const char *name)
{
    for (int i = 0; per_rank[i]; i++)
        if (!strcmp(per_rank[i], name))
            return 1;
    return 0;
}

/* The shortest text that reads back as v (0.4, not 0.40000000000000002):
 * the items compare as text, and people read the message. */
static void shortest_double(double v, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static int describe_settings(const struct trainer *t, struct items *l)
{
    for (const struct opt_spec *s = train_options(); s->name; s++) {
        if (s->help && !strcmp(s->name, "init-from")) {
            /* where the file is may differ, whether there is one may not: rank 0
             * sends its parameters, so a rank's file would be ignored */
            struct item *it = add(l);
            if (!it)
                return -1;
            snprintf(it->label, sizeof it->label, "--init-from");
            snprintf(it->value, sizeof it->value, "%s",
                     t->cfg.init_from[0] ? "(a model file)" : "(not given: random weights)");
            continue;
        }
        if (!s->help || is_per_rank(s->name))
            continue;
        struct item *it = add(l);
        if (!it)
            return -1;
        snprintf(it->label, sizeof it->label, "--%s", s->name);
        opts_format_value(s, &t->cfg, it->value, sizeof it->value);
        if (s->type == OPT_DOUBLE)
            shortest_double(*(const double *)((const char *)&t->cfg + s->offset), it->value,
                            sizeof it->value);
    }
    /* the shape, which --init-from's file header may set (the last item) */
    struct item *it = add(l);
    if (!it)
        return -1;
    char shape[200];
    model_config_describe(&t->model.config, shape, sizeof shape);
    snprintf(it->label, sizeof it->label, "the model");
    snprintf(it->value, sizeof it->value, "%s %s", t->model.family, shape);
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The same things dataset_fingerprint() hashes, one item each. */
static int describe_data(const struct trainer *t, struct items *l)
{
    const struct dataset *ds = t->ds;
    struct item *it = add(l);
    if (!it)
        return -1;
    snprintf(it->label, sizeof it->label, "the vocabulary");
    snprintf(it->value, sizeof it->value, "%d tokens, end-of-text %d", dataset_vocab_size(ds),
             dataset_eot(ds));
    if (!(it = add(l)))
        return -1;
    snprintf(it->label, sizeof it->label, "the number of domains");
    snprintf(it->value, sizeof it->value, "%d", dataset_num_domains(ds));
    for (int d = 0; d < dataset_num_domains(ds); d++) {
        if (!(it = add(l)))
            return -1;
        snprintf(it->label, sizeof it->label, "domain %d", d);
        snprintf(it->value, sizeof it->value, "'%s'", dataset_domain_name(ds, d));
    }
    if (!(it = add(l)))
        return -1;
    snprintf(it->label, sizeof it->label, "the number of shards");
    snprintf(it->value, sizeof it->value, "%d", dataset_num_shards(ds));
    for (int i = 0; i < dataset_num_shards(ds); i++) {
        const struct dataset_shard *s = dataset_shard_at(ds, i);
        if (!(it = add(l)))
            return -1;
        snprintf(it->label, sizeof it->label, "shard %d", i);
        snprintf(it->value, sizeof it->value, "%.300s (%s, domain '%.64s'): %zu tokens, content "
                                              "hash %016llx",
                 base_name(s->shard.path), s->split == DATA_TRAIN ? "train" : "val",
                 dataset_domain_name(ds, s->domain), s->shard.n,
                 (unsigned long long)s->shard.hash);
    }
    /* --ref-losses is mounted per rank; what it holds must agree */
    if (t->ref) {
        if (!(it = add(l)))
            return -1;
        snprintf(it->label, sizeof it->label, "the reference losses (--ref-losses)");
        snprintf(it->value, sizeof it->value, "%llu windows, checksum %016llx",
                 (unsigned long long)t->ref->count, (unsigned long long)t->ref->checksum);
    }
    return 0;
}

/* Finds the first item in which some rank differs from rank 0: *item = -1
 * when all agree; else the item index (on this rank's list, which matches
 * rank 0's up to it) and the first rank that differs, with both values. */
static int first_difference(struct trainer *t, const struct items *l, int *item, int *rank,
                            char *mine0, char *theirs, struct herr *err)
{
    const int W = t->world;
    int32_t n = l->n, *counts = calloc((size_t)W, sizeof *counts);
    if (!counts)
        return herr_set(err, "out of memory");
    int rc = comm_allgather_i32(t->comm, &n, 1, counts, err);
    int max_n = 0;
    for (int r = 0; r < W; r++)
        if (counts[r] > max_n)
            max_n = counts[r];
    /* an item a rank does not have hashes as 0 */
    uint64_t *hash = calloc((size_t)max_n * (W + 1), sizeof *hash);
    char *values = calloc((size_t)W, VALUE_MAX);
    if (!hash || !values) {
        free(counts);
        free(hash);
        free(values);
        return herr_set(err, "out of memory");
    }
    uint64_t *all = hash + max_n;
    for (int i = 0; i < l->n; i++)
        hash[i] = fnv1a64_str(fnv1a64_str(FNV1A64_INIT, l->v[i].label), l->v[i].value);
    if (rc == 0)
        rc = comm_allgather_bytes(t->comm, hash, (size_t)max_n * sizeof *hash, all, err);
    *item = -1;
    for (int i = 0; rc == 0 && i < max_n && *item < 0; i++)
        for (int r = 1; r < W; r++)
            if (all[(size_t)r * max_n + i] != all[i]) {
                *item = i;
                *rank = r;
                break;
            }
    if (rc == 0 && *item >= 0) {
        char v[VALUE_MAX];
        snprintf(v, sizeof v, "%s", *item < l->n ? l->v[*item].value : "(missing)");
        rc = comm_allgather_bytes(t->comm, v, VALUE_MAX, values, err);
        if (rc == 0) {
            snprintf(mine0, VALUE_MAX, "%s", values);
            snprintf(theirs, VALUE_MAX, "%s", values + (size_t)*rank * VALUE_MAX);
        }
    }
    free(counts);
    free(hash);
    free(values);
    return rc;
}

int trainer_check_ranks_agree(struct trainer *t, struct herr *err)
{
    if (t->world == 1)
        return 0;
    struct items settings = { 0 }, data = { 0 };
    char v0[VALUE_MAX], vr[VALUE_MAX];
    int item = -1, rank = 0, rc = 0;
    if (describe_settings(t, &settings) || describe_data(t, &data))
        rc = herr_set(err, "out of memory describing the run");
    if (rc == 0)
        rc = first_difference(t, &settings, &item, &rank, v0, vr, err);
    if (rc == 0 && item >= 0 && item == settings.n - 1)
        rc = herr_set(err, "rank %d builds the model %s but rank 0 %s (check --init-from on "
                           "every rank: the model files differ)", rank, vr, v0);
    else if (rc == 0 && item >= 0) {
        const char *name = settings.v[item].label;
        rc = herr_set(err, "rank %d was started with %s %s but rank 0 with %s %s (every rank "
                           "must get the same flags and config file)",
                      rank, name, vr, name, v0);
    }
    if (rc == 0)
        rc = first_difference(t, &data, &item, &rank, v0, vr, err);
    if (rc == 0 && item >= 0) {
        const char *label = item < data.n ? data.v[item].label : "an item";
        rc = herr_set(err, "rank %d sees different data than rank 0: %s is %s on rank %d but "
                           "%s on rank 0 (check --data on every rank: the datasets differ "
                           "between the ranks' file systems)",
                      rank, label, vr, rank, v0);
    }
    free(settings.v);
    free(data.v);
    return rc;
}
