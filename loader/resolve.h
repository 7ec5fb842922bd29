/* Finding the program's real OpenSSL functions and the engine, lazily. */
#ifndef TLSPIN_RESOLVE_H
#define TLSPIN_RESOLVE_H

#include "engine_api.h"

struct shim {
    struct tlspin_reals reals;
    /* NULL when the engine could not be loaded: then the shim refuses every
     * client handshake itself (fail closed) with the helpers below. */
    const struct tlspin_engine *engine;
    char engine_error[320];
    int (*SSL_get_ex_data_X509_STORE_CTX_idx)(void);
    void *(*X509_STORE_CTX_get_ex_data)(const X509_STORE_CTX *ctx, int idx);
    void (*X509_STORE_CTX_set_error)(X509_STORE_CTX *ctx, int error);
    int (*SSL_is_server)(const SSL *ssl);
    void (*SSL_set_verify)(SSL *ssl, int mode, SSL_verify_cb cb);
    int (*SSL_get_verify_mode)(const SSL *ssl);
    int (*SSL_CIPHER_get_auth_nid)(const SSL_CIPHER *cipher);
    int (*SSL_session_reused)(const SSL *ssl);
    void (*SSL_set_verify_result)(SSL *ssl, long result);
};

/* The resolved state, or NULL when the program has no OpenSSL 3 libssl
 * loaded (then nothing can be decided and hooks fall back to shim_next). */
const struct shim *shim_get(void);

/* The next definition of `name` after the shim, for programs whose libssl is
 * not OpenSSL 3 (not expected on Debian 12); NULL if there is none. */
void *shim_next(const char *name);

/* The real X509_verify_cert (libcrypto may be loaded without libssl). */
int shim_real_x509_verify_cert(X509_STORE_CTX *ctx);

/* Without the engine: client SSLs refuse the server's choice of suite, so
 * that handshakes without a certificate fail closed too (logged once). */
void shim_fail_closed_guard(const struct shim *shim, SSL *ssl);

/* The shim's own refusal when the engine is missing: logged once. */
int shim_fail_closed_verify(const struct shim *shim, X509_STORE_CTX *ctx);

#endif
