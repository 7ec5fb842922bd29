/* Which certificates count. Pins must match the *verified* chain, never a
 * certificate the server merely appended (CVE-2016-2402); when the program
 * did not verify, tlspin verifies against the system trust store itself, and
 * without a verified chain only the leaf key, which the server proved it
 * holds, can be trusted. */
#include "chain.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hostname.h"
#include "pin.h"
#include <openssl/x509v3.h>

/* A SubjectPublicKeyInfo up to RSA-4096 (550 bytes) is encoded on the
 * stack, a larger one on the heap: the decision runs on the program's
 * stack, which may be a small thread's. No real key is beyond SPKI_MAX. */
#define SPKI_STACK 640
#define SPKI_MAX 16384

static EVP_MD *sha256;
static X509_STORE *system_store;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void load_system_store(void)
{
    X509_STORE *store = X509_STORE_new();
    if (store != NULL && X509_STORE_set_default_paths(store) != 1) {
        X509_STORE_free(store);
        store = NULL;
    }
    system_store = store;
}

int chain_spki_pin(X509 *cert, unsigned char pin[TLSPIN_PIN_LEN])
{
    return chain_pubkey_pin(X509_get_X509_PUBKEY(cert), pin);
}

int chain_pubkey_pin(const X509_PUBKEY *key, unsigned char pin[TLSPIN_PIN_LEN])
{
    unsigned char small[SPKI_STACK], *buf = small, *p;
    unsigned int mdlen = 0;
    int len = key ? i2d_X509_PUBKEY(key, NULL) : -1, ok;

    pthread_once(&sha256_once, fetch_sha256);
    if (sha256 == NULL || len <= 0 || len > SPKI_MAX)
        return -1;
    if ((size_t)len > sizeof(small) && (buf = OPENSSL_malloc((size_t)len)) == NULL)
        return -1;
    p = buf;
    ok = i2d_X509_PUBKEY(key, &p) == len &&
         EVP_Digest(buf, (size_t)len, pin, &mdlen, sha256, NULL) == 1 && mdlen == TLSPIN_PIN_LEN;
    if (buf != small)
        OPENSSL_free(buf);
    return ok ? 0 : -1;
}

/* A certificate already in the chain (the verified chain is mostly the
 * presented certificates, the same X509 objects): its pin and DER are reused,
 * not computed again. */
static const struct tlspin_cert *known_cert(const struct chain *c, const X509 *cert)
{
    for (size_t i = 0; i < c->n_presented; i++)
        if (c->presented_x509[i] == cert)
            return &c->presented[i];
    for (size_t i = 0; i < c->n_verified; i++)
        if (c->verified_x509[i] == cert)
            return &c->verified[i];
    return NULL;
}

static int add_cert(struct chain *c, struct tlspin_cert *certs, X509 **x509s, size_t *n,
                    X509 *cert, int want_der, const unsigned char *pin)
{
    struct tlspin_cert *t = &certs[*n];
    const struct tlspin_cert *known;

    if (*n >= CHAIN_MAX)
        return 0;
    if ((known = known_cert(c, cert)) != NULL) {
        *t = *known;
        x509s[(*n)++] = cert;
        return 0;
    }
    memset(t, 0, sizeof(*t));
    if (pin != NULL)
        memcpy(t->spki_sha256, pin, TLSPIN_PIN_LEN);
    else if (chain_spki_pin(cert, t->spki_sha256) != 0)
        return -1;
    if (want_der && c->n_der < 2 * CHAIN_MAX) {
        unsigned char *der = NULL;
        int len = i2d_X509(cert, &der);
        if (len <= 0)
            return -1;
        c->der[c->n_der++] = der;
        t->der = der;
        t->der_len = (size_t)len;
    }
    x509s[(*n)++] = cert;
    return 0;
}

static int add_stack(struct chain *c, STACK_OF(X509) *sk, int verified, int want_der,
                     const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins)
{
    for (int i = 0; sk && i < sk_X509_num(sk); i++) {
        const unsigned char *pin = pins != NULL && (size_t)i < n_pins ? pins[i] : NULL;
        int rc = verified
            ? add_cert(c, c->verified, c->verified_x509, &c->n_verified, sk_X509_value(sk, i),
                       want_der, pin)
            : add_cert(c, c->presented, c->presented_x509, &c->n_presented,
                       sk_X509_value(sk, i), want_der, pin);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Verifies the presented certificates against the system trust store. */
static STACK_OF(X509) *system_verified(X509 *leaf, STACK_OF(X509) *untrusted,
                                       verify_fn *real_verify)
{
    STACK_OF(X509) *chain = NULL;
    X509_STORE_CTX *v;

    pthread_once(&store_once, load_system_store);
    if (system_store == NULL || (v = X509_STORE_CTX_new()) == NULL)
        return NULL;
    if (X509_STORE_CTX_init(v, system_store, leaf, untrusted) == 1 &&
        X509_STORE_CTX_set_default(v, "ssl_server") == 1 && real_verify(v) > 0 &&
        X509_STORE_CTX_get_error(v) == X509_V_OK)
        chain = X509_STORE_CTX_get1_chain(v);
    X509_STORE_CTX_free(v);
    return chain;
}

/* What a context gets from OpenSSL when nobody replaced them: the verify
 * callback, which may clear any error (a broken signature included), and the
 * verify function (internal_verify), the only place where signatures and
 * validity times are checked. A program can replace either on its store
 * (X509_STORE_set_verify_cb, X509_STORE_set_verify: every context made from
 * it copies them) or on the context (X509_STORE_CTX_set_verify from a
 * cert_verify_callback). Only with both does "verified, no error" mean that
 * every certificate of the chain was signed by the key of the next one.
 *
 * The store's other hooks do not decide that: get_issuer, check_issued and
 * lookup_certs choose the candidates and the anchor (the program's trust is
 * its own), and internal_verify still checks each signature below the
 * anchor against the key above it, so a pinned key found above the leaf
 * really signed the certificate below it; check_revocation, the CRL hooks
 * and check_policy can only add refusals. */
struct openssl_hooks {
    X509_STORE_CTX_verify_cb verify_cb;
    X509_STORE_CTX_verify_fn verify;
    int known;
};

static struct openssl_hooks openssl_default;
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void find_openssl_defaults(void)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *v = X509_STORE_CTX_new();

    if (store != NULL && v != NULL && X509_STORE_CTX_init(v, store, NULL, NULL) == 1) {
        openssl_default.verify_cb = X509_STORE_CTX_get_verify_cb(v);
        openssl_default.verify = X509_STORE_CTX_get_verify(v);
        openssl_default.known = openssl_default.verify_cb != NULL;
    }
    X509_STORE_CTX_free(v);
    X509_STORE_free(store);
}

/* ctx verified with OpenSSL's own callback and function. */
static int verified_by_openssl(X509_STORE_CTX *ctx)
{
    return openssl_default.known &&
           X509_STORE_CTX_get_verify_cb(ctx) == openssl_default.verify_cb &&
           X509_STORE_CTX_get_verify(ctx) == openssl_default.verify;
}

/* The program's verification succeeded, but not with OpenSSL's own verify
 * callback and function: a callback of its own may have cleared errors, a
 * function of its own may have checked no signature. Verify the same
 * certificates against the same store and parameters again, with OpenSSL's
 * (the context copies the store's hooks: they are put back). */
static STACK_OF(X509) *reverified(X509_STORE_CTX *ctx, verify_fn *real_verify)
{
    STACK_OF(X509) *chain = NULL;
    X509_STORE_CTX *v = X509_STORE_CTX_new();

    if (v == NULL || !openssl_default.known)
        goto out;
    if (X509_STORE_CTX_init(v, X509_STORE_CTX_get0_store(ctx), X509_STORE_CTX_get0_cert(ctx),
                            X509_STORE_CTX_get0_untrusted(ctx)) != 1 ||
        X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(v), X509_STORE_CTX_get0_param(ctx)) != 1)
        goto out;
    X509_STORE_CTX_set_verify_cb(v, openssl_default.verify_cb);
    X509_STORE_CTX_set_verify(v, openssl_default.verify);
    if (verified_by_openssl(v) && real_verify(v) > 0 && X509_STORE_CTX_get_error(v) == X509_V_OK)
        chain = X509_STORE_CTX_get1_chain(v);
out:
    X509_STORE_CTX_free(v);
    return chain;
}

int chain_from_verification(X509_STORE_CTX *ctx, int app_verified, int want_der,
                            verify_fn *real_verify, struct chain *out)
{
    X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
    STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(ctx);

    memset(out, 0, sizeof(*out));
    if (leaf == NULL)
        return -1;
    if (add_stack(out, untrusted, 0, want_der, NULL, 0) != 0)
        return -1;
    if (out->n_presented == 0 && add_cert(out, out->presented, out->presented_x509,
                                          &out->n_presented, leaf, want_der, NULL) != 0)
        return -1;
    pthread_once(&defaults_once, find_openssl_defaults);
    if (app_verified && X509_STORE_CTX_get0_chain(ctx) != NULL && verified_by_openssl(ctx)) {
        out->trust = TLSPIN_CHAIN_APP_VERIFIED;
        return add_stack(out, X509_STORE_CTX_get0_chain(ctx), 1, want_der, NULL, 0);
    }
    if (app_verified && (out->owned = reverified(ctx, real_verify)) != NULL) {
        out->trust = TLSPIN_CHAIN_APP_VERIFIED;
        return add_stack(out, out->owned, 1, want_der, NULL, 0);
    }
    out->owned = system_verified(leaf, untrusted, real_verify);
    if (out->owned != NULL) {
        out->trust = TLSPIN_CHAIN_SYSTEM_VERIFIED;
        return add_stack(out, out->owned, 1, want_der, NULL, 0);
    }
    out->trust = TLSPIN_CHAIN_LEAF_ONLY;
    return add_cert(out, out->verified, out->verified_x509, &out->n_verified, leaf, want_der, NULL);
}

int chain_from_stack(STACK_OF(X509) *verified, tlspin_chain_trust trust, int want_der,
                     const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins,
                     struct chain *out)
{
    memset(out, 0, sizeof(*out));
    out->trust = trust;
    return add_stack(out, verified, 1, want_der, pins, n_pins);
}

int chain_from_stacks(STACK_OF(X509) *verified, STACK_OF(X509) *presented,
                      tlspin_chain_trust trust, int want_der, struct chain *out)
{
    memset(out, 0, sizeof(*out));
    out->trust = trust;
    if (add_stack(out, presented, 0, want_der, NULL, 0) != 0)
        return -1;
    return add_stack(out, verified, 1, want_der, NULL, 0);
}

STACK_OF(X509) *chain_copy_presented(const struct chain *c)
{
    STACK_OF(X509) *sk = sk_X509_new_reserve(NULL, (int)c->n_presented);
    for (size_t i = 0; sk && i < c->n_presented; i++) {
        if (!X509_up_ref(c->presented_x509[i]) || !sk_X509_push(sk, c->presented_x509[i])) {
            sk_X509_pop_free(sk, X509_free);
            return NULL;
        }
    }
    return sk;
}

void chain_release(struct chain *c)
{
    for (size_t i = 0; i < c->n_der; i++)
        OPENSSL_free(c->der[i]);
    c->n_der = 0;
    sk_X509_pop_free(c->owned, X509_free);
    c->owned = NULL;
}

STACK_OF(X509) *chain_copy_verified(const struct chain *c, size_t from)
{
    STACK_OF(X509) *sk = sk_X509_new_reserve(NULL, (int)c->n_verified);
    for (size_t i = from; sk && i < c->n_verified; i++) {
        if (!X509_up_ref(c->verified_x509[i]) || !sk_X509_push(sk, c->verified_x509[i])) {
            sk_X509_pop_free(sk, X509_free);
            return NULL;
        }
    }
    return sk;
}

/* How much of a name, and of a subject, a record shows per certificate:
 * enough for any real name, bounded for subjects padded to push the name
 * out of the record. */
#define NAME_SHOWN 256

/* RFC 2253 text, UTF-8 kept as is: what records have always shown. */
#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
#define STRING_FLAGS (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/* Appends the subject's most specific CN (the last one in DN order) as
 * "CN=...", escaped as in the whole subject. Returns 1, or 0 without one. */
static int put_cn(BIO *bio, X509 *cert)
{
    const X509_NAME *subject = X509_get_subject_name(cert);
    X509_NAME *one;
    int i, last = -1, ok;

    while ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, last)) >= 0)
        last = i;
    if (last < 0 || (one = X509_NAME_new()) == NULL)
        return 0;
    ok = X509_NAME_add_entry(one, X509_NAME_get_entry(subject, last), -1, 0) == 1 &&
         X509_NAME_print_ex(bio, one, 0, NAME_FLAGS) > 0;
    X509_NAME_free(one);
    return ok;
}

/* Appends an iPAddress entry as text. Returns 1, or 0 for a malformed one. */
static int put_ip(BIO *bio, const ASN1_OCTET_STRING *ip)
{
    char text[INET6_ADDRSTRLEN];
    int len = ASN1_STRING_length(ip);
    int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

    return family != -1 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text)) &&
           BIO_printf(bio, "IP:%s", text) > 0;
}

/* Appends the first DNS name or IP address of the subjectAltName as
 * "DNS:..." or "IP:...". Returns 1, or 0 without one. */
static int put_first_san(BIO *bio, X509 *cert)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int ok = 0;

    for (int i = 0; !ok && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS)
            ok = BIO_puts(bio, "DNS:") > 0 &&
                 ASN1_STRING_print_ex(bio, gn->d.dNSName, STRING_FLAGS) > 0;
        else if (gn->type == GEN_IPADD)
            ok = put_ip(bio, gn->d.iPAddress);
    }
    GENERAL_NAMES_free(names);
    return ok;
}

/* Appends at most NAME_SHOWN bytes of text, cut back to the start of a UTF-8
 * character, and "..." when cut. */
static void put_cut(BIO *bio, const char *text, long len)
{
    long cut = len;

    if (len > NAME_SHOWN) {
        cut = NAME_SHOWN;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
    }
    BIO_write(bio, text, (int)cut);
    if (cut < len)
        BIO_puts(bio, "...");
}

/* Appends what a record says of one certificate: its RFC 2253 subject, as
 * records always showed it, when that is short and has a CN. Otherwise the
 * certificate is named first, by its CN (the leaf without one by its first
 * subjectAltName), then comes its subject, bounded: RFC 2253 prints the last
 * RDN first, so OUs added after the CN would otherwise push it out of the
 * record. "CN=leaf.example [subject: OU=...,OU=......]". Returns 1 or 0. */
static int put_cert_name(BIO *out, X509 *cert, int is_leaf)
{
    BIO *subject = BIO_new(BIO_s_mem()), *name = BIO_new(BIO_s_mem());
    char *s = NULL, *n = NULL;
    long slen, nlen;
    int has_cn, ok = 0;

    if (subject == NULL || name == NULL ||
        X509_NAME_print_ex(subject, X509_get_subject_name(cert), 0, NAME_FLAGS) < 0)
        goto out;
    has_cn = put_cn(name, cert);
    if (!has_cn && is_leaf)
        put_first_san(name, cert);
    slen = BIO_get_mem_data(subject, &s);
    nlen = BIO_get_mem_data(name, &n);
    if (nlen <= 0 || (has_cn && slen <= NAME_SHOWN)) {
        put_cut(out, s, slen);
    } else {
        put_cut(out, n, nlen);
        if (slen > 0) {
            BIO_puts(out, " [subject: ");
            put_cut(out, s, slen);
            BIO_puts(out, "]");
        }
    }
    ok = 1;
out:
    BIO_free(subject);
    BIO_free(name);
    return ok;
}

/* The name of one certificate in `text` (emptied first), '|' made '?' so
 * that no name fakes the " | " between certificates. Returns its length and
 * sets *name, or returns -1. */
static long cert_name(BIO *text, X509 *cert, int is_leaf, char **name)
{
    long len;

    (void)BIO_reset(text);
    if (!put_cert_name(text, cert, is_leaf) || (len = BIO_get_mem_data(text, name)) < 0)
        return -1;
    for (long k = 0; k < len; k++)
        if ((*name)[k] == '|')
            (*name)[k] = '?';
    return len;
}

void chain_cert_name(X509 *cert, int is_leaf, char *out, size_t outlen)
{
    BIO *text;
    char *name = NULL;
    long len;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (cert == NULL || (text = BIO_new(BIO_s_mem())) == NULL)
        return;
    if ((len = cert_name(text, cert, is_leaf, &name)) > 0)
        snprintf(out, outlen, "%.*s", (int)len, name);
    BIO_free(text);
}

void chain_describe(const struct chain *c, char *out, size_t outlen)
{
    BIO *text;
    size_t len = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if ((text = BIO_new(BIO_s_mem())) == NULL)
        return;
    for (size_t i = 0; i < c->n_verified && len + 1 < outlen; i++) {
        char pin[TLSPIN_PIN_TEXT_MAX], *name = NULL;
        /* A name OpenSSL cannot print still leaves the key in the record. */
        long name_len = cert_name(text, c->verified_x509[i], i == 0, &name);

        tlspin_pin_format(c->verified[i].spki_sha256, pin, sizeof(pin));
        int n = snprintf(out + len, outlen - len, "%s%s %.*s", i ? " | " : "", pin,
                         name_len > 0 ? (int)name_len : 0, name_len > 0 ? name : "");
        if (n < 0)
            break;
        len += (size_t)n < outlen - len ? (size_t)n : outlen - len - 1;
    }
    BIO_free(text);
}

const char *chain_trust_name(tlspin_chain_trust trust)
{
    switch (trust) {
    case TLSPIN_CHAIN_APP_VERIFIED: return "app-verified";
    case TLSPIN_CHAIN_SYSTEM_VERIFIED: return "system-verified";
    case TLSPIN_CHAIN_LEAF_ONLY: return "leaf-only";
    case TLSPIN_CHAIN_NONE: return "none";
    }
    return "?";
}

/* The documented rule for the leaf under a CA pin: the host is one of its
 * subjectAltName DNS names, never its subject's CN (X509_check_host falls
 * back to the CN when there is no DNS name), and a wildcard stands for one
 * whole leftmost label ("*.example.com", never "f*.example.com"; OpenSSL
 * never lets it span labels, nor cover a one-label suffix such as "*.com"). */
#define LEAF_HOST_FLAGS (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)

/* 1 when the leaf names host (an IP literal only in an iPAddress entry,
 * which X509_check_ip_asc alone reads). A host starting with '.' would ask
 * X509_check_host for any subdomain: normalised hosts never do, and such a
 * text is refused here too. */
static int leaf_names_host(X509 *leaf, const char *host, size_t len)
{
    if (tlspin_host_is_ip(host))
        return X509_check_ip_asc(leaf, host, 0) == 1;
    return host[0] != '.' && X509_check_host(leaf, host, len, LEAF_HOST_FLAGS, NULL) == 1;
}

int chain_leaf_matches_host(struct chain *c, const char *host)
{
    X509 *leaf = c->n_verified ? c->verified_x509[0] : NULL;
    size_t len;

    if (leaf == NULL || host == NULL || host[0] == '\0')
        return -1;
    if (strcmp(c->leaf_host, host) == 0)
        return c->leaf_host_matches;
    len = strlen(host);
    c->leaf_host_matches = leaf_names_host(leaf, host, len);
    if (len < sizeof(c->leaf_host))
        memcpy(c->leaf_host, host, len + 1);
    else
        c->leaf_host[0] = '\0';
    return c->leaf_host_matches;
}
