/* core/manifest.c — see manifest.h. */
#include "core/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

void manifest_init(struct manifest *m, const char *tokenizer, int vocab_size, int eot)
{
    memset(m, 0, sizeof *m);
    snprintf(m->tokenizer, sizeof m->tokenizer, "%s", tokenizer);
    m->vocab_size = vocab_size;
    m->eot = eot;
}

int manifest_check_domain(const char *name, struct herr *err)
{
    size_t len = strlen(name);
    if (len == 0)
        return herr_set(err, "empty domain name");
    if (len >= DOMAIN_NAME_MAX)
        return herr_set(err, "domain name '%s' is longer than %d characters", name,
                        DOMAIN_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok)
            return herr_set(err, "domain name '%s' has the character '%c'; use letters, "
                            "digits, '_', '-' and '.'", name, c);
    }
    return 0;
}

int manifest_add_shard(struct manifest *m, enum data_split split, const char *domain,
                       const char *file, struct herr *err)
{
    if (manifest_check_domain(domain, err))
        return -1;
    if (m->nshards == m->cap) {
        int cap = m->cap ? 2 * m->cap : 16;
        struct manifest_shard *p = realloc(m->shards, (size_t)cap * sizeof *p);
        if (!p)
            return herr_set(err, "out of memory for %d shards", cap);
        m->shards = p;
        m->cap = cap;
    }
    char *copy = strdup(file);
    if (!copy)
        return herr_set(err, "out of memory");
    struct manifest_shard *s = &m->shards[m->nshards++];
    s->split = split;
    snprintf(s->domain, sizeof s->domain, "%s", domain);
    s->file = copy;
    return 0;
}

void manifest_free(struct manifest *m)
{
    for (int i = 0; i < m->nshards; i++)
        free(m->shards[i].file);
    free(m->shards);
    m->shards = NULL;
    m->nshards = m->cap = 0;
}

/* Splits off the next blank-separated word of *p (advancing *p), or NULL. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return NULL;
    char *w = s;
    while (*s && *s != ' ' && *s != '\t')
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_int_word(const char *w, long lo, long hi, int *out)
{
    if (!w || !*w)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(w, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_line(struct manifest *m, char *line, int *seen_magic, int *have_vocab,
                      int *have_eot, struct herr *err)
{
    char *rest = line;
    char *key = next_word(&rest);
    if (!*seen_magic) {
        int version;
        if (strcmp(key, MANIFEST_MAGIC) != 0)
            return herr_set(err, "first line is '%s', expected '%s %d' (not a heft dataset "
                            "manifest)", line, MANIFEST_MAGIC, MANIFEST_VERSION);
        if (parse_int_word(next_word(&rest), 0, 1000000, &version))
            return herr_set(err, "bad version after '%s'", MANIFEST_MAGIC);
        if (version != MANIFEST_VERSION)
            return herr_set(err, "unsupported version %d (this heft reads version %d)",
                            version, MANIFEST_VERSION);
        *seen_magic = 1;
        return 0;
    }
    if (strcmp(key, "tokenizer") == 0) {
        char *v = next_word(&rest);
        if (!v)
            return herr_set(err, "tokenizer: missing value");
        snprintf(m->tokenizer, sizeof m->tokenizer, "%s", v);
    } else if (strcmp(key, "vocab_size") == 0) {
        if (parse_int_word(next_word(&rest), 1, MANIFEST_MAX_VOCAB, &m->vocab_size))
            return herr_set(err, "vocab_size: not an integer in [1, %d]", MANIFEST_MAX_VOCAB);
        *have_vocab = 1;
    } else if (strcmp(key, "eot") == 0) {
        if (parse_int_word(next_word(&rest), 0, MANIFEST_MAX_VOCAB - 1, &m->eot))
            return herr_set(err, "eot: not an integer in [0, %d]", MANIFEST_MAX_VOCAB - 1);
        *have_eot = 1;
    } else if (strcmp(key, "shard") == 0) {
        char *split = next_word(&rest);
        char *domain = next_word(&rest);
        char *file = trim(rest);
        if (!split || !domain || !*file)
            return herr_set(err, "shard: expected 'shard <train|val> <domain> <file>'");
        enum data_split sp;
        if (strcmp(split, "train") == 0)
            sp = DATA_TRAIN;
        else if (strcmp(split, "val") == 0)
            sp = DATA_VAL;
        else
            return herr_set(err, "shard: split '%s' is neither 'train' nor 'val'", split);
        if (manifest_add_shard(m, sp, domain, file, err))
            return herr_wrap(err, "shard: ");
    } else {
        return herr_set(err, "unknown directive '%s'", key);
    }
    return 0;
}

int manifest_parse(struct manifest *m, const char *text, const char *path, struct herr *err)
{
    manifest_init(m, "unknown", 0, 0);
    char *copy = strdup(text);
    if (!copy)
        return herr_set(err, "dataset manifest %s: out of memory", path);
    int seen_magic = 0, have_vocab = 0, have_eot = 0, lineno = 0;
    int rc = 0;
    char *save = NULL;
    for (char *line = copy;; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        char *t = trim(line);
        if (*t && *t != '#' && parse_line(m, t, &seen_magic, &have_vocab, &have_eot, err)) {
            rc = herr_wrap(err, "dataset manifest %s line %d: ", path, lineno);
            break;
        }
        if (!save)
            break;
    }
    free(copy);
    if (rc == 0 && !seen_magic)
        rc = herr_set(err, "dataset manifest %s: empty (expected '%s %d')", path,
                      MANIFEST_MAGIC, MANIFEST_VERSION);
    else if (rc == 0 && !have_vocab)
        rc = herr_set(err, "dataset manifest %s: no vocab_size line", path);
    else if (rc == 0 && !have_eot)
        rc = herr_set(err, "dataset manifest %s: no eot line", path);
    else if (rc == 0 && m->eot >= m->vocab_size)
        rc = herr_set(err, "dataset manifest %s: eot %d is not below vocab_size %d", path,
                      m->eot, m->vocab_size);
    else if (rc == 0 && m->nshards == 0)
        rc = herr_set(err, "dataset manifest %s: lists no shards", path);
    if (rc)
        manifest_free(m);
    return rc;
}

int manifest_write(const struct manifest *m, const char *path, struct herr *err)
{
    size_t cap = 256;
    for (int i = 0; i < m->nshards; i++)
        cap += strlen(m->shards[i].file) + DOMAIN_NAME_MAX + 16;
    char *buf = malloc(cap);
    if (!buf)
        return herr_set(err, "dataset manifest %s: out of memory", path);
    size_t len = (size_t)snprintf(buf, cap,
                                  "%s %d\n# written by heft; one 'shard <split> <domain> "
                                  "<file>' per line\ntokenizer %s\nvocab_size %d\neot %d\n",
                                  MANIFEST_MAGIC, MANIFEST_VERSION, m->tokenizer,
                                  m->vocab_size, m->eot);
    for (int i = 0; i < m->nshards; i++) {
        const struct manifest_shard *s = &m->shards[i];
        len += (size_t)snprintf(buf + len, cap - len, "shard %s %s %s\n",
                                data_split_name(s->split), s->domain, s->file);
    }
    int rc = atomic_write_file(path, buf, len, err);
    free(buf);
    return rc;
}
