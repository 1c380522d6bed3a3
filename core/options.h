/* core/options.h — one table of options serves command-line flags, config
 * files, --help text, and the record of a run's settings in its checkpoints.
 *
 * A table entry names a field of some settings struct (by offset), its type,
 * its allowed range and its help. `--name value`, `--name=value` and a config
 * file's `name = value` line all go through opts_set, so they accept the same
 * values and fail with the same messages. */
#ifndef HEFT_CORE_OPTIONS_H
#define HEFT_CORE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

enum opt_type {
    OPT_INT,    /* int */
    OPT_LONG,   /* long */
    OPT_U64,    /* uint64_t */
    OPT_DOUBLE, /* double */
    OPT_STRING, /* char[OPT_STRING_MAX] */
    OPT_FLAG,   /* int, set to 1 by `--name`, or `name = true|false|1|0` in a file */
};

#define OPT_STRING_MAX 512

struct opt_spec {
    const char *name;    /* flag without the leading dashes: "batch" */
    enum opt_type type;
    size_t offset;       /* offsetof the field in the settings struct */
    double min, max;     /* inclusive range for numbers (ignored when min > max) */
    const char *metavar; /* "N", "PATH", ... for --help */
    const char *help;    /* one line */
};

/* The last entry of a table has name == NULL. A heading entry (type ignored,
 * offset ignored) has help == NULL and prints its name as a section title. */
#define OPT_END { NULL, OPT_INT, 0, 0, 0, NULL, NULL }
#define OPT_HEADING(title) { title, OPT_INT, 0, 1, 0, NULL, NULL }

/* Sets option `name` of `settings` from text; `source` says where the value
 * came from for messages ("--batch", "config.txt:12"). */
int opts_set(const struct opt_spec *table, void *settings, const char *name, const char *value,
             const char *source, struct herr *err);

/* Parses argv[first..argc). Flags are `--name value`, `--name=value`, or
 * `--name` alone for OPT_FLAG. Anything else (an unknown flag, a positional
 * word, a missing value) is an error naming it; so is a value in the next
 * word that starts with `--` (`--out --quiet` forgot --out's value: a value
 * like that must be written `--out=--quiet`). `--config FILE` anywhere in
 * argv is read first (by opts_parse_file), so that flags override the file. */
int opts_parse_argv(const struct opt_spec *table, void *settings, int argc, char **argv, int first,
                    const char *command, struct herr *err);

/* Reads `name = value` lines (# comments, blank lines; names may be written
 * with '-' or '_'). */
int opts_parse_file(const struct opt_spec *table, void *settings, const char *path,
                    struct herr *err);

/* The same for text already in memory (a checkpoint's recorded settings);
 * `source` names it in messages. */
int opts_parse_text(const struct opt_spec *table, void *settings, const char *text,
                    const char *source, struct herr *err);

/* Prints the options with their current values as defaults. */
void opts_print_help(FILE *out, const struct opt_spec *table, const void *settings);

/* Formats the current value of an option into buf. */
void opts_format_value(const struct opt_spec *spec, const void *settings, char *buf, size_t cap);

/* Writes every option as `name = value` lines (for checkpoints and logs). */
int opts_write_all(const struct opt_spec *table, const void *settings, char *buf, size_t cap);

/* Finds an option by name ('-' and '_' are interchangeable); NULL if absent. */
const struct opt_spec *opts_find(const struct opt_spec *table, const char *name);

#endif
