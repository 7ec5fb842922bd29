/* Client handshakes without a server certificate (anonymous, PSK and SRP
 * suites, TLS 1.3 external PSKs): decided like any other, with an empty
 * chain, when the server's choice is known. */
#ifndef TLSPIN_NOCERT_H
#define TLSPIN_NOCERT_H

#include <openssl/ssl.h>

/* Puts tlspin's security callback in front of the one the client SSL has
 * (the program's, or OpenSSL's default, which keeps working behind it).
 * Called when a handshake starts; idempotent. */
void nocert_guard(SSL *ssl);

/* After the program's SSL_connect/SSL_do_handshake returned ret: a
 * refusal made in this handshake puts tlspin's certificate error last on
 * the queue. */
void nocert_after_handshake(SSL *ssl, int ret);

#endif
