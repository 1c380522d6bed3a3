/* models/nn/mlp.c — the transformer's MLP: GELU (GPT-2) or SwiGLU (LLaMA). */
#include "models/nn/nn.h"

void nn_mlp_forward(struct backend *be, const struct nn_mlp *m, dptr out, dptr h, dptr a, dptr x,
                    dptr W1, dptr b1, dptr W2, dptr b2, int N)
{
    int H = nn_mlp_hidden(m);
    nn_linear_forward(be, h, x, W1, b1, N, m->C, H, 0.0f);
    if (m->act == NN_GELU)
        be->ops->gelu_forward(be, a, h, (size_t)N * m->F);
    else
        be->ops->swiglu_forward(be, a, h, N, m->F);
    nn_linear_forward(be, out, a, W2, b2, N, m->F, m->C, 1.0f);
}

void nn_mlp_backward(struct backend *be, const struct nn_mlp *m, dptr dx, dptr dh, dptr da,
                     dptr dout, dptr h, dptr a, dptr x, dptr W1, dptr dW1, dptr db1, dptr W2,
                     dptr dW2, dptr db2, int N)
{
    int H = nn_mlp_hidden(m);
    /* out += a W2^T + b2 */
    nn_linear_backward(be, da, dW2, db2, dout, a, W2, N, m->F, m->C);
    /* a = act(h) */
    if (m->act == NN_GELU)
        be->ops->gelu_backward(be, dh, h, da, (size_t)N * m->F);
    else
        be->ops->swiglu_backward(be, dh, h, da, N, m->F);
    /* h = x W1^T + b1 */
    nn_linear_backward(be, dx, dW1, db1, dh, x, W1, N, m->C, H);
}
