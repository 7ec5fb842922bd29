/* See flight.h. The held decision lives in the SSL's ex_data: with
 * non-blocking I/O the flight may arrive in a later SSL_do_handshake call,
 * or another thread. */
#include "flight.h"

#include <openssl/err.h>
#include <openssl/tls1.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "ossl_error.h"
#include "peer.h"
#include "policy.h"
#include "session.h"

struct held {
    int saved_mode;              /* the program's verify mode */
    STACK_OF(X509) *verified;    /* the chain decided at the certificate, leaf first */
    STACK_OF(X509) *presented;
    tlspin_chain_trust trust;
    unsigned waiting;            /* identities (peer_identities order) still to decide */
    int refused;                 /* decided, and refused: the SSL stays refused */
    int reported;                /* tlspin's error given over libssl's */
    struct decision refusal;
};

static int held_index = -1, armed_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static char armed_mark;

static void held_free(struct held *h)
{
    if (h != NULL) {
        sk_X509_pop_free(h->verified, X509_free);
        sk_X509_pop_free(h->presented, X509_free);
        free(h);
    }
}

static void free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    held_free(ptr);
}

/* SSL_dup copies ex_data pointers: the copy holds nothing, and is not armed
 * (its CT callback is not copied). */
static int dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                  long argl, void *argp)
{
    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    *from_d = NULL;
    return 1;
}

static void make_indexes(void)
{
    held_index = SSL_get_ex_new_index(0, NULL, NULL, dup_cb, free_cb);
    armed_index = SSL_get_ex_new_index(0, NULL, NULL, dup_cb, NULL);
}

static struct held *held_of(SSL *ssl)
{
    pthread_once(&index_once, make_indexes);
    return held_index >= 0 ? SSL_get_ex_data(ssl, held_index) : NULL;
}

static void held_clear(SSL *ssl)
{
    struct held *h = held_of(ssl);

    if (h != NULL) {
        SSL_set_ex_data(ssl, held_index, NULL);
        held_free(h);
    }
}

void flight_arm(SSL *ssl)
{
    pthread_once(&index_once, make_indexes);
    if (armed_index >= 0)
        SSL_set_ex_data(ssl, armed_index, &armed_mark);
}

void flight_forget(SSL *ssl)
{
    struct held *h = held_of(ssl);

    if (h != NULL) {
        SSL_set_verify(ssl, h->saved_mode, NULL);
        held_clear(ssl);
    }
}

int flight_can_wait(SSL *ssl, X509_STORE_CTX *ctx, int app_verified)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    uint8_t usage = 0;
    enum { DANE_TA = 2, DANE_EE = 3 };   /* RFC 7671 certificate usages */

    pthread_once(&index_once, make_indexes);
    if (!app_verified || SSL_version(ssl) >= TLS1_3_VERSION || SSL_is_dtls(ssl) ||
        !SSL_ct_is_enabled(ssl) || chain == NULL || sk_X509_num(chain) <= 1 ||
        armed_index < 0 || SSL_get_ex_data(ssl, armed_index) != &armed_mark)
        return 0;
    /* libssl skips CT for a chain that DANE-TA or DANE-EE authenticated. Its
     * getter answers only while the SSL's verify result is OK, and a stale
     * one (SSL_clear, a session set) hides the match: then no waiting. */
    if (SSL_get_verify_result(ssl) != X509_V_OK)
        return 0;
    if (SSL_get0_dane_tlsa(ssl, &usage, NULL, NULL, NULL, NULL) >= 0 &&
        (usage == DANE_TA || usage == DANE_EE))
        return 0;
    return 1;
}

int flight_hold(SSL *ssl, const struct chain *chain, unsigned waiting)
{
    struct held *h;

    pthread_once(&index_once, make_indexes);
    if (held_index < 0 || (h = calloc(1, sizeof(*h))) == NULL)
        return -1;
    h->verified = chain_copy_verified(chain, 0);
    h->presented = chain_copy_presented(chain);
    h->trust = chain->trust;
    h->waiting = waiting;
    if (h->verified == NULL || h->presented == NULL) {
        held_free(h);
        return -1;
    }
    flight_forget(ssl);
    h->saved_mode = SSL_get_verify_mode(ssl);
    if (!SSL_set_ex_data(ssl, held_index, h)) {
        held_free(h);
        return -1;
    }
    SSL_set_verify(ssl, h->saved_mode | SSL_VERIFY_PEER, NULL);
    return 0;
}

/* The identities and the chain of a held decision: on the heap, as in
 * hooks.c, since this runs on the program's thread inside libssl's CT
 * callback, and the program's stack may be small (issue 13, point 5). */
struct held_scratch {
    struct peer_id ids[PEER_MAX_IDENTITIES];
    struct chain chain;
};

/* Decides the waiting identities; 1 when the handshake may go on. */
static int decide_held(SSL *ssl, struct held *h, struct decision *d)
{
    const struct policy *p = policy_acquire();
    struct held_scratch *w = malloc(sizeof(*w));
    struct peer_id *ids;
    size_t n_ids;
    int block = 0;

    if (w == NULL) {
        /* Nothing can be decided: refuse, as for any policy error. */
        d->reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d->summary, sizeof(d->summary), "cannot decide (out of memory)");
        policy_release();
        return 0;
    }
    ids = w->ids;
    n_ids = peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    if (chain_from_stacks(h->verified, h->presented, h->trust,
                          (p->caps & TLSPIN_CAP_CERT_DER) != 0, &w->chain) != 0) {
        d->reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d->summary, sizeof(d->summary), "no usable server certificate");
        block = 1;
    }
    /* Identities allowed at the certificate were recorded then: only the
     * waiting ones are decided (and recorded) now. */
    for (size_t i = 0; i < n_ids && !block; i++) {
        if (i >= 8 * sizeof(h->waiting) || !(h->waiting & (1u << i)))
            continue;
        decide(p, ssl, &ids[i], &w->chain, DECIDE_SERVER_FLIGHT, d, NULL, NULL);
        block = d->action == ACTION_BLOCK;
    }
    if (!block && n_ids > 0)
        session_remember(ssl, &ids[0], &w->chain);
    chain_release(&w->chain);
    free(w);
    policy_release();
    return !block;
}

int flight_decide(void *arg)
{
    SSL *ssl = arg;
    struct held *h = ssl != NULL ? held_of(ssl) : NULL;
    struct decision d;
    int go_on;

    if (h == NULL)
        return 1;
    /* Nothing of tlspin's own runs a handshake with a hold; should one, its
     * verdict is not known: refuse. */
    if (h->refused || decide_busy)
        return 0;
    memset(&d, 0, sizeof(d));
    decide_busy++;
    ERR_set_mark();
    go_on = decide_held(ssl, h, &d);
    ERR_pop_to_mark();
    if (!go_on) {
        /* The verify mode stays raised: libssl aborts only with PEER set. */
        h->refused = 1;
        h->refusal = d;
        tlspin_err_raise(d.reason_code, "%s", d.summary);
    } else {
        SSL_set_verify(ssl, h->saved_mode, NULL);
        held_clear(ssl);
    }
    decide_busy--;
    return go_on;
}

int flight_after_handshake(SSL *ssl, int ret)
{
    struct held *h = held_of(ssl);

    if (h == NULL || decide_busy)
        return ret;
    if (!h->refused && ret == 1) {
        /* libssl never reached the flight callback: decided here */
        if (flight_decide(ssl))
            return ret;
        h = held_of(ssl);
        h->reported = 1;   /* flight_decide raised tlspin's error */
    } else if (h->refused && !h->reported && ret <= 0) {
        /* libssl's last word is "callback failed" (and CT's verify result):
         * the program should read tlspin's certificate error instead. */
        SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
        tlspin_err_raise_last(h->refusal.reason_code, "%s", h->refusal.summary);
        h->reported = 1;
        return ret;
    }
    if (h != NULL && h->refused) {
        /* The handshake is complete on both sides, the decision refused it:
         * a program that calls again or writes anyway must get no further. */
        SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        return -1;
    }
    return ret;
}
