/* core/checkpoint.h — heft's resumable checkpoint: a versioned, checksummed,
 * atomically written container of named sections.
 *
 * The container knows nothing of training; the trainer decides the sections
 * ("meta" key=value text from core/ckpt_meta.h, "params", "adam_m", "adam_v",
 * "reweight", "data", "rng", ...).
 *
 * Layout (version 1, little-endian):
 *   header, 32 bytes:
 *     char     magic[8]     "HEFTCKPT"
 *     uint32   version      1
 *     uint32   nsections
 *     uint64   file_bytes   size of the whole file (truncation is seen at once)
 *     uint32   table_crc    CRC-32 of the section table
 *     uint32   header_crc   CRC-32 of the 28 bytes before it
 *   section table, nsections entries of 64 bytes:
 *     char     name[32]     NUL-terminated, NUL-padded
 *     uint64   offset       from the start of the file, a multiple of 64
 *     uint64   bytes
 *     uint32   crc          CRC-32 of the section's bytes (core/checksum.h)
 *     uint8    reserved[12] zero
 *   section data, each at its 64-byte-aligned offset, zero padding between.
 *
 * Writing: sections are registered (their memory is not copied) and written
 * on commit to `path.tmp.<pid>`, which is fsync'ed and renamed over `path`,
 * then the directory is fsync'ed. On any failure the temporary file is
 * removed and the previous file at `path` is untouched. Sizes are 64-bit and
 * data is written in bounded chunks, so sections of tens of GB work.
 *
 * Reading: the header, size and table are validated on open; each section's
 * CRC is verified as it is read. Every error names the file and, where it
 * applies, the section.
 */
#ifndef HEFT_CORE_CHECKPOINT_H
#define HEFT_CORE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define CKPT_MAGIC "HEFTCKPT"
#define CKPT_VERSION 1
#define CKPT_NAME_MAX 32 /* including the terminator */
#define CKPT_ALIGN 64
#define CKPT_MAX_SECTIONS 4096

/* Fills buf[0..n) with bytes [offset, offset+n) of a section; returns 0, or
 * -1 with a message in err (for data that is not in host memory, e.g. on a
 * device: it is fetched chunk by chunk, never whole). */
typedef int (*ckpt_produce_fn)(void *ctx, void *buf, uint64_t offset, size_t n,
                               struct herr *err);
/* Receives bytes [offset, offset+n) of a section as it is read. */
typedef int (*ckpt_consume_fn)(void *ctx, const void *buf, uint64_t offset, size_t n,
                               struct herr *err);

/* ---- writer --------------------------------------------------------------- */

struct ckpt_writer;

int ckpt_writer_begin(struct ckpt_writer **w, const char *path, struct herr *err);
/* Registers a section written from `data` at commit time: the memory must
 * stay valid and unchanged until ckpt_writer_commit returns. */
int ckpt_writer_add(struct ckpt_writer *w, const char *name, const void *data, size_t bytes,
                    struct herr *err);
/* Registers a section the writer copies now (for small things built on the
 * stack: meta text, RNG state). */
int ckpt_writer_add_copy(struct ckpt_writer *w, const char *name, const void *data,
                         size_t bytes, struct herr *err);
/* Registers a section produced chunk by chunk at commit time. */
int ckpt_writer_add_stream(struct ckpt_writer *w, const char *name, uint64_t bytes,
                           ckpt_produce_fn produce, void *ctx, struct herr *err);
/* Writes the file atomically and frees the writer, on success or failure. */
int ckpt_writer_commit(struct ckpt_writer *w, struct herr *err);
/* Frees the writer without writing anything. */
void ckpt_writer_abort(struct ckpt_writer *w);

/* ---- reader --------------------------------------------------------------- */

struct ckpt_reader;

int ckpt_reader_open(struct ckpt_reader **r, const char *path, struct herr *err);
void ckpt_reader_close(struct ckpt_reader *r);

const char *ckpt_reader_path(const struct ckpt_reader *r);
int ckpt_reader_num_sections(const struct ckpt_reader *r);
const char *ckpt_reader_section_name(const struct ckpt_reader *r, int i);
int ckpt_reader_has(const struct ckpt_reader *r, const char *name);
/* Size of a section; a missing section is an error listing those present. */
int ckpt_reader_size(const struct ckpt_reader *r, const char *name, uint64_t *bytes,
                     struct herr *err);
/* Reads a whole section into dst, which holds exactly `bytes` (an error if
 * the section's size differs), verifying its CRC. */
int ckpt_reader_read(const struct ckpt_reader *r, const char *name, void *dst, size_t bytes,
                     struct herr *err);
/* Reads a section into a new buffer (malloc'ed, NUL-terminated one byte past
 * the data so text sections can be parsed in place). */
int ckpt_reader_read_alloc(const struct ckpt_reader *r, const char *name, void **dst,
                           size_t *bytes, struct herr *err);
/* Hands a section to `consume` chunk by chunk. The CRC is known only at the
 * end: when this returns -1 for a checksum mismatch, what was consumed must
 * be discarded. */
int ckpt_reader_read_stream(const struct ckpt_reader *r, const char *name,
                            ckpt_consume_fn consume, void *ctx, struct herr *err);

#endif
