/* models/nn/generate.h — next-token logits one token at a time, with a KV
 * cache: what sampling needs from a decoder (models/nn/decoder.h).
 *
 * A training forward recomputes every position; generating N tokens that way
 * costs N forwards over up to N positions. The generator instead keeps each
 * layer's keys and values of the positions seen so far (the cache), and a
 * step computes only the new position: every product is a GEMM with m = 1
 * (one row against the weights), attention is one query row against the t+1
 * cached keys (softmax_rows_forward, then one row of the values), and RoPE
 * rotates the new row by the rotary table's row t. It reads the parameters
 * where they are (the spec's flat layout on the same backend) and uses only
 * backend ops, so it runs on every backend the training forward runs on.
 *
 * Memory, planned once: per layer (maxT, KVD) keys and values, plus a few
 * rows of scratch; nothing is allocated per step. */
#ifndef HEFT_NN_GENERATE_H
#define HEFT_NN_GENERATE_H

#include <stdint.h>

#include "models/nn/decoder.h"

struct generator;

/* A generator for sequences of up to maxT tokens (<= the spec's maxT) over
 * the parameters at params (borrowed: they must outlive the generator). */
int generator_create(struct generator **g, struct backend *be, const struct decoder_spec *s,
                     dptr params, int maxT, struct herr *err);
void generator_destroy(struct generator *g);

/* Forgets the sequence: the next token goes to position 0. */
void generator_reset(struct generator *g);
/* Tokens fed since the last reset. */
int generator_length(const struct generator *g);

/* Feeds `token` at the next position; with logits != NULL, writes the V
 * logits of the token that follows it (the host's copy). An id outside
 * [0, V) or a full cache is an error. */
int generator_step(struct generator *g, int32_t token, float *logits, struct herr *err);

#endif
