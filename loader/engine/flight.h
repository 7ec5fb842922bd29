/* The second decision of a TLS 1.2 handshake, after the server's first
 * flight. In TLS 1.2 the stapled OCSP response (CertificateStatus) follows
 * the certificate, so a module that counts what the staple carries (the ct
 * module: SCTs) cannot decide when the certificate is verified. It asks to
 * wait (tlspin_finding.wait_for_staple); the decision is then held, and made
 * again when libssl calls the SSL's CT validation callback after
 * ServerHelloDone, before the client sends its second flight. */
#ifndef TLSPIN_FLIGHT_H
#define TLSPIN_FLIGHT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "chain.h"
#include "engine_export.h"

/* Marks ssl as having a CT validation callback that a module's prepare()
 * installed (the engine saw CT turn on while the modules prepared it): that
 * callback calls tlspin_host.server_flight. */
TLSPIN_ENGINE_API void flight_arm(SSL *ssl);

/* A handshake starts (or a new verification does): a hold left by an earlier
 * one on the same SSL (SSL_clear, renegotiation, a handshake that died) is
 * dropped, and the program's verify mode comes back. */
void flight_forget(SSL *ssl);

/* 1 when libssl will call the SSL's CT validation callback after this
 * verification and that callback is a module's: the conditions libssl 3.0
 * checks in ssl_validate_ct() (TLS 1.2 or older, a CT callback, the chain
 * verified with X509_V_OK and of two or more certificates, no DANE-TA/EE
 * match), plus flight_arm(). app_verified: the program's own verification
 * succeeded and no certificate verification callback of the program may
 * overrule it. */
TLSPIN_ENGINE_API int flight_can_wait(SSL *ssl, X509_STORE_CTX *ctx, int app_verified);

/* Holds the decision on `chain` (its certificates and trust are kept for the
 * flight) for the identities whose bits are set in `waiting` (the order of
 * peer_identities()): nothing is refused or recorded for them yet. The
 * verify mode is raised to SSL_VERIFY_PEER until the flight is decided, so
 * that a refusal then aborts even a program that verifies nothing (libssl
 * otherwise sends the alert and goes on). Returns 0, or -1 when it cannot
 * hold (no memory): the caller refuses. */
int flight_hold(SSL *ssl, const struct chain *chain, unsigned waiting);

/* tlspin_host.server_flight: decides a held handshake with the staple in
 * hand (records it, remembers the session, restores the verify mode).
 * Returns 1 to go on, 0 to abort. 1 when nothing is held. */
int flight_decide(void *ssl);

/* After the program's SSL_connect/SSL_do_handshake returned ret: a handshake
 * still held (libssl never reached the callback) is decided now, before the
 * program can send data, and a refused one is shut so that no data can
 * follow; a refusal in the flight gets tlspin's error on top of libssl's
 * ("callback failed"). Returns the value to give the program. */
int flight_after_handshake(SSL *ssl, int ret);

#endif
