/* core/hf_json.h — config.json <-> the key/value list of models/hf.h.
 *
 * Reading keeps every top-level key: scalars with their value, a list whose
 * first element is a string (architectures) as that string, anything else
 * as "present" (HF_OTHER). Writing gives each key its JSON type, lists of one
 * string for HF_LIST, two-space indentation, and reals with up to 15
 * significant digits (the float32 hyper-parameters come out as written:
 * 1e-05, 10000.0). */
#ifndef HEFT_CORE_HF_JSON_H
#define HEFT_CORE_HF_JSON_H

#include "core/error.h"
#include "models/hf.h"

int hf_json_read(const char *path, struct hf_config *out, struct herr *err);
int hf_json_write(const char *path, const struct hf_config *in, struct herr *err);

#endif
