/* client_conn.h — one client connection from socket to report. */
#ifndef TLSC_CLIENT_CONN_H
#define TLSC_CLIENT_CONN_H

#include "client_ossl.h"
#include "client_options.h"

enum tlsc_result {
    TLSC_OK = 0,               /* handshake (and any renegotiation) completed */
    TLSC_HANDSHAKE_FAILED = 1,
    TLSC_SETUP_FAILED = 2      /* could not even try (socket, SSL_new...) */
};

/* Connect, hand-shake on opts->path, send, read the reply, print the
 * report lines. *session: in, the session to resume (or NULL); out, on
 * success, replaced by this connection's session when it is resumable. */
enum tlsc_result tlsc_connection_run(SSL_CTX *ctx, const struct tlsc_options *opts,
                                     SSL_SESSION **session);

#endif
