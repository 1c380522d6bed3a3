/* models/nn/linear.c — y = x W^T + b and its backward (see nn.h). */
#include "models/nn/nn.h"

void nn_linear_forward(struct backend *be, dptr y, dptr x, dptr W, dptr b, int N, int IC, int OC,
                       float beta)
{
    be->ops->gemm(be, 0, 1, N, OC, IC, 1.0f, x, IC, W, IC, beta, y, OC, NULL);
    if (nn_has(b))
        be->ops->add_bias(be, y, b, N, OC);
}

void nn_linear_backward(struct backend *be, dptr dx, dptr dW, dptr db, dptr dy, dptr x, dptr W,
                        int N, int IC, int OC)
{
    /* y = x W^T + b: dx = dy W, dW += dy^T x, db += sum_n dy */
    be->ops->gemm(be, 0, 0, N, IC, OC, 1.0f, dy, OC, W, IC, 0.0f, dx, IC, NULL);
    be->ops->gemm(be, 1, 0, OC, IC, N, 1.0f, dy, OC, x, IC, 1.0f, dW, IC, NULL);
    if (nn_has(db))
        be->ops->col_sums(be, db, dy, N, OC);
}
