/* See conf_tree.h: a scanner with one token of lookahead and a recursive
 * descent parser, both over text that is never trusted. */
#include "conf_tree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define CONF_GROUP_MAX 64       /* settings in one group: duplicate names are
                                   looked for by a scan (a pinset has 8 keys) */
#define BLOCK_MIN (256u * 1024u)

struct conf_block {
    struct conf_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

enum tok {
    T_END, T_NAME, T_STRING, T_INT, T_FLOAT, T_BOOL, T_EQUALS, T_COMMA, T_SEMI,
    T_GROUP_START, T_GROUP_END, T_LIST_START, T_LIST_END, T_ARRAY_START, T_ARRAY_END
};

struct reader {
    const char *file;
    const char *p, *end;
    unsigned line;
    struct conf_tree *tree;
    char *err;
    size_t errlen;
    int failed;

    /* the current token */
    enum tok tok;
    unsigned tok_line;
    const char *tok_text;        /* T_NAME: into the text; T_STRING: decoded */
    size_t tok_len;
    long long tok_num;
    int tok_wide;                /* T_INT written with L: libconfig's int64 */
    char *strbuf;                /* T_STRING's decoded bytes */
    size_t strcap;
};

/* ---------------------------------------------------------------------- */
/* Memory                                                                  */
/* ---------------------------------------------------------------------- */

static void *alloc(struct reader *r, size_t size)
{
    struct conf_block *b = r->tree->blocks;
    size_t need = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);

    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = r->tree->blocks;
        r->tree->blocks = b;
    }
    b->used += need;
    return b->data + b->used - need;
}

/* Only the first error is kept: later ones follow from it. */
__attribute__((format(printf, 3, 4)))
static void fail(struct reader *r, unsigned line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (r->failed)
        return;
    r->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_errf(r->err, r->errlen, r->file, line, "%s", msg);
}

/* ---------------------------------------------------------------------- */
/* Scanner                                                                 */
/* ---------------------------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

static int str_push(struct reader *r, char c)
{
    if (r->tok_len + 1 >= r->strcap) {
        size_t cap = r->strcap ? r->strcap * 2 : 256;
        char *n = realloc(r->strbuf, cap);
        if (n == NULL) {
            fail(r, r->line, "out of memory");
            return -1;
        }
        r->strbuf = n;
        r->strcap = cap;
    }
    r->strbuf[r->tok_len++] = c;
    return 0;
}

/* A "..." string, appended to the token's bytes (adjacent strings join). */
static int scan_string(struct reader *r)
{
    unsigned start = r->line;

    r->p++;
    for (;;) {
        char c;
        if (r->p >= r->end) {
            fail(r, start, "unterminated string");
            return -1;
        }
        c = *r->p++;
        if (c == '"')
            return 0;
        if (c == '\n')
            r->line++;
        if (c == '\\' && r->p < r->end) {
            char e = *r->p;
            int h1, h2;
            switch (e) {
            case 'n': c = '\n'; r->p++; break;
            case 'r': c = '\r'; r->p++; break;
            case 't': c = '\t'; r->p++; break;
            case 'f': c = '\f'; r->p++; break;
            case '\\': c = '\\'; r->p++; break;
            case '"': c = '"'; r->p++; break;
            case 'x':
            case 'X':
                if (r->end - r->p >= 3 && (h1 = hex_value(r->p[1])) >= 0 &&
                    (h2 = hex_value(r->p[2])) >= 0) {
                    c = (char)(h1 * 16 + h2);
                    if (c == '\0') {
                        fail(r, r->line, "\"\\x00\" is not allowed in a string");
                        return -1;
                    }
                    r->p += 3;
                }
                break;         /* not \xHH: the backslash stands for itself */
            default:
                break;
            }
        }
        if (str_push(r, c) != 0)
            return -1;
    }
}

/* Integers and floats, by libconfig's longest match:
 *   integer [-+]?[0-9]+ (L or LL: 64 bits)   hex 0[xX][0-9a-fA-F]+ (L, LL)
 *   float   [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)?  |  [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+ */
static size_t exponent_len(const char *q, const char *end)
{
    const char *s = q;

    if (q >= end || (*q != 'e' && *q != 'E'))
        return 0;
    q++;
    if (q < end && (*q == '+' || *q == '-'))
        q++;
    if (q >= end || !is_digit(*q))
        return 0;
    while (q < end && is_digit(*q))
        q++;
    return (size_t)(q - s);
}

static int scan_number(struct reader *r)
{
    const char *start = r->p, *q = r->p, *end = r->end;
    int neg = 0, overflow = 0;
    unsigned long long v = 0;
    char shown[48];

    if (*q == '0' && end - q > 2 && (q[1] | 0x20) == 'x' && hex_value(q[2]) >= 0) {
        for (q += 2; q < end && hex_value(*q) >= 0; q++) {
            if (v > (UINT64_MAX >> 4))
                overflow = 1;
            v = v << 4 | (unsigned)hex_value(*q);
        }
    } else {
        const char *digits;
        if (*q == '+' || *q == '-')
            neg = *q++ == '-';
        digits = q;
        while (q < end && is_digit(*q))
            q++;
        if (q < end && *q == '.') {
            q++;
            while (q < end && is_digit(*q))
                q++;
            r->p = q + exponent_len(q, end);
            r->tok = T_FLOAT;
            return 0;
        }
        if (q > digits && exponent_len(q, end) > 0) {
            r->p = q + exponent_len(q, end);
            r->tok = T_FLOAT;
            return 0;
        }
        if (q == digits) {
            fail(r, r->line, "syntax error: '%c' without a number after it", neg ? '-' : '+');
            return -1;
        }
        for (const char *d = digits; d < q; d++) {
            unsigned dv = (unsigned)(*d - '0');
            if (v > (UINT64_MAX - dv) / 10)
                overflow = 1;
            v = v * 10 + dv;
        }
    }
    r->tok_wide = q < end && *q == 'L';
    if (r->tok_wide)
        q += end - q > 1 && q[1] == 'L' ? 2 : 1;
    r->p = q;
    r->tok = T_INT;
    {
        unsigned long long limit = r->tok_wide ? (unsigned long long)INT64_MAX
                                               : (unsigned long long)INT32_MAX;
        if (overflow || v > limit + (unsigned long long)neg) {
            size_t n = (size_t)(q - start) < sizeof(shown) - 4 ? (size_t)(q - start)
                                                               : sizeof(shown) - 4;
            memcpy(shown, start, n);
            strcpy(shown + n, n < (size_t)(q - start) ? "..." : "");
            if (r->tok_wide)
                fail(r, r->line, "integer %s is %s (64 bits at most)", shown,
                     neg ? "too small" : "too large");
            else
                fail(r, r->line, "integer %s is %s (%s; an L suffix makes it 64 bits)", shown,
                     neg ? "too small" : "too large",
                     neg ? "at least -2147483648" : "at most 2147483647");
            return -1;
        }
    }
    r->tok_num = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

static int name_start(char c) { return is_alpha(c) || c == '*'; }
static int name_char(char c) { return is_alpha(c) || is_digit(c) || c == '*' || c == '_' || c == '-'; }

static int word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != w[i])
            return 0;
    return 1;
}

/* Skips blanks and comments. Returns -1 on an unterminated comment. */
static int skip_space(struct reader *r)
{
    while (r->p < r->end) {
        char c = *r->p;
        if (c == '\n') {
            r->line++;
            r->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            r->p++;
        } else if (c == '#' || (c == '/' && r->end - r->p > 1 && r->p[1] == '/')) {
            const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
            r->p = nl != NULL ? nl : r->end;
        } else if (c == '/' && r->end - r->p > 1 && r->p[1] == '*') {
            unsigned start = r->line;
            for (r->p += 2; r->p < r->end && !(*r->p == '*' && r->end - r->p > 1 && r->p[1] == '/');
                 r->p++)
                r->line += *r->p == '\n';
            if (r->p >= r->end) {
                fail(r, start, "unterminated comment");
                return -1;
            }
            r->p += 2;
        } else {
            break;
        }
    }
    return 0;
}

/* Reads the next token into r->tok. Returns 0, or -1 with the error set. */
static int next(struct reader *r)
{
    char c;

    if (skip_space(r) != 0)
        return -1;
    r->tok_line = r->line;
    if (r->p >= r->end) {
        r->tok = T_END;
        return 0;
    }
    c = *r->p;
    switch (c) {
    case '=': case ':': r->tok = T_EQUALS; r->p++; return 0;
    case ',': r->tok = T_COMMA; r->p++; return 0;
    case ';': r->tok = T_SEMI; r->p++; return 0;
    case '{': r->tok = T_GROUP_START; r->p++; return 0;
    case '}': r->tok = T_GROUP_END; r->p++; return 0;
    case '(': r->tok = T_LIST_START; r->p++; return 0;
    case ')': r->tok = T_LIST_END; r->p++; return 0;
    case '[': r->tok = T_ARRAY_START; r->p++; return 0;
    case ']': r->tok = T_ARRAY_END; r->p++; return 0;
    case '"':
        /* adjacent strings are one: "a" "b" reads "ab" */
        r->tok_len = 0;
        do {
            if (scan_string(r) != 0 || skip_space(r) != 0)
                return -1;
        } while (r->p < r->end && *r->p == '"');
        if (str_push(r, '\0') != 0)
            return -1;
        r->tok_len--;
        r->tok = T_STRING;
        r->tok_text = r->strbuf;
        return 0;
    case '@':
        fail(r, r->line, "directives such as @include are not allowed in a pinsets file");
        return -1;
    default:
        break;
    }
    if (is_digit(c) || c == '+' || c == '-' || c == '.')
        return scan_number(r);
    if (name_start(c)) {
        const char *s = r->p;
        while (r->p < r->end && name_char(*r->p))
            r->p++;
        r->tok_text = s;
        r->tok_len = (size_t)(r->p - s);
        if (word_is(s, r->tok_len, "true") || word_is(s, r->tok_len, "false")) {
            r->tok = T_BOOL;
            r->tok_num = (s[0] | 0x20) == 't';
        } else {
            r->tok = T_NAME;
        }
        return 0;
    }
    {
        char q[DIAG_QUOTE_MAX], one[2] = { c, '\0' };
        diag_quote(one, q);
        fail(r, r->line, "syntax error: unexpected character \"%s\"", q);
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Parser                                                                  */
/* ---------------------------------------------------------------------- */

static const char *tok_desc(enum tok t)
{
    switch (t) {
    case T_END: return "the end of the file";
    case T_NAME: return "a name";
    case T_STRING: return "a string";
    case T_INT: return "an integer";
    case T_FLOAT: return "a number with a fraction";
    case T_BOOL: return "a boolean";
    case T_EQUALS: return "'='";
    case T_COMMA: return "','";
    case T_SEMI: return "';'";
    case T_GROUP_START: return "'{'";
    case T_GROUP_END: return "'}'";
    case T_LIST_START: return "'('";
    case T_LIST_END: return "')'";
    case T_ARRAY_START: return "'['";
    case T_ARRAY_END: return "']'";
    }
    return "?";
}

static void unexpected(struct reader *r, const char *wanted)
{
    fail(r, r->tok_line, "syntax error: %s where %s was expected", tok_desc(r->tok), wanted);
}

static struct conf_node *new_node(struct reader *r, enum conf_type type, unsigned line)
{
    struct conf_node *n = alloc(r, sizeof(*n));

    if (n == NULL) {
        fail(r, line, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->type = type;
    n->line = line;
    return n;
}

static char *copy_text(struct reader *r, const char *s, size_t len)
{
    char *c = alloc(r, len + 1);

    if (c == NULL) {
        fail(r, r->tok_line, "out of memory");
        return NULL;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    return c;
}

struct child_list {
    struct conf_node *parent, *last;
};

static void append(struct child_list *l, struct conf_node *n)
{
    if (l->last != NULL)
        l->last->next = n;
    else
        l->parent->first = n;
    l->last = n;
    l->parent->n_children++;
}

/* A scalar at the current token, consumed; NULL (error set) if there is none. */
static struct conf_node *parse_scalar(struct reader *r, const char *wanted)
{
    struct conf_node *n;
    enum conf_type type;

    switch (r->tok) {
    case T_STRING: type = CONF_STRING; break;
    case T_INT: type = CONF_INT; break;
    case T_FLOAT: type = CONF_FLOAT; break;
    case T_BOOL: type = CONF_BOOL; break;
    default:
        unexpected(r, wanted);
        return NULL;
    }
    if ((n = new_node(r, type, r->tok_line)) == NULL)
        return NULL;
    if (type == CONF_INT || type == CONF_BOOL)
        n->num = r->tok_num;
    if (type == CONF_STRING && (n->str = copy_text(r, r->tok_text, r->tok_len)) == NULL)
        return NULL;
    return next(r) == 0 ? n : NULL;
}

static struct conf_node *parse_value(struct reader *r, int depth);

/* The settings of a group up to `close` (T_GROUP_END, or T_END for the
 * file), which is left as the current token. */
static int parse_settings(struct reader *r, struct conf_node *group, enum tok close, int depth)
{
    struct child_list kids = { group, NULL };

    while (r->tok != close) {
        const char *name;
        unsigned line = r->tok_line;
        struct conf_node *v;

        if (r->tok != T_NAME) {
            unexpected(r, close == T_END ? "a setting name" : "a setting name or '}'");
            return -1;
        }
        if ((name = copy_text(r, r->tok_text, r->tok_len)) == NULL || next(r) != 0)
            return -1;
        for (const struct conf_node *k = group->first; k != NULL; k = k->next) {
            if (strcmp(k->name, name) == 0) {
                char q[DIAG_QUOTE_MAX];
                diag_quote(name, q);
                fail(r, line, "\"%s\" is given twice in one group (first at line %u)", q,
                     k->line);
                return -1;
            }
        }
        if (group->n_children >= CONF_GROUP_MAX) {
            fail(r, line, "more than %d settings in one group", CONF_GROUP_MAX);
            return -1;
        }
        if (r->tok != T_EQUALS) {
            unexpected(r, "'=' after a setting name");
            return -1;
        }
        if (next(r) != 0 || (v = parse_value(r, depth)) == NULL)
            return -1;
        v->name = name;
        v->line = line;
        append(&kids, v);
        if ((r->tok == T_SEMI || r->tok == T_COMMA) && next(r) != 0)
            return -1;
    }
    return 0;
}

/* [ scalar, ... ]: the current token is '['. Elements share one type. */
static struct conf_node *parse_array(struct reader *r, struct conf_node *a)
{
    struct child_list kids = { a, NULL };
    int wide = 0;

    if (next(r) != 0)
        return NULL;
    if (r->tok == T_ARRAY_END)
        return next(r) == 0 ? a : NULL;
    for (;;) {
        int this_wide = r->tok == T_INT && r->tok_wide;
        struct conf_node *e = parse_scalar(r, "a value (a string, number or boolean)");
        if (e == NULL)
            return NULL;
        if (a->first != NULL && (e->type != a->first->type || this_wide != wide)) {
            fail(r, e->line, "the elements of an array [ ] must all be of one type: this "
                 "one is %s, the first is %s (a list ( ) may mix them)",
                 this_wide ? "a 64-bit integer" : conf_type_name(e->type),
                 wide ? "a 64-bit integer" : conf_type_name(a->first->type));
            return NULL;
        }
        if (a->first == NULL)
            wide = this_wide;
        append(&kids, e);
        if (r->tok == T_ARRAY_END)
            return next(r) == 0 ? a : NULL;
        if (r->tok != T_COMMA) {
            unexpected(r, "',' or ']'");
            return NULL;
        }
        if (next(r) != 0)
            return NULL;
    }
}

/* ( value, ... ): the current token is '('. */
static struct conf_node *parse_list(struct reader *r, struct conf_node *l, int depth)
{
    struct child_list kids = { l, NULL };

    if (next(r) != 0)
        return NULL;
    if (r->tok == T_LIST_END)
        return next(r) == 0 ? l : NULL;
    for (;;) {
        struct conf_node *e = parse_value(r, depth);
        if (e == NULL)
            return NULL;
        append(&kids, e);
        if (r->tok == T_LIST_END)
            return next(r) == 0 ? l : NULL;
        if (r->tok != T_COMMA) {
            unexpected(r, "',' or ')'");
            return NULL;
        }
        if (next(r) != 0)
            return NULL;
    }
}

static struct conf_node *parse_value(struct reader *r, int depth)
{
    struct conf_node *n;
    enum conf_type type;

    switch (r->tok) {
    case T_GROUP_START: type = CONF_GROUP; break;
    case T_LIST_START: type = CONF_LIST; break;
    case T_ARRAY_START: type = CONF_ARRAY; break;
    default:
        return parse_scalar(r, "a value");
    }
    if (depth >= CONF_DEPTH_MAX) {
        fail(r, r->tok_line, "nested more than %d deep", CONF_DEPTH_MAX);
        return NULL;
    }
    if ((n = new_node(r, type, r->tok_line)) == NULL)
        return NULL;
    if (type == CONF_ARRAY)
        return parse_array(r, n);
    if (type == CONF_LIST)
        return parse_list(r, n, depth + 1);
    if (next(r) != 0 || parse_settings(r, n, T_GROUP_END, depth + 1) != 0 || next(r) != 0)
        return NULL;
    return n;
}

int conf_tree_read(struct conf_tree *tree, const char *file, const char *text, size_t len,
                   char *err, size_t errlen)
{
    struct reader r;
    const char *nul = memchr(text, '\0', len);
    int rc = -1;

    memset(tree, 0, sizeof(*tree));
    memset(&r, 0, sizeof(r));
    r.file = file;
    r.p = text;
    r.end = text + len;
    r.line = 1;
    r.tree = tree;
    r.err = err;
    r.errlen = errlen;
    if (nul != NULL) {
        unsigned line = 1;
        for (const char *q = text; q < nul; q++)
            line += *q == '\n';
        fail(&r, line, "NUL byte in a pinsets file");
        return -1;
    }
    if ((tree->root = new_node(&r, CONF_GROUP, 1)) != NULL && next(&r) == 0 &&
        parse_settings(&r, tree->root, T_END, 0) == 0)
        rc = 0;
    free(r.strbuf);
    if (rc != 0)
        conf_tree_free(tree);
    return rc;
}

void conf_tree_free(struct conf_tree *tree)
{
    if (tree == NULL)
        return;
    while (tree->blocks != NULL) {
        struct conf_block *b = tree->blocks;
        tree->blocks = b->next;
        free(b);
    }
    tree->root = NULL;
}

const struct conf_node *conf_member(const struct conf_node *group, const char *name)
{
    for (const struct conf_node *k = group ? group->first : NULL; k != NULL; k = k->next)
        if (k->name != NULL && strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

const char *conf_type_name(enum conf_type type)
{
    switch (type) {
    case CONF_GROUP: return "a group";
    case CONF_LIST: return "a list";
    case CONF_ARRAY: return "an array";
    case CONF_STRING: return "a string";
    case CONF_INT: return "an integer";
    case CONF_FLOAT: return "a number with a fraction";
    case CONF_BOOL: return "a boolean";
    }
    return "nothing";
}
