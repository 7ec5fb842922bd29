/* The server's cipher choice, decided before any key exchange: handshakes
 * without a server certificate (anonymous, PSK and SRP suites, TLS 1.3
 * external PSKs, session_secret_cb secrets) with an empty chain, resumptions
 * afresh with their session's chain. */
#ifndef TLSPIN_NOCERT_H
#define TLSPIN_NOCERT_H

#include <openssl/ssl.h>

#include "decide.h"

typedef int security_cb_fn(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid,
                           void *other, void *ex);

/* Under the shim: the program's real SSL_set_security_callback. */
void nocert_init(void (*real_set_security_callback)(SSL *ssl, security_cb_fn *cb));

/* Puts tlspin's security callback (the guard) in front of the one the client
 * SSL has (the program's, or OpenSSL's default, which keep working behind
 * it). Called when a handshake starts; idempotent. */
void nocert_guard(SSL *ssl);

/* Stands in for SSL_set_security_callback(ssl, cb) on a client SSL: `cb`
 * goes behind the guard instead of replacing it. Returns 0 when it cannot
 * (no memory): the caller then sets cb itself. */
int nocert_set_callback(SSL *ssl, security_cb_fn *cb);

/* Decides the connection under every identity with no certificate at all
 * (recorded when refused): 1 to refuse, with *d saying why. */
int nocert_refused(SSL *ssl, struct decision *d);

/* After the program's SSL_connect/SSL_do_handshake returned ret: a
 * refusal made in this handshake puts tlspin's certificate error last on
 * the queue. */
void nocert_after_handshake(SSL *ssl, int ret);

#endif
