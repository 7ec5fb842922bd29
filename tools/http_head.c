/* http_head — see http_head.h. */
#include "http_head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t http_head_end(const char *buf, size_t len)
{
    const char *e = memmem(buf, len, "\r\n\r\n", 4);

    return e != NULL ? (size_t)(e - buf) + 4 : 0;
}

static int parse_head(const char *head, int *status, long long *clen, int *chunked,
                      char *location, size_t loclen)
{
    const char *line = head;
    int first = 1;

    *clen = -1;
    *chunked = 0;
    location[0] = '\0';
    while (*line) {
        const char *eol = strstr(line, "\r\n");
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        if (first) {
            if (sscanf(line, "HTTP/1.%*1[01] %3d", status) != 1)
                return -1;
            first = 0;
        } else if (n > 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
            char *end;
            long long v = strtoll(line + 15, &end, 10);
            if (v < 0 || *clen != -1)
                return -1;
            *clen = v;
        } else if (n > 18 && strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
            *chunked = 1;
        } else if (n > 9 && strncasecmp(line, "Location:", 9) == 0) {
            const char *v = line + 9;
            while (*v == ' ')
                v++;
            snprintf(location, loclen, "%.*s", (int)(n - (size_t)(v - line)), v);
        }
        if (!eol)
            break;
        line = eol + 2;
    }
    return first ? -1 : 0;
}

int http_head_parse(const char *buf, size_t len, struct http_head *out)
{
    char *s = malloc(len + 1);
    int r;

    if (s == NULL)
        return -1;
    memcpy(s, buf, len);
    s[len] = '\0';
    r = parse_head(s, &out->status, &out->content_length, &out->transfer_coded, out->location,
                   sizeof out->location);
    free(s);
    return r;
}
