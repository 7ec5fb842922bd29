/* json.c — see json.h. RFC 8259 subset: no duplicate-key check beyond the
 * caller's; \u escapes of the BMP and surrogate pairs to UTF-8. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
    unsigned line;
    int depth;
    char *err;
    size_t errlen;
};

static void perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct parser *ps, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    if (ps->err[0])
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "line %u: %s", ps->line, msg);
}

static void skip_ws(struct parser *ps)
{
    for (;;) {
        char c = *ps->p;
        if (c == '\n')
            ps->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        ps->p++;
    }
}

static struct json *new_value(struct parser *ps, enum json_type t)
{
    struct json *v = calloc(1, sizeof *v);
    if (v == NULL) {
        perr(ps, "out of memory");
        return NULL;
    }
    v->type = t;
    v->line = ps->line;
    return v;
}

void json_free(struct json *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static int put_utf8(char *out, size_t *n, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

/* s is NUL-terminated: each byte is checked before the next is read, so a
 * text that ends inside "\uXY" is refused without reading past its end. */
static int hex4(const char *s, unsigned long *out)
{
    char buf[5], *end;
    for (int i = 0; i < 4; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return -1;
        buf[i] = s[i];
    }
    buf[4] = 0;
    *out = strtoul(buf, &end, 16);
    return 0;
}

/* ps->p at the opening quote. */
static char *parse_string(struct parser *ps)
{
    const char *s = ps->p + 1;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);

    if (out == NULL) {
        perr(ps, "out of memory");
        return NULL;
    }
    for (;;) {
        unsigned char c = (unsigned char)*s;
        if (n + 8 > cap) {
            char *t = realloc(out, cap * 2);
            if (t == NULL) {
                free(out);
                perr(ps, "out of memory");
                return NULL;
            }
            out = t;
            cap *= 2;
        }
        if (c == '\0' || c == '\n' || c < 0x20) {
            free(out);
            perr(ps, "unterminated string or control character in a string");
            return NULL;
        }
        if (c == '"')
            break;
        if (c != '\\') {
            out[n++] = (char)c;
            s++;
            continue;
        }
        s++;
        switch (*s) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned long cp, lo;
            if (hex4(s + 1, &cp) != 0) {
                free(out);
                perr(ps, "bad \\u escape");
                return NULL;
            }
            s += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u' &&
                hex4(s + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            if (cp == 0) {
                free(out);
                perr(ps, "NUL in a string");
                return NULL;
            }
            put_utf8(out, &n, cp);
            break;
        }
        default:
            free(out);
            perr(ps, "bad escape in a string");
            return NULL;
        }
        s++;
    }
    out[n] = '\0';
    ps->p = s + 1;
    return out;
}

static struct json *parse_value(struct parser *ps);

static int append(struct parser *ps, struct json *v, struct json *item, char *key)
{
    struct json **items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (items == NULL) {
        perr(ps, "out of memory");
        return -1;
    }
    v->items = items;
    if (v->type == JSON_OBJECT) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (keys == NULL) {
            perr(ps, "out of memory");
            return -1;
        }
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
    return 0;
}

static struct json *parse_container(struct parser *ps, int object)
{
    struct json *v = new_value(ps, object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';

    if (v == NULL)
        return NULL;
    if (++ps->depth > 64) {
        perr(ps, "nested too deep");
        goto fail;
    }
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        struct json *item;
        skip_ws(ps);
        if (object) {
            if (*ps->p != '"') {
                perr(ps, "expected a member name");
                goto fail;
            }
            key = parse_string(ps);
            if (key == NULL)
                goto fail;
            for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->keys[i], key) == 0) {
                    perr(ps, "duplicate member \"%.60s\"", key);
                    free(key);
                    goto fail;
                }
            skip_ws(ps);
            if (*ps->p != ':') {
                free(key);
                perr(ps, "expected ':'");
                goto fail;
            }
            ps->p++;
        }
        item = parse_value(ps);
        if (item == NULL) {
            free(key);
            goto fail;
        }
        if (append(ps, v, item, key) != 0) {
            json_free(item);
            free(key);
            goto fail;
        }
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        perr(ps, "expected ',' or '%c'", close);
        goto fail;
    }
    ps->depth--;
    return v;
fail:
    json_free(v);
    return NULL;
}

static struct json *parse_value(struct parser *ps)
{
    struct json *v;

    skip_ws(ps);
    switch (*ps->p) {
    case '{':
        return parse_container(ps, 1);
    case '[':
        return parse_container(ps, 0);
    case '"':
        v = new_value(ps, JSON_STRING);
        if (v && (v->str = parse_string(ps)) == NULL) {
            json_free(v);
            return NULL;
        }
        return v;
    case 't':
    case 'f':
    case 'n': {
        const char *words[] = {"true", "false", "null"};
        for (int i = 0; i < 3; i++) {
            size_t l = strlen(words[i]);
            if (strncmp(ps->p, words[i], l) == 0) {
                v = new_value(ps, i == 2 ? JSON_NULL : JSON_BOOL);
                if (v)
                    v->boolean = i == 0;
                ps->p += l;
                return v;
            }
        }
        break;
    }
    default: {
        const char *s = ps->p;
        if (*s == '-')
            s++;
        if (*s >= '0' && *s <= '9') {
            while ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' ||
                   *s == '+' || *s == '-')
                s++;
            v = new_value(ps, JSON_NUMBER);
            if (v == NULL)
                return NULL;
            v->str = strndup(ps->p, (size_t)(s - ps->p));
            if (v->str == NULL) {
                json_free(v);
                perr(ps, "out of memory");
                return NULL;
            }
            ps->p = s;
            return v;
        }
    }
    }
    perr(ps, "unexpected %s", *ps->p ? "character" : "end of file");
    return NULL;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
    struct parser ps = {.p = text, .line = 1, .err = err, .errlen = errlen};
    struct json *v;

    err[0] = '\0';
    v = parse_value(&ps);
    if (v == NULL)
        return NULL;
    skip_ws(&ps);
    if (*ps.p != '\0') {
        perr(&ps, "text after the end of the document");
        json_free(v);
        return NULL;
    }
    return v;
}

const struct json *json_get(const struct json *v, const char *key)
{
    if (v == NULL || v->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return v->items[i];
    return NULL;
}
