/* Session records live in the ex_data of the session's leaf certificate.
 * Not in the SSL_SESSION's own ex_data: once a session carries any ex_data,
 * OpenSSL calls every dup callback registered for sessions each time it
 * copies one (TLS 1.3 does for every ticket), and programs' callbacks are not
 * all ready for that (stunnel4 crashes). The leaf X509 is shared, not copied,
 * by every copy of a session, so the record follows the session wherever the
 * program keeps it, and goes away with the certificate. A session read back
 * from a file has a fresh certificate without a record: then only its leaf
 * key counts, and the host is the one it was made for. */
#include "session.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "policy.h"

struct session_record {
    struct peer_id id;
    /* The verified chain above the leaf: the record hangs on the leaf, so
     * holding the leaf too would keep it alive forever. */
    STACK_OF(X509) *verified;
    tlspin_chain_trust trust;
    /* Computed by the full handshake, so that a resumption hashes and
     * matches nothing again: the pins of the leaf and of `verified` (in
     * order), and whether the leaf is valid for id.host. Written once, before
     * the record is published; read-only after (sessions cross threads). */
    unsigned char pins[CHAIN_MAX][TLSPIN_PIN_LEN];
    size_t n_pins;
    int leaf_host_known, leaf_host_matches;
};

static int record_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void record_free(struct session_record *r)
{
    if (r != NULL) {
        sk_X509_pop_free(r->verified, X509_free);
        free(r);
    }
}

static void free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    record_free(ptr);
}

static void make_index(void)
{
    record_index = X509_get_ex_new_index(0, NULL, NULL, NULL, free_cb);
}

void session_remember(SSL *ssl, const struct peer_id *id, struct chain *chain)
{
    X509 *leaf = chain->n_presented ? chain->presented_x509[0] : NULL;
    struct session_record *r;

    (void)ssl;
    pthread_once(&index_once, make_index);
    if (leaf == NULL || record_index < 0 || (r = calloc(1, sizeof(*r))) == NULL)
        return;
    r->id = *id;
    r->trust = chain->trust;
    r->verified = chain_copy_verified(chain, 1);
    if (r->verified == NULL) {
        free(r);
        return;
    }
    memcpy(r->pins[0], chain->presented[0].spki_sha256, TLSPIN_PIN_LEN);
    r->n_pins = 1;
    for (size_t i = 1; i < chain->n_verified && r->n_pins < CHAIN_MAX; i++)
        memcpy(r->pins[r->n_pins++], chain->verified[i].spki_sha256, TLSPIN_PIN_LEN);
    if (id->host[0] != '\0' && strcmp(chain->leaf_host, id->host) == 0) {
        r->leaf_host_known = 1;
        r->leaf_host_matches = chain->leaf_host_matches;
    }
    record_free(X509_get_ex_data(leaf, record_index));
    if (!X509_set_ex_data(leaf, record_index, r))
        record_free(r);
}

static int session_decide(SSL *ssl, SSL_SESSION *session, enum decide_kind kind,
                          struct decision *out);

/* The identities a resumption is decided under: every name the program gives
 * now, and the host the session was made for — a session made for one host
 * must not carry a key the policy rejects for another. */
static size_t resumption_identities(SSL *ssl, SSL_SESSION *session,
                                    const struct session_record *r, struct peer_id *ids,
                                    size_t max)
{
    size_t n = peer_identities_scan(ssl, ids, max - 1, 0);

    /* Without a socket on the SSL, the port is the one the session was made
     * on (a port only chooses among a host's pinsets; unknown is safe too). */
    for (size_t i = 0; r != NULL && i < n; i++)
        if (ids[i].port == 0)
            ids[i].port = r->id.port;
    struct peer_id made_for;
    const char *name = r != NULL && r->id.host[0] ? r->id.host
                                                   : SSL_SESSION_get0_hostname(session);
    char err[64];

    if (n == 1 && ids[0].source == TLSPIN_HOST_UNKNOWN)
        n = 0;   /* nothing now: only the recorded host speaks */
    made_for = n > 0 ? ids[0] : (r != NULL ? r->id : ids[0]);
    if (name == NULL ||
        tlspin_host_normalize(name, made_for.host, sizeof(made_for.host), err, sizeof(err)) != 0)
        return n > 0 ? n : 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i].host, made_for.host) == 0)
            return n;
    made_for.source = TLSPIN_HOST_SESSION;
    if (made_for.port == 0 && r != NULL)
        made_for.port = r->id.port;
    ids[n++] = made_for;
    return n;
}

/* The last resumption check of this thread. A program reaches several hooks
 * with one session before its handshake (SSL_set_session, then
 * SSL_set_connect_state, SSL_connect, the SSL_do_handshake inside it and the
 * SSL_clear that starts the handshake): the same SSL, session, policy and
 * identities give the same answer, so it is decided once. The identities are
 * all of them — names, verified IP, peer address and port — so that a
 * session allowed before the program set its socket or names (s_client
 * -sess_in) or on an SSL since reused (SSL_clear) is decided again for the
 * peer it will really be offered to. */
static __thread struct {
    const SSL *ssl;
    /* Held (up_ref) so that its address cannot come back as another
     * session's while it is the key. */
    SSL_SESSION *session;
    unsigned long generation;
    struct peer_id ids[PEER_MAX_IDENTITIES];
    size_t n_ids;
    int allowed;
} last_check;

int session_may_resume(SSL *ssl, SSL_SESSION *session)
{
    unsigned long generation = policy_acquire()->generation;
    /* On the heap: 2 KB of identities would be half of what a decision may
     * take from the program's stack. Without it, no resumption: the full
     * handshake decides instead. */
    struct peer_id *ids = calloc(PEER_MAX_IDENTITIES, sizeof(*ids));
    struct decision d;
    size_t n_ids;
    int allowed;

    policy_release();
    if (ids == NULL)
        return 0;
    n_ids = peer_identities_scan(ssl, ids, PEER_MAX_IDENTITIES, 0);
    if (generation != 0 && last_check.ssl == ssl && last_check.session == session &&
        last_check.generation == generation && last_check.n_ids == n_ids &&
        memcmp(last_check.ids, ids, sizeof(last_check.ids)) == 0) {
        free(ids);
        return last_check.allowed;
    }
    allowed = session_decide(ssl, session, DECIDE_RESUMPTION, &d);
    if (!SSL_SESSION_up_ref(session)) {
        free(ids);
        return allowed;   /* not kept: decided again next time */
    }
    SSL_SESSION_free(last_check.session);
    last_check.ssl = ssl;
    last_check.session = session;
    last_check.generation = generation;
    memcpy(last_check.ids, ids, sizeof(last_check.ids));
    last_check.n_ids = n_ids;
    last_check.allowed = allowed;
    free(ids);
    return allowed;
}

static int session_decide(SSL *ssl, SSL_SESSION *session, enum decide_kind kind,
                          struct decision *out)
{
    const struct policy *p;
    struct session_record *r;
    /* The identities and the chain on the heap (about 4.7 KB: more than a
     * decision may take from the program's stack). */
    struct {
        struct peer_id ids[PEER_MAX_IDENTITIES + 1];
        struct chain chain;
    } *w;
    struct peer_id *ids;
    struct chain *chain;
    size_t n_ids;
    STACK_OF(X509) *leaf_only = NULL;
    int ok, allowed = 1;

    memset(out, 0, sizeof(*out));
    out->action = ACTION_BLOCK;
    out->reason_code = TLSPIN_R_POLICY_ERROR;
    snprintf(out->summary, sizeof(out->summary), "the stored session cannot be decided");
    if ((w = malloc(sizeof(*w))) == NULL)
        return 0;   /* cannot tell: a full handshake decides instead */
    ids = w->ids;
    chain = &w->chain;
    pthread_once(&index_once, make_index);
    r = record_index >= 0 && SSL_SESSION_get0_peer(session) != NULL
            ? X509_get_ex_data(SSL_SESSION_get0_peer(session), record_index) : NULL;
    p = policy_acquire();
    n_ids = resumption_identities(ssl, session, r, ids, PEER_MAX_IDENTITIES + 1);
    {
        /* The leaf, then (with a record) the rest of the chain it was
         * verified with. */
        X509 *peer = SSL_SESSION_get0_peer(session);
        leaf_only = sk_X509_new_null();
        ok = leaf_only && (peer == NULL || (X509_up_ref(peer) && sk_X509_push(leaf_only, peer)));
        for (int i = 0; ok && r != NULL && peer != NULL && i < sk_X509_num(r->verified); i++) {
            X509 *x = sk_X509_value(r->verified, i);
            ok = X509_up_ref(x) && sk_X509_push(leaf_only, x);
        }
        ok = ok && chain_from_stack(leaf_only, r != NULL ? r->trust
                                               : peer != NULL ? TLSPIN_CHAIN_LEAF_ONLY
                                                              : TLSPIN_CHAIN_NONE,
                                    (p->caps & TLSPIN_CAP_CERT_DER) != 0,
                                    r != NULL ? (const unsigned char (*)[TLSPIN_PIN_LEN])r->pins
                                              : NULL,
                                    r != NULL ? r->n_pins : 0, chain) == 0;
        if (ok && r != NULL && r->leaf_host_known) {
            memcpy(chain->leaf_host, r->id.host, sizeof(chain->leaf_host));
            chain->leaf_host_matches = r->leaf_host_matches;
        }
    }
    if (!ok) {
        sk_X509_pop_free(leaf_only, X509_free);
        policy_release();
        free(w);
        return 0;   /* cannot tell: a full handshake decides instead */
    }
    for (size_t i = 0; i < n_ids && allowed; i++) {
        decide(p, ssl, &ids[i], chain, kind, out, NULL, NULL);
        allowed = out->action != ACTION_BLOCK;
    }
    chain_release(chain);
    sk_X509_pop_free(leaf_only, X509_free);
    policy_release();
    free(w);
    return allowed;
}

int session_resumed_allowed(SSL *ssl, SSL_SESSION *session, struct decision *out)
{
    return session_decide(ssl, session, DECIDE_RESUMED, out);
}
