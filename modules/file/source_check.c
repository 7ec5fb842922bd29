/* Checks on the raw text of a pinsets file, before libconfig reads it.
 *
 * A small scanner that knows libconfig's lexical shapes just well enough to
 * skip strings, comments and names, so that it sees the integer literals and
 * any '@' directive. libconfig itself still does the real parsing. */
#include "source_check.h"

#include <stdint.h>
#include <string.h>

#include "diag.h"

struct scan {
    const char *file;
    const char *p, *end;
    unsigned line;
    char *err;
    size_t errlen;
};

static void advance(struct scan *s)
{
    if (*s->p == '\n')
        s->line++;
    s->p++;
}

static int at(const struct scan *s, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(s->end - s->p) >= n && memcmp(s->p, word, n) == 0;
}

static void skip_until(struct scan *s, const char *word)
{
    while (s->p < s->end && !at(s, word))
        advance(s);
    if (s->p < s->end)
        s->p += strlen(word); /* the terminators hold no newline but "\n" */
    if (s->p > s->end)
        s->p = s->end;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A "..." string: refuse the escape \x00, which ends the C string early. */
static int scan_string(struct scan *s)
{
    advance(s); /* opening quote */
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->end - s->p >= 4 && s->p[1] == 'x' && s->p[2] == '0' &&
            s->p[3] == '0') {
            diag_errf(s->err, s->errlen, s->file, s->line,
                      "\"\\x00\" is not allowed in a string");
            return -1;
        }
        if (*s->p == '\\' && s->end - s->p >= 2)
            advance(s);
        advance(s);
    }
    if (s->p < s->end)
        advance(s); /* closing quote; an open string is libconfig's error */
    return 0;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '*';
}

/* An integer literal: [+-]digits[L[L]] or 0x<hex>[L[L]]. Without an L suffix
 * libconfig 1.5 stores it in 32 bits, and wraps it if it does not fit. */
static int scan_number(struct scan *s)
{
    const char *start = s->p, *q = s->p;
    int hex = 0, overflow = 0, is_float = 0;
    uint64_t v = 0;

    if (*q == '+' || *q == '-')
        q++;
    if (s->end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && is_hex(q[2])) {
        hex = 1;
        q += 2;
    }
    for (; q < s->end && (hex ? is_hex(*q) : (*q >= '0' && *q <= '9')); q++) {
        unsigned d = (unsigned)(*q <= '9' ? *q - '0' : (*q | 0x20) - 'a' + 10);
        if (v > (UINT64_MAX - d) / (hex ? 16 : 10))
            overflow = 1;
        else
            v = v * (hex ? 16 : 10) + d;
    }
    if (!hex && q < s->end && (*q == '.' || *q == 'e' || *q == 'E'))
        is_float = 1;
    if (!is_float && !(q < s->end && *q == 'L') && (overflow || v > INT32_MAX)) {
        diag_errf(s->err, s->errlen, s->file, s->line,
                  "integer %.*s is too large (at most %d)", (int)(q - start < 40 ? q - start : 40),
                  start, INT32_MAX);
        return -1;
    }
    while (q < s->end && (is_name_char(*q) || *q == '.' ||
                          ((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E'))))
        q++;
    s->p = q;
    return 0;
}

static int scan_token(struct scan *s)
{
    char c = *s->p;

    if (c == '"')
        return scan_string(s);
    if (c == '#' || at(s, "//")) {
        skip_until(s, "\n");
        s->line++;
        return 0;
    }
    if (at(s, "/*")) {
        s->p += 2;
        skip_until(s, "*/");
        return 0;
    }
    if (c == '@') {
        diag_errf(s->err, s->errlen, s->file, s->line,
                  "directives such as @include are not allowed in a pinsets file");
        return -1;
    }
    if ((c >= '0' && c <= '9') ||
        ((c == '+' || c == '-') && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9'))
        return scan_number(s);
    if (is_name_char(c)) {
        while (s->p < s->end && is_name_char(*s->p))
            s->p++;
        return 0;
    }
    advance(s);
    return 0;
}

int source_check(const char *file, const char *text, size_t len, char *err, size_t errlen)
{
    struct scan s = { file, text, text + len, 1, err, errlen };
    const char *nul = memchr(text, '\0', len);

    if (nul != NULL) {
        unsigned line = 1;
        const char *p;
        for (p = text; p < nul; p++)
            line += *p == '\n';
        diag_errf(err, errlen, file, line, "NUL byte in a pinsets file");
        return -1;
    }
    while (s.p < s.end)
        if (scan_token(&s) != 0)
            return -1;
    return 0;
}
