/* core/dataset.c — see dataset.h. */
#include "core/dataset.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/builtin_data.h"
#include "core/checksum.h"
#include "core/manifest.h"

/* Tokens of each shard's head and tail that go into the fingerprint. */
#define FINGERPRINT_EDGE 64

struct dataset {
    char source[4096];
    char tokenizer[32];
    int vocab_size, eot;
    int num_domains;
    char domains[DATASET_MAX_DOMAINS][DOMAIN_NAME_MAX];
    int num_shards, cap_shards;
    struct dataset_shard *shards;
    uint64_t fingerprint;
};

/* ---- building ------------------------------------------------------------ */

static int intern_domain(struct dataset *ds, const char *name, struct herr *err)
{
    for (int d = 0; d < ds->num_domains; d++)
        if (strcmp(ds->domains[d], name) == 0)
            return d;
    if (manifest_check_domain(name, err))
        return -1;
    if (ds->num_domains == DATASET_MAX_DOMAINS)
        return herr_set(err, "more than %d domains (at '%s')", DATASET_MAX_DOMAINS, name);
    snprintf(ds->domains[ds->num_domains], DOMAIN_NAME_MAX, "%s", name);
    return ds->num_domains++;
}

/* Appends a slot for a shard and returns it (zeroed), or NULL. */
static struct dataset_shard *new_shard(struct dataset *ds, enum data_split split,
                                       const char *domain, struct herr *err)
{
    int d = intern_domain(ds, domain, err);
    if (d < 0)
        return NULL;
    if (ds->num_shards == ds->cap_shards) {
        int cap = ds->cap_shards ? 2 * ds->cap_shards : 16;
        struct dataset_shard *p = realloc(ds->shards, (size_t)cap * sizeof *p);
        if (!p) {
            herr_set(err, "out of memory for %d shards", cap);
            return NULL;
        }
        ds->shards = p;
        ds->cap_shards = cap;
    }
    struct dataset_shard *s = &ds->shards[ds->num_shards];
    memset(s, 0, sizeof *s);
    s->split = split;
    s->domain = d;
    return s;
}

/* Opens a shard file into a new slot; the slot only counts once it is open. */
static int add_file_shard(struct dataset *ds, enum data_split split, const char *domain,
                          const char *path, struct herr *err)
{
    struct dataset_shard *s = new_shard(ds, split, domain, err);
    if (!s || shard_open(&s->shard, path, err))
        return -1;
    ds->num_shards++;
    return 0;
}

static int open_builtin(struct dataset *ds, const char *spec, struct herr *err)
{
    snprintf(ds->tokenizer, sizeof ds->tokenizer, "bytes");
    ds->vocab_size = BUILTIN_VOCAB_SIZE;
    ds->eot = BUILTIN_EOT;
    int list[BUILTIN_NUM_DOMAINS], n = 0;
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon) {
        for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++)
            list[n++] = d;
    } else {
        char names[256];
        snprintf(names, sizeof names, "%s", colon + 1);
        char *save = NULL;
        for (char *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int d = builtin_domain_index(tok);
            if (d < 0) {
                char all[128] = "";
                for (int k = 0; k < BUILTIN_NUM_DOMAINS; k++)
                    snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s",
                             k ? ", " : "", builtin_domain_name(k));
                return herr_set(err, "no built-in domain '%s' (there are: %s)", tok, all);
            }
            for (int k = 0; k < n; k++)
                if (list[k] == d)
                    return herr_set(err, "built-in domain '%s' listed twice", tok);
            list[n++] = d;
        }
        if (n == 0)
            return herr_set(err, "no domains listed after 'builtin:'");
    }
    for (int k = 0; k < n; k++)
        for (int split = 0; split < DATA_NUM_SPLITS; split++) {
            const char *name = builtin_domain_name(list[k]);
            struct dataset_shard *s = new_shard(ds, (enum data_split)split, name, err);
            uint16_t *tok;
            size_t ntok;
            if (!s || builtin_generate(list[k], (enum data_split)split, &tok, &ntok, err))
                return -1;
            char label[64];
            snprintf(label, sizeof label, "builtin:%s/%s", name,
                     data_split_name((enum data_split)split));
            shard_adopt(&s->shard, label, tok, ntok);
            ds->num_shards++;
        }
    return 0;
}

static int open_manifest(struct dataset *ds, const char *manifest_path, struct herr *err)
{
    char *text;
    size_t len;
    if (read_text_file(manifest_path, "dataset manifest", &text, &len, err))
        return -1;
    struct manifest m;
    int rc = manifest_parse(&m, text, manifest_path, err);
    free(text);
    if (rc)
        return -1;
    snprintf(ds->tokenizer, sizeof ds->tokenizer, "%s", m.tokenizer);
    ds->vocab_size = m.vocab_size;
    ds->eot = m.eot;

    char dir[4096];
    snprintf(dir, sizeof dir, "%s", manifest_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        snprintf(dir, sizeof dir, "./");
    for (int i = 0; i < m.nshards && rc == 0; i++) {
        const struct manifest_shard *ms = &m.shards[i];
        char path[4096];
        if (ms->file[0] == '/')
            snprintf(path, sizeof path, "%s", ms->file);
        else if (path_join(path, sizeof path, dir, ms->file, err))
            rc = -1;
        if (rc == 0 && add_file_shard(ds, ms->split, ms->domain, path, err))
            rc = herr_wrap(err, "dataset %s: ", manifest_path);
    }
    manifest_free(&m);
    return rc;
}

static int basename_has_val(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strstr(slash ? slash + 1 : path, "_val") != NULL;
}

static int open_glob(struct dataset *ds, const char *pattern, int vocab_hint, struct herr *err)
{
    if (vocab_hint < 2 || vocab_hint > MANIFEST_MAX_VOCAB)
        return herr_set(err, "dataset %s: llm.c shards carry no vocabulary size; pass one in "
                        "[2, %d] (GPT-2: 50257), got %d", pattern, MANIFEST_MAX_VOCAB,
                        vocab_hint);
    snprintf(ds->tokenizer, sizeof ds->tokenizer, "%s", vocab_hint == 50257 ? "gpt2" : "llmc");
    ds->vocab_size = vocab_hint;
    ds->eot = vocab_hint - 1;
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return herr_set(err, "dataset %s: no such directory, file or matching shard", pattern);
    if (rc != 0)
        return herr_set(err, "dataset %s: cannot expand the pattern (glob error %d)", pattern,
                        rc);
    rc = 0;
    /* glob() sorts its matches, so shard order does not depend on the directory. */
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) {
        const char *p = g.gl_pathv[i];
        rc = add_file_shard(ds, basename_has_val(p) ? DATA_VAL : DATA_TRAIN, "default", p, err);
    }
    globfree(&g);
    return rc;
}

/* A file is a manifest if it starts with the manifest's magic word. */
static int is_manifest_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char head[sizeof MANIFEST_MAGIC] = {0};
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    return n == sizeof head - 1 && memcmp(head, MANIFEST_MAGIC, n) == 0;
}

static uint64_t compute_fingerprint(const struct dataset *ds)
{
    uint64_t h = fnv1a64_str(FNV1A64_INIT, "heft-dataset-fingerprint-1");
    h = fnv1a64_u64(h, (uint64_t)ds->vocab_size);
    h = fnv1a64_u64(h, (uint64_t)ds->eot);
    h = fnv1a64_u64(h, (uint64_t)ds->num_domains);
    for (int d = 0; d < ds->num_domains; d++)
        h = fnv1a64_str(h, ds->domains[d]);
    for (int i = 0; i < ds->num_shards; i++) {
        const struct dataset_shard *s = &ds->shards[i];
        const char *slash = strrchr(s->shard.path, '/');
        h = fnv1a64_str(h, slash ? slash + 1 : s->shard.path);
        h = fnv1a64_u64(h, (uint64_t)s->split);
        h = fnv1a64_u64(h, (uint64_t)s->domain);
        h = fnv1a64_u64(h, (uint64_t)s->shard.n);
        size_t edge = s->shard.n < FINGERPRINT_EDGE ? s->shard.n : FINGERPRINT_EDGE;
        /* The ids as stored (so a 16-bit dataset keeps the fingerprint it always had). */
        const size_t w = shard_id_bytes(&s->shard);
        const char *ids = s->shard.tokens ? (const char *)s->shard.tokens
                                          : (const char *)s->shard.tokens32;
        h = fnv1a64_update(h, ids, edge * w);
        h = fnv1a64_update(h, ids + (s->shard.n - edge) * w, edge * w);
    }
    return h;
}

static int open_any(struct dataset *ds, const char *path, int vocab_hint, struct herr *err)
{
    if (!path || strcmp(path, "builtin") == 0 || strncmp(path, "builtin:", 8) == 0) {
        snprintf(ds->source, sizeof ds->source, "%s", path ? path : "builtin");
        return open_builtin(ds, path, err) ? herr_wrap(err, "builtin dataset: ") : 0;
    }
    snprintf(ds->source, sizeof ds->source, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char mpath[4096];
        if (path_join(mpath, sizeof mpath, path, MANIFEST_NAME, err))
            return -1;
        if (stat(mpath, &st) != 0)
            return herr_set(err, "dataset %s: directory has no %s (make one with `heft "
                            "prepare`, or pass an llm.c shard file or glob)", path,
                            MANIFEST_NAME);
        return open_manifest(ds, mpath, err);
    }
    if (is_manifest_file(path))
        return open_manifest(ds, path, err);
    return open_glob(ds, path, vocab_hint, err);
}

int dataset_open(struct dataset **out, const char *path, int vocab_hint, struct herr *err)
{
    return dataset_open_scan(out, path, vocab_hint, DATASET_SCAN_MAX_TOKENS, err);
}

int dataset_check_tokens(const struct dataset *ds, struct herr *err)
{
    for (int i = 0; i < ds->num_shards; i++)
        if (shard_check_vocab(&ds->shards[i].shard, ds->vocab_size, err))
            return -1;
    return 0;
}

int dataset_open_scan(struct dataset **out, const char *path, int vocab_hint,
                      uint64_t scan_max_tokens, struct herr *err)
{
    *out = NULL;
    struct dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return herr_set(err, "out of memory for a dataset");
    if (open_any(ds, path, vocab_hint, err)) {
        dataset_close(ds);
        return -1;
    }
    uint64_t total = 0;
    for (int i = 0; i < ds->num_shards; i++)
        total += ds->shards[i].shard.n;
    if (total <= scan_max_tokens && dataset_check_tokens(ds, err)) {
        dataset_close(ds);
        return -1;
    }
    ds->fingerprint = compute_fingerprint(ds);
    *out = ds;
    return 0;
}

void dataset_close(struct dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->num_shards; i++)
        shard_close(&ds->shards[i].shard);
    free(ds->shards);
    free(ds);
}

/* ---- queries ------------------------------------------------------------- */

const char *dataset_source(const struct dataset *ds) { return ds->source; }
const char *dataset_tokenizer(const struct dataset *ds) { return ds->tokenizer; }
int dataset_vocab_size(const struct dataset *ds) { return ds->vocab_size; }
int dataset_eot(const struct dataset *ds) { return ds->eot; }
int dataset_num_domains(const struct dataset *ds) { return ds->num_domains; }
int dataset_num_shards(const struct dataset *ds) { return ds->num_shards; }
uint64_t dataset_fingerprint(const struct dataset *ds) { return ds->fingerprint; }

const char *dataset_domain_name(const struct dataset *ds, int d)
{
    return (d >= 0 && d < ds->num_domains) ? ds->domains[d] : "?";
}

int dataset_domain_index(const struct dataset *ds, const char *name)
{
    for (int d = 0; d < ds->num_domains; d++)
        if (strcmp(ds->domains[d], name) == 0)
            return d;
    return -1;
}

const struct dataset_shard *dataset_shard_at(const struct dataset *ds, int i)
{
    return (i >= 0 && i < ds->num_shards) ? &ds->shards[i] : NULL;
}

static int shard_selected(const struct dataset_shard *s, enum data_split split, int domain)
{
    return s->split == split && (domain < 0 || s->domain == domain);
}

uint64_t dataset_num_tokens(const struct dataset *ds, enum data_split split, int domain)
{
    uint64_t n = 0;
    for (int i = 0; i < ds->num_shards; i++)
        if (shard_selected(&ds->shards[i], split, domain))
            n += ds->shards[i].shard.n;
    return n;
}

uint64_t shard_num_windows(uint64_t n, int T)
{
    return n >= 2 ? (n - 2) / (uint64_t)T + 1 : 0;
}

uint64_t dataset_num_windows(const struct dataset *ds, enum data_split split, int domain,
                             int T)
{
    uint64_t n = 0;
    for (int i = 0; i < ds->num_shards; i++)
        if (shard_selected(&ds->shards[i], split, domain))
            n += shard_num_windows(ds->shards[i].shard.n, T);
    return n;
}

/* ---- windows ------------------------------------------------------------- */

int window_index_build(struct window_index *wi, const struct dataset *ds,
                       enum data_split split, int domain, int T, struct herr *err)
{
    memset(wi, 0, sizeof *wi);
    if (T < 1)
        return herr_set(err, "sequence length T = %d must be >= 1", T);
    wi->ds = ds;
    wi->T = T;
    wi->shard = malloc((size_t)(ds->num_shards ? ds->num_shards : 1) * sizeof *wi->shard);
    wi->first = malloc((size_t)(ds->num_shards + 1) * sizeof *wi->first);
    if (!wi->shard || !wi->first) {
        window_index_free(wi);
        return herr_set(err, "out of memory for the window index");
    }
    uint64_t total = 0;
    for (int i = 0; i < ds->num_shards; i++) {
        const struct dataset_shard *s = &ds->shards[i];
        uint64_t w = shard_num_windows(s->shard.n, T);
        if (!shard_selected(s, split, domain) || w == 0)
            continue;
        wi->shard[wi->nshards] = i;
        wi->first[wi->nshards] = total;
        wi->nshards++;
        total += w;
    }
    wi->first[wi->nshards] = total;
    return 0;
}

void window_index_free(struct window_index *wi)
{
    free(wi->shard);
    free(wi->first);
    wi->shard = NULL;
    wi->first = NULL;
    wi->nshards = 0;
}

uint64_t window_index_count(const struct window_index *wi)
{
    return wi->first ? wi->first[wi->nshards] : 0;
}

int window_index_fill(const struct window_index *wi, uint64_t g, int32_t *inputs,
                      int32_t *targets, int32_t *domain, struct herr *err)
{
    /* Binary search for the shard holding window g: first[lo] <= g < first[lo+1]. */
    int lo = 0, hi = wi->nshards;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (wi->first[mid] <= g)
            lo = mid;
        else
            hi = mid;
    }
    const struct dataset *ds = wi->ds;
    const struct dataset_shard *s = &ds->shards[wi->shard[lo]];
    const int T = wi->T;
    const size_t start = (size_t)(g - wi->first[lo]) * (size_t)T;
    const size_t avail = s->shard.n - start; /* >= 2 by construction of the windows */
    const int n_in = avail < (size_t)T ? (int)avail : T;
    const int n_tgt = avail - 1 < (size_t)T ? (int)(avail - 1) : T;
    const uint32_t vocab = (uint32_t)ds->vocab_size;
    for (int t = 0; t <= n_tgt; t++) /* the tokens this row reads */
        if (shard_token(&s->shard, start + (size_t)t) >= vocab)
            return shard_token_error(&s->shard, start + (size_t)t, (int)vocab, err);
    for (int t = 0; t < T; t++) {
        inputs[t] = t < n_in ? (int32_t)shard_token(&s->shard, start + (size_t)t) : ds->eot;
        targets[t] = t < n_tgt ? (int32_t)shard_token(&s->shard, start + (size_t)t + 1) : -1;
    }
    *domain = s->domain;
    return n_tgt;
}

void dataset_fill_empty_row(const struct dataset *ds, int T, int32_t *inputs,
                            int32_t *targets, int32_t *domain)
{
    for (int t = 0; t < T; t++) {
        inputs[t] = ds->eot;
        targets[t] = -1;
    }
    *domain = -1;
}

int batch_slice_check(const char *who, int B, int rank, int world, struct herr *err)
{
    if (B < 1)
        return herr_set(err, "%s: batch size B = %d must be >= 1", who, B);
    if (world < 1 || rank < 0 || rank >= world)
        return herr_set(err, "%s: rank %d is not in [0, world = %d)", who, rank, world);
    return 0;
}

int row_num_targets(const int32_t *targets, int T)
{
    int n = 0;
    for (int t = 0; t < T; t++)
        n += targets[t] >= 0;
    return n;
}
