/* http_head — the head of an HTTP/1.x response as `tlspin update` reads it
 * from a mirror (tools/https_fetch.c): where it ends in the bytes received,
 * and the status, Content-Length, Transfer-Encoding and Location the fetch
 * acts on. Peer-controlled input: fuzzed by fuzz/fuzz_http_head.c. */
#ifndef TLSPIN_HTTP_HEAD_H
#define TLSPIN_HTTP_HEAD_H

#include <stddef.h>

/* The Location value kept (longer ones are cut: it is only reported). */
#define HTTP_HEAD_LOCATION_MAX 512

struct http_head {
    int status;                /* 100..599 */
    long long content_length;  /* -1: no Content-Length header */
    int transfer_coded;        /* 1: a Transfer-Encoding header (any value) */
    /* The first Location's value as sent, "" when none: no NUL and no LF,
     * but any other byte (a hostile mirror's ESC or bare CR): escape it
     * before it is shown (safe_text). */
    char location[HTTP_HEAD_LOCATION_MAX];
};

/* Length of the head in buf[0..len) through the CRLF CRLF that ends it, or
 * 0 when that has not arrived yet. Any bytes, NUL included. */
size_t http_head_end(const char *buf, size_t len);

/* Parses the head buf[0..len) (as http_head_end measured it: the status
 * line, the header lines, the empty line). Returns 0 with *out filled, or
 * -1 for a malformed head (*out then undefined). */
int http_head_parse(const char *buf, size_t len, struct http_head *out);

#endif
