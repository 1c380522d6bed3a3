/* bench/layer_ops.c — see layer_ops.h. */
#include "bench/layer_ops.h"

#include <stdlib.h>

#include "core/gemm_rate.h"
#include "models/family.h"
#include "models/nn/decoder.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int layer_ops_time(struct backend *be, const struct model_config *cfg, int B, int T, int reps,
                   double *ms, struct herr *err)
{
    struct decoder_spec s;
    cfg->family->spec(cfg, &s);
    const int N = B * T, C = s.C, hs = C / s.NH, F = s.F;
    const int H = s.act == NN_SWIGLU ? 2 * F : F, QKV = C + 2 * s.KVH * hs;
    const size_t NC = (size_t)N * C;
    /* one buffer: x, out, dout, dinp (N, C); mean, rstd (N); w, b, dw, db (C);
     * qkv (N, QKV); freqs (T, hs); h, dh (N, H); a, da (N, F) */
    size_t total = 4 * NC + 2 * (size_t)N + 4 * (size_t)C + (size_t)N * QKV + (size_t)T * hs +
                   2 * (size_t)N * H + 2 * (size_t)N * F;
    dptr base = backend_alloc_floats(be, total);
    if (backend_check(be, err))
        return -1;
    be->ops->fill(be, base, 0.5f, total);
    dptr x = base, out = dptr_at(x, NC), dout = dptr_at(out, NC), dinp = dptr_at(dout, NC);
    dptr mean = dptr_at(dinp, NC), rstd = dptr_at(mean, (size_t)N);
    dptr w = dptr_at(rstd, (size_t)N), b = dptr_at(w, (size_t)C), dw = dptr_at(b, (size_t)C);
    dptr db = dptr_at(dw, (size_t)C), qkv = dptr_at(db, (size_t)C);
    dptr freqs = dptr_at(qkv, (size_t)N * QKV), h = dptr_at(freqs, (size_t)T * hs);
    dptr dh = dptr_at(h, (size_t)N * H), a = dptr_at(dh, (size_t)N * H);
    dptr da = dptr_at(a, (size_t)N * F);
    const struct nn_norm *norm = &s.norm;
    int ln = norm->kind == NN_LAYERNORM;
    double *t = calloc((size_t)reps + 1, sizeof *t);
    if (!t) {
        backend_release_ptr(be, base);
        return herr_set(err, "out of memory");
    }
    for (int r = -1; r < reps; r++) { /* r = -1 warms up */
        be->ops->finish(be);
        double t0 = gemm_rate_clock();
        for (int l = 0; l <= s.L; l++) {
            int norms = l < s.L ? 2 : 1; /* the final norm after the last layer */
            for (int k = 0; k < norms; k++) {
                nn_norm_forward(be, norm, out, ln ? mean : NN_NONE, rstd, x, w, ln ? b : NN_NONE,
                                N, C);
                nn_norm_backward(be, norm, dinp, dw, ln ? db : NN_NONE, dout, x, w,
                                 ln ? mean : NN_NONE, rstd, N, C);
            }
            if (l == s.L)
                break;
            if (s.rope) {
                be->ops->rope_forward(be, qkv, freqs, B, T, s.NH + s.KVH, hs, QKV);
                be->ops->rope_backward(be, qkv, freqs, B, T, s.NH + s.KVH, hs, QKV);
            }
            if (s.act == NN_GELU) {
                be->ops->gelu_forward(be, a, h, (size_t)N * F);
                be->ops->gelu_backward(be, dh, h, da, (size_t)N * F);
            } else {
                be->ops->swiglu_forward(be, a, h, N, F);
                be->ops->swiglu_backward(be, dh, h, da, N, F);
            }
        }
        be->ops->finish(be);
        if (r >= 0)
            t[r] = (gemm_rate_clock() - t0) * 1e3;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *ms = t[reps / 2];
    free(t);
    backend_release_ptr(be, base);
    return backend_check(be, err);
}
