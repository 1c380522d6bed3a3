/* core/prepare.c — see prepare.h.
 *
 * Per domain: each input is read (one at a time), its documents encoded in
 * batches on all cores and the ids appended to a temporary file; the train/
 * val cut depends on the domain's total, known then; the temporary file is
 * streamed into shard files and removed. Text is encoded once.
 */
#include "core/prepare.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/builtin_data.h"
#include "core/fileio.h"
#include "core/shard.h"
#include "core/tokenizer/encode_docs.h"

static const char *const doc_split_names[] = {"file", "blank-line", "line"};

int doc_split_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, doc_split_names[i]) == 0)
            return i;
    return -1;
}

const char *doc_split_name(enum doc_split mode)
{
    return doc_split_names[mode];
}

/* ---- documents ------------------------------------------------------------- */

struct doc_iter {
    const char *p;
    size_t len, pos;
    enum doc_split mode;
};

/* One line starting at `start`: content [start, *end) without "\n" or
 * "\r\n"; returns where the next line starts. */
static size_t line_at(const char *p, size_t len, size_t start, size_t *end)
{
    const char *nl = memchr(p + start, '\n', len - start);
    size_t eol = nl ? (size_t)(nl - p) : len;
    *end = (eol > start && p[eol - 1] == '\r') ? eol - 1 : eol;
    return nl ? eol + 1 : len;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

/* The next document: 1 and its bytes, or 0 at the end. */
static int doc_next(struct doc_iter *it, const char **doc, size_t *n)
{
    if (it->mode == DOC_SPLIT_FILE) {
        if (it->pos >= it->len)
            return 0;
        *doc = it->p;
        *n = it->len;
        it->pos = it->len;
        return 1;
    }
    while (it->pos < it->len) {
        size_t start = it->pos, end;
        size_t next = line_at(it->p, it->len, start, &end);
        it->pos = next;
        if (is_blank(it->p + start, end - start))
            continue;
        /* A paragraph extends over the following non-blank lines. */
        while (it->mode == DOC_SPLIT_BLANK_LINE && it->pos < it->len) {
            size_t e2;
            size_t n2 = line_at(it->p, it->len, it->pos, &e2);
            if (is_blank(it->p + it->pos, e2 - it->pos))
                break;
            end = e2;
            it->pos = n2;
        }
        *doc = it->p + start;
        *n = end - start;
        return 1;
    }
    return 0;
}

/* ---- shard output ------------------------------------------------------------ */

#define SINK_BUF 65536

/* Turns one domain's token stream into shard files and manifest lines. */
struct sink {
    const char *out_dir, *domain;
    uint64_t max_tokens;
    int width; /* bytes per id in the shards: 2 or 4 */
    struct manifest *manifest;
    enum data_split split;
    int open;
    struct shard_writer w;
    uint64_t in_shard;
    uint64_t tokens[DATA_NUM_SPLITS];
    int shards[DATA_NUM_SPLITS];
    size_t nbuf;
    uint32_t buf[SINK_BUF];
};

static int sink_flush(struct sink *s, struct herr *err)
{
    int rc = s->nbuf ? shard_writer_append32(&s->w, s->buf, s->nbuf, err) : 0;
    s->nbuf = 0;
    return rc;
}

static int sink_close_shard(struct sink *s, struct herr *err)
{
    if (!s->open)
        return 0;
    s->open = 0;
    if (sink_flush(s, err)) {
        shard_writer_abort(&s->w);
        return -1;
    }
    return shard_writer_commit(&s->w, err);
}

static int sink_open_shard(struct sink *s, struct herr *err)
{
    char name[128], path[4096];
    snprintf(name, sizeof name, "%s_%s_%06d.bin", data_split_name(s->split), s->domain,
             s->shards[s->split]);
    if (path_join(path, sizeof path, s->out_dir, name, err) ||
        manifest_add_shard(s->manifest, s->split, s->domain, name, err) ||
        shard_writer_open_width(&s->w, path, s->width, err))
        return -1;
    s->open = 1;
    s->in_shard = 0;
    s->shards[s->split]++;
    return 0;
}

static int sink_put(struct sink *s, uint32_t token, struct herr *err)
{
    if (!s->open && sink_open_shard(s, err))
        return -1;
    s->buf[s->nbuf++] = token;
    s->in_shard++;
    s->tokens[s->split]++;
    if (s->nbuf == SINK_BUF && sink_flush(s, err))
        return -1;
    if (s->in_shard == s->max_tokens)
        return sink_close_shard(s, err);
    return 0;
}

static int sink_set_split(struct sink *s, enum data_split split, struct herr *err)
{
    if (sink_close_shard(s, err))
        return -1;
    s->split = split;
    return 0;
}

static void sink_init(struct sink *s, const char *out_dir, const char *domain,
                      uint64_t max_tokens, int width, struct manifest *m)
{
    memset(s, 0, offsetof(struct sink, buf));
    s->width = width;
    s->out_dir = out_dir;
    s->domain = domain;
    s->max_tokens = max_tokens;
    s->manifest = m;
    s->split = DATA_TRAIN;
}

/* Releases a sink that failed part-way (its temporary file is removed). */
static void sink_abort(struct sink *s)
{
    if (s->open)
        shard_writer_abort(&s->w);
    s->open = 0;
}

/* ---- output directory ------------------------------------------------------- */

static int prepare_out_dir(const char *dir, int force, struct herr *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            return herr_set(err, "output directory %s: %s", dir, strerror(errno));
        return make_dirs(dir, err);
    }
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    if (entries > 0 && !force)
        return herr_set(err, "output directory %s is not empty (%d entries); use --force to "
                        "write into it anyway", dir, entries);
    return 0;
}

/* ---- text inputs --------------------------------------------------------------- */

/* Reads an input file; empty files and files without a document are errors. */
static int read_input(const char *path, enum doc_split mode, char **text, size_t *len,
                      struct herr *err)
{
    if (read_text_file(path, "input", text, len, err))
        return -1;
    if (*len == 0) {
        free(*text);
        return herr_set(err, "input %s is empty", path);
    }
    struct doc_iter it = {*text, *len, 0, mode};
    const char *doc;
    size_t n;
    if (!doc_next(&it, &doc, &n)) {
        free(*text);
        return herr_set(err, "input %s has no document (only blank lines) with --split-docs "
                        "%s", path, doc_split_name(mode));
    }
    return 0;
}

/* ---- encoding into the domain's temporary id file ----------------------------- */

/* Text per batch of documents handed to the encoder (bounds the ids held). */
#define BATCH_BYTES (64u << 20)

/* What the encoding pass of one domain shares. */
struct encode_run {
    const struct prepare_options *o;
    struct encode_pool *pool;
    int eot;
    FILE *ids;        /* the domain's temporary id file */
    const char *ids_path;
    struct id_buf buf;
    uint64_t docs, tokens, bytes;
    const char *domain;
};

static int spill(struct encode_run *r, struct herr *err)
{
    if (r->buf.n && fwrite(r->buf.ids, sizeof *r->buf.ids, r->buf.n, r->ids) != r->buf.n)
        return herr_set(err, "%s: write failed (disk full?)", r->ids_path);
    r->tokens += r->buf.n;
    r->buf.n = 0;
    return 0;
}

/* One input: its documents, encoded in batches, appended to the id file. */
static int encode_input(struct encode_run *r, const char *path, struct herr *err)
{
    char *text;
    size_t len;
    if (read_input(path, r->o->split, &text, &len, err))
        return -1;
    struct doc_iter it = {text, len, 0, r->o->split};
    size_t cap = 1024, n = 0, batch_bytes = 0;
    struct doc_span *docs = malloc(cap * sizeof *docs);
    const char *doc;
    size_t dlen;
    int rc = docs ? 0 : herr_set(err, "out of memory");
    uint64_t first_doc = r->docs;
    for (int more = 1; rc == 0 && more;) {
        more = doc_next(&it, &doc, &dlen);
        if (more) {
            if (n == cap) {
                struct doc_span *g = realloc(docs, 2 * cap * sizeof *g);
                if (!g) {
                    rc = herr_set(err, "out of memory");
                    break;
                }
                docs = g;
                cap *= 2;
            }
            docs[n++] = (struct doc_span){(size_t)(doc - text), dlen};
            batch_bytes += dlen;
            r->docs++;
        }
        if (n > 0 && (!more || batch_bytes >= BATCH_BYTES)) {
            rc = encode_pool_docs(r->pool, text, docs, n, r->eot, first_doc, &r->buf, err);
            if (rc)
                rc = herr_wrap(err, "input %s: ", path);
            else
                rc = spill(r, err);
            r->bytes += batch_bytes;
            first_doc += n;
            n = 0;
            batch_bytes = 0;
            if (rc == 0 && r->o->progress)
                r->o->progress(r->o->progress_ctx, r->domain, r->bytes, r->tokens);
        }
    }
    free(docs);
    free(text);
    return rc;
}

/* Streams the id file into shards: the first `train` ids to train, the rest to val. */
static int write_shards(struct encode_run *r, struct sink *s, uint64_t train, struct herr *err)
{
    if (fflush(r->ids) || fseek(r->ids, 0, SEEK_SET))
        return herr_set(err, "%s: %s", r->ids_path, strerror(errno));
    uint32_t buf[16384];
    uint64_t done = 0;
    while (done < r->tokens) {
        size_t want = r->tokens - done < 16384 ? (size_t)(r->tokens - done) : 16384;
        if (fread(buf, sizeof *buf, want, r->ids) != want)
            return herr_set(err, "%s: short read", r->ids_path);
        for (size_t i = 0; i < want; i++, done++) {
            if (s->split == DATA_TRAIN && done == train && sink_set_split(s, DATA_VAL, err))
                return -1;
            if (sink_put(s, buf[i], err))
                return -1;
        }
    }
    return 0;
}

static int check_options(const struct prepare_options *o, struct herr *err)
{
    if (o->ninputs < 1)
        return herr_set(err, "no input files given");
    if (!(o->val_fraction >= 0.0 && o->val_fraction < 1.0))
        return herr_set(err, "validation fraction %g is outside [0, 1)", o->val_fraction);
    if (o->shard_tokens < 1 || o->shard_tokens > INT32_MAX)
        return herr_set(err, "shard size %llu tokens is outside [1, %d]",
                        (unsigned long long)o->shard_tokens, INT32_MAX);
    for (int i = 0; i < o->ninputs; i++) {
        struct stat st;
        if (manifest_check_domain(o->inputs[i].domain, err))
            return herr_wrap(err, "input %s: ", o->inputs[i].path);
        if (stat(o->inputs[i].path, &st) != 0)
            return herr_set(err, "input %s: %s", o->inputs[i].path, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return herr_set(err, "input %s is not a regular file", o->inputs[i].path);
    }
    for (int k = 0; k < o->ntrain_only; k++) {
        int found = 0;
        for (int i = 0; i < o->ninputs && !found; i++)
            found = strcmp(o->inputs[i].domain, o->train_only[k]) == 0;
        if (!found)
            return herr_set(err, "train-only domain '%s' has no input file (give it with "
                            "--input %s=FILE, or check the spelling)", o->train_only[k],
                            o->train_only[k]);
    }
    return 0;
}

static int is_train_only(const struct prepare_options *o, const char *domain)
{
    for (int k = 0; k < o->ntrain_only; k++)
        if (strcmp(o->train_only[k], domain) == 0)
            return 1;
    return 0;
}

/* Domains in order of first appearance. */
static int collect_domains(const struct prepare_options *o, struct prepare_summary *sum,
                           struct herr *err)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < o->ninputs; i++) {
        int found = 0;
        for (int d = 0; d < sum->ndomains; d++)
            found |= strcmp(sum->domains[d].name, o->inputs[i].domain) == 0;
        if (found)
            continue;
        if (sum->ndomains == DATASET_MAX_DOMAINS)
            return herr_set(err, "more than %d domains", DATASET_MAX_DOMAINS);
        snprintf(sum->domains[sum->ndomains++].name, DOMAIN_NAME_MAX, "%s",
                 o->inputs[i].domain);
    }
    return 0;
}

/* One domain: encode into the id file, cut, write the shards. */
static int prepare_domain(const struct prepare_options *o, struct encode_pool *pool, int eot,
                          int width, struct prepare_domain_stats *st, struct manifest *m,
                          struct sink *s, uint64_t *bytes, struct herr *err)
{
    char name[128], ids_path[4096];
    snprintf(name, sizeof name, ".heft-prepare-%s.ids", st->name);
    if (path_join(ids_path, sizeof ids_path, o->out_dir, name, err))
        return -1;
    struct encode_run r = {o, pool, eot, fopen(ids_path, "w+b"), ids_path, {0}, 0, 0, 0,
                           st->name};
    if (!r.ids)
        return herr_set(err, "%s: %s", ids_path, strerror(errno));
    int rc = 0;
    for (int i = 0; i < o->ninputs && rc == 0; i++)
        if (strcmp(o->inputs[i].domain, st->name) == 0)
            rc = encode_input(&r, o->inputs[i].path, err);
    id_buf_free(&r.buf);
    *bytes += r.bytes;
    const uint64_t total = r.tokens;
    const double fraction = is_train_only(o, st->name) ? 0.0 : o->val_fraction;
    const uint64_t val = (uint64_t)llround((double)total * fraction);
    const uint64_t train = total - val;
    if (rc == 0 && train < 2)
        rc = herr_set(err, "domain %s: %llu train tokens, fewer than the 2 a training "
                      "window needs", st->name, (unsigned long long)train);
    if (rc == 0 && fraction > 0 && val < 2)
        rc = herr_set(err, "domain %s: %llu tokens give a validation split of %llu tokens "
                      "(needs 2); use more text or --val-fraction 0", st->name,
                      (unsigned long long)total, (unsigned long long)val);
    if (rc == 0) {
        sink_init(s, o->out_dir, st->name, o->shard_tokens, width, m);
        rc = write_shards(&r, s, train, err);
        if (rc)
            sink_abort(s);
        else
            rc = sink_close_shard(s, err);
    }
    fclose(r.ids);
    remove(ids_path);
    if (rc)
        return -1;
    st->docs = r.docs;
    for (int sp = 0; sp < DATA_NUM_SPLITS; sp++) {
        st->tokens[sp] = s->tokens[sp];
        st->shards[sp] = s->shards[sp];
    }
    return 0;
}

static int write_manifest(const char *out_dir, const struct manifest *m, struct herr *err)
{
    char path[4096];
    if (path_join(path, sizeof path, out_dir, MANIFEST_NAME, err))
        return -1;
    return manifest_write(m, path, err);
}

int prepare_text_dataset(const struct prepare_options *o, struct prepare_summary *sum,
                         struct herr *err)
{
    if (check_options(o, err) || collect_domains(o, sum, err) ||
        prepare_out_dir(o->out_dir, o->force, err))
        return -1;
    struct tokenizer *bytes = NULL;
    const struct tokenizer *tok = o->tok;
    if (!tok && tokenizer_load(&bytes, "bytes", err))
        return -1;
    if (!tok)
        tok = bytes;
    const int vocab = tokenizer_vocab_size(tok);
    const int eot = o->tok ? o->eot : PREPARE_EOT;
    int rc = 0;
    if (eot < 0 || eot >= vocab)
        rc = herr_set(err, "EOT id %d is outside the vocabulary of %d", eot, vocab);
    struct sink *s = malloc(sizeof *s);
    struct encode_pool *pool = NULL;
    if (rc == 0 && !s)
        rc = herr_set(err, "out of memory");
    if (rc == 0)
        rc = encode_pool_new(&pool, tok, o->threads, err);
    struct manifest m;
    manifest_init(&m, tokenizer_kind_name(tok), vocab, eot);
    snprintf(sum->tokenizer, sizeof sum->tokenizer, "%s", tokenizer_kind_name(tok));
    sum->vocab_size = vocab;
    sum->eot = eot;
    for (int d = 0; d < sum->ndomains && rc == 0; d++)
        rc = prepare_domain(o, pool, eot, shard_width_for_vocab(vocab), &sum->domains[d], &m, s,
                            &sum->bytes, err);
    if (rc == 0)
        rc = write_manifest(o->out_dir, &m, err);
    /* the tokenizer goes with its data, for heft sample and heft export */
    if (rc == 0)
        rc = tokenizer_keep(tok, o->out_dir, sum->tokenizer_file, sizeof sum->tokenizer_file,
                            err);
    manifest_free(&m);
    encode_pool_free(pool);
    free(s);
    tokenizer_free(bytes);
    return rc;
}

/* ---- built-in dataset -------------------------------------------------------- */

static int write_builtin_domain(int d, struct sink *s, struct prepare_domain_stats *st,
                                struct herr *err)
{
    for (int sp = 0; sp < DATA_NUM_SPLITS; sp++) {
        uint16_t *tok;
        size_t n;
        if (builtin_generate(d, (enum data_split)sp, &tok, &n, err))
            return -1;
        int rc = sink_set_split(s, (enum data_split)sp, err);
        for (size_t i = 0; i < n && rc == 0; i++) {
            st->docs += tok[i] == BUILTIN_EOT;
            rc = sink_put(s, tok[i], err);
        }
        free(tok);
        if (rc)
            return -1;
    }
    if (sink_close_shard(s, err))
        return -1;
    for (int sp = 0; sp < DATA_NUM_SPLITS; sp++) {
        st->tokens[sp] = s->tokens[sp];
        st->shards[sp] = s->shards[sp];
    }
    return 0;
}

int prepare_builtin_dataset(const char *out_dir, uint64_t shard_tokens, int force,
                            struct prepare_summary *sum, struct herr *err)
{
    memset(sum, 0, sizeof *sum);
    snprintf(sum->tokenizer, sizeof sum->tokenizer, "bytes");
    sum->vocab_size = BUILTIN_VOCAB_SIZE;
    sum->eot = BUILTIN_EOT;
    if (shard_tokens < 1 || shard_tokens > INT32_MAX)
        return herr_set(err, "shard size %llu tokens is outside [1, %d]",
                        (unsigned long long)shard_tokens, INT32_MAX);
    if (prepare_out_dir(out_dir, force, err))
        return -1;
    struct sink *s = malloc(sizeof *s);
    if (!s)
        return herr_set(err, "out of memory");
    struct manifest m;
    manifest_init(&m, "bytes", BUILTIN_VOCAB_SIZE, BUILTIN_EOT);
    int rc = 0;
    for (int d = 0; d < BUILTIN_NUM_DOMAINS && rc == 0; d++) {
        struct prepare_domain_stats *st = &sum->domains[sum->ndomains++];
        snprintf(st->name, sizeof st->name, "%s", builtin_domain_name(d));
        sink_init(s, out_dir, st->name, shard_tokens, 2, &m);
        rc = write_builtin_domain(d, s, st, err);
        if (rc)
            sink_abort(s);
    }
    if (rc == 0)
        rc = write_manifest(out_dir, &m, err);
    manifest_free(&m);
    free(s);
    return rc;
}
