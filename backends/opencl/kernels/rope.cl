/* rope.cl - rotary position embedding (LLaMA family), in place.
 *
 * x holds rows of ld floats, row r at position t = r % T; head h is the hs
 * floats at column h * hs, and its pair (i, i + hs/2) (Hugging Face's
 * rotate_half layout) turns by the angle whose (cos, sin) is
 * freqs[t, i, 0..1], a (T, hs/2, 2) table the model builds once. */

/* dir = 1: x' = (x0 cos - x1 sin, x0 sin + x1 cos); dir = -1 flips the sine,
 * the inverse rotation, which a rotation's transpose is: the backward. One
 * item per pair, 2-D grid (nh * hs/2, rows): each pair is read and written by
 * its item alone, so in place is safe. */
__kernel void rope(__global float *x, ulong x_off, __global const float *freqs,
                   ulong freqs_off, int rows, int T, int nh, int hs, int ld, float dir)
{
    const int j = (int)get_global_id(0), r = (int)get_global_id(1);
    const int pairs = hs / 2;
    if (j >= nh * pairs || r >= rows)
        return;
    const int h = j / pairs, i = j % pairs;
    __global float *lo = x + x_off + (size_t)r * ld + (size_t)h * hs + i;
    const size_t f = freqs_off + ((size_t)(r % T) * pairs + i) * 2;
    const float cs = freqs[f], sn = dir * freqs[f + 1];
    const float x0 = lo[0], x1 = lo[pairs];
    lo[0] = x0 * cs - x1 * sn;
    lo[pairs] = x0 * sn + x1 * cs;
}
