/* core/ckpt_dir.h — where checkpoints live on disk.
 *
 * A run saves into a directory: DIR/ckpt_<step, 8 digits>.heft, and
 * DIR/latest, a one-line text file naming the newest complete checkpoint
 * (replaced atomically after that checkpoint's own atomic write, so it never
 * names a partial file). Resuming takes "DIR or file": a directory means the
 * checkpoint DIR/latest names. Older checkpoints can be pruned to the newest K.
 */
#ifndef HEFT_CORE_CKPT_DIR_H
#define HEFT_CORE_CKPT_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define CKPT_LATEST_NAME "latest"

/* out = DIR/ckpt_00001234.heft */
int ckpt_dir_path(char *out, size_t cap, const char *dir, uint64_t step, struct herr *err);
/* Creates DIR (and parents) if needed. */
int ckpt_dir_create(const char *dir, struct herr *err);
/* Writes DIR/latest naming `file` (a path whose base name is kept). */
int ckpt_dir_set_latest(const char *dir, const char *file, struct herr *err);
/* Resolves a directory (via its `latest`) or a file to a checkpoint file path. */
int ckpt_resolve(const char *dir_or_file, char *out, size_t cap, struct herr *err);
/* Deletes DIR/ckpt_*.heft files beyond the `keep` highest steps, never the
 * one `latest` names; keep <= 0 keeps all. *removed (may be NULL) gets the
 * number deleted. */
int ckpt_dir_prune(const char *dir, int keep, int *removed, struct herr *err);

/* Deletes the temporary files (`NAME.tmp.<pid>`, core/fileio.h) that writers
 * of a run's files (checkpoints, `latest`, model.bin) left in DIR when they
 * were killed mid-write, other than this process's own. Only for a directory
 * this process holds the run lock of (core/run_lock.h): no other writer can
 * be at work there. *removed gets the count; *bytes (may be NULL) their size. */
int ckpt_dir_remove_stale_temps(const char *dir, int *removed, uint64_t *bytes,
                                struct herr *err);

#endif
