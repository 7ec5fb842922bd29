/* client_paths.h — the API calls that perform a client handshake, and the
 * application I/O after it, blocking or non-blocking. */
#ifndef TLSC_CLIENT_PATHS_H
#define TLSC_CLIENT_PATHS_H

#include <stdint.h>

#include "client_ossl.h"
#include "client_options.h"

struct tlsc_conn {
    SSL *ssl;                  /* owned unless bio is set */
    BIO *bio;                  /* bio path: the SSL BIO chain, owns ssl */
    int fd;                    /* our socket; -1 on the bio path (the connect
                                  BIO owns its socket) */
    unsigned want_read;        /* WANT_READ (or BIO read retries) seen */
    unsigned want_write;       /* WANT_WRITE (or BIO write/connect retries) */
    size_t sent;               /* application bytes written */
    size_t received;           /* application bytes read */
    int ssl_error;             /* SSL_get_error of the failed call */
    /* Kept by the info callback: lets a failure while reading be told
     * apart as a failed renegotiation. */
    int handshake_done;
    int in_handshake;
    unsigned renegotiations;
};

/* Perform the handshake on opts->path. Returns 1 when it completed (the
 * write paths have then sent opts->send, counted in sent), 0 when it failed
 * (ssl_error set, error queue kept for the report). */
int tlsc_handshake(struct tlsc_conn *c, const struct tlsc_options *opts);

/* Write all of buf. Returns 1, or 0 (ssl_error set). */
int tlsc_send_all(struct tlsc_conn *c, const void *buf, size_t len);

/* Read until EOF or until wait_ms passes. Returns "eof", "timeout" or
 * "error" (ssl_error set, error queue kept). */
const char *tlsc_receive(struct tlsc_conn *c, int wait_ms);

#endif
