/* fuzz_http_head — the head of an HTTP response as `tlspin update` reads it
 * from a mirror (tools/http_head.c, compiled in: the CLI is a dlopen'ed
 * object whose functions are not exported). Beyond memory errors, the
 * harness traps when a parse that succeeds breaks the contract of
 * http_head.h (status, Content-Length and Location as documented), so
 * lenient parsing shows as a finding too. Input: the bytes received, as
 * https_fetch() hands them over. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_head.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* The contract a successful parse promises. */
static void check_head(const char *head, size_t len, const struct http_head *h)
{
    size_t loclen = strnlen(h->location, sizeof h->location);

    if (h->status < 100 || h->status > 599 || h->content_length < -1 ||
        (h->transfer_coded != 0 && h->transfer_coded != 1) || loclen == sizeof h->location)
        __builtin_trap();
    if (memchr(h->location, '\n', loclen) != NULL)
        __builtin_trap();
    /* A head is one CRLF-terminated line after another, ending in an empty
     * one; nothing else parses. */
    if (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0 || memchr(head, '\0', len))
        __builtin_trap();
    /* ...and no LF but those that end lines: a bare one hides a header from
     * this parser that another one would read. */
    for (size_t i = 0; i < len; i++)
        if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r'))
            __builtin_trap();
    /* A Content-Length read is the value of a header of that name made of
     * digits only. */
    if (h->content_length >= 0) {
        char digits[32];
        int n = snprintf(digits, sizeof digits, "%lld", h->content_length);
        const char *p = head, *end = head + len;
        int seen = 0;
        while (p < end) {
            const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
            size_t l = (size_t)(eol - p);
            if (l > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
                const char *v = p + 15, *ve = p + l;
                while (v < ve && (*v == ' ' || *v == '\t'))
                    v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                    ve--;
                /* leading zeros are the same number */
                while (ve - v > 1 && *v == '0')
                    v++;
                if ((size_t)(ve - v) == (size_t)n && memcmp(v, digits, (size_t)n) == 0)
                    seen = 1;
            }
            p = eol + 2;
        }
        if (!seen)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct http_head h;
    size_t hlen = http_head_end(buf, size);

    if (hlen > 0 && http_head_parse(buf, hlen, &h) == 0)
        check_head(buf, hlen, &h);
    /* The parser on its own, with heads cut anywhere: a head that does not
     * end in an empty line must not parse. */
    if (http_head_parse(buf, size, &h) == 0)
        check_head(buf, size, &h);
    return 0;
}
