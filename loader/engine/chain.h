/* The certificates of a connection as modules see them: pins computed once,
 * DER only when a module asked for it. */
#ifndef TLSPIN_CHAIN_H
#define TLSPIN_CHAIN_H

#include "engine_export.h"

#include <openssl/x509.h>
#include <stddef.h>
#include <tlspin/module.h>

#define CHAIN_MAX 16   /* longer chains are cut: a cut chain cannot match a
                          pin beyond the cut, so cutting fails closed */

struct chain {
    struct tlspin_cert verified[CHAIN_MAX];
    X509 *verified_x509[CHAIN_MAX];      /* borrowed (or held by `owned`) */
    size_t n_verified;
    struct tlspin_cert presented[CHAIN_MAX];
    X509 *presented_x509[CHAIN_MAX];
    size_t n_presented;
    tlspin_chain_trust trust;
    STACK_OF(X509) *owned;               /* a chain tlspin built itself */
    unsigned char *der[2 * CHAIN_MAX];   /* DER buffers to free */
    size_t n_der;
    /* The last answer of chain_leaf_matches_host (X509_check_host costs as
     * much as the rest of a decision): host "" when none yet. */
    char leaf_host[TLSPIN_HOST_TEXT_MAX];
    int leaf_host_matches;
};

typedef int verify_fn(X509_STORE_CTX *ctx);

/* Fills `out` for the certificate being verified in `ctx`. app_verified: the
 * program's own verification succeeded. ctx's chain is then trusted as is
 * only when OpenSSL's own verify function and verify callback made it (none
 * of the program's, on the store or on ctx); otherwise the same certificates
 * are verified again with `real_verify` against the same store and
 * parameters with OpenSSL's. When that fails, or the program did not verify,
 * the presented certificates are verified against the system trust store,
 * and failing that only the leaf is kept.
 * Returns 0, or -1 (no certificate at all, out of memory). */
TLSPIN_ENGINE_API int chain_from_verification(X509_STORE_CTX *ctx, int app_verified, int want_der,
                            verify_fn *real_verify, struct chain *out);

/* Fills `out` from a chain recorded earlier (session resumption). pins, when
 * not NULL, holds the pins of the first n_pins certificates of `verified`,
 * computed when the chain was recorded: they are not hashed again. */
TLSPIN_ENGINE_API int chain_from_stack(STACK_OF(X509) *verified, tlspin_chain_trust trust, int want_der,
                     const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins,
                     struct chain *out);

/* Fills `out` from chains kept from a verification earlier in the same
 * handshake (the verified one leaf first, and the presented one). */
int chain_from_stacks(STACK_OF(X509) *verified, STACK_OF(X509) *presented,
                      tlspin_chain_trust trust, int want_der, struct chain *out);

/* A new reference-counted copy of the presented certificates. */
STACK_OF(X509) *chain_copy_presented(const struct chain *chain);

TLSPIN_ENGINE_API void chain_release(struct chain *chain);

/* SHA-256 of the DER SubjectPublicKeyInfo of `cert`. Returns 0 or -1. */
TLSPIN_ENGINE_API int chain_spki_pin(X509 *cert, unsigned char pin[TLSPIN_PIN_LEN]);

/* The same for a bare SubjectPublicKeyInfo (a public key, a private key's
 * public half, a CSR's key): what `tlspin pin` prints. Returns 0 or -1. */
TLSPIN_ENGINE_API int chain_pubkey_pin(const X509_PUBKEY *key, unsigned char pin[TLSPIN_PIN_LEN]);

/* "sha256/<b64> <name> | ..." for the verified chain, leaf first. <name> is
 * the RFC 2253 subject when it is short and has a CN; otherwise the CN (the
 * leaf without one: its first subjectAltName, "DNS:..." or "IP:...") then
 * " [subject: <RFC 2253 subject, cut with ...>]". No '|' in a name. */
TLSPIN_ENGINE_API void chain_describe(const struct chain *chain, char *out, size_t outlen);

/* The <name> chain_describe gives `cert` (is_leaf: it is the leaf, so a
 * subjectAltName may name it), for the command's own output to say what the
 * records say. "" when there is nothing to say. */
TLSPIN_ENGINE_API void chain_cert_name(X509 *cert, int is_leaf, char *out, size_t outlen);

/* A new reference-counted copy of the verified chain from position `from`
 * on, for session records. */
STACK_OF(X509) *chain_copy_verified(const struct chain *chain, size_t from);

TLSPIN_ENGINE_API const char *chain_trust_name(tlspin_chain_trust trust);

/* 1 when the chain's leaf names host in its subjectAltName (a DNS name, a
 * whole-label wildcard at most; an IP literal as an iPAddress; never the
 * subject's CN), 0 when not, -1 without a leaf or host. The answer is kept
 * in the chain for the next ask. */
TLSPIN_ENGINE_API int chain_leaf_matches_host(struct chain *chain, const char *host);

#endif
