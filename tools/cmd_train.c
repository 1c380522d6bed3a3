/* tools/cmd_train.c — `heft train`: parse settings, run, report. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/comm.h"
#include "core/train.h"
#include "tools/commands.h"

static void train_usage(FILE *out, const struct train_config *defaults)
{
    fprintf(out,
            "usage: heft train [--config FILE] [options]\n\n"
            "Trains a GPT-2 or LLaMA model. With no options: the tiny model on heft's built-in data\n"
            "(a few minutes on two cores). Settings come from the defaults, then a config\n"
            "file (name = value lines, same names as the flags), then the flags.\n"
            "Writes OUT/metrics.jsonl, OUT/ckpt_*.heft and, at the end, OUT/model.bin\n"
            "(llm.c's GPT-2 format, or heft's LLaMA format). Resume with --resume OUT.\n"
            "Under MPI: mpiexec -n W heft train ... (--batch is per rank).\n");
    opts_print_help(out, train_options(), defaults);
}

int cmd_train(int argc, char **argv)
{
    struct train_config cfg;
    train_config_default(&cfg);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            train_usage(stdout, &cfg);
            return 0;
        }
    struct herr err = { { 0 } };
    /* MPI first: a rank that fails before MPI_Init (a config file missing on
     * its node) would leave the others waiting in MPI_Init for ever; after
     * it, its abort ends them all */
    struct comm *comm;
    if (comm_init(&comm, &argc, &argv, &err)) {
        fprintf(stderr, "heft train: %s\n", err.msg);
        return 1;
    }
    if (opts_parse_argv(train_options(), &cfg, argc, argv, 1, "train", &err)) {
        fprintf(stderr, "heft train: %s%s\n", comm_size(comm) > 1 ? "error on a rank: " : "",
                err.msg);
        if (comm_size(comm) > 1)
            comm_abort(comm, 2);
        comm_finalize(comm);
        return 2;
    }
    struct train_result res;
    int rc = train_run(&cfg, argc, argv, 1, comm, stdout, &res, &err);
    if (rc) {
        fprintf(stderr, "heft train: error%s: %s\n",
                comm_size(comm) > 1 ? " on a rank" : "", err.msg);
        if (comm_size(comm) > 1) {
            /* one rank failing must end them all, not leave the others waiting */
            fflush(stderr);
            comm_abort(comm, 1);
        }
        comm_finalize(comm);
        return 1;
    }
    if (comm_rank(comm) == 0 && !cfg.quiet) {
        /* only the figures this invocation has: no "nan" */
        printf("heft: done: %ld steps", res.steps_done);
        if (isfinite(res.last_loss))
            printf(", final train loss %.4f", res.last_loss);
        if (!res.has_val_data)
            printf(", no validation data");
        else if (isfinite(res.last_val_loss))
            printf(", validation loss %.4f", res.last_val_loss);
        printf("; outputs in %s/\n", res.out_dir);
    }
    comm_finalize(comm);
    return 0;
}
