/* The server's choice, decided before any key exchange.
 *
 * Some client handshakes never show a server certificate: anonymous (aNULL),
 * PSK and SRP suites, TLS 1.3 external PSKs, EAP-FAST style secrets
 * (session_secret_cb), and resumptions. X509_verify_cert never runs for
 * them, so the decision there never happens. libssl asks the SSL's security
 * callback about the cipher the server chose (SSL_SECOP_CIPHER_CHECK, in
 * set_client_ciphersuite()) once it knows whether the ServerHello resumes a
 * session, and before it processes anything else of the server's. tlspin's
 * callback (the guard) stands in front of the program's (or OpenSSL's
 * default) on every client SSL and decides there:
 *   - a certificate-less suite, a resumption of a session that holds no
 *     certificate, or a secret set by session_secret_cb: with an empty chain,
 *     which satisfies no pin;
 *   - a resumption of a session that holds a certificate: that session,
 *     afresh, for every identity in force — the last line behind the checks
 *     made before it was offered (session.c), which cannot see a session a
 *     psk_use_session_cb hands over, or one offered before a BIO was set.
 * A refusal makes libssl abort the handshake (alert illegal_parameter). */
#include "nocert.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "decide.h"
#include "peer.h"
#include "policy.h"
#include "session.h"

#define NO_CERTIFICATE "the server authenticated with no certificate"

typedef security_cb_fn security_cb;

/* Kept only when there is something to keep: SSL_new calls SSL_clear (and so
 * the guard's installation) before the SSL's ex_data exist, and whatever is
 * stored then is lost. Without it the guard passes on to the SSL_CTX's
 * callback, which is what SSL_new copied. */
struct guard_state {
    security_cb *next;   /* the program's own SSL-level callback; NULL: the CTX's */
    /* A refusal whose error is still to be put on top of libssl's ("wrong
     * cipher returned") when the handshake call returns: NULL when none. */
    char *refusal;
    enum tlspin_reason reason;
};

static int state_index = -1;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

/* The real SSL_set_security_callback: under the shim the name itself is the
 * shim's hook, which would put the guard behind itself. */
static void (*set_callback)(SSL *ssl, security_cb_fn *cb) = SSL_set_security_callback;

void nocert_init(void (*real_set_security_callback)(SSL *ssl, security_cb_fn *cb))
{
    set_callback = real_set_security_callback;
}

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    struct guard_state *st = ptr;

    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (st != NULL)
        free(st->refusal);
    free(st);
}

/* SSL_dup copies the security callback: the copy needs its own state. Without
 * memory the copy falls back to its CTX's callback. */
static int state_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                     long argl, void *argp)
{
    struct guard_state *copy = NULL;

    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    if (*from_d != NULL && (copy = malloc(sizeof(*copy))) != NULL) {
        *copy = *(struct guard_state *)*from_d;
        copy->refusal = NULL;
    }
    *from_d = copy;
    return 1;
}

static void make_index(void)
{
    state_index = SSL_get_ex_new_index(0, NULL, NULL, state_dup, state_free);
}

static struct guard_state *state_of(const SSL *ssl)
{
    pthread_once(&state_once, make_index);
    return state_index >= 0 ? SSL_get_ex_data(ssl, state_index) : NULL;
}

static struct guard_state *state_make(SSL *ssl)
{
    struct guard_state *st = state_of(ssl);

    if (st != NULL || state_index < 0)
        return st;
    if ((st = calloc(1, sizeof(*st))) == NULL || !SSL_set_ex_data(ssl, state_index, st)) {
        free(st);
        return NULL;
    }
    return st;
}

static int guard(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                 void *ex);

/* The callback the guard passes on to. */
static security_cb *next_of(const SSL *ssl)
{
    const struct guard_state *st = state_of(ssl);
    security_cb *next = st != NULL && st->next != NULL
                            ? st->next : SSL_CTX_get_security_callback(SSL_get_SSL_CTX(ssl));
    return next == guard ? NULL : next;
}

/* The suite authenticates the server by something other than a certificate. */
static int cipher_without_certificate(const SSL_CIPHER *cipher)
{
    int auth = SSL_CIPHER_get_auth_nid(cipher);
    return auth == NID_auth_null || auth == NID_auth_psk || auth == NID_auth_srp;
}

/* The session whose secret this handshake uses without a certificate
 * exchange: a resumption the server accepted, or a secret that a
 * session_secret_cb put into the session (EAP-FAST: not marked as resumed
 * until the server's ChangeCipherSpec, yet no certificate follows). */
static SSL_SESSION *session_in_use(const SSL *ssl)
{
    SSL_SESSION *session = SSL_get_session(ssl);

    if (session == NULL)
        return NULL;
    if (SSL_session_reused(ssl))
        return session;
    /* A full TLS 1.2 handshake starts from a fresh session (no secret yet);
     * TLS 1.3 may keep an offered ticket the server declined. */
    return SSL_version(ssl) < TLS1_3_VERSION && SSL_SESSION_get_master_key(session, NULL, 0) > 0
               ? session : NULL;
}

int nocert_refused(SSL *ssl, struct decision *d)
{
    /* The identities and the empty chain on the heap (about 4.4 KB: more
     * than a decision may take from the program's stack). */
    struct {
        struct peer_id ids[PEER_MAX_IDENTITIES];
        struct chain chain;
    } *w = calloc(1, sizeof(*w));
    const struct policy *p;
    size_t n_ids;
    int block = 0;

    if (w == NULL) {
        /* Nothing can be decided: fail closed, as for any policy error. */
        memset(d, 0, sizeof(*d));
        d->action = ACTION_BLOCK;
        d->event = "policy-error";
        d->reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d->summary, sizeof(d->summary), "cannot decide (out of memory)");
        return 1;
    }
    p = policy_acquire();
    n_ids = peer_identities(ssl, w->ids, PEER_MAX_IDENTITIES);
    w->chain.trust = TLSPIN_CHAIN_NONE;
    for (size_t i = 0; i < n_ids && !block; i++) {
        decide(p, ssl, &w->ids[i], &w->chain, DECIDE_HANDSHAKE, d, NULL, NULL);
        block = d->action == ACTION_BLOCK;
    }
    policy_release();
    free(w);
    return block;
}

/* The server's choice: 1 when it must be refused (recorded, error queued). */
static int refused(SSL *ssl, const SSL_CIPHER *cipher)
{
    SSL_SESSION *session = session_in_use(ssl);
    struct guard_state *st;
    struct decision d;
    int block;
    const char *why = NO_CERTIFICATE;

    ERR_set_mark();   /* what looking up the names leaves is not the program's */
    if (cipher_without_certificate(cipher) || (session != NULL &&
                                                SSL_SESSION_get0_peer(session) == NULL)) {
        block = nocert_refused(ssl, &d);
    } else if (session != NULL) {
        block = !session_resumed_allowed(ssl, session, &d);
        why = "the server resumed a session the policy refuses";
    } else {
        block = 0;   /* a certificate follows: X509_verify_cert decides */
    }
    ERR_pop_to_mark();
    if (!block)
        return 0;
    /* Programs that print the verify result read tlspin's refusal. */
    SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    tlspin_err_raise(d.reason_code, "%s (%s)", d.summary, why);
    if ((st = state_make(ssl)) != NULL) {
        free(st->refusal);
        st->refusal = strdup(d.summary);
        st->reason = d.reason_code;
    }
    return 1;
}

static int guard(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                 void *ex)
{
    security_cb *next = s != NULL ? next_of(s) : NULL;

    if (next == NULL)
        return 0;   /* nothing to pass on to: fail closed */
    if (op == SSL_SECOP_CIPHER_CHECK && other != NULL && !decide_busy && !SSL_is_server(s)) {
        int saved_errno = errno, block;
        decide_busy++;
        /* The SSL is the program's own; libssl hands it to security
         * callbacks as const only by convention. */
        block = refused((SSL *)s, other);
        decide_busy--;
        errno = saved_errno;
        if (block)
            return 0;
    }
    return next(s, ctx, op, bits, nid, other, ex);
}

void nocert_guard(SSL *ssl)
{
    security_cb *current = SSL_get_security_callback(ssl);

    if (current != guard)
        nocert_set_callback(ssl, current);
}

int nocert_set_callback(SSL *ssl, security_cb_fn *cb)
{
    security_cb *ctx_cb = SSL_CTX_get_security_callback(SSL_get_SSL_CTX(ssl));
    struct guard_state *st = state_of(ssl);

    if (cb == guard)
        return 1;
    if (cb != ctx_cb && cb != NULL) {
        /* The program's own callback for this SSL: kept behind the guard. */
        if ((st = state_make(ssl)) == NULL)
            return 0;
        st->next = cb;
    } else if (st != NULL) {
        st->next = NULL;
    }
    if (cb == NULL && ctx_cb == NULL)
        return 0;   /* nothing the guard could pass on to */
    set_callback(ssl, guard);
    return 1;
}

void nocert_after_handshake(SSL *ssl, int ret)
{
    struct guard_state *st = state_of(ssl);

    if (st == NULL || st->refusal == NULL)
        return;
    /* libssl's last word is "wrong cipher returned": programs that read the
     * last entry (python's SSLCertVerificationError) should read tlspin's. */
    if (ret <= 0)
        tlspin_err_raise_last(st->reason, "%s", st->refusal);
    free(st->refusal);
    st->refusal = NULL;
}
