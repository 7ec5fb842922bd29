/* fuzz_ct_sct_tls — SCT lists from the third channel, the TLS extension
 * (signed_certificate_timestamp, 18), which only a live SSL carries: an
 * in-memory handshake (a BIO pair, no socket) between a server that sends
 * the input as its SCT extension and a client prepared by the ct module.
 * libssl keeps the extension's bytes; the module reads them through
 * SSL_get0_peer_scts (OpenSSL's o2i_SCT_LIST, then the module's checks and
 * signature verification: verify.c, policy.c).
 *
 * check() runs where the engine runs it (loader/engine/decide.c): in the
 * client's certificate verification, once the chain is verified
 * (TLSPIN_PHASE_CERTIFICATE); from the module's CT callback through the
 * host's server_flight service, after the server's first flight
 * (TLSPIN_PHASE_SERVER_FLIGHT); and once more on the finished SSL. The
 * verdicts are ignored and the handshake always goes on.
 *
 * Input: 1 byte of flags (bit 0: TLS 1.3, where the extension rides in the
 * leaf's CertificateEntry; else TLS 1.2, in the ServerHello; bit 1: sign),
 * then the extension's body (a 2-byte length, then SCTs each with a 2-byte
 * length). Each run of 32 0xAA bytes becomes the id of the harness's one
 * log. With the sign bit, the harness signs each well-formed v1 SCT of the
 * list as its log would (it holds the log's key), so mutations of the
 * timestamp, extensions and list reach the policy past a valid signature.
 * The keys, a root CA and a leaf for a.example it issued are made once per
 * process. */
#include "fuzz.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct_harness.h"
#include "module_harness.h"

/* One extension fits in a handshake message with room to spare. */
#define SCT_EXT_MAX 16384

static const struct tlspin_module *mod;
static const char *list;
static unsigned char log_id[32];
static EVP_PKEY *log_key;
static SSL_CTX *server_ctx, *client_ctx;
static struct tlspin_cert chain[2]; /* leaf, root: what verification builds */
static int state_ex = -1;           /* the ct state on the client SSL */
static int show;

/* This input's extension body, for the server's add callback. */
static unsigned char *ext_data;
static size_t ext_len;

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    if (x == NULL || name == NULL)
        abort();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), issuer ? 2 : 1);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, issuer ? NID_subject_alt_name : NID_basic_constraints,
                              issuer ? "DNS:a.example" : "critical,CA:TRUE");
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1 ||
        X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
        abort();
    X509_EXTENSION_free(ext);
    X509_NAME_free(name);
    return x;
}

/* The tlspin view of a certificate: DER and SPKI pin, kept for the process. */
static void fill_cert(X509 *x, struct tlspin_cert *c)
{
    unsigned char *der = NULL, *spki = NULL;
    int len = i2d_X509(x, &der), slen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);

    if (len <= 0 || slen <= 0 ||
        EVP_Digest(spki, (size_t)slen, c->spki_sha256, NULL, EVP_sha256(), NULL) != 1)
        abort();
    c->der = der;
    c->der_len = (size_t)len;
    OPENSSL_free(spki);
}

static void put(unsigned char **p, uint64_t v, int bytes)
{
    while (bytes-- > 0)
        *(*p)++ = (unsigned char)(v >> (8 * bytes));
}

static uint64_t get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;

    while (bytes-- > 0)
        v = v << 8 | *p++;
    return v;
}

/* One v1 SCT (RFC 6962, 3.2) for the leaf, signed by the harness's log:
 * version, log id, timestamp and extensions from in[0..n), the signature
 * made anew. Returns its length in out (room for n + 80), or 0 when in is
 * no v1 SCT. */
static size_t sign_sct(const unsigned char *in, size_t n, unsigned char *out)
{
    const struct tlspin_cert *leaf = &chain[0];
    size_t extlen, tbs_len, siglen;
    unsigned char *tbs, *t, *o = out;
    EVP_MD_CTX *md;
    int ok;

    if (n < 1 + 32 + 8 + 2 || in[0] != 0 || n < 43 + (extlen = get(in + 41, 2)))
        return 0;
    tbs_len = 1 + 1 + 8 + 2 + 3 + leaf->der_len + 2 + extlen;
    if ((t = tbs = malloc(tbs_len)) == NULL)
        return 0;
    put(&t, 0, 1);                    /* sct_version v1 */
    put(&t, 0, 1);                    /* signature_type certificate_timestamp */
    memcpy(t, in + 33, 8);            /* timestamp */
    t += 8;
    put(&t, 0, 2);                    /* x509_entry */
    put(&t, leaf->der_len, 3);
    memcpy(t, leaf->der, leaf->der_len);
    t += leaf->der_len;
    memcpy(t, in + 41, 2 + extlen);   /* extensions */
    memcpy(o, in, 43 + extlen);       /* version, log id, timestamp, extensions */
    o += 43 + extlen;
    put(&o, 4, 1);                    /* sha256 */
    put(&o, 3, 1);                    /* ecdsa */
    siglen = 80;
    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, log_key) == 1 &&
         EVP_DigestSign(md, o + 2, &siglen, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(md);
    free(tbs);
    if (!ok)
        return 0;
    put(&o, siglen, 2);
    return (size_t)(o - out) + siglen;
}

/* The list in[0..n) with each SCT signed by sign_sct(); an SCT that is not
 * one, and whatever follows the list, is kept as it came. */
static unsigned char *sign_list(const unsigned char *in, size_t n, size_t *outlen)
{
    unsigned char *out = malloc(n + 80 * (n / 2 + 1) + 2), *o;
    size_t i = 2, total;

    if (out == NULL || n < 2 || (total = get(in, 2)) > n - 2) {
        free(out);
        return NULL;
    }
    o = out + 2;
    while (i + 2 <= 2 + total) {
        size_t len = get(in + i, 2), m;
        if (len > 2 + total - i - 2)
            break;
        m = sign_sct(in + i + 2, len, o + 2);
        if (m == 0 || m > 0xFFFF) {
            memcpy(o + 2, in + i + 2, len);
            m = len;
        }
        put(&o, m, 2);
        o += m;
        i += 2 + len;
    }
    /* The list's length grows by what the signatures added; the rest of
     * the list (an SCT cut short) and anything after it stay as they came. */
    total += (size_t)(o - out) - i;
    memcpy(o, in + i, n - i);
    *outlen = (size_t)(o - out) + (n - i);
    o = out;
    put(&o, total > 0xFFFF ? 0xFFFF : total, 2);
    return out;
}

/* The server's SCT extension: this input, on the leaf only (TLS 1.3). */
static int sct_add(SSL *s, unsigned int ext_type, unsigned int context,
                   const unsigned char **out, size_t *outlen, X509 *x, size_t chainidx,
                   int *al, void *add_arg)
{
    (void)s; (void)ext_type; (void)x; (void)al; (void)add_arg;
    if ((context & SSL_EXT_TLS1_3_CERTIFICATE) && chainidx != 0)
        return 0;
    *out = ext_data;
    *outlen = ext_len;
    return 1;
}

static void call_check(SSL *ssl, int phase)
{
    void *state = SSL_get_ex_data(ssl, state_ex);
    struct tlspin_conn conn;
    struct tlspin_finding finding;

    if (state == NULL)
        return;
    memset(&conn, 0, sizeof conn);
    conn.struct_size = sizeof conn;
    conn.host = "a.example";
    conn.host_source = TLSPIN_HOST_VERIFY_NAME;
    conn.port = 443;
    conn.verified = chain;
    conn.n_verified = 2;
    conn.trust = TLSPIN_CHAIN_APP_VERIFIED;
    conn.presented = chain;
    conn.n_presented = 2;
    conn.now = (int64_t)time(NULL);
    conn.ssl = ssl;
    conn.leaf_matches_host = 1;
    conn.phase = phase;
    /* TLS 1.2 with a chain of two and the module's CT callback: the engine
     * says the staple may still come. */
    conn.staple_pending = phase == TLSPIN_PHASE_CERTIFICATE && SSL_version(ssl) != TLS1_3_VERSION;
    memset(&finding, 0, sizeof finding);
    finding.struct_size = sizeof finding;
    (void)mod->check(state, &conn, &finding);
    /* To see that the SCTs arrive: TLSPIN_FUZZ_SHOW=1 fuzz_ct_sct_tls FILE */
    if (show)
        fprintf(stderr, "phase %d %s: %s\n", phase, SSL_get_version(ssl), finding.reason);
}

/* The engine decides after the program's verification succeeded. */
static int verify_then_check(X509_STORE_CTX *ctx, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    int ok = X509_verify_cert(ctx);

    (void)arg;
    if (ok == 1)
        call_check(ssl, TLSPIN_PHASE_CERTIFICATE);
    return ok;
}

/* tlspin_host.server_flight: called by the module's CT callback. */
static int server_flight(void *ssl)
{
    call_check(ssl, TLSPIN_PHASE_SERVER_FLIGHT);
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    EVP_PKEY *root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *root, *leaf;

    (void)argc;
    (void)argv;
    if (root_key == NULL || leaf_key == NULL)
        abort();
    show = getenv("TLSPIN_FUZZ_SHOW") != NULL;
    fh_set_server_flight(server_flight);
    mod = fh_module("ct");
    list = fh_ct_log_list(log_id, &log_key);
    root = make_cert(root_key, "Fuzz Root", NULL, NULL);
    leaf = make_cert(leaf_key, "a.example", root, root_key);
    fill_cert(leaf, &chain[0]);
    fill_cert(root, &chain[1]);
    state_ex = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);

    server_ctx = SSL_CTX_new(TLS_server_method());
    client_ctx = SSL_CTX_new(TLS_client_method());
    if (state_ex < 0 || server_ctx == NULL || client_ctx == NULL ||
        SSL_CTX_use_certificate(server_ctx, leaf) != 1 ||
        SSL_CTX_use_PrivateKey(server_ctx, leaf_key) != 1 ||
        SSL_CTX_add1_chain_cert(server_ctx, root) != 1 ||
        SSL_CTX_add_custom_ext(server_ctx, TLSEXT_TYPE_signed_certificate_timestamp,
                               SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_2_SERVER_HELLO |
                                   SSL_EXT_TLS1_3_CERTIFICATE,
                               sct_add, NULL, NULL, NULL, NULL) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), root) != 1)
        abort();
    SSL_CTX_set_options(server_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(client_ctx, verify_then_check, NULL);
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(root_key);
    return 0;
}

/* Both ends step in turn until both are done or one fails. */
static void handshake(SSL *client, SSL *server)
{
    int cdone = 0, sdone = 0;

    for (int round = 0; round < 32 && !(cdone && sdone); round++) {
        int r;
        if (!cdone) {
            r = SSL_do_handshake(client);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
                return;
        }
        if (!sdone) {
            r = SSL_do_handshake(server);
            if (r == 1)
                sdone = 1;
            else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ)
                return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[] = {"log_list", list};
    struct tlspin_arg items[1] = {{"log_list", &kv[1], 1, "fuzz.conf", 1}};
    struct tlspin_args args = {items, 1};
    SSL *client = NULL, *server = NULL;
    BIO *cb = NULL, *sb = NULL;
    void *state = NULL;
    char err[512];
    int tls13;

    if (size < 1 || size - 1 > SCT_EXT_MAX)
        return 0;
    tls13 = data[0] & 1;
    ext_len = size - 1;
    if ((ext_data = malloc(ext_len + 1)) == NULL)
        return 0;
    memcpy(ext_data, data + 1, ext_len);
    fh_ct_log_ids(ext_data, ext_len, log_id);
    if (data[0] & 2) {
        size_t signed_len;
        unsigned char *signed_list = sign_list(ext_data, ext_len, &signed_len);
        if (signed_list != NULL) {
            free(ext_data);
            ext_data = signed_list;
            ext_len = signed_len;
        }
    }
    if (ext_len > SCT_EXT_MAX)
        goto out;
    if (fh_open_state(mod, &args, &state, err, sizeof err) != 0)
        goto out;
    client = SSL_new(client_ctx);
    server = SSL_new(server_ctx);
    if (client == NULL || server == NULL || BIO_new_bio_pair(&cb, 0, &sb, 0) != 1)
        goto out;
    SSL_set_bio(client, cb, cb);
    SSL_set_bio(server, sb, sb);
    cb = sb = NULL;
    SSL_set_max_proto_version(client, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_set_min_proto_version(client, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_set_tlsext_host_name(client, "a.example");
    SSL_set1_host(client, "a.example");
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    SSL_set_ex_data(client, state_ex, state);
    /* As the engine does before the first handshake: the module's CT
     * callback makes libssl ask for SCTs and keep them. */
    if (mod->prepare(state, client) != 0)
        goto out;
    handshake(client, server);
    if (SSL_is_init_finished(client))
        call_check(client, TLSPIN_PHASE_CERTIFICATE);
out:
    SSL_free(client);
    SSL_free(server);
    BIO_free(cb);
    BIO_free(sb);
    if (state != NULL)
        mod->close(state);
    free(ext_data);
    ext_data = NULL;
    ERR_clear_error();
    return 0;
}
