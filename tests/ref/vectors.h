/* tests/ref/vectors.h — reader for heft's reference-vector files.
 *
 * Reference vectors (written by tests/ref/make_gpt2_vectors.py) are a list of
 * named float32 / int32 arrays. The format is self-describing, little-endian:
 *
 *   char  magic[8] = "HEFTVEC1"
 *   int32 num_records                      (1 .. REF_VEC_MAX_RECORDS)
 *   num_records times:
 *     int32 name_len (1..63), char name[name_len]   (no NUL; names are unique)
 *     int32 dtype                          (1 = float32, 2 = int32)
 *     int32 ndims (0..8), int32 dims[ndims] (each >= 1; ndims 0 = a scalar)
 *     prod(dims) 4-byte elements, row-major
 *   end of file exactly after the last record.
 *
 * Everything is validated (sizes against the bytes left, dtype, names), so a
 * truncated or corrupt file is an error that names the file, the record and
 * the field, never a crash or a silently short array.
 */
#ifndef HEFT_TESTS_REF_VECTORS_H
#define HEFT_TESTS_REF_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define REF_VEC_MAX_DIMS 8
#define REF_VEC_MAX_NAME 63
#define REF_VEC_MAX_RECORDS 4096

enum ref_vec_dtype { REF_VEC_F32 = 1, REF_VEC_I32 = 2 };

struct ref_vec {
    char name[REF_VEC_MAX_NAME + 1];
    enum ref_vec_dtype dtype;
    int ndims;
    int dims[REF_VEC_MAX_DIMS];
    size_t count; /* product of dims (1 for a scalar) */
    void *data;   /* float * or int32_t *, count elements, host byte order */
};

struct ref_vectors {
    int count;
    struct ref_vec *recs;
};

/* Parses an in-memory file image; `what` names it in messages (a path). On
 * failure v is left empty (nothing to free). */
int ref_vectors_parse(struct ref_vectors *v, const void *bytes, size_t len, const char *what,
                      struct herr *err);

/* Reads and parses the file at path. */
int ref_vectors_load(struct ref_vectors *v, const char *path, struct herr *err);

void ref_vectors_free(struct ref_vectors *v);

/* The record called name, or NULL. */
const struct ref_vec *ref_vectors_find(const struct ref_vectors *v, const char *name);

/* The data of record `name` if it exists, has the dtype and exactly `count`
 * elements; otherwise NULL with a message naming the record. */
const float *ref_vectors_f32(const struct ref_vectors *v, const char *name, size_t count,
                             struct herr *err);
const int32_t *ref_vectors_i32(const struct ref_vectors *v, const char *name, size_t count,
                               struct herr *err);

/* Reads a whole file into a malloc'd buffer (*len bytes); for loaders and for
 * tests that corrupt a copy. */
int ref_read_file(const char *path, unsigned char **bytes, size_t *len, struct herr *err);

#endif
