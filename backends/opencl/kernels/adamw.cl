/* adamw.cl - one AdamW step (PyTorch torch.optim.AdamW semantics); see
 * struct adamw_args in backends/backend.h for the formulas. */

__kernel void adamw(__global float *params, ulong params_off, __global const float *grads,
                    ulong grads_off, __global float *m, ulong m_off, __global float *v,
                    ulong v_off, ulong n, float lr, float beta1, float beta2, float eps,
                    float weight_decay, float grad_scale, float bias_correction1,
                    float bias_correction2)
{
    const size_t i = get_global_id(0);
    if (i >= n)
        return;
    const float g = grads[grads_off + i] * grad_scale;
    float p = params[params_off + i] * (1.0f - lr * weight_decay);
    const float mi = beta1 * m[m_off + i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[v_off + i] + (1.0f - beta2) * g * g;
    p -= lr * (mi / bias_correction1) / (sqrt(vi / bias_correction2) + eps);
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    params[params_off + i] = p;
}
