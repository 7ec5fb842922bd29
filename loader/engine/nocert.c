/* Client handshakes that never show a server certificate: anonymous (aNULL),
 * PSK and SRP cipher suites, and TLS 1.3 external PSKs. No certificate means
 * X509_verify_cert never runs, so the decision there never happens; without
 * this a program whose cipher list allows such suites (`ALL:@SECLEVEL=0`)
 * talks to whoever answers with one.
 *
 * libssl asks the SSL's security callback about the cipher the server chose
 * (SSL_SECOP_CIPHER_CHECK, in set_client_ciphersuite()) once it knows
 * whether the ServerHello resumes a session, and before any key exchange.
 * tlspin puts its own callback in front of the program's (or OpenSSL's
 * default) on every client SSL when a handshake starts; when the chosen
 * suite authenticates the server without a certificate, or the handshake
 * resumes a session that holds none, the connection is decided there with
 * an empty chain — it satisfies no pin — and a refusal makes libssl abort
 * the handshake (alert illegal_parameter) before the client's next flight. */
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

#define NO_CERTIFICATE "the server authenticated with no certificate"

typedef int security_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid,
                        void *other, void *ex);

/* What the guard stands in front of, per SSL. */
struct guard_state {
    security_cb *next;
    /* A refusal whose error is still to be put on top of libssl's ("wrong
     * cipher returned") when the handshake call returns: NULL when none. */
    char *refusal;
    enum tlspin_reason reason;
};

static int state_index = -1;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    struct guard_state *st = ptr;

    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (st != NULL)
        free(st->refusal);
    free(st);
}

/* SSL_dup copies the security callback: the copy needs its own state. */
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

/* The suite authenticates the server by something other than a certificate. */
static int cipher_without_certificate(const SSL_CIPHER *cipher)
{
    int auth = SSL_CIPHER_get_auth_nid(cipher);
    return auth == NID_auth_null || auth == NID_auth_psk || auth == NID_auth_srp;
}

/* No certificate will be verified in this handshake: a certificate-less
 * suite, or a resumption (s->hit is known at CIPHER_CHECK) of a session that
 * holds no peer certificate — a TLS 1.3 external PSK, or a session made by a
 * certificate-less handshake. A resumed session with a certificate was
 * decided before its ClientHello (session.c). */
static int handshake_without_certificate(const SSL *ssl, const SSL_CIPHER *cipher)
{
    SSL_SESSION *session;

    if (cipher_without_certificate(cipher))
        return 1;
    if (!SSL_session_reused(ssl))
        return 0;
    session = SSL_get_session(ssl);
    return session == NULL || SSL_SESSION_get0_peer(session) == NULL;
}

/* Decides the connection under every identity, with no certificate. Returns
 * 1 when it must be refused (recorded by decide(), error queued). */
static int refused(SSL *ssl, struct guard_state *st)
{
    const struct policy *p = policy_acquire();
    struct peer_id ids[PEER_MAX_IDENTITIES];
    size_t n_ids;
    struct chain chain;
    struct decision d;
    int block = 0;

    ERR_set_mark();   /* what looking up the names leaves is not the program's */
    n_ids = peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    memset(&chain, 0, sizeof(chain));
    chain.trust = TLSPIN_CHAIN_NONE;
    for (size_t i = 0; i < n_ids && !block; i++) {
        decide(p, ssl, &ids[i], &chain, DECIDE_HANDSHAKE, &d, NULL, NULL);
        block = d.action == ACTION_BLOCK;
    }
    ERR_pop_to_mark();
    if (block) {
        /* Programs that print the verify result read tlspin's refusal. */
        SSL_set_verify_result(ssl, X509_V_ERR_APPLICATION_VERIFICATION);
        tlspin_err_raise(d.reason_code, "%s (%s)", d.summary, NO_CERTIFICATE);
        free(st->refusal);
        st->refusal = strdup(d.summary);
        st->reason = d.reason_code;
    }
    policy_release();
    return block;
}

/* Stands in when the guard cannot be installed (no memory): no suite
 * passes, so the handshake fails rather than goes undecided. */
static int refuse_all(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                      void *ex)
{
    (void)s; (void)ctx; (void)op; (void)bits; (void)nid; (void)other; (void)ex;
    return 0;
}

static int guard(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                 void *ex)
{
    struct guard_state *st = s != NULL && state_index >= 0
                                       ? SSL_get_ex_data(s, state_index) : NULL;

    if (st == NULL)
        return 0;   /* lost our state (out of memory in SSL_dup): fail closed */
    if (op == SSL_SECOP_CIPHER_CHECK && other != NULL && !decide_busy && !SSL_is_server(s) &&
        handshake_without_certificate(s, other)) {
        int saved_errno = errno, block;
        decide_busy++;
        /* The SSL is the program's own; libssl hands it to security
         * callbacks as const only by convention. */
        block = refused((SSL *)s, st);
        decide_busy--;
        errno = saved_errno;
        if (block)
            return 0;
    }
    return st->next(s, ctx, op, bits, nid, other, ex);
}

void nocert_guard(SSL *ssl)
{
    security_cb *current = SSL_get_security_callback(ssl);
    struct guard_state *st;

    pthread_once(&state_once, make_index);
    if (current == guard || current == refuse_all || current == NULL)
        return;
    if (state_index < 0) {
        SSL_set_security_callback(ssl, refuse_all);
        return;
    }
    /* The program (or OpenSSL's default) set `current` since the last
     * handshake: the guard goes in front of it again. */
    st = SSL_get_ex_data(ssl, state_index);
    if (st == NULL) {
        if ((st = malloc(sizeof(*st))) == NULL || !SSL_set_ex_data(ssl, state_index, st)) {
            free(st);
            SSL_set_security_callback(ssl, refuse_all);
            return;
        }
    }
    st->next = current;
    SSL_set_security_callback(ssl, guard);
}

void nocert_after_handshake(SSL *ssl, int ret)
{
    struct guard_state *st = state_index >= 0 ? SSL_get_ex_data(ssl, state_index) : NULL;

    if (st == NULL || st->refusal == NULL)
        return;
    /* libssl's last word is "wrong cipher returned": programs that read the
     * last entry (python's SSLCertVerificationError) should read tlspin's. */
    if (ret <= 0)
        tlspin_err_raise_last(st->reason, "%s (%s)", st->refusal, NO_CERTIFICATE);
    free(st->refusal);
    st->refusal = NULL;
}
