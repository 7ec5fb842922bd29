/* Sessions a program hands over from a psk_use_session_cb (TLS 1.3 external
 * PSKs, or a stored session offered that way). They never pass
 * SSL_set_session, and libssl asks for them while it builds the ClientHello,
 * which may carry early data: they are decided as the callback returns, for
 * the identities in force then, before anything is sent. A refused session
 * aborts the handshake (one record): the program asked for exactly that
 * session. The guard at the server's choice (nocert.c) decides them again. */
#include "psk.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>

#include "decide.h"
#include "nocert.h"
#include "session.h"

/* The program's callback, kept where it set it (SSL or SSL_CTX). */
struct psk_app {
    SSL_psk_use_session_cb_func cb;
};

static int ssl_index = -1, ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static void (*real_ssl_set)(SSL *, SSL_psk_use_session_cb_func) =
    SSL_set_psk_use_session_callback;
static void (*real_ctx_set)(SSL_CTX *, SSL_psk_use_session_cb_func) =
    SSL_CTX_set_psk_use_session_callback;

static void app_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    free(ptr);
}

/* SSL_dup copies the callback: the copy needs its own record of it. */
static int app_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                   long argl, void *argp)
{
    struct psk_app *copy = NULL;

    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    if (*from_d != NULL && (copy = malloc(sizeof(*copy))) != NULL)
        *copy = *(struct psk_app *)*from_d;
    *from_d = copy;
    return 1;
}

static void make_indexes(void)
{
    ssl_index = SSL_get_ex_new_index(0, NULL, NULL, app_dup, app_free);
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, app_free);
}

void psk_init(void (*ssl_set)(SSL *, SSL_psk_use_session_cb_func),
              void (*ctx_set)(SSL_CTX *, SSL_psk_use_session_cb_func))
{
    real_ssl_set = ssl_set;
    real_ctx_set = ctx_set;
}

static SSL_psk_use_session_cb_func app_cb(SSL *ssl)
{
    const struct psk_app *app = SSL_get_ex_data(ssl, ssl_index);

    if (app == NULL)
        app = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    return app != NULL ? app->cb : NULL;
}

static int wrapped(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                   SSL_SESSION **sess)
{
    SSL_psk_use_session_cb_func cb = app_cb(ssl);
    struct decision d;
    int allowed;

    if (cb == NULL) {
        *sess = NULL;
        return 1;
    }
    if (!cb(ssl, md, id, idlen, sess))
        return 0;
    if (*sess == NULL || decide_busy || SSL_is_server(ssl))
        return 1;
    decide_busy++;
    ERR_set_mark();
    allowed = SSL_SESSION_get0_peer(*sess) == NULL ? !nocert_refused(ssl, &d)
                                                  : session_resumed_allowed(ssl, *sess, &d);
    ERR_pop_to_mark();
    decide_busy--;
    if (allowed)
        return 1;
    SSL_SESSION_free(*sess);
    *sess = NULL;
    SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    tlspin_err_raise(d.reason_code, "%s (a pre-shared session the policy refuses)", d.summary);
    return 0;
}

/* Stores cb where `set` would, then puts the wrapper there instead. Without
 * memory the program's callback is not set at all: no session is offered. */
static struct psk_app *app_for(void *obj, int is_ctx)
{
    struct psk_app *app;

    pthread_once(&index_once, make_indexes);
    if ((is_ctx ? ctx_index : ssl_index) < 0)
        return NULL;
    app = is_ctx ? SSL_CTX_get_ex_data(obj, ctx_index) : SSL_get_ex_data(obj, ssl_index);
    if (app != NULL)
        return app;
    if ((app = calloc(1, sizeof(*app))) == NULL ||
        !(is_ctx ? SSL_CTX_set_ex_data(obj, ctx_index, app) : SSL_set_ex_data(obj, ssl_index, app))) {
        free(app);
        return NULL;
    }
    return app;
}

void psk_set_callback(SSL *ssl, SSL_psk_use_session_cb_func cb)
{
    struct psk_app *app = cb != NULL ? app_for(ssl, 0) : NULL;

    if (app != NULL)
        app->cb = cb;
    real_ssl_set(ssl, app != NULL ? wrapped : NULL);
}

void psk_ctx_set_callback(SSL_CTX *ctx, SSL_psk_use_session_cb_func cb)
{
    struct psk_app *app = cb != NULL ? app_for(ctx, 1) : NULL;

    if (app != NULL)
        app->cb = cb;
    real_ctx_set(ctx, app != NULL ? wrapped : NULL);
}
