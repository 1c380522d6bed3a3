/* core/ref_losses.h — the side file of reference losses: for every training
 * window of a dataset at one sequence length, the mean token loss a
 * reference model gives it (`heft score` writes it; `heft train --reweight
 * reducible --ref-losses FILE` reads it by window index, so training does no
 * extra forward).
 *
 * Windows are numbered as the loader numbers them (core/loader.h,
 * core/dataset.h): all train windows of all shards and domains in manifest
 * order, 0..M-1. The file holds the first `count` of them (count <= M:
 * scoring may stop early); a window at or past count, or whose value is NaN,
 * has no reference loss. Little-endian, exactly 136 + 4 count + 8 bytes:
 *
 *   offset   0  char[8]  magic "HEFTREFL"
 *   offset   8  u32      version (1)
 *   offset  12  u32      seq: the sequence length T the windows are cut at
 *   offset  16  u64      windows: M, the data's train windows at T
 *   offset  24  u64      count: windows scored (the first count), <= M
 *   offset  32  u64      fingerprint of the data (dataset_fingerprint)
 *   offset  40  f64      FLOPs spent scoring (forward passes)
 *   offset  48  f64      FLOPs spent training the reference model (0 = not given)
 *   offset  56  u64      the reference model's parameter count
 *   offset  64  char[64] the reference model, described (NUL-padded)
 *   offset 128  u64      tokens the reference model was trained on (0 = not given)
 *   offset 136  f32 x count  the reference losses, NaN = none
 *   then        u64      FNV-1a 64 of every byte before it
 * Reading checks the magic, the version, the size against count, count <=
 * windows and the checksum; ref_losses_check then checks it against the data
 * a run trains on (sequence length, window count, fingerprint).
 */
#ifndef HEFT_CORE_REF_LOSSES_H
#define HEFT_CORE_REF_LOSSES_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/fileio.h"

#define REF_LOSSES_VERSION 1
#define REF_LOSSES_HEADER_BYTES 136

struct ref_losses {
    uint32_t seq;
    uint64_t windows, count, fingerprint;
    double score_flops, train_flops;
    uint64_t params, train_tokens;
    char model[64];
    uint64_t checksum;  /* as read or written */
    /* the values: owned (written by the caller, freed by ref_losses_free) or a
     * view into the mapped file (read) */
    float *owned;
    const unsigned char *mapped; /* count little-endian f32, unaligned-safe */
    struct mapped_file mf;
};

/* Writes r (its `owned` values) to path atomically; sets r->checksum. */
int ref_losses_write(const char *path, struct ref_losses *r, struct herr *err);
/* Maps path and validates it (see above); every failure names the file and
 * what is wrong. */
int ref_losses_read(const char *path, struct ref_losses *r, struct herr *err);
void ref_losses_free(struct ref_losses *r);
/* The file must describe the data a run trains on: T, the number of train
 * windows at T and the data's fingerprint. */
int ref_losses_check(const struct ref_losses *r, const char *path, int T, uint64_t windows,
                     uint64_t fingerprint, struct herr *err);
/* The reference loss of window w: NaN when the file does not cover it. */
double ref_losses_at(const struct ref_losses *r, uint64_t w);

#endif
