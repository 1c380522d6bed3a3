/* models/nn/embed.c — token embedding, with GPT-2's learned positions or
 * without positions (LLaMA, whose positions are rotary: the table is here). */
#include "models/nn/nn.h"

#include <math.h>

void nn_embed_forward(struct backend *be, dptr out, dptr tokens, dptr wte, dptr wpe, int B, int T,
                      int C)
{
    if (nn_has(wpe))
        be->ops->encoder_forward(be, out, tokens, wte, wpe, B, T, C);
    else
        be->ops->embedding_forward(be, out, tokens, wte, B * T, C);
}

void nn_embed_backward(struct backend *be, dptr dwte, dptr dwpe, dptr dout, dptr tokens, int B,
                       int T, int C)
{
    if (nn_has(dwpe))
        be->ops->encoder_backward(be, dwte, dwpe, dout, tokens, B, T, C);
    else
        be->ops->embedding_backward(be, dwte, dout, tokens, B * T, C);
}

void nn_rope_table(float *freqs, int T, int hs, double theta)
{
    int half = hs / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            /* Hugging Face: inv_freq_i = theta^(-2i/hs); angle = t * inv_freq_i */
            double angle = (double)t * pow(theta, -2.0 * i / hs);
            freqs[((size_t)t * half + i) * 2] = (float)cos(angle);
            freqs[((size_t)t * half + i) * 2 + 1] = (float)sin(angle);
        }
}
