/* models/nn/norm.c — LayerNorm (GPT-2) or RMSNorm (LLaMA), one interface. */
#include "models/nn/nn.h"

void nn_norm_forward(struct backend *be, const struct nn_norm *n, dptr out, dptr mean, dptr rstd,
                     dptr inp, dptr w, dptr b, int N, int C)
{
    if (n->kind == NN_LAYERNORM)
        be->ops->layernorm_forward(be, out, mean, rstd, inp, w, b, N, C);
    else
        be->ops->rmsnorm_forward(be, out, rstd, inp, w, N, C, n->eps);
}

void nn_norm_backward(struct backend *be, const struct nn_norm *n, dptr dinp, dptr dw, dptr db,
                      dptr dout, dptr inp, dptr w, dptr mean, dptr rstd, int N, int C)
{
    if (n->kind == NN_LAYERNORM)
        be->ops->layernorm_backward(be, dinp, dw, db, dout, inp, w, mean, rstd, N, C);
    else
        be->ops->rmsnorm_backward(be, dinp, dw, dout, inp, w, rstd, N, C);
}
