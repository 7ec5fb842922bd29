/* Sessions handed over by a program's psk_use_session_cb, decided before the
 * ClientHello carries them. */
#ifndef TLSPIN_PSK_H
#define TLSPIN_PSK_H

#include <openssl/ssl.h>

/* Under the shim: the program's real setters. */
void psk_init(void (*ssl_set)(SSL *, SSL_psk_use_session_cb_func),
              void (*ctx_set)(SSL_CTX *, SSL_psk_use_session_cb_func));

/* Stand in for SSL_set_psk_use_session_callback and
 * SSL_CTX_set_psk_use_session_callback. */
void psk_set_callback(SSL *ssl, SSL_psk_use_session_cb_func cb);
void psk_ctx_set_callback(SSL_CTX *ctx, SSL_psk_use_session_cb_func cb);

#endif
