/* core/hf_json.c — see hf_json.h. */
#include "core/hf_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

int hf_json_read(const char *path, struct hf_config *out, struct herr *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return herr_set(err, "%s: not valid JSON (%s, line %d)", path, je.text, je.line);
    if (!json_is_object(root)) {
        json_decref(root);
        return herr_set(err, "%s: not a JSON object", path);
    }
    if (json_object_size(root) > HF_CONFIG_MAX) {
        size_t n = json_object_size(root);
        json_decref(root);
        return herr_set(err, "%s: %zu keys, more than heft reads (%d)", path, n, HF_CONFIG_MAX);
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        struct hf_kv *kv = &out->kv[out->n++];
        snprintf(kv->key, sizeof kv->key, "%s", key);
        switch (json_typeof(v)) {
        case JSON_NULL: kv->kind = HF_NULL; break;
        case JSON_TRUE: kv->kind = HF_BOOL; kv->num = 1; break;
        case JSON_FALSE: kv->kind = HF_BOOL; kv->num = 0; break;
        case JSON_INTEGER: kv->kind = HF_INT; kv->num = (double)json_integer_value(v); break;
        case JSON_REAL: kv->kind = HF_REAL; kv->num = json_real_value(v); break;
        case JSON_STRING:
            kv->kind = HF_STRING;
            snprintf(kv->str, sizeof kv->str, "%s", json_string_value(v));
            break;
        case JSON_ARRAY:
            kv->kind = json_is_string(json_array_get(v, 0)) ? HF_LIST : HF_OTHER;
            if (kv->kind == HF_LIST)
                snprintf(kv->str, sizeof kv->str, "%s", json_string_value(json_array_get(v, 0)));
            break;
        default: kv->kind = HF_OTHER; break;
        }
    }
    json_decref(root);
    return 0;
}

int hf_json_write(const char *path, const struct hf_config *in, struct herr *err)
{
    json_t *root = json_object();
    int bad = root == NULL;
    for (int i = 0; i < in->n && !bad; i++) {
        const struct hf_kv *kv = &in->kv[i];
        json_t *v = NULL;
        switch (kv->kind) {
        case HF_NULL: v = json_null(); break;
        case HF_BOOL: v = json_boolean(kv->num != 0); break;
        case HF_INT: v = json_integer((json_int_t)kv->num); break;
        case HF_REAL: v = json_real(kv->num); break;
        case HF_STRING: v = json_string(kv->str); break;
        case HF_LIST: v = json_pack("[s]", kv->str); break;
        case HF_OTHER: continue; /* nothing to write: it holds no value */
        }
        bad = json_object_set_new(root, kv->key, v);
    }
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!text)
        return herr_set(err, "%s: out of memory making the JSON", path);
    /* end with a newline, as editors and transformers' own files do */
    size_t len = strlen(text);
    char *withnl = malloc(len + 2);
    if (withnl) {
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        withnl[len + 1] = '\0';
    }
    free(text);
    if (!withnl)
        return herr_set(err, "%s: out of memory", path);
    int rc = atomic_write_file(path, withnl, len + 1, err);
    free(withnl);
    return rc;
}
