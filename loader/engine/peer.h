/* Which server a client SSL talks to: the host name policies match, the
 * port, and the socket's peer address. */
#ifndef TLSPIN_PEER_H
#define TLSPIN_PEER_H

#include "engine_export.h"

#include <openssl/ssl.h>
#include <tlspin/module.h>

#include "hostname.h"

struct peer_id {
    char host[TLSPIN_HOST_MAX];      /* normalised; "" when unknown */
    tlspin_host_source source;
    unsigned port;                   /* 0 when unknown */
    char peer[64];               /* "addr:port", "[v6]:port" or "" */
};

/* Host, in order: the SNI the client sends, the name it verifies
 * (SSL_set1_host), the IP address it verifies, the socket's peer address.
 * Port and peer come from the socket when the SSL has one (programs with
 * their own BIO, like curl, have none: port 0). */
TLSPIN_ENGINE_API void peer_identify(SSL *ssl, struct peer_id *out);

#endif
