/* core/tokenizer/bpe_train_internal.h — the two steps of bpe_train. */
#ifndef HEFT_CORE_TOKENIZER_BPE_TRAIN_INTERNAL_H
#define HEFT_CORE_TOKENIZER_BPE_TRAIN_INTERNAL_H

#include "core/tokenizer/bpe_train.h"
#include "core/tokenizer/pretok.h"
#include "core/tokenizer/tok_hash.h"

/* Step 1: distinct words -> counts (bpe_train_count.c). */
int bpe_train_count(const struct bpe_train_options *o, int threads, struct bytemap *words,
                    struct bpe_train_result *res, struct herr *err);

#endif
