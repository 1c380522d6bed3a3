/* core/options.c — see options.h. */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

/* Option names compare equal when they differ only in '-' versus '_'. */
static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a == '_' ? '-' : *a, cb = *b == '_' ? '-' : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

static int is_heading(const struct opt_spec *s) { return s->help == NULL; }

const struct opt_spec *opts_find(const struct opt_spec *table, const char *name)
{
    for (const struct opt_spec *s = table; s->name; s++)
        if (!is_heading(s) && name_eq(s->name, name))
            return s;
    return NULL;
}

static int check_range(const struct opt_spec *s, double v, const char *source, const char *text,
                       struct herr *err)
{
    if (s->min <= s->max && (v < s->min || v > s->max))
        return herr_set(err, "%s: value %s out of range [%g, %g]", source, text, s->min, s->max);
    return 0;
}

static int parse_integer(const struct opt_spec *s, const char *text, const char *source,
                         long long *out, struct herr *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        return herr_set(err, "%s: '%s' is not an integer", source, text);
    if (check_range(s, (double)v, source, text, err))
        return -1;
    *out = v;
    return 0;
}

int opts_set(const struct opt_spec *table, void *settings, const char *name, const char *value,
             const char *source, struct herr *err)
{
    const struct opt_spec *s = opts_find(table, name);
    if (!s)
        return herr_set(err, "%s: unknown option '%s'", source, name);
    char *field = (char *)settings + s->offset;
    long long iv;
    switch (s->type) {
    case OPT_INT:
        if (parse_integer(s, value, source, &iv, err))
            return -1;
        if (iv < -2147483647LL || iv > 2147483647LL)
            return herr_set(err, "%s: '%s' does not fit an int", source, value);
        *(int *)field = (int)iv;
        return 0;
    case OPT_LONG:
        if (parse_integer(s, value, source, &iv, err))
            return -1;
        *(long *)field = (long)iv;
        return 0;
    case OPT_U64: {
        char *end;
        errno = 0;
        if (value[0] == '-')
            return herr_set(err, "%s: '%s' must not be negative", source, value);
        unsigned long long v = strtoull(value, &end, 0);
        if (errno || end == value || *end != '\0')
            return herr_set(err, "%s: '%s' is not a non-negative integer", source, value);
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    }
    case OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !isfinite(v))
            return herr_set(err, "%s: '%s' is not a finite number", source, value);
        if (check_range(s, v, source, value, err))
            return -1;
        *(double *)field = v;
        return 0;
    }
    case OPT_STRING:
        if (strlen(value) >= OPT_STRING_MAX)
            return herr_set(err, "%s: value longer than %d characters", source, OPT_STRING_MAX - 1);
        strcpy(field, value);
        return 0;
    case OPT_FLAG:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes"))
            *(int *)field = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no"))
            *(int *)field = 0;
        else
            return herr_set(err, "%s: '%s' is not a boolean (true/false)", source, value);
        return 0;
    }
    return herr_set(err, "%s: option has an unknown type", source);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Handles one `name = value` line (comments and blank lines allowed). */
static int parse_line(const struct opt_spec *table, void *settings, char *line,
                      const char *source, struct herr *err)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *s = trim(line);
    if (!*s)
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return herr_set(err, "%s: expected 'name = value', got '%s'", source, s);
    *eq = '\0';
    char *name = trim(s), *value = trim(eq + 1);
    if (!strcmp(name, "config"))
        return herr_set(err, "%s: a config file cannot include another", source);
    return opts_set(table, settings, name, value, source, err);
}

/* Config files are a few hundred bytes; anything this big is not one. */
#define CONFIG_FILE_MAX ((uint64_t)1 << 20)

/* Parses text line by line; each line's source is `prefix` + its number
 * ("config file a.conf:3", "settings recorded in X line 3"). */
static int parse_lines(const struct opt_spec *table, void *settings, const char *text,
                       size_t len, const char *prefix, const char *sep, struct herr *err)
{
    char line[2 * OPT_STRING_MAX];
    int lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        char where[600];
        snprintf(where, sizeof where, "%s%s%d", prefix, sep, lineno);
        if (memchr(p, '\0', n))
            return herr_set(err, "%s: holds a NUL byte: not a text file", where);
        if (n >= sizeof line)
            return herr_set(err, "%s: line too long", where);
        memcpy(line, p, n);
        line[n] = '\0';
        if (parse_line(table, settings, line, where, err))
            return -1;
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

int opts_parse_file(const struct opt_spec *table, void *settings, const char *path,
                    struct herr *err)
{
    /* only a regular file: a FIFO would block, a directory read as empty */
    int fd;
    uint64_t size = 0;
    if (open_regular_file(path, "config file", &fd, &size, err))
        return -1;
    close(fd);
    if (size > CONFIG_FILE_MAX)
        return herr_set(err, "config file %s: %llu bytes, more than a config file holds (%llu)",
                        path, (unsigned long long)size, (unsigned long long)CONFIG_FILE_MAX);
    char *text;
    size_t len;
    if (read_text_file(path, "config file", &text, &len, err))
        return -1;
    char prefix[OPT_STRING_MAX + 16];
    snprintf(prefix, sizeof prefix, "config file %s", path);
    int rc = parse_lines(table, settings, text, len, prefix, ":", err);
    free(text);
    return rc;
}

int opts_parse_text(const struct opt_spec *table, void *settings, const char *text,
                    const char *source, struct herr *err)
{
    return parse_lines(table, settings, text, strlen(text), source, " line ", err);
}

int opts_parse_argv(const struct opt_spec *table, void *settings, int argc, char **argv, int first,
                    const char *command, struct herr *err)
{
    /* a config file first, so that flags override it */
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc || (!strncmp(argv[i + 1], "--", 2) && argv[i + 1][2]))
                return herr_set(err, "--config needs a file name%s%s%s", i + 1 < argc ? " (got the flag '" : "",
                                i + 1 < argc ? argv[i + 1] : "", i + 1 < argc ? "')" : "");
            if (opts_parse_file(table, settings, argv[i + 1], err))
                return -1;
        } else if (!strncmp(a, "--config=", 9)) {
            if (opts_parse_file(table, settings, a + 9, err))
                return -1;
        }
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return herr_set(err, "unexpected argument '%s' (options start with --; see heft %s --help)",
                            a, command);
        char name[128];
        const char *value = NULL;
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (len >= sizeof name)
            return herr_set(err, "unknown flag '%s' (see heft %s --help)", a, command);
        memcpy(name, a + 2, len);
        name[len] = '\0';
        if (!strcmp(name, "config")) {
            if (!eq)
                i++;
            continue;
        }
        const struct opt_spec *s = opts_find(table, name);
        if (!s)
            return herr_set(err, "unknown flag '--%s' (see heft %s --help)", name, command);
        if (eq)
            value = eq + 1;
        else if (s->type == OPT_FLAG)
            value = "1";
        else if (i + 1 < argc && !strncmp(argv[i + 1], "--", 2) && argv[i + 1][2])
            /* `--out --quiet`: the value was forgotten, the next flag is not it */
            return herr_set(err, "flag --%s needs a value (%s) but is followed by the flag '%s' "
                                 "(for a value that starts with --, write --%s=%s)",
                            name, s->metavar ? s->metavar : "", argv[i + 1], name, argv[i + 1]);
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return herr_set(err, "flag --%s needs a value (%s)", name, s->metavar ? s->metavar : "");
        char source[160];
        snprintf(source, sizeof source, "--%s", name);
        if (opts_set(table, settings, name, value, source, err))
            return -1;
    }
    return 0;
}

void opts_format_value(const struct opt_spec *s, const void *settings, char *buf, size_t cap)
{
    const char *field = (const char *)settings + s->offset;
    switch (s->type) {
    case OPT_INT:
        snprintf(buf, cap, "%d", *(const int *)field);
        break;
    case OPT_LONG:
        snprintf(buf, cap, "%ld", *(const long *)field);
        break;
    case OPT_U64:
        snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field);
        break;
    case OPT_DOUBLE:
        snprintf(buf, cap, "%.17g", *(const double *)field);
        break;
    case OPT_STRING:
        snprintf(buf, cap, "%s", field);
        break;
    case OPT_FLAG:
        snprintf(buf, cap, "%s", *(const int *)field ? "true" : "false");
        break;
    }
}

void opts_print_help(FILE *out, const struct opt_spec *table, const void *settings)
{
    for (const struct opt_spec *s = table; s->name; s++) {
        if (is_heading(s)) {
            fprintf(out, "\n%s:\n", s->name);
            continue;
        }
        char flag[96], def[OPT_STRING_MAX + 8];
        if (s->type == OPT_FLAG)
            snprintf(flag, sizeof flag, "--%s", s->name);
        else
            snprintf(flag, sizeof flag, "--%s %s", s->name, s->metavar ? s->metavar : "X");
        char value[OPT_STRING_MAX];
        opts_format_value(s, settings, value, sizeof value);
        if (s->type == OPT_DOUBLE) /* short form for people; checkpoints use %.17g */
            snprintf(value, sizeof value, "%g", *(const double *)((const char *)settings + s->offset));
        if (s->type == OPT_FLAG)
            def[0] = '\0';
        else
            snprintf(def, sizeof def, " [%s]", value[0] ? value : "none");
        fprintf(out, "  %-26s %s%s\n", flag, s->help, def);
    }
}

int opts_write_all(const struct opt_spec *table, const void *settings, char *buf, size_t cap)
{
    size_t used = 0;
    for (const struct opt_spec *s = table; s->name; s++) {
        if (is_heading(s))
            continue;
        char value[OPT_STRING_MAX];
        opts_format_value(s, settings, value, sizeof value);
        int n = snprintf(buf + used, cap - used, "%s = %s\n", s->name, value);
        if (n < 0 || (size_t)n >= cap - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}
