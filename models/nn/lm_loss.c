/* models/nn/lm_loss.c — the LM head and the per-token cross-entropy. The
 * backward's per-row scale is where loss reweighting enters (backend.h). */
#include "models/nn/nn.h"

void nn_lm_loss_forward(struct backend *be, dptr logits, dptr lse, dptr losses, dptr x, dptr head,
                        dptr targets, int N, int C, int V, int Vp)
{
    be->ops->gemm(be, 0, 1, N, Vp, C, 1.0f, x, C, head, C, 0.0f, logits, Vp, NULL);
    be->ops->crossentropy_forward(be, losses, lse, logits, targets, N, V, Vp);
}

void nn_lm_loss_backward(struct backend *be, dptr dx, dptr dhead, dptr logits, dptr lse,
                         dptr targets, dptr row_scale, dptr x, dptr head, int T, int N, int C,
                         int V, int Vp)
{
    /* losses = crossentropy(logits, targets), each token scaled by its row's scale */
    be->ops->crossentropy_backward(be, logits, logits, lse, targets, row_scale, T, N, V, Vp);
    /* logits = x head^T: dx = dlogits head, dhead += dlogits^T x */
    be->ops->gemm(be, 0, 0, N, C, Vp, 1.0f, logits, Vp, head, C, 0.0f, dx, C, NULL);
    be->ops->gemm(be, 1, 0, Vp, C, N, 1.0f, logits, Vp, x, C, 1.0f, dhead, C, NULL);
}
