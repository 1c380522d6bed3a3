/* core/builtin_data.c — see builtin_data.h.
 *
 * Each (domain, split) has its own random stream, seeded from
 * prng_mix(BUILTIN_SEED, 2 * domain + split), and emits whole documents until
 * the split's size is reached. Only integer arithmetic is used, so the bytes
 * are the same with any compiler, libc or CPU. For the same reason no call
 * takes two random draws among its arguments (C leaves their order to the
 * compiler): draws go into locals first.
 */
#include "core/builtin_data.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"

#define BUILTIN_SEED 0x68656674ULL /* "heft" */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- output buffer ------------------------------------------------------- */

struct gen {
    struct prng rng;
    uint16_t *tok;
    size_t n, cap;
    int out_of_memory; /* checked once at the end, so emitters stay simple */
};

static void emit_token(struct gen *g, uint16_t t)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 65536;
        uint16_t *p = realloc(g->tok, cap * sizeof *p);
        if (!p) {
            g->out_of_memory = 1;
            return;
        }
        g->tok = p;
        g->cap = cap;
    }
    g->tok[g->n++] = t;
}

static void emit_char(struct gen *g, char c)
{
    emit_token(g, (uint16_t)(unsigned char)c);
}

static void emit(struct gen *g, const char *s)
{
    while (*s)
        emit_char(g, *s++);
}

/* Emits each string argument in turn, up to a NULL. */
#define EMITS(g, ...) emits((g), __VA_ARGS__, (const char *)NULL)
static void emits(struct gen *g, ...)
{
    va_list ap;
    va_start(ap, g);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL)
        emit(g, s);
    va_end(ap);
}

static void emit_uint(struct gen *g, unsigned long v)
{
    char buf[24];
    int i = 0;
    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i > 0)
        emit_char(g, buf[--i]);
}

static unsigned below(struct gen *g, unsigned n)
{
    return (unsigned)prng_below(&g->rng, n);
}

/* 1 with probability num/den. */
static int chance(struct gen *g, unsigned num, unsigned den)
{
    return below(g, den) < num;
}

#define PICK(g, list) ((list)[below((g), COUNT(list))])

/* ---- arith --------------------------------------------------------------- */

/* A number with 1 to `max_digits` digits, the digit count uniform, so short
 * and long operands are equally common. */
static unsigned arith_operand(struct gen *g, int max_digits)
{
    static const unsigned lo[] = {0, 10, 100, 1000};
    int d = 1 + (int)below(g, (unsigned)max_digits);
    return lo[d - 1] + below(g, lo[d] - lo[d - 1]);
}

static void arith_document(struct gen *g)
{
    int lines = 8 + (int)below(g, 17);
    for (int i = 0; i < lines; i++) {
        unsigned kind = below(g, 10);
        unsigned a, b, c;
        char op;
        if (kind < 5) { /* addition of up to 3-digit numbers */
            a = arith_operand(g, 3);
            b = arith_operand(g, 3);
            op = '+';
            c = a + b;
        } else if (kind < 8) { /* subtraction with a non-negative result */
            a = arith_operand(g, 3);
            b = arith_operand(g, 3);
            if (b > a) {
                unsigned t = a;
                a = b;
                b = t;
            }
            op = '-';
            c = a - b;
        } else { /* 2-digit times 1-digit */
            a = arith_operand(g, 2);
            b = below(g, 10);
            op = '*';
            c = a * b;
        }
        emit_uint(g, a);
        emit_char(g, op);
        emit_uint(g, b);
        emit_char(g, '=');
        emit_uint(g, c);
        emit_char(g, '\n');
    }
}

/* ---- prose --------------------------------------------------------------- */

static const char *const agents[] = {
    "dog", "cat", "farmer", "teacher", "child", "doctor", "bird", "captain", "baker",
    "student", "horse", "king", "queen", "soldier", "painter", "sailor", "fox", "wolf",
    "neighbor", "musician", "stranger", "merchant", "girl", "boy", "woman", "man", "nurse",
    "driver", "writer", "gardener", "fisherman", "owl", "rabbit", "guard", "priest",
    "pilot", "carpenter", "singer", "traveler", "shepherd",
};
static const char *const things[] = {
    "letter", "lamp", "basket", "table", "chair", "book", "song", "stone", "boat", "key",
    "box", "coat", "map", "bottle", "window", "door", "clock", "ladder", "rope", "bell",
    "hat", "candle", "blanket", "wheel", "mirror", "knife", "cup", "bag", "photograph",
    "ring", "pencil", "bucket", "shovel", "violin", "newspaper", "umbrella", "cart",
    "fence", "apple", "loaf of bread",
};
static const char *const places[] = {
    "river", "bridge", "village", "forest", "market", "harbor", "station", "garden",
    "kitchen", "library", "hill", "field", "road", "church", "school", "castle", "lake",
    "shop", "tower", "square", "farm", "mill", "beach", "cellar", "valley",
};
static const char *const adjectives[] = {
    "old", "young", "small", "large", "quiet", "bright", "dark", "heavy", "green", "red",
    "cold", "warm", "tired", "clever", "strange", "empty", "broken", "narrow", "wide",
    "busy", "gentle", "angry", "careful", "famous", "simple", "wooden", "silver", "ancient",
    "fresh", "hidden", "lonely", "wet", "dusty", "golden", "curious", "honest", "sleepy",
    "tall", "brave", "shy", "yellow", "blue", "rusty", "noisy", "patient",
};
/* {base, past} so that questions can use the base form. */
static const char *const transitive[][2] = {
    {"find", "found"}, {"carry", "carried"}, {"paint", "painted"}, {"open", "opened"},
    {"close", "closed"}, {"watch", "watched"}, {"build", "built"}, {"repair", "repaired"},
    {"sell", "sold"}, {"buy", "bought"}, {"clean", "cleaned"}, {"follow", "followed"},
    {"lift", "lifted"}, {"drop", "dropped"}, {"push", "pushed"}, {"pull", "pulled"},
    {"count", "counted"}, {"describe", "described"}, {"remember", "remembered"},
    {"forget", "forgot"}, {"borrow", "borrowed"}, {"hide", "hid"}, {"move", "moved"},
    {"wash", "washed"}, {"measure", "measured"}, {"notice", "noticed"},
    {"wrap", "wrapped"}, {"break", "broke"}, {"fix", "fixed"}, {"draw", "drew"},
    {"choose", "chose"}, {"keep", "kept"}, {"check", "checked"}, {"share", "shared"},
    {"send", "sent"}, {"steal", "stole"}, {"bring", "brought"}, {"throw", "threw"},
};
static const char *const intransitive[][2] = {
    {"sleep", "slept"}, {"laugh", "laughed"}, {"wait", "waited"}, {"smile", "smiled"},
    {"arrive", "arrived"}, {"wander", "wandered"}, {"sing", "sang"}, {"work", "worked"},
    {"rest", "rested"}, {"shout", "shouted"}, {"listen", "listened"},
    {"hesitate", "hesitated"}, {"return", "returned"}, {"dance", "danced"},
    {"tremble", "trembled"}, {"whisper", "whispered"}, {"stay", "stayed"}, {"run", "ran"},
    {"sit", "sat"}, {"fall", "fell"}, {"cry", "cried"}, {"pray", "prayed"},
};
static const char *const adverbs[] = {
    "quietly", "slowly", "quickly", "carefully", "suddenly", "happily", "gently", "loudly",
    "patiently", "eagerly", "calmly", "nervously", "badly", "early", "again", "together",
    "alone", "proudly", "silently", "politely",
};
static const char *const prepositions[] = {
    "near", "under", "behind", "beside", "across", "inside", "beyond", "along", "above",
    "through", "over", "outside",
};
static const char *const names[] = {
    "Anna", "Tom", "Maria", "James", "Lena", "Oscar", "Clara", "Henry", "Nora", "Victor",
    "Ella", "Samuel", "Rosa", "Felix", "Iris", "Daniel", "Alice", "Peter", "Greta", "Hugo",
};
static const char *const times[] = {
    "In the morning", "At noon", "Later that day", "After the rain", "Before dinner",
    "On Sunday", "That winter", "Every evening", "Long ago", "At last", "The next day",
    "By midnight",
};
static const char *const conjunctions[] = {
    "because", "while", "although", "after", "before", "until", "when", "so",
};
static const char *const pronouns[] = {"she", "he", "they"};
static const char *const determiners[] = {"the", "the", "the", "a", "his", "her", "their", "this", "that"};
static const char *const says[] = {"said", "asked", "replied", "whispered", "shouted"};

static int starts_with_vowel(const char *w)
{
    return strchr("aeiou", w[0]) != NULL;
}

/* Capitalizes the first letter of what is emitted next. */
struct sentence {
    struct gen *g;
    int cap_next;
};

static void word(struct sentence *s, const char *w)
{
    if (s->cap_next && w[0] >= 'a' && w[0] <= 'z') {
        emit_char(s->g, (char)(w[0] - 'a' + 'A'));
        emit(s->g, w + 1);
    } else {
        emit(s->g, w);
    }
    s->cap_next = 0;
}

/* "the dog", "an old lamp", "her curious horse" */
static void noun_phrase(struct sentence *s, const char *const *nouns, size_t count)
{
    struct gen *g = s->g;
    const char *det = PICK(g, determiners);
    const char *adj = chance(g, 2, 5) ? PICK(g, adjectives) : NULL;
    const char *noun = nouns[below(g, (unsigned)count)];
    const char *next = adj ? adj : noun;
    if (strcmp(det, "a") == 0 && starts_with_vowel(next))
        det = "an";
    word(s, det);
    emit_char(g, ' ');
    if (adj) {
        emit(g, adj);
        emit_char(g, ' ');
    }
    emit(g, noun);
}

static void subject(struct sentence *s)
{
    unsigned k = below(s->g, 6);
    if (k < 3)
        noun_phrase(s, agents, COUNT(agents));
    else if (k < 5)
        word(s, PICK(s->g, names));
    else
        word(s, PICK(s->g, pronouns));
}

static void place_phrase(struct sentence *s)
{
    emit_char(s->g, ' ');
    emit(s->g, PICK(s->g, prepositions));
    emit(s->g, " the ");
    emit(s->g, PICK(s->g, places));
}

/* subject + past-tense verb (+ object) (+ adverb) (+ place) */
static void clause(struct sentence *s)
{
    struct gen *g = s->g;
    subject(s);
    emit_char(g, ' ');
    if (chance(g, 3, 5)) {
        emit(g, transitive[below(g, COUNT(transitive))][1]);
        emit_char(g, ' ');
        noun_phrase(s, things, COUNT(things));
    } else {
        emit(g, intransitive[below(g, COUNT(intransitive))][1]);
        if (chance(g, 1, 2)) {
            emit_char(g, ' ');
            emit(g, PICK(g, adverbs));
        }
    }
    if (chance(g, 1, 3))
        place_phrase(s);
}

static void prose_sentence(struct gen *g)
{
    struct sentence s = {g, 1};
    unsigned kind = below(g, 10);
    if (kind < 4) { /* simple clause */
        clause(&s);
        emit_char(g, '.');
    } else if (kind < 6) { /* time phrase, clause */
        word(&s, PICK(g, times));
        emit(g, ", ");
        clause(&s);
        emit_char(g, '.');
    } else if (kind < 8) { /* clause conjunction clause */
        clause(&s);
        emit_char(g, ' ');
        emit(g, PICK(g, conjunctions));
        emit_char(g, ' ');
        clause(&s);
        emit_char(g, '.');
    } else if (kind < 9) { /* question with the base form */
        word(&s, chance(g, 1, 2) ? "did" : (chance(g, 1, 2) ? "why did" : "where did"));
        emit_char(g, ' ');
        subject(&s);
        emit_char(g, ' ');
        emit(g, transitive[below(g, COUNT(transitive))][0]);
        emit_char(g, ' ');
        noun_phrase(&s, things, COUNT(things));
        emit_char(g, '?');
    } else { /* reported speech */
        emit_char(g, '"');
        s.cap_next = 1;
        clause(&s);
        emit(g, ",\" ");
        emit(g, PICK(g, says));
        emit_char(g, ' ');
        emit(g, PICK(g, names));
        emit_char(g, '.');
    }
}

static void prose_document(struct gen *g)
{
    int paragraphs = 1 + (int)below(g, 4);
    for (int p = 0; p < paragraphs; p++) {
        if (p > 0)
            emit_char(g, '\n');
        int sentences = 3 + (int)below(g, 5);
        for (int i = 0; i < sentences; i++) {
            if (i > 0)
                emit_char(g, ' ');
            prose_sentence(g);
        }
        emit_char(g, '\n');
    }
}

/* ---- code ---------------------------------------------------------------- */

static const char *const code_types[] = {"int", "long", "float", "double", "size_t", "unsigned"};
static const char *const code_vars[] = {
    "count", "total", "value", "sum", "result", "offset", "length", "width", "height",
    "size", "limit", "step", "score", "level", "delta", "temp", "acc", "pos", "left",
    "right", "start", "end", "best", "scale",
};
static const char *const code_arrays[] = {
    "data", "items", "values", "buffer", "table", "weights", "scores", "cells", "nodes",
    "list", "samples", "counts",
};
static const char *const code_verbs[] = {
    "update", "compute", "count", "find", "scale", "reset", "check", "merge", "sum",
    "copy", "fill", "clamp", "sort", "load", "store", "init", "apply", "shift", "swap",
    "normalize",
};
static const char *const code_nouns[] = {
    "buffer", "values", "items", "table", "total", "grid", "matrix", "list", "scores",
    "weights", "range", "block", "state", "cache", "queue", "row", "column",
};
static const char *const code_cmp[] = {"<", ">", "<=", ">=", "==", "!="};
static const char *const code_ops[] = {"+", "-", "*", "+", "-"};
static const char *const code_assign_ops[] = {"=", "+=", "-=", "*="};
static const char *const loop_vars[] = {"i", "j", "k"};

/* What a function body may refer to. */
struct scope {
    const char *vars[6];
    int nvars;
    const char *array;
    const char *n; /* the array's length parameter */
    const char *callee;
};

static void indent(struct gen *g, int depth)
{
    for (int i = 0; i < depth; i++)
        emit(g, "    ");
}

static const char *any_var(struct gen *g, const struct scope *sc)
{
    return sc->vars[below(g, (unsigned)sc->nvars)];
}

/* An expression; `compound` excludes a lone variable or element, so that
 * plain stores never read "x = x;". */
static void code_expr(struct gen *g, const struct scope *sc, int loop_depth, int compound)
{
    unsigned k = below(g, compound ? 4 : 6);
    if (compound && k == 1)
        k = 2;
    if (k == 0) {
        emit_uint(g, below(g, 100));
    } else if (k == 1 && loop_depth > 0) {
        EMITS(g, sc->array, "[", loop_vars[loop_depth - 1], "]");
    } else if (k == 2) {
        const char *v = any_var(g, sc);
        const char *op = PICK(g, code_ops);
        EMITS(g, v, " ", op, " ");
        emit_uint(g, 1 + below(g, 9));
    } else if (k == 3) {
        const char *a = any_var(g, sc);
        const char *op = PICK(g, code_ops);
        const char *b = any_var(g, sc);
        EMITS(g, a, " ", op, " ", b);
    } else {
        emit(g, any_var(g, sc));
    }
}

static void code_block(struct gen *g, const struct scope *sc, int depth, int loop_depth);

static void code_statement(struct gen *g, const struct scope *sc, int depth, int loop_depth)
{
    unsigned k = below(g, depth < 3 ? 10 : 6);
    indent(g, depth);
    if (k < 3) { /* assignment */
        const char *v = any_var(g, sc);
        const char *op = PICK(g, code_assign_ops);
        EMITS(g, v, " ", op, " ");
        code_expr(g, sc, loop_depth, op[0] == '=');
        emit(g, ";\n");
    } else if (k < 4 && loop_depth > 0) { /* array store */
        EMITS(g, sc->array, "[", loop_vars[loop_depth - 1], "] = ");
        code_expr(g, sc, loop_depth, 1);
        emit(g, ";\n");
    } else if (k < 6) { /* call */
        EMITS(g, sc->callee, "(", sc->array, ", ");
        code_expr(g, sc, loop_depth, 0);
        emit(g, ");\n");
    } else if (k < 8 && loop_depth < 3) { /* counted loop over the array */
        const char *v = loop_vars[loop_depth];
        EMITS(g, "for (size_t ", v, " = 0; ", v, " < ", sc->n, "; ", v, "++) {\n");
        code_block(g, sc, depth + 1, loop_depth + 1);
        indent(g, depth);
        emit(g, "}\n");
    } else if (k < 9) { /* condition */
        const char *v = any_var(g, sc);
        const char *cmp = PICK(g, code_cmp);
        EMITS(g, "if (", v, " ", cmp, " ");
        code_expr(g, sc, loop_depth, 0);
        emit(g, ") {\n");
        code_block(g, sc, depth + 1, loop_depth);
        indent(g, depth);
        if (chance(g, 1, 3)) {
            emit(g, "} else {\n");
            code_block(g, sc, depth + 1, loop_depth);
            indent(g, depth);
        }
        emit(g, "}\n");
    } else { /* countdown loop */
        const char *v = any_var(g, sc);
        EMITS(g, "while (", v, " > 0) {\n");
        code_block(g, sc, depth + 1, loop_depth);
        indent(g, depth + 1);
        EMITS(g, v, "--;\n");
        indent(g, depth);
        emit(g, "}\n");
    }
}

static void code_block(struct gen *g, const struct scope *sc, int depth, int loop_depth)
{
    int n = 1 + (int)below(g, depth < 2 ? 4 : 2);
    for (int i = 0; i < n; i++)
        code_statement(g, sc, depth, loop_depth);
}

static void code_function(struct gen *g)
{
    struct scope sc;
    const char *type = PICK(g, code_types);
    int returns = chance(g, 2, 3);
    sc.array = PICK(g, code_arrays);
    sc.n = chance(g, 1, 2) ? "n" : "len";
    sc.callee = PICK(g, code_verbs);
    /* Locals: 1 to 3 distinct names. */
    sc.nvars = 1 + (int)below(g, 3);
    for (int i = 0; i < sc.nvars; i++) {
        const char *v;
        int dup;
        do {
            v = PICK(g, code_vars);
            dup = 0;
            for (int j = 0; j < i; j++)
                dup |= strcmp(sc.vars[j], v) == 0;
        } while (dup);
        sc.vars[i] = v;
    }

    if (chance(g, 1, 2))
        emit(g, "static ");
    emit(g, returns ? type : "void");
    emit_char(g, ' ');
    emit(g, PICK(g, code_verbs));
    emit_char(g, '_');
    emit(g, PICK(g, code_nouns));
    emit_char(g, '(');
    emit(g, type);
    emit(g, " *");
    emit(g, sc.array);
    emit(g, ", size_t ");
    emit(g, sc.n);
    emit(g, ")\n{\n");
    for (int i = 0; i < sc.nvars; i++) {
        indent(g, 1);
        emit(g, type);
        emit_char(g, ' ');
        emit(g, sc.vars[i]);
        emit(g, " = ");
        emit_uint(g, below(g, 4) == 0 ? below(g, 1000) : below(g, 2));
        emit(g, ";\n");
    }
    code_block(g, &sc, 1, 0);
    if (returns) {
        indent(g, 1);
        emit(g, "return ");
        emit(g, sc.vars[below(g, (unsigned)sc.nvars)]);
        emit(g, ";\n");
    }
    emit(g, "}\n");
}

static void code_document(struct gen *g)
{
    if (chance(g, 1, 3))
        emit(g, chance(g, 1, 2) ? "#include <stddef.h>\n\n" : "#include <math.h>\n\n");
    int functions = 1 + (int)below(g, 3);
    for (int i = 0; i < functions; i++) {
        if (i > 0)
            emit_char(g, '\n');
        code_function(g);
    }
}

/* ---- repeat -------------------------------------------------------------- */

static const char *const repeat_paragraphs[] = {
    "The lighthouse keeper climbed the stairs at dusk, lit the great lamp, and wrote the "
    "time in his book. Ships passed in the dark and never knew his name, but every one of "
    "them came home.\n",
    "To bake the bread, mix flour, water, salt and yeast, knead the dough for ten minutes, "
    "let it rise for an hour, shape it, let it rise again, and bake it in a hot oven until "
    "the crust sounds hollow.\n",
    "A river does not hurry and does not stop. It finds the lowest way across the land, "
    "and in a thousand years it cuts a valley that the first drop of rain could never have "
    "imagined.\n",
    "Rule one: leave the campsite cleaner than you found it. Rule two: never walk alone "
    "after dark. Rule three: when in doubt, turn back. Rule four: share your water.\n",
    "Our library opens at nine in the morning and closes at six in the evening. Books may "
    "be borrowed for three weeks and renewed twice. Please return them to the desk by the "
    "front door.\n",
    "She counted the stars from her window every night: one for each friend far away, one "
    "for the sea, and one, the brightest, for the road that would one day lead her home.\n",
};

static void repeat_document(struct gen *g)
{
    emit(g, PICK(g, repeat_paragraphs));
}

/* ---- noise --------------------------------------------------------------- */

static void noise_document(struct gen *g)
{
    int len = 100 + (int)below(g, 700);
    for (int i = 0; i < len; i++)
        emit_char(g, (char)(' ' + below(g, 95))); /* printable ASCII 32..126 */
}

/* ---- domains ------------------------------------------------------------- */

struct domain_spec {
    const char *name;
    const char *about;
    void (*document)(struct gen *g);
    size_t train_tokens; /* the val split is 1/16 of this */
};

static const struct domain_spec domains[BUILTIN_NUM_DOMAINS] = {
    {"arith", "arithmetic lines like 417+285=702: a learnable rule", arith_document, 400000},
    {"prose", "English sentences from a small grammar: varied, hardest learnable",
     prose_document, 640000},
    {"code", "C-like functions: regular syntax, varied names", code_document, 640000},
    {"repeat", "six fixed paragraphs repeated: redundant, memorized fast", repeat_document,
     256000},
    {"noise", "random printable characters: unlearnable", noise_document, 192000},
};

const char *builtin_domain_name(int d)
{
    return (d >= 0 && d < BUILTIN_NUM_DOMAINS) ? domains[d].name : "?";
}

const char *builtin_domain_about(int d)
{
    return (d >= 0 && d < BUILTIN_NUM_DOMAINS) ? domains[d].about : "?";
}

int builtin_domain_index(const char *name)
{
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++)
        if (strcmp(domains[d].name, name) == 0)
            return d;
    return -1;
}

int builtin_generate(int domain, enum data_split split, uint16_t **tokens, size_t *n,
                     struct herr *err)
{
    *tokens = NULL;
    *n = 0;
    if (domain < 0 || domain >= BUILTIN_NUM_DOMAINS)
        return herr_set(err, "builtin dataset: no domain %d (there are %d)", domain,
                        BUILTIN_NUM_DOMAINS);
    const struct domain_spec *spec = &domains[domain];
    size_t target = split == DATA_TRAIN ? spec->train_tokens : spec->train_tokens / 16;
    struct gen g = {0};
    prng_seed(&g.rng, prng_mix(BUILTIN_SEED, (uint64_t)(2 * domain + (int)split)));
    while (g.n < target && !g.out_of_memory) {
        emit_token(&g, BUILTIN_EOT);
        spec->document(&g);
    }
    if (g.out_of_memory) {
        free(g.tok);
        return herr_set(err, "builtin dataset: out of memory generating %s/%s", spec->name,
                        data_split_name(split));
    }
    *tokens = g.tok;
    *n = g.n;
    return 0;
}
