/* common.cl - helpers shared by every heft kernel; concatenated first.
 *
 * Conventions of all kernels in this program:
 *  - A tensor argument is a buffer plus an element offset (`p, p_off`): heft
 *    carves one allocation into many tensors, and OpenCL 1.2 sub-buffers would
 *    need device-specific offset alignment, so kernels add the offset instead.
 *  - Global sizes are rounded up to a multiple of the work-group size by the
 *    host, so every kernel bounds-checks its index.
 *  - Reductions use a fixed-order tree in local memory (no atomics), so results
 *    are identical from run to run on a given device and work-group size.
 *  - Work-group sizes passed to kernels that reduce are powers of two.
 *  - Indices into buffers are size_t/ulong: a 7B model's flat parameter
 *    buffer has more than 2^31 elements, and an int row * cols product would
 *    wrap long before that. Shapes (rows, columns) fit an int, their products
 *    do not.
 *  - The host may cut a large launch into several with a global offset
 *    (cl_launch.c): get_global_id includes it, get_group_id does not, so a
 *    kernel that owns one row per work-group asks group_index() for its row.
 */

/* The index of this work-group along dimension 0 counted from the start of
 * the whole grid, also when the host launched this part of it with a global
 * offset (always a whole number of groups). */
size_t group_index(void)
{
    return get_global_offset(0) / get_local_size(0) + get_group_id(0);
}

/* Sum of v over the work-group's first dimension; every item of the group must
 * call it. scratch holds get_local_size(0) floats and may be reused after the
 * call returns (the final barrier protects it). */
float group_sum(__local float *scratch, float v)
{
    const int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = (int)get_local_size(0) / 2; h > 0; h /= 2) {
        if (lid < h)
            scratch[lid] += scratch[lid + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

/* Maximum of v over the work-group's first dimension; same rules as group_sum. */
float group_max(__local float *scratch, float v)
{
    const int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = (int)get_local_size(0) / 2; h > 0; h /= 2) {
        if (lid < h)
            scratch[lid] = fmax(scratch[lid], scratch[lid + h]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float best = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return best;
}

/* Sums over the work-group's second dimension for a 2-D group of (lx, ly)
 * items, one column sum per lx: returns the total of v over ly to every item.
 * scratch holds lx * ly floats. */
float group_sum_columns(__local float *scratch, float v)
{
    const int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    const int width = (int)get_local_size(0);
    scratch[ly * width + lx] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = (int)get_local_size(1) / 2; h > 0; h /= 2) {
        if (ly < h)
            scratch[ly * width + lx] += scratch[(ly + h) * width + lx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[lx];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
