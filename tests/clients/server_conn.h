/* server_conn.h — serve one TLS client of tls_server. */
#ifndef TLSC_SERVER_CONN_H
#define TLSC_SERVER_CONN_H

#include <stdio.h>

#include <openssl/ssl.h>

struct srv_config {
    SSL_CTX *ctx;
    int log_fd;                /* --log: application bytes and failures, or -1 */
    FILE *events;              /* --events: one line per event, or NULL */
    int reneg;                 /* --reneg */
    const char *reneg_cert;    /* --reneg-cert: present this chain instead in
                                  the renegotiation, or NULL */
    const char *reneg_key;
    int verbose;               /* events also on stderr */
};

/* Hand-shake, read the request, answer, close. Takes ownership of fd. */
void srv_serve(const struct srv_config *cfg, int fd);

/* Records the alerts of each connection (install on the SSL_CTX). */
void srv_info_callback(const SSL *ssl, int where, int ret);

#endif
