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

#define PEER_MAX_VERIFY_NAMES 4
#define PEER_MAX_IDENTITIES (PEER_MAX_VERIFY_NAMES + 2)

/* Every name the program gives the server: the SNI it sends, each name it
 * verifies (SSL_set1_host/SSL_add1_host), the IP address it verifies; the
 * socket's peer address only when it gives no name; one identity with
 * TLSPIN_HOST_UNKNOWN when there is nothing at all. A connection must
 * satisfy the policy under each of them: an SNI that differs from the
 * verified name must not choose a laxer pinset. Port and peer come from the
 * socket when the SSL has one, else from the process's only TCP peer
 * (programs with their own BIO, like curl). Returns the count (>= 1). */
TLSPIN_ENGINE_API size_t peer_identities(SSL *ssl, struct peer_id *ids, size_t max);

/* The same; scan = 0 lets a caller that needs no port (a resumption check:
 * the session's port is on record) skip the /proc/self/fd scan when the
 * program gives a name. */
size_t peer_identities_scan(SSL *ssl, struct peer_id *ids, size_t max, int scan);

/* The first of peer_identities(). */
TLSPIN_ENGINE_API void peer_identify(SSL *ssl, struct peer_id *out);

#endif
