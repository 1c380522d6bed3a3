/* tools/heft.c — the `heft` program: dispatches to its subcommands. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "tools/blas_kernels.h"
#include "tools/cmd_devices.h"
#include "tools/cmd_export.h"
#include "tools/cmd_sample.h"
#include "tools/cmd_plan.h"
#include "tools/cmd_prepare.h"
#include "tools/cmd_tokenizer.h"
#include "tools/cmd_weights.h"
#include "tools/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int uses_blas; /* runs GEMMs: worth OpenBLAS's fast kernels (blas_kernels.h) */
};

static const struct command commands[] = {
    { "train", cmd_train, "train a GPT-2 or LLaMA model (default: the built-in data, tiny GPT-2)", 1 },
    { "prepare", cmd_prepare, "make a dataset (token shards) from text files", 0 },
    { "tokenizer", cmd_tokenizer, "train a BPE tokenizer on text; encode or decode with one", 0 },
    { "devices", cmd_devices, "list the CPU and the OpenCL platforms and devices", 1 },
    { "weights", cmd_weights, "print the weights a reweighting strategy gives to losses", 0 },
    { "plan", cmd_plan, "memory per rank, FLOPs and step time of a run, before running it", 1 },
    { "sample", cmd_sample, "generate text with a model (KV cache; top-k, top-p, temperature)", 1 },
    { "export", cmd_export, "write a run or model as a Hugging Face directory (transformers)", 0 },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: heft <command> [options]      (heft <command> --help for its options)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n  --version  print the version and the built-in backends\n"
                 "  --help     this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("heft %s (backends: %s; MPI: %s)\n", PACKAGE_VERSION, backend_available(),
#ifdef HAVE_MPI
               "yes"
#else
               "no"
#endif
        );
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name)) {
            if (commands[i].uses_blas)
                blas_kernels_choose(argv);
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "heft: unknown command '%s' (commands:", name);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, "; see heft --help)\n");
    return 2;
}
