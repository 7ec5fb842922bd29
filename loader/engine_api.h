/* The private interface between the preload shim (libtlspin.so) and the
 * engine (libtlspin-engine.so), which the shim dlopens at the first client
 * handshake. Both are built from this tree together; this is not an ABI. */
#ifndef TLSPIN_ENGINE_API_H
#define TLSPIN_ENGINE_API_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Built together, but not always loaded together: a program started before
 * an upgrade runs the old shim and loads the new engine at its first
 * handshake (dpkg replaces both files while it runs). The entry point's name
 * carries the version of this interface, so a shim never calls an engine
 * through tables of another layout: it finds no entry and fails closed,
 * saying why. Bump both lines with any change to the structs below. */
#define TLSPIN_ENGINE_INTERFACE 1
#define TLSPIN_ENGINE_ENTRY "tlspin_engine_attach_v1"
#define TLSPIN_ENGINE_ENTRY_FN tlspin_engine_attach_v1
#define TLSPIN_ENGINE_FILE "libtlspin-engine.so" /* in the shim's own directory */

typedef int tlspin_cert_verify_cb(X509_STORE_CTX *ctx, void *arg);
typedef int tlspin_security_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid,
                               void *other, void *ex);

/* The program's real OpenSSL functions behind each interposed name. The
 * engine MUST call these, never the names themselves: those resolve to the
 * shim again. */
struct tlspin_reals {
    int (*SSL_connect)(SSL *ssl);
    int (*SSL_do_handshake)(SSL *ssl);
    void (*SSL_set_connect_state)(SSL *ssl);
    int (*SSL_set_session)(SSL *ssl, SSL_SESSION *session);
    void (*SSL_CTX_set_cert_verify_callback)(SSL_CTX *ctx, tlspin_cert_verify_cb *cb, void *arg);
    int (*X509_verify_cert)(X509_STORE_CTX *ctx);
    int (*SSL_clear)(SSL *ssl);
    void (*SSL_set_security_callback)(SSL *ssl, tlspin_security_cb *cb);
    SSL_CTX *(*SSL_set_SSL_CTX)(SSL *ssl, SSL_CTX *ctx);
    void (*SSL_set_psk_use_session_callback)(SSL *ssl, SSL_psk_use_session_cb_func cb);
    void (*SSL_CTX_set_psk_use_session_callback)(SSL_CTX *ctx, SSL_psk_use_session_cb_func cb);
};

/* What the shim's hooks call. Each is safe to call from any thread, for
 * server and client objects alike (server objects pass straight through). */
struct tlspin_engine {
    /* Stands in for X509_verify_cert: the program's own verification, then
     * the policy decision for client handshakes. */
    int (*verify_cert)(X509_STORE_CTX *ctx);
    /* Before a client handshake starts: lets modules prepare the SSL. libssl
     * calls SSL_clear through its PLT when its state machine starts a new
     * handshake, whatever started it (SSL_connect, SSL_do_handshake, an
     * implicit handshake in SSL_read/SSL_write, a program that reaches
     * libssl through dlsym): the names and the session are final then. */
    void (*before_handshake)(SSL *ssl);
    /* After the real SSL_connect/SSL_do_handshake returned ret: the value to
     * return to the program (a decision held for a TLS 1.2 server flight
     * that libssl never reached is made here). */
    int (*after_handshake)(SSL *ssl, int ret);
    /* Stands in for SSL_set_session: refuses sessions the policy rejects. */
    int (*set_session)(SSL *ssl, SSL_SESSION *session);
    /* Stands in for SSL_CTX_set_cert_verify_callback: wraps the program's. */
    void (*set_cert_verify_callback)(SSL_CTX *ctx, tlspin_cert_verify_cb *cb, void *arg);
    /* Stand in for SSL_set_security_callback and SSL_set_SSL_CTX: the
     * program's callback goes behind tlspin's, which decides the server's
     * cipher choice (loader/engine/nocert.c), instead of replacing it. */
    void (*set_security_callback)(SSL *ssl, tlspin_security_cb *cb);
    SSL_CTX *(*set_ssl_ctx)(SSL *ssl, SSL_CTX *ctx);
    /* Stand in for SSL_(CTX_)set_psk_use_session_callback: the session the
     * program's callback hands over is decided before the ClientHello (and
     * any early data) carries it. */
    void (*set_psk_use_session_callback)(SSL *ssl, SSL_psk_use_session_cb_func cb);
    void (*ctx_set_psk_use_session_callback)(SSL_CTX *ctx, SSL_psk_use_session_cb_func cb);
};

typedef const struct tlspin_engine *tlspin_engine_attach_fn(const struct tlspin_reals *reals);

#endif
