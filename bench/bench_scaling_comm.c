/* bench/bench_scaling_comm.c — what the gradient exchange costs by itself:
 * the all-reduce (plain data parallelism) and the reduce-scatter + all-gather
 * pair (ZeRO-1) of core/comm.h over buffers of 1 MiB to 256 MiB, each timed
 * after a barrier, so no rank's lateness counts (in a training step it
 * does: see comm_ms in the metrics). Prints the median time of REPS runs and
 * the bus bandwidth 2 (W-1)/W x bytes / time, the figure to set
 * `heft plan --link-gbps` from.
 *
 * With BUCKET_MIB > 0 each exchange runs bucket by bucket, as the trainer's
 * stage does (core/train_memory.h).
 *
 * usage: mpiexec -n W bench/bench_scaling_comm [REPS [BUCKET_MIB]]   (10, 0) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/comm.h"
#include "core/gemm_rate.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One exchange of n floats: 0 = all-reduce, 1 = reduce-scatter + all-gather,
 * in buckets of at most `bucket` floats. */
static int exchange(struct comm *c, int zero1, float *buf, size_t n, size_t bucket,
                    struct herr *err)
{
    for (size_t o = 0; o < n; o += bucket) {
        size_t k = n - o < bucket ? n - o : bucket;
        size_t block = k / (size_t)comm_size(c);
        if (!zero1 ? comm_allreduce_sum_f32(c, buf + o, k, err)
                   : comm_reduce_scatter_sum_f32(c, buf + o, block, err) ||
                         comm_allgather_inplace_f32(c, buf + o, block, err))
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct herr err = { { 0 } };
    struct comm *c;
    if (comm_init(&c, &argc, &argv, &err)) {
        fprintf(stderr, "bench_scaling_comm: %s\n", err.msg);
        return 1;
    }
    int reps = argc > 1 ? atoi(argv[1]) : 10, W = comm_size(c), rank = comm_rank(c);
    size_t bucket = argc > 2 ? (size_t)(atof(argv[2]) * 262144.0) : 0; /* MiB -> floats */
    if (reps < 1)
        reps = 1;
    size_t max_n = (size_t)64 << 20; /* 256 MiB of floats */
    float *buf = malloc(max_n * sizeof *buf);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!buf || !t) {
        fprintf(stderr, "bench_scaling_comm: out of memory\n");
        comm_abort(c, 1);
    }
    for (size_t i = 0; i < max_n; i++)
        buf[i] = (float)(i % 1000) * 1e-3f;
    if (rank == 0) {
        printf("%s; buckets of %s\n", comm_describe(c), bucket ? argv[2] : "(whole buffer)");
        printf("%-22s %10s %12s %12s\n", "exchange", "MiB", "median ms", "bus GB/s");
    }
    for (int zero1 = 0; zero1 < 2; zero1++)
        for (size_t n = (size_t)1 << 18; n <= max_n; n *= 4) {
            size_t b = bucket ? bucket / (size_t)W * (size_t)W : n / (size_t)W * (size_t)W;
            size_t m = b ? n / b * b : 0; /* whole buckets of whole blocks for the pair */
            if (m == 0)
                continue; /* smaller than one bucket */
            for (int r = -1; r < reps; r++) { /* r = -1 warms up */
                if (comm_barrier(c, &err))
                    break;
                double t0 = gemm_rate_clock();
                if (exchange(c, zero1, buf, m, b, &err))
                    break;
                if (r >= 0)
                    t[r] = gemm_rate_clock() - t0;
            }
            if (err.msg[0]) {
                fprintf(stderr, "bench_scaling_comm: %s\n", err.msg);
                comm_abort(c, 1);
            }
            qsort(t, (size_t)reps, sizeof *t, cmp_double);
            double med = t[reps / 2], bytes = (double)m * sizeof(float);
            if (rank == 0)
                printf("%-22s %10.1f %12.3f %12.2f\n",
                       zero1 ? "reduce-scatter+gather" : "all-reduce", bytes / 1048576.0,
                       med * 1e3, W > 1 ? 2.0 * (W - 1) / W * bytes / med / 1e9 : 0.0);
        }
    free(buf);
    free(t);
    comm_finalize(c);
    return 0;
}
