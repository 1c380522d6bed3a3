/* core/checkpoint.c — see checkpoint.h. */
#include "core/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checksum.h"
#include "core/fileio.h"

#define HEADER_BYTES 32
#define ENTRY_BYTES 64
/* Data moves in chunks of this size: each is checksummed while it is still in
 * cache, and streamed sections need only one chunk of host memory. */
#define CHUNK ((size_t)8 << 20)

/* ---- on-disk records -------------------------------------------------------- */

struct header {
    char magic[8];
    uint32_t version, nsections;
    uint64_t file_bytes;
    uint32_t table_crc, header_crc;
};

struct entry {
    char name[CKPT_NAME_MAX];
    uint64_t offset, bytes;
    uint32_t crc;
};

/* Explicit little-endian packing: the file layout does not depend on struct
 * padding. */
static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void pack_header(unsigned char b[HEADER_BYTES], const struct header *h,
                        const struct crc32_table *tab)
{
    memcpy(b, h->magic, 8);
    put_u32(b + 8, h->version);
    put_u32(b + 12, h->nsections);
    put_u64(b + 16, h->file_bytes);
    put_u32(b + 24, h->table_crc);
    put_u32(b + 28, crc32_update(tab, 0, b, 28));
}

static void unpack_header(const unsigned char b[HEADER_BYTES], struct header *h)
{
    memcpy(h->magic, b, 8);
    h->version = get_u32(b + 8);
    h->nsections = get_u32(b + 12);
    h->file_bytes = get_u64(b + 16);
    h->table_crc = get_u32(b + 24);
    h->header_crc = get_u32(b + 28);
}

static void pack_entry(unsigned char b[ENTRY_BYTES], const struct entry *e)
{
    memset(b, 0, ENTRY_BYTES);
    memcpy(b, e->name, CKPT_NAME_MAX);
    put_u64(b + 32, e->offset);
    put_u64(b + 40, e->bytes);
    put_u32(b + 48, e->crc);
}

static void unpack_entry(const unsigned char b[ENTRY_BYTES], struct entry *e)
{
    memcpy(e->name, b, CKPT_NAME_MAX);
    e->offset = get_u64(b + 32);
    e->bytes = get_u64(b + 40);
    e->crc = get_u32(b + 48);
}

static uint64_t align_up(uint64_t x)
{
    return (x + CKPT_ALIGN - 1) / CKPT_ALIGN * CKPT_ALIGN;
}

/* ---- writer ----------------------------------------------------------------- */

struct section {
    struct entry e;
    const void *data;        /* memory section */
    void *copy;              /* owned copy (add_copy) */
    ckpt_produce_fn produce; /* streamed section */
    void *ctx;
};

struct ckpt_writer {
    char path[4096];
    int n, cap;
    struct section *s;
};

int ckpt_writer_begin(struct ckpt_writer **out, const char *path, struct herr *err)
{
    *out = NULL;
    struct ckpt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return herr_set(err, "checkpoint %s: out of memory", path);
    if (strlen(path) >= sizeof w->path) {
        free(w);
        return herr_set(err, "checkpoint %s: path too long", path);
    }
    strcpy(w->path, path);
    *out = w;
    return 0;
}

static struct section *new_section(struct ckpt_writer *w, const char *name, uint64_t bytes,
                                   struct herr *err)
{
    size_t len = strlen(name);
    if (len == 0 || len >= CKPT_NAME_MAX) {
        herr_set(err, "checkpoint %s: section name '%s' must have 1 to %d characters", w->path,
                 name, CKPT_NAME_MAX - 1);
        return NULL;
    }
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->s[i].e.name, name) == 0) {
            herr_set(err, "checkpoint %s: section '%s' added twice", w->path, name);
            return NULL;
        }
    if (w->n == CKPT_MAX_SECTIONS) {
        herr_set(err, "checkpoint %s: more than %d sections", w->path, CKPT_MAX_SECTIONS);
        return NULL;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        struct section *p = realloc(w->s, (size_t)cap * sizeof *p);
        if (!p) {
            herr_set(err, "checkpoint %s: out of memory", w->path);
            return NULL;
        }
        w->s = p;
        w->cap = cap;
    }
    struct section *s = &w->s[w->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->e.name, name, len);
    s->e.bytes = bytes;
    return s;
}

int ckpt_writer_add(struct ckpt_writer *w, const char *name, const void *data, size_t bytes,
                    struct herr *err)
{
    struct section *s = new_section(w, name, bytes, err);
    if (!s)
        return -1;
    s->data = data;
    return 0;
}

int ckpt_writer_add_copy(struct ckpt_writer *w, const char *name, const void *data,
                         size_t bytes, struct herr *err)
{
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy)
        return herr_set(err, "checkpoint %s: out of memory copying section '%s'", w->path,
                        name);
    memcpy(copy, data, bytes);
    struct section *s = new_section(w, name, bytes, err);
    if (!s) {
        free(copy);
        return -1;
    }
    s->copy = copy;
    s->data = copy;
    return 0;
}

int ckpt_writer_add_stream(struct ckpt_writer *w, const char *name, uint64_t bytes,
                           ckpt_produce_fn produce, void *ctx, struct herr *err)
{
    struct section *s = new_section(w, name, bytes, err);
    if (!s)
        return -1;
    s->produce = produce;
    s->ctx = ctx;
    return 0;
}

void ckpt_writer_abort(struct ckpt_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        free(w->s[i].copy);
    free(w->s);
    free(w);
}

/* Writes one section at the file's current end, computing its CRC. */
static int write_section(struct atomic_file *af, struct section *s,
                         const struct crc32_table *tab, void **bounce, struct herr *err)
{
    uint32_t crc = 0;
    for (uint64_t off = 0; off < s->e.bytes;) {
        size_t n = s->e.bytes - off < CHUNK ? (size_t)(s->e.bytes - off) : CHUNK;
        const void *chunk;
        if (s->produce) {
            if (!*bounce && !(*bounce = malloc(CHUNK)))
                return herr_set(err, "out of memory for a %zu-byte write buffer", CHUNK);
            if (s->produce(s->ctx, *bounce, off, n, err))
                return herr_wrap(err, "section '%s' at byte %llu: ", s->e.name,
                                 (unsigned long long)off);
            chunk = *bounce;
        } else {
            chunk = (const char *)s->data + off;
        }
        crc = crc32_update(tab, crc, chunk, n);
        if (atomic_file_write(af, chunk, n, err))
            return herr_wrap(err, "section '%s': ", s->e.name);
        off += n;
    }
    s->e.crc = crc;
    return 0;
}

static int write_all(struct ckpt_writer *w, struct atomic_file *af, struct herr *err)
{
    struct crc32_table tab;
    crc32_table_init(&tab);
    /* Layout: header, table, then each section at an aligned offset. */
    const uint64_t table_end = HEADER_BYTES + (uint64_t)w->n * ENTRY_BYTES;
    uint64_t pos = align_up(table_end);
    for (int i = 0; i < w->n; i++) {
        w->s[i].e.offset = pos;
        pos = align_up(pos + w->s[i].e.bytes);
    }
    const uint64_t file_bytes = w->n ? w->s[w->n - 1].e.offset + w->s[w->n - 1].e.bytes
                                     : table_end;

    /* Header and table are written last, once the CRCs are known; until then
     * the file has zeros there (and no valid magic). */
    static const unsigned char zeros[4096];
    void *bounce = NULL;
    int rc = 0;
    uint64_t at = 0;
    while (rc == 0 && at < table_end) {
        size_t n = table_end - at < sizeof zeros ? (size_t)(table_end - at) : sizeof zeros;
        rc = atomic_file_write(af, zeros, n, err);
        at += n;
    }
    for (int i = 0; i < w->n && rc == 0; i++) {
        struct section *s = &w->s[i];
        if (s->e.offset > af->written)
            rc = atomic_file_write(af, zeros, (size_t)(s->e.offset - af->written), err);
        if (rc == 0)
            rc = write_section(af, s, &tab, &bounce, err);
    }
    free(bounce);
    if (rc)
        return -1;

    unsigned char *table = calloc((size_t)w->n + 1, ENTRY_BYTES);
    if (!table)
        return herr_set(err, "out of memory for the section table");
    for (int i = 0; i < w->n; i++)
        pack_entry(table + (size_t)i * ENTRY_BYTES, &w->s[i].e);
    struct header h;
    memcpy(h.magic, CKPT_MAGIC, 8);
    h.version = CKPT_VERSION;
    h.nsections = (uint32_t)w->n;
    h.file_bytes = file_bytes;
    h.table_crc = crc32_update(&tab, 0, table, (size_t)w->n * ENTRY_BYTES);
    unsigned char hb[HEADER_BYTES];
    pack_header(hb, &h, &tab);
    rc = atomic_file_pwrite(af, table, (size_t)w->n * ENTRY_BYTES, HEADER_BYTES, err);
    free(table);
    if (rc == 0)
        rc = atomic_file_pwrite(af, hb, HEADER_BYTES, 0, err);
    return rc;
}

int ckpt_writer_commit(struct ckpt_writer *w, struct herr *err)
{
    struct atomic_file af;
    int rc = atomic_file_open(&af, w->path, err);
    if (rc == 0 && write_all(w, &af, err) != 0) {
        atomic_file_abort(&af);
        rc = -1;
    }
    if (rc == 0)
        rc = atomic_file_commit(&af, err);
    if (rc)
        herr_wrap(err, "writing checkpoint %s (the previous file, if any, is unchanged): ",
                  w->path);
    ckpt_writer_abort(w);
    return rc;
}

/* ---- reader ------------------------------------------------------------------ */

struct ckpt_reader {
    char path[4096];
    int fd;
    int n;
    struct entry *e;
    struct crc32_table tab;
};

void ckpt_reader_close(struct ckpt_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->e);
    free(r);
}

static int validate_table(struct ckpt_reader *r, uint64_t file_bytes, struct herr *err)
{
    const uint64_t data_start = HEADER_BYTES + (uint64_t)r->n * ENTRY_BYTES;
    for (int i = 0; i < r->n; i++) {
        struct entry *e = &r->e[i];
        if (e->name[CKPT_NAME_MAX - 1] != '\0' || e->name[0] == '\0')
            return herr_set(err, "checkpoint %s: section %d has a bad name", r->path, i);
        if (e->offset < data_start || e->offset > file_bytes ||
            e->bytes > file_bytes - e->offset)
            return herr_set(err, "checkpoint %s: section '%s' (%llu bytes at %llu) lies "
                            "outside the file's %llu bytes", r->path, e->name,
                            (unsigned long long)e->bytes, (unsigned long long)e->offset,
                            (unsigned long long)file_bytes);
    }
    return 0;
}

static int open_and_check(struct ckpt_reader *r, struct herr *err)
{
    uint64_t size = 0;
    if (open_regular_file(r->path, "checkpoint", &r->fd, &size, err))
        return -1;
    if (size < HEADER_BYTES)
        return herr_set(err, "checkpoint %s: truncated: %llu bytes, less than the %d-byte "
                        "header", r->path, (unsigned long long)size, HEADER_BYTES);
    unsigned char hb[HEADER_BYTES];
    if (read_exact_at(r->fd, hb, HEADER_BYTES, 0, "checkpoint", r->path, err))
        return -1;
    struct header h;
    unpack_header(hb, &h);
    if (memcmp(h.magic, CKPT_MAGIC, 8) != 0) {
        char shown[9];
        for (int i = 0; i < 8; i++)
            shown[i] = (h.magic[i] >= 32 && h.magic[i] < 127) ? h.magic[i] : '?';
        shown[8] = '\0';
        return herr_set(err, "checkpoint %s: bad magic '%s' (expected '%s'): not a heft "
                        "checkpoint", r->path, shown, CKPT_MAGIC);
    }
    if (h.version != CKPT_VERSION)
        return herr_set(err, "checkpoint %s: unsupported version %u (this heft reads version "
                        "%d)", r->path, h.version, CKPT_VERSION);
    if (crc32_update(&r->tab, 0, hb, 28) != h.header_crc)
        return herr_set(err, "checkpoint %s: header checksum mismatch: the file is corrupt",
                        r->path);
    if (size < h.file_bytes)
        return herr_set(err, "checkpoint %s: truncated: %llu bytes, the header says %llu "
                        "(an interrupted copy?)", r->path, (unsigned long long)size,
                        (unsigned long long)h.file_bytes);
    if (size > h.file_bytes)
        return herr_set(err, "checkpoint %s: %llu bytes, more than the %llu the header says",
                        r->path, (unsigned long long)size, (unsigned long long)h.file_bytes);
    if (h.nsections > CKPT_MAX_SECTIONS)
        return herr_set(err, "checkpoint %s: %u sections, more than %d", r->path,
                        h.nsections, CKPT_MAX_SECTIONS);
    r->n = (int)h.nsections;
    size_t tbytes = (size_t)r->n * ENTRY_BYTES;
    unsigned char *table = malloc(tbytes + 1);
    r->e = calloc((size_t)r->n + 1, sizeof *r->e);
    if (!table || !r->e) {
        free(table);
        return herr_set(err, "checkpoint %s: out of memory", r->path);
    }
    int rc = read_exact_at(r->fd, table, tbytes, HEADER_BYTES, "checkpoint", r->path, err);
    if (rc == 0 && crc32_update(&r->tab, 0, table, tbytes) != h.table_crc)
        rc = herr_set(err, "checkpoint %s: section table checksum mismatch: the file is "
                      "corrupt", r->path);
    for (int i = 0; i < r->n && rc == 0; i++)
        unpack_entry(table + (size_t)i * ENTRY_BYTES, &r->e[i]);
    free(table);
    return rc ? rc : validate_table(r, h.file_bytes, err);
}

int ckpt_reader_open(struct ckpt_reader **out, const char *path, struct herr *err)
{
    *out = NULL;
    struct ckpt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return herr_set(err, "checkpoint %s: out of memory", path);
    r->fd = -1;
    snprintf(r->path, sizeof r->path, "%s", path);
    crc32_table_init(&r->tab);
    if (open_and_check(r, err)) {
        ckpt_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

const char *ckpt_reader_path(const struct ckpt_reader *r) { return r->path; }
int ckpt_reader_num_sections(const struct ckpt_reader *r) { return r->n; }

const char *ckpt_reader_section_name(const struct ckpt_reader *r, int i)
{
    return (i >= 0 && i < r->n) ? r->e[i].name : NULL;
}

static const struct entry *find(const struct ckpt_reader *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->e[i].name, name) == 0)
            return &r->e[i];
    return NULL;
}

int ckpt_reader_has(const struct ckpt_reader *r, const char *name)
{
    return find(r, name) != NULL;
}

static const struct entry *find_or_fail(const struct ckpt_reader *r, const char *name,
                                        struct herr *err)
{
    const struct entry *e = find(r, name);
    if (!e) {
        char list[512] = "";
        size_t len = 0;
        for (int i = 0; i < r->n && len < sizeof list - 40; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                    r->e[i].name);
        herr_set(err, "checkpoint %s: no section '%s' (it has: %s)", r->path, name,
                 r->n ? list : "none");
    }
    return e;
}

int ckpt_reader_size(const struct ckpt_reader *r, const char *name, uint64_t *bytes,
                     struct herr *err)
{
    const struct entry *e = find_or_fail(r, name, err);
    if (!e)
        return -1;
    *bytes = e->bytes;
    return 0;
}

/* Reads a section chunk by chunk, into dst when given, else through a bounce
 * buffer to `consume`; then checks the CRC. */
static int read_section(const struct ckpt_reader *r, const struct entry *e, void *dst,
                        ckpt_consume_fn consume, void *ctx, struct herr *err)
{
    void *bounce = NULL;
    if (!dst && !(bounce = malloc(CHUNK)))
        return herr_set(err, "checkpoint %s: out of memory for a read buffer", r->path);
    uint32_t crc = 0;
    int rc = 0;
    for (uint64_t off = 0; off < e->bytes && rc == 0;) {
        size_t n = e->bytes - off < CHUNK ? (size_t)(e->bytes - off) : CHUNK;
        void *buf = dst ? (char *)dst + off : bounce;
        rc = read_exact_at(r->fd, buf, n, e->offset + off, "checkpoint", r->path, err);
        if (rc == 0) {
            crc = crc32_update(&r->tab, crc, buf, n);
            if (consume && consume(ctx, buf, off, n, err))
                rc = herr_wrap(err, "checkpoint %s: section '%s': ", r->path, e->name);
        }
        off += n;
    }
    free(bounce);
    if (rc == 0 && crc != e->crc)
        rc = herr_set(err, "checkpoint %s: section '%s' checksum mismatch (stored 0x%08x, "
                      "computed 0x%08x): the file is corrupt", r->path, e->name, e->crc, crc);
    return rc;
}

int ckpt_reader_read(const struct ckpt_reader *r, const char *name, void *dst, size_t bytes,
                     struct herr *err)
{
    const struct entry *e = find_or_fail(r, name, err);
    if (!e)
        return -1;
    if (e->bytes != (uint64_t)bytes)
        return herr_set(err, "checkpoint %s: section '%s' holds %llu bytes, expected %zu "
                        "(saved with another model or configuration?)", r->path, name,
                        (unsigned long long)e->bytes, bytes);
    return read_section(r, e, dst, NULL, NULL, err);
}

int ckpt_reader_read_alloc(const struct ckpt_reader *r, const char *name, void **dst,
                           size_t *bytes, struct herr *err)
{
    *dst = NULL;
    *bytes = 0;
    const struct entry *e = find_or_fail(r, name, err);
    if (!e)
        return -1;
    if (e->bytes >= SIZE_MAX)
        return herr_set(err, "checkpoint %s: section '%s' is too large for memory", r->path,
                        name);
    char *buf = malloc((size_t)e->bytes + 1);
    if (!buf)
        return herr_set(err, "checkpoint %s: out of memory for section '%s' (%llu bytes)",
                        r->path, name, (unsigned long long)e->bytes);
    if (read_section(r, e, buf, NULL, NULL, err)) {
        free(buf);
        return -1;
    }
    buf[e->bytes] = '\0';
    *dst = buf;
    *bytes = (size_t)e->bytes;
    return 0;
}

int ckpt_reader_read_stream(const struct ckpt_reader *r, const char *name,
                            ckpt_consume_fn consume, void *ctx, struct herr *err)
{
    const struct entry *e = find_or_fail(r, name, err);
    if (!e)
        return -1;
    return read_section(r, e, NULL, consume, ctx, err);
}
