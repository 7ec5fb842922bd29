/* See flight.h. The held decision lives in the SSL's ex_data: with
 * non-blocking I/O the flight may arrive in a later SSL_do_handshake call,
 * or another thread. */
#include "flight.h"

#include <openssl/err.h>
#include <openssl/tls1.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "chain.h"
#include "decide.h"
#include "ossl_error.h"
#include "peer.h"
#include "policy.h"
#include "session.h"

struct held {
    int saved_mode;              /* the program's verify mode */
    STACK_OF(X509) *verified;    /* the chain decided at the certificate, leaf first */
    tlspin_chain_trust trust;
    int refused;                 /* decided in the flight, and refused */
    struct decision refusal;
};

static int held_index = -1;
static pthread_once_t held_once = PTHREAD_ONCE_INIT;

static void held_free(struct held *h)
{
    if (h != NULL) {
        sk_X509_pop_free(h->verified, X509_free);
        free(h);
    }
}

static void free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    held_free(ptr);
}

/* SSL_dup copies ex_data pointers: the copy holds nothing. */
static int dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                  long argl, void *argp)
{
    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    *from_d = NULL;
    return 1;
}

static void make_index(void)
{
    held_index = SSL_get_ex_new_index(0, NULL, NULL, dup_cb, free_cb);
}

static struct held *held_of(SSL *ssl)
{
    pthread_once(&held_once, make_index);
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

int flight_can_wait(SSL *ssl, X509_STORE_CTX *ctx, int app_verified)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    uint8_t usage = 0;
    enum { DANE_TA = 2, DANE_EE = 3 };   /* RFC 7671 certificate usages */

    if (!app_verified || SSL_version(ssl) >= TLS1_3_VERSION || SSL_is_dtls(ssl) ||
        !SSL_ct_is_enabled(ssl) || chain == NULL || sk_X509_num(chain) <= 1)
        return 0;
    /* libssl skips CT for a chain that DANE-TA or DANE-EE authenticated. */
    if (SSL_get0_dane_tlsa(ssl, &usage, NULL, NULL, NULL, NULL) >= 0 &&
        (usage == DANE_TA || usage == DANE_EE))
        return 0;
    return 1;
}

int flight_hold(SSL *ssl, const struct chain *chain)
{
    struct held *h;

    pthread_once(&held_once, make_index);
    if (held_index < 0 || (h = calloc(1, sizeof(*h))) == NULL)
        return -1;
    h->verified = chain_copy_verified(chain, 0);
    h->trust = chain->trust;
    if (h->verified == NULL) {
        free(h);
        return -1;
    }
    /* A renegotiation holds anew: the earlier hold, if any, is over. */
    held_clear(ssl);
    h->saved_mode = SSL_get_verify_mode(ssl);
    if (!SSL_set_ex_data(ssl, held_index, h)) {
        held_free(h);
        return -1;
    }
    SSL_set_verify(ssl, h->saved_mode | SSL_VERIFY_PEER, NULL);
    return 0;
}

int flight_decide(void *arg)
{
    SSL *ssl = arg;
    struct held *h = ssl != NULL ? held_of(ssl) : NULL;
    const struct policy *p;
    struct peer_id ids[PEER_MAX_IDENTITIES];
    size_t n_ids;
    struct chain chain;
    struct decision d;
    int block = 0;

    if (h == NULL || h->refused || decide_busy)
        return h == NULL || !h->refused;
    decide_busy++;
    ERR_set_mark();
    p = policy_acquire();
    n_ids = peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    if (chain_from_stack(h->verified, h->trust, (p->caps & TLSPIN_CAP_CERT_DER) != 0, NULL, 0,
                         &chain) != 0) {
        d.reason_code = TLSPIN_R_POLICY_ERROR;
        snprintf(d.summary, sizeof(d.summary), "no usable server certificate");
        block = 1;
    }
    for (size_t i = 0; i < n_ids && !block; i++) {
        decide(p, ssl, &ids[i], &chain, DECIDE_SERVER_FLIGHT, &d, NULL, NULL);
        block = d.action == ACTION_BLOCK;
    }
    if (!block)
        session_remember(ssl, &ids[0], &chain);
    chain_release(&chain);
    policy_release();
    ERR_pop_to_mark();
    if (block) {
        /* The verify mode stays raised: libssl aborts only with PEER set. */
        h->refused = 1;
        h->refusal = d;
        tlspin_err_raise(d.reason_code, "%s", d.summary);
    } else {
        SSL_set_verify(ssl, h->saved_mode, NULL);
        held_clear(ssl);
    }
    decide_busy--;
    return !block;
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
        ret = -1;
        h = held_of(ssl);
    }
    if (h != NULL && h->refused) {
        /* libssl's last word is "callback failed" (and CT's verify result):
         * the program should read tlspin's certificate error instead. */
        SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
        tlspin_err_raise_last(h->refusal.reason_code, "%s", h->refusal.summary);
        held_clear(ssl);
        return ret == 1 ? -1 : ret;
    }
    return ret;
}
