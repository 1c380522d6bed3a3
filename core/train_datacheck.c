/* core/train_datacheck.c — which data a checkpoint was trained on, shard by
 * shard, so that a resume on changed data names what changed.
 *
 * The checkpoint's meta holds the dataset fingerprint (core/dataset.h: every
 * token of every shard); its "data" section lists the shards:
 *     heft-data 1
 *     vocab 257 eot 256 domains 5
 *     shard <split> <domain> <tokens> <xxh64 of the tokens> <base name>
 * When the fingerprint differs on resume, the first shard whose entry differs
 * is named. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/train_internal.h"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* One shard's line (without the newline). */
static void shard_line(const struct dataset *ds, int i, char *out, size_t cap)
{
    const struct dataset_shard *s = dataset_shard_at(ds, i);
    snprintf(out, cap, "shard %s %s %zu %016" PRIx64 " %s",
             s->split == DATA_TRAIN ? "train" : "val", dataset_domain_name(ds, s->domain),
             s->shard.n, s->shard.hash, base_name(s->shard.path));
}

int trainer_data_record(const struct trainer *t, char **text, size_t *len, struct herr *err)
{
    const struct dataset *ds = t->ds;
    int n = dataset_num_shards(ds);
    size_t cap = 128 + (size_t)n * 4200;
    char *buf = malloc(cap);
    if (!buf)
        return herr_set(err, "out of memory recording the data's shards");
    size_t used = (size_t)snprintf(buf, cap, "heft-data 1\nvocab %d eot %d domains %d\n",
                                   dataset_vocab_size(ds), dataset_eot(ds),
                                   dataset_num_domains(ds));
    for (int i = 0; i < n; i++) {
        char line[4200];
        shard_line(ds, i, line, sizeof line);
        used += (size_t)snprintf(buf + used, cap - used, "%s\n", line);
    }
    *text = buf;
    *len = used;
    return 0;
}

int trainer_data_mismatch(const struct trainer *t, struct ckpt_reader *r, const char *path,
                          struct herr *err)
{
    const struct dataset *ds = t->ds;
    const char *data = t->cfg.data;
    char what[4600] = "";
    void *rec = NULL;
    size_t len = 0;
    struct herr ignore;
    if (ckpt_reader_has(r, "data") && ckpt_reader_read_alloc(r, "data", &rec, &len, &ignore) == 0) {
        /* the recorded lines against this run's, in order */
        char *line = rec, *next;
        int i = -2; /* two header lines, then shards */
        for (; line && *line; line = next, i++) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            if (i < 0)
                continue;
            if (i >= dataset_num_shards(ds)) {
                snprintf(what, sizeof what, ": the checkpoint's data has more shards (%.300s "
                         "is not in it now)", line);
                break;
            }
            char mine[4200];
            shard_line(ds, i, mine, sizeof mine);
            if (strcmp(line, mine) != 0) {
                char rs[8], rd[64], rh[24], rn[4200];
                size_t rt;
                const struct dataset_shard *s = dataset_shard_at(ds, i);
                if (sscanf(line, "shard %7s %63s %zu %23s %4199s", rs, rd, &rt, rh, rn) == 5 &&
                    !strcmp(rn, base_name(s->shard.path)) && rt == s->shard.n)
                    snprintf(what, sizeof what, ": shard %.300s has other content than when the "
                             "checkpoint was written (same %zu tokens; content hash %016" PRIx64
                             ", was %.20s)", s->shard.path, s->shard.n, s->shard.hash, rh);
                else if (rn[0] && !strcmp(rn, base_name(s->shard.path)))
                    snprintf(what, sizeof what, ": shard %.300s now has %zu tokens, %zu when the "
                             "checkpoint was written", s->shard.path, s->shard.n, rt);
                else
                    snprintf(what, sizeof what, ": shard %d is now %.300s, was %.300s", i,
                             mine, line);
                break;
            }
        }
        if (!what[0] && i < dataset_num_shards(ds))
            snprintf(what, sizeof what, ": %.300s now has more shards than the checkpoint's "
                     "data (%d, was %d)", data, dataset_num_shards(ds), i < 0 ? 0 : i);
        if (!what[0])
            snprintf(what, sizeof what, ": its vocabulary or domains differ");
    }
    free(rec);
    return herr_set(err, "checkpoint %s was trained on different data than %s now holds%s; "
                         "restore that data to resume, or start a new run (--out)",
                    path, data, what[0] ? what : " (its content or shard sizes changed)");
}

int trainer_data_verify(const struct trainer *t, struct ckpt_reader *r, struct herr *err)
{
    (void)t;
    if (!ckpt_reader_has(r, "data"))
        return 0; /* written before the section existed */
    void *rec = NULL;
    size_t len = 0;
    int rc = ckpt_reader_read_alloc(r, "data", &rec, &len, err); /* checks its CRC */
    free(rec);
    return rc;
}
