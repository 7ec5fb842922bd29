/* http_head — see http_head.h. Strict on purpose: the mirrors are static
 * file servers, so anything unusual in a head (a folded or nameless header
 * line, a bare LF, a NUL, a Content-Length that is not plain digits) is
 * refused rather than guessed at (RFC 9112, 2.2, 5.2, 6.3). */
#include "http_head.h"

#include <string.h>
#include <strings.h>

size_t http_head_end(const char *buf, size_t len)
{
    const char *e = memmem(buf, len, "\r\n\r\n", 4);

    return e != NULL ? (size_t)(e - buf) + 4 : 0;
}

/* RFC 9110 token characters, the letters of a header name. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/1.0" or "HTTP/1.1", SP, three digits 100..599, then SP and a reason
 * phrase or nothing. */
static int status_line(const char *p, size_t n, int *status)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return -1;
    for (size_t i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    if (n > 12 && p[12] != ' ')
        return -1;
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    return *status >= 100 && *status <= 599 ? 0 : -1;
}

/* 1*DIGIT, at most 18 of them after leading zeros (no overflow). */
static int length_value(const char *v, size_t n, long long *out)
{
    long long x = 0;
    size_t i = 0;

    if (n == 0)
        return -1;
    while (i + 1 < n && v[i] == '0')
        i++;
    if (n - i > 18)
        return -1;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

int http_head_parse(const char *buf, size_t len, struct http_head *out)
{
    const char *p = buf, *end = buf + len;
    int first = 1;

    out->status = 0;
    out->content_length = -1;
    out->transfer_coded = 0;
    out->location[0] = '\0';
    for (;;) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *colon, *v, *ve;
        size_t n;

        if (eol == NULL)
            return -1; /* no empty line: not a whole head */
        n = (size_t)(eol - p);
        /* A NUL, or an LF that is not the line end (some read it as one:
         * a header hidden inside another), is refused (RFC 9110, 5.5). A
         * bare CR is kept as a byte of the value: what is shown of the
         * value is escaped by the caller. */
        for (size_t i = 0; i < n; i++)
            if (p[i] == '\0' || p[i] == '\n')
                return -1;
        if (first) {
            if (status_line(p, n, &out->status) != 0)
                return -1;
            first = 0;
            p = eol + 2;
            continue;
        }
        if (n == 0)
            return eol + 2 == end ? 0 : -1; /* the empty line ends the head */
        colon = memchr(p, ':', n);
        if (colon == NULL || colon == p)
            return -1; /* also a folded line (obs-fold), which starts with SP or HTAB */
        for (const char *c = p; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return -1;
        v = colon + 1;
        ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (name_is(p, (size_t)(colon - p), "Content-Length")) {
            /* A second one, even equal, is refused: one length or none. */
            if (out->content_length != -1 ||
                length_value(v, (size_t)(ve - v), &out->content_length) != 0)
                return -1;
        } else if (name_is(p, (size_t)(colon - p), "Transfer-Encoding")) {
            out->transfer_coded = 1;
        } else if (name_is(p, (size_t)(colon - p), "Location") && out->location[0] == '\0') {
            size_t k = (size_t)(ve - v) < sizeof out->location ? (size_t)(ve - v)
                                                                : sizeof out->location - 1;
            memcpy(out->location, v, k);
            out->location[k] = '\0';
        }
        p = eol + 2;
    }
}
