/* core/shard_cache.h — content fingerprints of shard files, kept per user so
 * that an unchanged file is read through once, not at every start.
 *
 * An entry is keyed by what changes when a file's content can have changed:
 * its path, device, inode, size, modification time and status-change time
 * (ctime, which every write moves and no user can set back), and holds the
 * token count, the XXH64 of the tokens and the largest id (core/shard.h).
 * A file that matches an entry in every key field is not read; any other is
 * scanned (shard_scan) and its entry written. Entries are small text files,
 * written atomically, in DIR/fingerprints/ where DIR is $HEFT_CACHE_DIR,
 * else $XDG_CACHE_HOME/heft, else ~/.cache/heft (the OpenCL kernel cache's
 * directory). The cache is an optimization only: when it cannot be read or
 * written, shards are scanned every time. HEFT_FINGERPRINT_CACHE=0 turns it
 * off. */
#ifndef HEFT_CORE_SHARD_CACHE_H
#define HEFT_CORE_SHARD_CACHE_H

#include "core/error.h"
#include "core/shard.h"

/* Fills sh's hash and max_id (sh->scanned): from the cache when the file is
 * unchanged, else by reading it (and caching the result). In-memory shards
 * are scanned directly. */
int shard_scan_cached(struct shard *sh, struct herr *err);

#endif
