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
    unsigned candidates;         /* > 0: this address is one of that many
                                    TCP peer addresses of the process, each
                                    an identity (the SSL has no socket and
                                    the program gave no name); else 0 */
};

#define PEER_MAX_VERIFY_NAMES 4
#define PEER_MAX_IDENTITIES (PEER_MAX_VERIFY_NAMES + 2)

/* At most this many peer addresses are decided for one handshake; a process
 * with more leaves the server unknown. As many as a name list may hold, so
 * the callers' arrays need not grow. */
#define PEER_MAX_CANDIDATES PEER_MAX_IDENTITIES

/* /proc/<thread>/fd entries looked at before the list of peers is given up
 * as incomplete (the cost is a getsockopt per descriptor). */
#define PEER_SCAN_MAX_FDS 16384

/* Every name the program gives the server: the SNI it sends, each name it
 * verifies (SSL_set1_host/SSL_add1_host), the IP address it verifies. When
 * it gives no name: the socket's peer address; or, when the SSL has no
 * socket (programs with their own BIO or memory BIOs: curl, python's
 * asyncio), every distinct TCP peer address of the process, each with the
 * port when that address has only one (so that a second connection cannot
 * choose the policy); one identity with TLSPIN_HOST_UNKNOWN when there is
 * nothing at all, or the peers cannot all be listed (no /proc, more than
 * PEER_MAX_CANDIDATES addresses or PEER_SCAN_MAX_FDS descriptors). A
 * connection must satisfy the policy under each of them: an SNI that
 * differs from the verified name must not choose a laxer pinset. Port and
 * peer of names come from the socket when the SSL has one, else from the
 * process's only TCP peer address when it has one port (0 otherwise).
 * Returns the count (>= 1). */
TLSPIN_ENGINE_API size_t peer_identities(SSL *ssl, struct peer_id *ids, size_t max);

/* The same; scan = 0 lets a caller that needs no port (a resumption check:
 * the session's port is on record) skip the /proc/self/fd scan when the
 * program gives a name. */
size_t peer_identities_scan(SSL *ssl, struct peer_id *ids, size_t max, int scan);

/* The first of peer_identities(). */
TLSPIN_ENGINE_API void peer_identify(SSL *ssl, struct peer_id *out);

#endif
