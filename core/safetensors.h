/* core/safetensors.h — Hugging Face's safetensors file: written as a stream,
 * read with every offset checked.
 *
 * Layout (little-endian):
 *   uint64  N                 length of the header
 *   char    header[N]         JSON: { "__metadata__": {"format": "pt", ...},
 *                               NAME: {"dtype": "F32", "shape": [d0, d1, ...],
 *                                      "data_offsets": [begin, end]}, ... }
 *                             (heft pads it with spaces to a multiple of 8)
 *   bytes   data              each tensor row-major at [begin, end) of the data
 *
 * Writing: the header is made from the tensor list (jansson), then each
 * tensor's float32 data is asked for in bounded chunks from a callback, so a
 * model is written from wherever it lives (a transposing view of heft's flat
 * buffer) without a second copy; atomically, as every heft file
 * (core/fileio.h).
 *
 * Reading: the header is validated against the file before any data is
 * trusted: its length against the file size, its JSON, each tensor's dtype
 * (a safetensors dtype name), shape and offsets (begin <= end, inside the
 * data, end - begin = elements x dtype size), names unique, and no two
 * tensors overlapping. Each failure is one message naming the file and the
 * tensor. Data is read with pread per chunk (no mapping of the whole file)
 * and converted to float32 from F32, F16 or BF16; another dtype is refused
 * when a tensor of it is read, naming the dtype. */
#ifndef HEFT_CORE_SAFETENSORS_H
#define HEFT_CORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define ST_NAME_MAX 256
#define ST_MAX_DIMS 8
/* safetensors' own reader refuses headers above 100 MB */
#define ST_HEADER_MAX ((uint64_t)100 << 20)

/* ---- writer --------------------------------------------------------------- */

struct st_out {
    const char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
};

/* Fills buf[0..n) with elements [first, first + n) of tensor `tensor`
 * (row-major, float32). */
typedef int (*st_produce_fn)(void *ctx, int tensor, float *buf, size_t first, size_t n,
                             struct herr *err);

/* Writes tensors[0..n) as F32, in this order, contiguous, with
 * "__metadata__": {"format": "pt"} (what transformers asks of a file). */
int st_write_f32(const char *path, const struct st_out *tensors, int n, st_produce_fn produce,
                 void *ctx, struct herr *err);

/* ---- reader --------------------------------------------------------------- */

struct st_tensor {
    char name[ST_NAME_MAX];
    char dtype[16];       /* as in the file: "F32", "BF16", "I64", ... */
    int dtype_bytes;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;  /* byte range in the data section */
};

struct st_file;

int st_open(struct st_file **f, const char *path, struct herr *err);
void st_close(struct st_file *f);

const char *st_path(const struct st_file *f);
int st_count(const struct st_file *f);
const struct st_tensor *st_at(const struct st_file *f, int i);
/* The tensor named `name`, or NULL. */
const struct st_tensor *st_find(const struct st_file *f, const char *name);
size_t st_elements(const struct st_tensor *t);

/* 1 if heft converts this dtype to float32 (F32, F16, BF16). */
int st_dtype_supported(const char *dtype);

/* Reads elements [first, first + n) of t (row-major) into dst as float32. */
int st_read_f32(const struct st_file *f, const struct st_tensor *t, size_t first, size_t n,
                float *dst, struct herr *err);

#endif
