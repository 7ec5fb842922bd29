/* https_fetch — one HTTPS GET with OpenSSL, for `tlspin update`: TLS 1.2 or
 * newer, the chain and the host name verified (a CA file or the system
 * store), optionally the server's key pinned, a connect timeout and a total
 * deadline, the body capped while it is read, no redirects followed. */
#ifndef TLSPIN_HTTPS_FETCH_H
#define TLSPIN_HTTPS_FETCH_H

#include <stddef.h>
#include <tlspin/module.h>

struct https_fetch_opts {
    const char *url;             /* https://host[:port]/path */
    const char *cafile;          /* NULL: the system trust store */
    const unsigned char (*pins)[TLSPIN_PIN_LEN]; /* SPKI pins, any in the chain */
    size_t n_pins;
    const char *const *resolve;  /* "host:port:addr" entries as curl --resolve */
    size_t n_resolve;
    int connect_timeout_ms;
    int total_timeout_ms;
    size_t max_body;
};

/* Returns 0 with the body (malloc'ed, NUL-terminated) or -1 with a reason. */
int https_fetch(const struct https_fetch_opts *o, char **body, size_t *len, char *err,
                size_t errlen);

#endif
