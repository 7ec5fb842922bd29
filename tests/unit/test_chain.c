/*
 * Unit tests: which certificates count, the leaf's names, the record's text
 * (loader/engine/chain.c), without a handshake. The certificates are built
 * here with OpenSSL's API, fresh for every run (no blobs).
 *
 *   verification  chain_from_verification after X509_verify_cert with each
 *                 of the program's hooks (store or context, alone or
 *                 together): a forged leaf claiming the real intermediate
 *                 never gets the intermediate counted; the real chain does,
 *                 and the program's store keeps its hooks
 *   host          chain_leaf_matches_host: subjectAltName only, whole-label
 *                 wildcards, IP literals only as iPAddress, no "." hosts
 *   describe      chain_describe: names first when the subject is long or
 *                 has no CN, bounded, UTF-8 kept whole, no fake separator
 *   pin           chain_pubkey_pin for small (stack) and large (heap) keys
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "engine/chain.h"
#include "engine/pin.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Certificates                                                            */
/* ---------------------------------------------------------------------- */

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    ck_assert_ptr_nonnull(k);
    return k;
}

/* "/K=V/K=V..." into a name (values hold no '/'). */
static X509_NAME *name_of(const char *text)
{
    X509_NAME *n = X509_NAME_new();
    char *copy = strdup(text), *save = NULL;

    ck_assert_ptr_nonnull(n);
    for (char *rdn = strtok_r(copy, "/", &save); rdn; rdn = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(rdn, '=');
        ck_assert_ptr_nonnull(eq);
        *eq = '\0';
        ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, rdn, MBSTRING_UTF8,
                                                    (unsigned char *)eq + 1, -1, -1, 0),
                         1);
    }
    free(copy);
    return n;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *e;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    ck_assert_msg(e != NULL, "extension %d = %s", nid, value);
    ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for `key` named `subject`, claiming `issuer` (NULL: itself)
 * as its issuer by name and key id, signed with `signer`, which need not be
 * the issuer's key (a forgery). san NULL: none. */
static X509 *make_cert(const char *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer,
                       int ca, const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *subj = name_of(subject);

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    ck_assert_int_eq(X509_set_subject_name(x, subj), 1);
    ck_assert_int_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj), 1);
    ck_assert_int_eq(X509_set_pubkey(x, key), 1);
    add_ext(x, issuer ? issuer : x, NID_basic_constraints,
            ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, issuer ? issuer : x, NID_key_usage,
            ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (san != NULL)
        add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
    ck_assert_int_gt(X509_sign(x, signer, EVP_sha256()), 0);
    X509_NAME_free(subj);
    return x;
}

/* A small PKI: root -> intermediate -> leaf for good.test, and a forged
 * leaf claiming the intermediate (its name and key id) signed by a key of
 * the attacker's. */
static struct {
    EVP_PKEY *root_key, *int_key, *leaf_key, *evil_key;
    X509 *root, *intermediate, *leaf, *forged;
    unsigned char int_pin[TLSPIN_PIN_LEN];
} pki;

static void pki_make(void)
{
    pki.root_key = ec_key();
    pki.int_key = ec_key();
    pki.leaf_key = ec_key();
    pki.evil_key = ec_key();
    pki.root = make_cert("/O=unit/CN=unit root", pki.root_key, NULL, pki.root_key, 1, NULL);
    pki.intermediate = make_cert("/O=unit/CN=unit intermediate", pki.int_key, pki.root,
                                 pki.root_key, 1, NULL);
    pki.leaf = make_cert("/O=unit/CN=good.test", pki.leaf_key, pki.intermediate, pki.int_key, 0,
                         "DNS:good.test");
    pki.forged = make_cert("/O=unit/CN=good.test", pki.evil_key, pki.intermediate, pki.evil_key,
                           0, "DNS:good.test");
    ck_assert_int_eq(chain_spki_pin(pki.intermediate, pki.int_pin), 0);
}

static void pki_free(void)
{
    X509_free(pki.root);
    X509_free(pki.intermediate);
    X509_free(pki.leaf);
    X509_free(pki.forged);
    EVP_PKEY_free(pki.root_key);
    EVP_PKEY_free(pki.int_key);
    EVP_PKEY_free(pki.leaf_key);
    EVP_PKEY_free(pki.evil_key);
    memset(&pki, 0, sizeof(pki));
}

/* ---------------------------------------------------------------------- */
/* verification: the program's hooks                                       */
/* ---------------------------------------------------------------------- */

static int accept_all_verify(X509_STORE_CTX *ctx)
{
    (void)ctx;
    return 1;
}

static int clear_errors_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok)
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
}

static int any_issuer(X509_STORE_CTX *ctx, X509 *x, X509 *issuer)
{
    (void)ctx;
    (void)x;
    (void)issuer;
    return 1;
}

/* An issuer among the untrusted certificates counts as trusted. */
static int untrusted_issuer(X509 **issuer, X509_STORE_CTX *ctx, X509 *x)
{
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(ctx);

    for (int i = 0; i < sk_X509_num(sent); i++) {
        X509 *c = sk_X509_value(sent, i);
        if (c != x && X509_check_issued(c, x) == X509_V_OK && X509_up_ref(c)) {
            *issuer = c;
            return 1;
        }
    }
    return X509_STORE_CTX_get1_issuer(issuer, ctx, x);
}

enum {
    HOOK_STORE_VERIFY = 1 << 0,
    HOOK_CTX_VERIFY = 1 << 1,
    HOOK_STORE_CB = 1 << 2,
    HOOK_CTX_CB = 1 << 3,
    HOOK_CHECK_ISSUED = 1 << 4,
    HOOK_GET_ISSUER = 1 << 5,
    HOOK_PARTIAL_INT = 1 << 6,   /* PARTIAL_CHAIN, the intermediate as anchor */
};

static const struct hook_case {
    const char *what;
    unsigned hooks;
    int forged_verifies;   /* the program's verification says ok for the forgery */
    tlspin_chain_trust real_trust;
    size_t real_n;         /* certificates counted for the real chain */
} hook_cases[] = {
    { "OpenSSL's own", 0, 0, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "store verify", HOOK_STORE_VERIFY, 1, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "ctx verify", HOOK_CTX_VERIFY, 1, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "store verify_cb", HOOK_STORE_CB, 1, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "ctx verify_cb", HOOK_CTX_CB, 1, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "store verify + verify_cb", HOOK_STORE_VERIFY | HOOK_STORE_CB, 1,
      TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "check_issued", HOOK_CHECK_ISSUED, 0, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "check_issued + store verify", HOOK_CHECK_ISSUED | HOOK_STORE_VERIFY, 1,
      TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "get_issuer", HOOK_GET_ISSUER, 0, TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "get_issuer + store verify", HOOK_GET_ISSUER | HOOK_STORE_VERIFY, 1,
      TLSPIN_CHAIN_APP_VERIFIED, 3 },
    { "partial chain", HOOK_PARTIAL_INT, 0, TLSPIN_CHAIN_APP_VERIFIED, 2 },
    { "partial chain + ctx verify", HOOK_PARTIAL_INT | HOOK_CTX_VERIFY, 1,
      TLSPIN_CHAIN_APP_VERIFIED, 2 },
};

/* The program's store: the root (or, for PARTIAL_CHAIN, the intermediate),
 * with the case's store hooks. */
static X509_STORE *program_store(unsigned hooks)
{
    X509_STORE *store = X509_STORE_new();

    ck_assert_ptr_nonnull(store);
    ck_assert_int_eq(X509_STORE_add_cert(store, hooks & HOOK_PARTIAL_INT ? pki.intermediate
                                                                         : pki.root),
                     1);
    if (hooks & HOOK_PARTIAL_INT)
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (hooks & HOOK_STORE_VERIFY)
        X509_STORE_set_verify(store, accept_all_verify);
    if (hooks & HOOK_STORE_CB)
        X509_STORE_set_verify_cb(store, clear_errors_cb);
    if (hooks & HOOK_CHECK_ISSUED)
        X509_STORE_set_check_issued(store, any_issuer);
    if (hooks & HOOK_GET_ISSUER)
        X509_STORE_set_get_issuer(store, untrusted_issuer);
    return store;
}

/* What the program verifies (leaf, with the real intermediate sent along),
 * then what tlspin counts; *app_ok gets the program's verdict. */
static void count_chain(const struct hook_case *hc, X509 *leaf, struct chain *out, int *app_ok)
{
    X509_STORE *store = program_store(hc->hooks);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *sent = sk_X509_new_null();

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_gt(sk_X509_push(sent, pki.intermediate), 0);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, sent), 1);
    if (hc->hooks & HOOK_CTX_VERIFY)
        X509_STORE_CTX_set_verify(ctx, accept_all_verify);
    if (hc->hooks & HOOK_CTX_CB)
        X509_STORE_CTX_set_verify_cb(ctx, clear_errors_cb);
    *app_ok = X509_verify_cert(ctx) > 0 && X509_STORE_CTX_get_error(ctx) == X509_V_OK;
    ck_assert_int_eq(chain_from_verification(ctx, *app_ok, 0, X509_verify_cert, out), 0);
    /* tlspin verified again on a context of its own: the program's store
     * keeps its hooks. */
    if (hc->hooks & HOOK_STORE_VERIFY)
        ck_assert(X509_STORE_get_verify(store) == accept_all_verify);
    if (hc->hooks & HOOK_STORE_CB)
        ck_assert(X509_STORE_get_verify_cb(store) == clear_errors_cb);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(sent);
    X509_STORE_free(store);
}

static int chain_has(const struct chain *c, const unsigned char pin[TLSPIN_PIN_LEN])
{
    for (size_t i = 0; i < c->n_verified; i++)
        if (memcmp(c->verified[i].spki_sha256, pin, TLSPIN_PIN_LEN) == 0)
            return 1;
    return 0;
}

START_TEST(forged_leaf_never_counts_the_intermediate)
{
    const struct hook_case *hc = &hook_cases[_i];
    struct chain c;
    int app_ok;

    count_chain(hc, pki.forged, &c, &app_ok);
    ck_assert_msg(app_ok == hc->forged_verifies, "%s: the program's verdict is %d", hc->what,
                  app_ok);
    ck_assert_msg(!chain_has(&c, pki.int_pin), "%s: the intermediate counted (trust %s, %zu)",
                  hc->what, chain_trust_name(c.trust), c.n_verified);
    ck_assert_msg(c.trust == TLSPIN_CHAIN_LEAF_ONLY && c.n_verified == 1, "%s: trust %s, %zu",
                  hc->what, chain_trust_name(c.trust), c.n_verified);
    chain_release(&c);
}
END_TEST

START_TEST(real_chain_counts)
{
    const struct hook_case *hc = &hook_cases[_i];
    struct chain c;
    int app_ok;

    count_chain(hc, pki.leaf, &c, &app_ok);
    ck_assert_msg(app_ok, "%s: the program refused the real chain", hc->what);
    ck_assert_msg(c.trust == hc->real_trust && c.n_verified == hc->real_n,
                  "%s: trust %s with %zu certificates", hc->what, chain_trust_name(c.trust),
                  c.n_verified);
    ck_assert_msg(chain_has(&c, pki.int_pin), "%s: the intermediate does not count", hc->what);
    chain_release(&c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* host: the leaf's names under a CA pin                                   */
/* ---------------------------------------------------------------------- */

static const struct {
    const char *subject, *san, *host;
    int want;
} host_cases[] = {
    { "/CN=good.test", "DNS:good.test", "good.test", 1 },
    { "/CN=good.test", NULL, "good.test", 0 },                 /* CN only */
    { "/CN=good.test", "DNS:other.test", "good.test", 0 },     /* CN beside another name */
    { "/CN=x", "DNS:GOOD.test", "good.test", 1 },              /* case-insensitive */
    { "/CN=x", "DNS:*.wild.test", "pay.wild.test", 1 },        /* whole label */
    { "/CN=x", "DNS:*.wild.test", "wild.test", 0 },
    { "/CN=x", "DNS:*.wild.test", "a.pay.wild.test", 0 },      /* one label only */
    { "/CN=x", "DNS:pa*.wild.test", "pay.wild.test", 0 },      /* partial */
    { "/CN=x", "DNS:*y.wild.test", "pay.wild.test", 0 },
    { "/CN=x", "DNS:p*y.wild.test", "pay.wild.test", 0 },
    { "/CN=x", "DNS:*.test", "wild.test", 0 },                 /* one-label suffix */
    { "/CN=x", "DNS:pay.*.test", "pay.wild.test", 0 },         /* not leftmost */
    { "/CN=x", "DNS:a.wild.test", ".wild.test", 0 },           /* "any subdomain" */
    { "/CN=x", "DNS:*.wild.test", ".wild.test", 0 },
    { "/CN=127.0.0.1", NULL, "127.0.0.1", 0 },                 /* IP in the CN */
    { "/CN=x", "DNS:127.0.0.1", "127.0.0.1", 0 },              /* IP as a DNS name */
    { "/CN=x", "IP:127.0.0.1", "127.0.0.1", 1 },
    { "/CN=x", "IP:::1", "::1", 1 },
    { "/CN=x", "IP:127.0.0.1", "127.0.0.2", 0 },
    { "/CN=x", "IP:127.0.0.1", "good.test", 0 },
};

START_TEST(leaf_names_host_by_san_only)
{
    EVP_PKEY *key = ec_key();
    X509 *leaf = make_cert(host_cases[_i].subject, key, NULL, key, 0, host_cases[_i].san);
    STACK_OF(X509) *sk = sk_X509_new_null();
    struct chain c;

    ck_assert_int_gt(sk_X509_push(sk, leaf), 0);
    ck_assert_int_eq(chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &c), 0);
    ck_assert_msg(chain_leaf_matches_host(&c, host_cases[_i].host) == host_cases[_i].want,
                  "%s %s for %s: not %d", host_cases[_i].subject,
                  host_cases[_i].san ? host_cases[_i].san : "(no SAN)", host_cases[_i].host,
                  host_cases[_i].want);
    /* The kept answer is the same. */
    ck_assert_int_eq(chain_leaf_matches_host(&c, host_cases[_i].host), host_cases[_i].want);
    chain_release(&c);
    sk_X509_pop_free(sk, X509_free);
    EVP_PKEY_free(key);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* describe: the record's chain text                                       */
/* ---------------------------------------------------------------------- */

/* chain_describe of one self-issued certificate, as the leaf. */
static char *describe_one(const char *subject, const char *san)
{
    static char text[4096];
    EVP_PKEY *key = ec_key();
    X509 *leaf = make_cert(subject, key, NULL, key, 0, san);
    STACK_OF(X509) *sk = sk_X509_new_null();
    struct chain c;
    char pin[TLSPIN_PIN_TEXT_MAX];

    ck_assert_int_gt(sk_X509_push(sk, leaf), 0);
    ck_assert_int_eq(chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &c), 0);
    chain_describe(&c, text, sizeof(text));
    tlspin_pin_format(c.verified[0].spki_sha256, pin, sizeof(pin));
    ck_assert_msg(strncmp(text, pin, strlen(pin)) == 0 && text[strlen(pin)] == ' ',
                  "not '<pin> <name>': %s", text);
    memmove(text, text + strlen(pin) + 1, strlen(text + strlen(pin) + 1) + 1);
    chain_release(&c);
    sk_X509_pop_free(sk, X509_free);
    EVP_PKEY_free(key);
    return text;
}

/* "/K=V" n times, after head. */
static const char *repeated(const char *head, const char *rdn, size_t n)
{
    static char s[8192];
    size_t len = (size_t)snprintf(s, sizeof(s), "%s", head);

    for (size_t i = 0; i < n && len + strlen(rdn) + 1 < sizeof(s); i++)
        len += (size_t)snprintf(s + len, sizeof(s) - len, "%s", rdn);
    return s;
}

START_TEST(describe_short_subject_unchanged)
{
    ck_assert_str_eq(describe_one("/O=unit/CN=good.test", "DNS:good.test"), "CN=good.test,O=unit");
    /* Escaping as before: RFC 2253 specials, '|' replaced. */
    ck_assert_str_eq(describe_one("/O=a,b|c/CN=x", NULL), "CN=x,O=a\\,b?c");
}
END_TEST

START_TEST(describe_padded_subject_names_cn_first)
{
    const char *t = describe_one(repeated("/CN=padded.test", "/OU=padding-unit", 150), NULL);

    ck_assert_msg(strncmp(t, "CN=padded.test [subject: OU=padding-unit,", 41) == 0, "%s", t);
    ck_assert_msg(strlen(t) < 2 * 256 + 40, "%zu bytes: %s", strlen(t), t);
    ck_assert_msg(strcmp(t + strlen(t) - 4, "...]") == 0, "not marked as cut: %s", t);
}
END_TEST

/* The most specific CN (the last in DN order) names the certificate. */
START_TEST(describe_two_cns_names_the_last)
{
    const char *t = describe_one(repeated("/CN=outer/CN=inner.test", "/OU=padding-unit", 150),
                                 NULL);

    ck_assert_msg(strncmp(t, "CN=inner.test [subject: ", 24) == 0, "%s", t);
}
END_TEST

START_TEST(describe_no_cn_names_first_san)
{
    ck_assert_str_eq(describe_one("/O=unit", "DNS:first.test,DNS:second.test"),
                     "DNS:first.test [subject: O=unit]");
    ck_assert_str_eq(describe_one("/O=unit", "email:a@b.test,IP:192.0.2.1,DNS:later.test"),
                     "IP:192.0.2.1 [subject: O=unit]");
    ck_assert_str_eq(describe_one("/O=unit", "IP:2001:db8::1"), "IP:2001:db8::1 [subject: O=unit]");
    /* No SAN name at all: the subject as it is. */
    ck_assert_str_eq(describe_one("/O=unit", NULL), "O=unit");
    /* A name of the SAN with RFC 2253 specials and a '|' (it is the leaf's
     * own text: escaped as a subject is, no fake separator). */
    ck_assert_str_eq(describe_one("/O=unit", "DNS:a|b+c.test"),
                     "DNS:a?b\\+c.test [subject: O=unit]");
}
END_TEST

/* A cut never splits a UTF-8 character: 2-byte characters from an odd
 * offset, so the 256-byte mark falls inside one. */
START_TEST(describe_cut_keeps_utf8_whole)
{
    const char *t = describe_one(repeated("/CN=u.test/OU=x", "/OU=\xc3\xa9\xc3\xa9\xc3\xa9", 200),
                                 NULL);
    const char *s = strstr(t, "[subject: ");
    const char *dots = strstr(t, "...]");

    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(dots);
    ck_assert_msg(((unsigned char)dots[-1] & 0xC0) != 0xC0, "a lead byte before the cut: %s", t);
    ck_assert_msg(!((unsigned char)dots[-1] & 0x80) || ((unsigned char)dots[-2] & 0xE0) == 0xC0,
                  "a character split at the cut: %s", t);
}
END_TEST

/* The command's own output names a certificate as the record does. */
START_TEST(cert_name_is_the_records_name)
{
    EVP_PKEY *key = ec_key();
    X509 *leaf = make_cert(repeated("/CN=padded.test", "/OU=padding-unit", 150), key, NULL, key,
                           0, "DNS:good.test");
    char name[1024], small[8];

    chain_cert_name(leaf, 1, name, sizeof(name));
    ck_assert_str_eq(name, describe_one(repeated("/CN=padded.test", "/OU=padding-unit", 150),
                                        "DNS:good.test"));
    chain_cert_name(leaf, 1, small, sizeof(small));
    ck_assert_str_eq(small, "CN=padd");
    chain_cert_name(NULL, 1, small, sizeof(small));
    ck_assert_str_eq(small, "");
    X509_free(leaf);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(describe_bounded_by_outlen)
{
    EVP_PKEY *key = ec_key();
    X509 *leaf = make_cert(repeated("/CN=padded.test", "/OU=padding-unit", 150), key, NULL,
                           key, 0, NULL);
    STACK_OF(X509) *sk = sk_X509_new_null();
    struct chain c;
    char small[80];

    ck_assert_int_gt(sk_X509_push(sk, leaf), 0);
    ck_assert_int_gt(sk_X509_push(sk, X509_dup(leaf)), 0);
    ck_assert_int_eq(chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &c), 0);
    memset(small, 'z', sizeof(small));
    chain_describe(&c, small, sizeof(small));
    ck_assert_int_eq((int)strlen(small), (int)sizeof(small) - 1);
    chain_describe(&c, small, 1);
    ck_assert_str_eq(small, "");
    chain_release(&c);
    sk_X509_pop_free(sk, X509_free);
    EVP_PKEY_free(key);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* pin: keys of every size                                                 */
/* ---------------------------------------------------------------------- */

/* SHA-256 of the DER SubjectPublicKeyInfo, computed independently. */
static void expected_pin(EVP_PKEY *key, unsigned char pin[TLSPIN_PIN_LEN])
{
    unsigned char *der = NULL;
    unsigned int mdlen = 0;
    int len = i2d_PUBKEY(key, &der);

    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(EVP_Digest(der, (size_t)len, pin, &mdlen, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
}

START_TEST(pin_small_and_large_keys)
{
    static const unsigned bits[] = { 0 /* EC */, 2048, 5120 };
    EVP_PKEY *key = bits[_i] ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits[_i]) : ec_key();
    X509_PUBKEY *pub = NULL;
    unsigned char got[TLSPIN_PIN_LEN], want[TLSPIN_PIN_LEN];

    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(X509_PUBKEY_set(&pub, key), 1);
    expected_pin(key, want);
    ck_assert_int_eq(chain_pubkey_pin(pub, got), 0);
    ck_assert(memcmp(got, want, sizeof(got)) == 0);
    X509_PUBKEY_free(pub);
    EVP_PKEY_free(key);
}
END_TEST

static Suite *chain_suite(void)
{
    Suite *s = suite_create("chain");
    TCase *tc;

    tc = tcase_create("verification");
    tcase_add_unchecked_fixture(tc, pki_make, pki_free);
    tcase_add_loop_test(tc, forged_leaf_never_counts_the_intermediate, 0,
                        (int)N_ELEMS(hook_cases));
    tcase_add_loop_test(tc, real_chain_counts, 0, (int)N_ELEMS(hook_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("host");
    tcase_add_loop_test(tc, leaf_names_host_by_san_only, 0, (int)N_ELEMS(host_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("describe");
    tcase_add_test(tc, describe_short_subject_unchanged);
    tcase_add_test(tc, describe_padded_subject_names_cn_first);
    tcase_add_test(tc, describe_two_cns_names_the_last);
    tcase_add_test(tc, describe_no_cn_names_first_san);
    tcase_add_test(tc, describe_cut_keeps_utf8_whole);
    tcase_add_test(tc, describe_bounded_by_outlen);
    tcase_add_test(tc, cert_name_is_the_records_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("pin");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, pin_small_and_large_keys, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(chain_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
