/* One decision: run the stack over a connection, apply the policy, write the
 * record. */
#ifndef TLSPIN_DECIDE_H
#define TLSPIN_DECIDE_H

#include "engine_export.h"

#include <openssl/ssl.h>
#include <tlspin/module.h>

#include "chain.h"
#include "ossl_error.h"
#include "peer.h"
#include "policy.h"
#include "stack.h"

struct decision {
    enum decision_action action;
    /* 1 when the stack allows only because a module waits for the OCSP
     * staple (DECIDE_MAY_WAIT): nothing was recorded, the decision is made
     * again at DECIDE_SERVER_FLIGHT. */
    int pending;
    const char *event;                /* static string; NULL for a silent pass */
    enum tlspin_reason reason_code;   /* for the OpenSSL error queue */
    char summary[448];                /* "host=... port=... pinset=... event=..." */
};

/* Sees every entry's verdict (tlspin probe); may be NULL. */
typedef void decide_observer(void *ctx, const struct policy_entry *entry, tlspin_verdict verdict,
                             const struct tlspin_finding *finding);

/* What is being decided (the tlspin_conn phase and flags follow from it). */
enum decide_kind {
    DECIDE_HANDSHAKE = 0,        /* the server's certificate was verified */
    DECIDE_RESUMPTION = 1,       /* may this stored session be resumed? */
    DECIDE_MAY_WAIT = 2,         /* as HANDSHAKE, and a TLS 1.2 server flight follows */
    DECIDE_SERVER_FLIGHT = 3,    /* the TLS 1.2 server flight is done, staple in hand */
    DECIDE_RESUMED = 4           /* as RESUMPTION, but the server accepted the session:
                                    a refusal aborts the handshake and is recorded */
};

/* Decides the connection and writes its record (none for a silent pass, and
 * none for a resumption check: the handshake that made the session was
 * recorded, and a refused one is followed by a full handshake that is; none
 * for a pending one). `ssl` may be NULL. `chain` is written only to keep the
 * answer of chain_leaf_matches_host. */
TLSPIN_ENGINE_API void decide(const struct policy *policy, SSL *ssl, const struct peer_id *id,
            struct chain *chain, enum decide_kind kind, struct decision *out,
            decide_observer *observer, void *observer_ctx);

TLSPIN_ENGINE_API const char *verdict_name(tlspin_verdict verdict);

/* tlspin_host.leaf_matches_host: for the conn decide() passed to check(). */
int decide_leaf_matches_host(const struct tlspin_conn *conn);

/* 1 while this thread runs tlspin code: OpenSSL calls made by modules (or by
 * the engine) then pass straight through the hooks. Exported so that the
 * `tlspin` command can hold it around its own handshakes: when the shim is
 * preloaded into the command too (/etc/ld.so.preload), it loads this same
 * engine object and its hooks then pass the command's probes through
 * instead of deciding (and logging) them a second time. */
TLSPIN_ENGINE_API extern __thread int decide_busy;

#endif
