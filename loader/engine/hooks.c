/* What the shim's hooks do, and the engine's one entry point. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "chain.h"
#include "decide.h"
#include "engine_api.h"
#include "flight.h"
#include "nocert.h"
#include "psk.h"
#include "peer.h"
#include "policy.h"
#include "session.h"

#define ENGINE_API __attribute__((visibility("default")))

static struct tlspin_reals reals;

/* The verification a cert_verify_callback wrapper is running, so it can tell
 * whether the program's callback reached X509_verify_cert (and the decision)
 * or trusted the chain without it. */
static __thread X509_STORE_CTX *decided_ctx;
static __thread int decided_block;
/* Inside a program's certificate verification callback, which may overrule
 * the verification: libssl's later checks cannot be predicted then. */
static __thread int in_app_cert_verify;

static SSL *client_ssl(X509_STORE_CTX *ctx)
{
    int idx = SSL_get_ex_data_X509_STORE_CTX_idx();
    SSL *ssl = idx >= 0 ? X509_STORE_CTX_get_ex_data(ctx, idx) : NULL;
    return ssl && !SSL_is_server(ssl) ? ssl : NULL;
}

/* Refuse inside the handshake: the error the program will print, a fatal
 * alert to the server, and a reason naming tlspin on the error queue. libssl
 * reads the verify mode after verification, so forcing SSL_VERIFY_PEER here
 * makes the refusal abort even a program that verifies nothing (curl -k);
 * the program's own verify callback stays in place. */
static void refuse(SSL *ssl, X509_STORE_CTX *ctx, const struct decision *d)
{
    X509_STORE_CTX_set_error_depth(ctx, 0);
    X509_STORE_CTX_set_current_cert(ctx, X509_STORE_CTX_get0_cert(ctx));
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    SSL_set_verify(ssl, SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER, NULL);
    tlspin_err_raise(d->reason_code, "%s", d->summary);
}

/* What one decision needs besides a few words: on the heap, not on the
 * program's stack (about 4.5 KB; programs run TLS on small thread stacks
 * and coroutines, and the decision must stay within 4 KB of them). */
struct handshake_scratch {
    struct peer_id ids[PEER_MAX_IDENTITIES];
    struct chain chain;
};

/* Decides the certificate being verified in ctx under every identity the
 * program gave the server; 1 when it must be refused. */
static int decide_handshake(SSL *ssl, X509_STORE_CTX *ctx, int app_verified)
{
    const struct policy *p = policy_acquire();
    struct handshake_scratch *w = malloc(sizeof(*w));
    struct peer_id *ids;
    struct chain *chain;
    size_t n_ids;
    struct decision d;
    int block = 0;
    unsigned waiting = 0;
    enum decide_kind kind = !in_app_cert_verify && flight_can_wait(ssl, ctx, app_verified)
                                ? DECIDE_MAY_WAIT : DECIDE_HANDSHAKE;

    if (w == NULL) {
        /* Nothing can be decided: fail closed, as for any policy error. */
        d.reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d.summary, sizeof(d.summary), "cannot decide (out of memory)");
        refuse(ssl, ctx, &d);
        policy_release();
        return 1;
    }
    ids = w->ids;
    chain = &w->chain;
    ERR_set_mark();
    flight_forget(ssl);   /* a new verification: an older hold is over */
    n_ids = peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    if (chain_from_verification(ctx, app_verified, (p->caps & TLSPIN_CAP_CERT_DER) != 0,
                                reals.X509_verify_cert, chain) != 0) {
        chain_release(chain);
        free(w);
        ERR_pop_to_mark();
        d.reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d.summary, sizeof(d.summary), "no usable server certificate");
        refuse(ssl, ctx, &d);
        policy_release();
        return 1;
    }
    for (size_t i = 0; i < n_ids && !block; i++) {
        decide(p, ssl, &ids[i], chain, kind, &d, NULL, NULL);
        block = d.action == ACTION_BLOCK;
        if (d.pending)
            waiting |= 1u << i;
    }
    if (!block && waiting && flight_hold(ssl, chain, waiting) != 0) {
        d.reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d.summary, sizeof(d.summary), "cannot hold the decision for the OCSP staple "
                 "(out of memory)");
        block = 1;
    }
    if (!block && !waiting)
        session_remember(ssl, &ids[0], chain);
    chain_release(chain);
    free(w);
    ERR_pop_to_mark();
    if (block)
        refuse(ssl, ctx, &d);
    policy_release();
    return block;
}

static int engine_verify_cert(X509_STORE_CTX *ctx)
{
    SSL *ssl;
    int ok, saved_errno;

    if (decide_busy || (ssl = client_ssl(ctx)) == NULL)
        return reals.X509_verify_cert(ctx);
    ok = reals.X509_verify_cert(ctx);
    saved_errno = errno;
    decide_busy++;
    int block = decide_handshake(ssl, ctx, ok > 0 && X509_STORE_CTX_get_error(ctx) == X509_V_OK);
    decide_busy--;
    decided_ctx = ctx;
    decided_block = block;
    errno = saved_errno;
    return block ? 0 : ok;
}

struct app_cert_verify {
    tlspin_cert_verify_cb *cb;
    void *arg;
};

static int app_cb_index = -1;
static pthread_once_t app_cb_once = PTHREAD_ONCE_INIT;

static void app_cb_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                        void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    free(ptr);
}

static void make_app_cb_index(void)
{
    app_cb_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, app_cb_free);
}

/* Runs the program's certificate verification callback, then makes sure the
 * decision happened: if the callback never called X509_verify_cert, tlspin
 * decides on its own (the program's verdict counts as no verification). */
static int wrapped_cert_verify(X509_STORE_CTX *ctx, void *arg)
{
    const struct app_cert_verify *app = arg;
    SSL *ssl = client_ssl(ctx);
    int ok, block, saved_errno;

    if (ssl == NULL || decide_busy)
        return app->cb(ctx, app->arg);
    decided_ctx = NULL;
    in_app_cert_verify++;
    ok = app->cb(ctx, app->arg);
    in_app_cert_verify--;
    if (decided_ctx == ctx) {
        block = decided_block;
    } else {
        saved_errno = errno;
        decide_busy++;
        block = decide_handshake(ssl, ctx, 0);
        decide_busy--;
        errno = saved_errno;
    }
    decided_ctx = NULL;
    return block ? 0 : ok;
}

static void engine_set_cert_verify_callback(SSL_CTX *ctx, tlspin_cert_verify_cb *cb, void *arg)
{
    struct app_cert_verify *app;

    pthread_once(&app_cb_once, make_app_cb_index);
    if (cb == NULL || app_cb_index < 0) {
        reals.SSL_CTX_set_cert_verify_callback(ctx, cb, arg);
        return;
    }
    app = SSL_CTX_get_ex_data(ctx, app_cb_index);
    if (app == NULL) {
        app = calloc(1, sizeof(*app));
        if (app == NULL || !SSL_CTX_set_ex_data(ctx, app_cb_index, app)) {
            /* Cannot wrap: keep X509_verify_cert, where the decision is made,
             * rather than let a callback bypass it. */
            free(app);
            reals.SSL_CTX_set_cert_verify_callback(ctx, NULL, NULL);
            return;
        }
    }
    app->cb = cb;
    app->arg = arg;
    reals.SSL_CTX_set_cert_verify_callback(ctx, wrapped_cert_verify, app);
}

static int engine_set_session(SSL *ssl, SSL_SESSION *session)
{
    int allowed, saved_errno;

    if (session == NULL || decide_busy)
        return reals.SSL_set_session(ssl, session);
    saved_errno = errno;
    decide_busy++;
    ERR_set_mark();
    allowed = session_may_resume(ssl, session);
    ERR_pop_to_mark();
    decide_busy--;
    errno = saved_errno;
    /* A refused session is simply not offered; the program sees a full
     * handshake, as when a server declines to resume. */
    return reals.SSL_set_session(ssl, allowed ? session : NULL);
}

static void engine_before_handshake(SSL *ssl)
{
    const struct policy *p;
    SSL_SESSION *session;

    if (decide_busy || SSL_is_server(ssl))
        return;
    /* The guard first, even in SSL_new's own SSL_clear and in a handshake
     * started before the program set a BIO (the retry goes on past the
     * start): it stores nothing unless it must. */
    nocert_guard(ssl);
    /* Without a BIO no handshake can start: that is SSL_new's own call to
     * SSL_clear, made before the SSL's ex_data exist (anything stored there
     * now would be lost). */
    if (!SSL_in_before(ssl) || SSL_get_wbio(ssl) == NULL)
        return;
    decide_busy++;
    ERR_set_mark();
    p = policy_acquire();   /* first handshake: policy and modules load here */
    flight_forget(ssl);     /* a hold of an earlier handshake on this SSL is over */
    int ct_before = SSL_ct_is_enabled(ssl);
    /* A session set before the program named the server (SNI set after
     * SSL_set_session) is decided again now that the names are final. */
    session = SSL_get_session(ssl);
    if (session != NULL && !session_may_resume(ssl, session))
        reals.SSL_set_session(ssl, NULL);
    if (p->caps & TLSPIN_CAP_PREPARE) {
        for (size_t i = 0; i < p->n_entries; i++) {
            const struct policy_entry *e = &p->entries[i];
            if (e->fault == NULL && module_has_prepare(e->module.desc) &&
                e->module.desc->prepare(e->state, ssl) != 0)
                record_emit_line(&p->log, LOG_ERR, "tlspin: event=module-error "
                                 "action=prepare-failed reason=\"prepare() failed\"");
        }
    }
    /* CT turned on while the modules prepared: the callback is a module's,
     * which calls tlspin back after the server's flight. */
    if (!ct_before && SSL_ct_is_enabled(ssl))
        flight_arm(ssl);
    policy_release();
    ERR_pop_to_mark();
    decide_busy--;
}

static int engine_after_handshake(SSL *ssl, int ret)
{
    if (SSL_is_server(ssl))
        return ret;
    nocert_after_handshake(ssl, ret);
    return flight_after_handshake(ssl, ret);
}

static void engine_set_security_callback(SSL *ssl, tlspin_security_cb *cb)
{
    if (decide_busy || SSL_is_server(ssl) || !nocert_set_callback(ssl, cb))
        reals.SSL_set_security_callback(ssl, cb);
}

/* A new SSL_CTX brings its own certificate settings, security callback
 * included: the guard goes back in front of it. */
static SSL_CTX *engine_set_ssl_ctx(SSL *ssl, SSL_CTX *ctx)
{
    SSL_CTX *ret = reals.SSL_set_SSL_CTX(ssl, ctx);

    if (ret != NULL && !decide_busy && !SSL_is_server(ssl))
        nocert_guard(ssl);
    return ret;
}

static const struct tlspin_engine engine = {
    .verify_cert = engine_verify_cert,
    .before_handshake = engine_before_handshake,
    .after_handshake = engine_after_handshake,
    .set_session = engine_set_session,
    .set_cert_verify_callback = engine_set_cert_verify_callback,
    .set_security_callback = engine_set_security_callback,
    .set_ssl_ctx = engine_set_ssl_ctx,
    .set_psk_use_session_callback = psk_set_callback,
    .ctx_set_psk_use_session_callback = psk_ctx_set_callback,
};

const struct tlspin_engine *TLSPIN_ENGINE_ENTRY_FN(const struct tlspin_reals *r);

ENGINE_API const struct tlspin_engine *TLSPIN_ENGINE_ENTRY_FN(const struct tlspin_reals *r)
{
    reals = *r;
    nocert_init(reals.SSL_set_security_callback);
    psk_init(reals.SSL_set_psk_use_session_callback, reals.SSL_CTX_set_psk_use_session_callback);
    return &engine;
}
