/* The interposed OpenSSL entry points: the shim's only exports.
 *
 * No logic lives here: each hook finds the real function (resolve.c) and
 * hands over to the engine. The decision itself happens in X509_verify_cert,
 * which libssl calls through its PLT on every path to a verified server
 * certificate, so implicit handshakes in SSL_read/SSL_write/SSL_peek,
 * BIO_do_handshake and programs that reach libssl through dlsym(handle) are
 * decided too. The handshake entry points only let modules prepare the SSL
 * before the ClientHello (SSL_clear, which libssl's state machine calls at
 * the start of every handshake, is the hook that sees them all); SSL_set_session refuses sessions the policy rejects
 * (a resumed handshake carries no certificate); SSL_CTX_set_cert_verify_callback
 * keeps programs that replace X509_verify_cert from bypassing the decision. */
#include "resolve.h"

#include <errno.h>

#define TLSPIN_HOOK __attribute__((visibility("default")))

typedef int ssl_fn(SSL *);

static void prepare(const struct shim *s, SSL *ssl)
{
    if (s->engine != NULL) {
        int saved_errno = errno;
        s->engine->before_handshake(ssl);
        errno = saved_errno;
    }
}

static int finish(const struct shim *s, SSL *ssl, int ret)
{
    if (s->engine != NULL) {
        int saved_errno = errno;
        ret = s->engine->after_handshake(ssl, ret);
        errno = saved_errno;
    }
    return ret;
}

TLSPIN_HOOK int SSL_connect(SSL *ssl)
{
    const struct shim *s = shim_get();
    if (s == NULL) {
        ssl_fn *next = (ssl_fn *)shim_next("SSL_connect");
        return next ? next(ssl) : -1;
    }
    prepare(s, ssl);
    return finish(s, ssl, s->reals.SSL_connect(ssl));
}

TLSPIN_HOOK int SSL_do_handshake(SSL *ssl)
{
    const struct shim *s = shim_get();
    if (s == NULL) {
        ssl_fn *next = (ssl_fn *)shim_next("SSL_do_handshake");
        return next ? next(ssl) : -1;
    }
    prepare(s, ssl);
    return finish(s, ssl, s->reals.SSL_do_handshake(ssl));
}

TLSPIN_HOOK void SSL_set_connect_state(SSL *ssl)
{
    const struct shim *s = shim_get();
    if (s == NULL) {
        void (*next)(SSL *) = (void (*)(SSL *))shim_next("SSL_set_connect_state");
        if (next)
            next(ssl);
        return;
    }
    s->reals.SSL_set_connect_state(ssl);
    prepare(s, ssl);
}

/* libssl's state machine calls SSL_clear (through its PLT) when it starts a
 * handshake: the one point every path to a client handshake passes before
 * its ClientHello, implicit handshakes in SSL_read/SSL_write included. */
TLSPIN_HOOK int SSL_clear(SSL *ssl)
{
    const struct shim *s = shim_get();
    int ret;

    if (s == NULL) {
        ssl_fn *next = (ssl_fn *)shim_next("SSL_clear");
        return next ? next(ssl) : 0;
    }
    ret = s->reals.SSL_clear(ssl);
    if (ret == 1 && s->engine == NULL)
        shim_fail_closed_guard(s, ssl);
    else if (ret == 1)
        prepare(s, ssl);
    return ret;
}

TLSPIN_HOOK void SSL_set_security_callback(SSL *ssl, tlspin_security_cb *cb)
{
    const struct shim *s = shim_get();

    if (s == NULL) {
        void (*next)(SSL *, tlspin_security_cb *) =
            (void (*)(SSL *, tlspin_security_cb *))shim_next("SSL_set_security_callback");
        if (next)
            next(ssl, cb);
        return;
    }
    if (s->engine == NULL)   /* the engine-less guard stays */
        return;
    s->engine->set_security_callback(ssl, cb);
}

TLSPIN_HOOK SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx)
{
    const struct shim *s = shim_get();
    SSL_CTX *ret;

    if (s == NULL) {
        SSL_CTX *(*next)(SSL *, SSL_CTX *) =
            (SSL_CTX * (*)(SSL *, SSL_CTX *)) shim_next("SSL_set_SSL_CTX");
        return next ? next(ssl, ctx) : NULL;
    }
    if (s->engine != NULL)
        return s->engine->set_ssl_ctx(ssl, ctx);
    ret = s->reals.SSL_set_SSL_CTX(ssl, ctx);
    if (ret != NULL)
        shim_fail_closed_guard(s, ssl);
    return ret;
}

TLSPIN_HOOK int SSL_set_session(SSL *ssl, SSL_SESSION *session)
{
    const struct shim *s = shim_get();
    if (s == NULL) {
        int (*next)(SSL *, SSL_SESSION *) =
            (int (*)(SSL *, SSL_SESSION *))shim_next("SSL_set_session");
        return next ? next(ssl, session) : 0;
    }
    if (s->engine == NULL)   /* fail closed: never resume what cannot be decided */
        return s->reals.SSL_set_session(ssl, NULL);
    return s->engine->set_session(ssl, session);
}

TLSPIN_HOOK void SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx, tlspin_cert_verify_cb *cb,
                                                  void *arg)
{
    const struct shim *s = shim_get();
    if (s == NULL) {
        void (*next)(SSL_CTX *, tlspin_cert_verify_cb *, void *) =
            (void (*)(SSL_CTX *, tlspin_cert_verify_cb *, void *))shim_next(
                "SSL_CTX_set_cert_verify_callback");
        if (next)
            next(ctx, cb, arg);
        return;
    }
    if (s->engine == NULL) {   /* keep X509_verify_cert, where the refusal happens */
        s->reals.SSL_CTX_set_cert_verify_callback(ctx, NULL, NULL);
        return;
    }
    s->engine->set_cert_verify_callback(ctx, cb, arg);
}

TLSPIN_HOOK int X509_verify_cert(X509_STORE_CTX *ctx)
{
    const struct shim *s = shim_get();
    if (s == NULL)
        return shim_real_x509_verify_cert(ctx);
    if (s->engine == NULL)
        return shim_fail_closed_verify(s, ctx);
    return s->engine->verify_cert(ctx);
}

/* A session a psk_use_session_cb hands over never passes SSL_set_session:
 * the engine decides it when the callback returns, before the ClientHello
 * (and any early data) carries it. Without the engine no such session is
 * offered. */
TLSPIN_HOOK void SSL_set_psk_use_session_callback(SSL *ssl, SSL_psk_use_session_cb_func cb)
{
    const struct shim *s = shim_get();

    if (s == NULL) {
        void (*next)(SSL *, SSL_psk_use_session_cb_func) =
            (void (*)(SSL *, SSL_psk_use_session_cb_func))shim_next(
                "SSL_set_psk_use_session_callback");
        if (next)
            next(ssl, cb);
        return;
    }
    if (s->engine == NULL)
        s->reals.SSL_set_psk_use_session_callback(ssl, NULL);
    else
        s->engine->set_psk_use_session_callback(ssl, cb);
}

TLSPIN_HOOK void SSL_CTX_set_psk_use_session_callback(SSL_CTX *ctx,
                                                      SSL_psk_use_session_cb_func cb)
{
    const struct shim *s = shim_get();

    if (s == NULL) {
        void (*next)(SSL_CTX *, SSL_psk_use_session_cb_func) =
            (void (*)(SSL_CTX *, SSL_psk_use_session_cb_func))shim_next(
                "SSL_CTX_set_psk_use_session_callback");
        if (next)
            next(ctx, cb);
        return;
    }
    if (s->engine == NULL)
        s->reals.SSL_CTX_set_psk_use_session_callback(ctx, NULL);
    else
        s->engine->ctx_set_psk_use_session_callback(ctx, cb);
}
