/* ct_tool — the integration suite's own Certificate Transparency log.
 *
 *   ct_tool log KEYFILE [rsa]
 *       new P-256 (or RSA-2048) log key; prints KEY=<b64 DER SPKI> and
 *       LOGID=<b64 SHA-256>.
 *   ct_tool leaf --issuer CA.pem --issuer-key CA.key --days N --key OUT.key
 *                --cert OUT.pem [--embed LOG.key[@SECONDS][!bad]]...
 *       a P-256 leaf for good.test/localhost/127.0.0.1, valid from an hour
 *       ago for N days; each --embed signs a precertificate SCT (RFC 6962
 *       §3.2, precert_entry over the TBS without the SCT list) stamped
 *       now+SECONDS (default -120), embeds the list and re-signs the leaf.
 *       "!bad" corrupts that SCT's signature.
 *   ct_tool scts --cert LEAF.pem --log LOG.key[@SECONDS][!bad]...
 *                [--serverinfo OUT.pem] [--ocsp OUT.der --issuer CA.pem --issuer-key CA.key]
 *       x509_entry SCTs for the leaf, delivered as an s_server -serverinfo
 *       file (SERVERINFOV2, context 0x1180: TLS 1.2 ServerHello and TLS 1.3
 *       Certificate) and/or a DER OCSP response for -status_file that
 *       carries them in its SingleResponse extension.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void die(const char *what)
{
    fprintf(stderr, "ct_tool: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;
    if (!f)
        die(path);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        die(path);
    return k;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;
    if (!f)
        die(path);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        die(path);
    return x;
}

static void spki_hash(EVP_PKEY *k, unsigned char out[32])
{
    unsigned char *der = NULL;
    unsigned int n;
    int len = i2d_PUBKEY(k, &der);
    if (len <= 0)
        die("i2d_PUBKEY");
    EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL);
    OPENSSL_free(der);
}

static void b64_print(const char *name, const unsigned char *d, size_t n)
{
    unsigned char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock(out, d, (int)n);
    printf("%s=%s\n", name, out);
    free(out);
}

static int cmd_log(const char *path, int rsa)
{
    EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    unsigned char *der = NULL, id[32];
    int len;
    FILE *f;
    if (!k)
        die("EVP_EC_gen");
    f = fopen(path, "w");
    if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
        die(path);
    fclose(f);
    len = i2d_PUBKEY(k, &der);
    b64_print("KEY", der, (size_t)len);
    spki_hash(k, id);
    b64_print("LOGID", id, 32);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    return 0;
}

struct logspec {
    EVP_PKEY *key;
    long offset;
    int bad;
};

static void parse_logspec(const char *s, struct logspec *l)
{
    char path[1024], *at, *bang;
    snprintf(path, sizeof path, "%s", s);
    l->offset = -120;
    l->bad = 0;
    if ((bang = strchr(path, '!')) != NULL) {
        l->bad = strcmp(bang, "!bad") == 0;
        *bang = '\0';
    }
    if ((at = strchr(path, '@')) != NULL) {
        l->offset = strtol(at + 1, NULL, 10);
        *at = '\0';
    }
    l->key = read_key(path);
}

static void put(unsigned char *b, size_t *n, unsigned long long v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        b[(*n)++] = (unsigned char)(v >> (8 * i));
}

/* One SCT over body (x509_entry: the cert DER; precert: the TBS). */
static SCT *sign_sct(const struct logspec *l, int precert, const unsigned char ikh[32],
                     const unsigned char *body, size_t body_len)
{
    unsigned char id[32], *buf = malloc(64 + body_len), *sig;
    size_t n = 0, siglen = 0;
    unsigned long long ts = (unsigned long long)(time(NULL) + l->offset) * 1000ULL + 123;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    SCT *sct = SCT_new();

    spki_hash(l->key, id);
    put(buf, &n, 0, 1);
    put(buf, &n, 0, 1);
    put(buf, &n, ts, 8);
    put(buf, &n, precert ? 1 : 0, 2);
    if (precert) {
        memcpy(buf + n, ikh, 32);
        n += 32;
    }
    put(buf, &n, body_len, 3);
    memcpy(buf + n, body, body_len);
    n += body_len;
    put(buf, &n, 0, 2);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, l->key) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, buf, n) != 1)
        die("sign");
    sig = OPENSSL_malloc(siglen);
    if (EVP_DigestSign(md, sig, &siglen, buf, n) != 1)
        die("sign");
    if (l->bad)
        sig[siglen - 3] ^= 0x55;
    if (!SCT_set_version(sct, SCT_VERSION_V1) ||
        !SCT_set_log_entry_type(sct, precert ? CT_LOG_ENTRY_TYPE_PRECERT : CT_LOG_ENTRY_TYPE_X509) ||
        !SCT_set1_log_id(sct, id, 32) ||
        !SCT_set_signature_nid(sct, EVP_PKEY_is_a(l->key, "RSA") ? NID_sha256WithRSAEncryption
                                                                 : NID_ecdsa_with_SHA256))
        die("SCT setters");
    SCT_set_timestamp(sct, ts);
    SCT_set0_signature(sct, sig, siglen);
    EVP_MD_CTX_free(md);
    free(buf);
    return sct;
}

static void add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e || !X509_add_ext(x, e, -1))
        die("extension");
    X509_EXTENSION_free(e);
}

static int cmd_leaf(int argc, char **argv)
{
    const char *issuer_p = NULL, *ikey_p = NULL, *key_p = NULL, *cert_p = NULL;
    const char *embeds[16];
    int n_emb = 0;
    long days = 30;
    X509 *issuer, *x;
    EVP_PKEY *ikey, *k;
    unsigned char ikh[32];
    FILE *f;

    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--issuer")) issuer_p = argv[i + 1];
        else if (!strcmp(argv[i], "--issuer-key")) ikey_p = argv[i + 1];
        else if (!strcmp(argv[i], "--key")) key_p = argv[i + 1];
        else if (!strcmp(argv[i], "--cert")) cert_p = argv[i + 1];
        else if (!strcmp(argv[i], "--days")) days = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--embed") && n_emb < 16) embeds[n_emb++] = argv[i + 1];
        else die("leaf: unknown option");
    }
    if (!issuer_p || !ikey_p || !key_p || !cert_p)
        die("leaf: --issuer --issuer-key --key --cert required");
    issuer = read_cert(issuer_p);
    ikey = read_key(ikey_p);
    k = EVP_EC_gen("P-256");
    x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    {
        unsigned char serial[16];
        BIGNUM *bn;
        FILE *r = fopen("/dev/urandom", "r");
        if (!r || fread(serial, 1, sizeof serial, r) != sizeof serial)
            die("urandom");
        fclose(r);
        serial[0] &= 0x7f;
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        BN_free(bn);
    }
    X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, NULL);
    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, NULL);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"good.test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer));
    X509_set_pubkey(x, k);
    add_ext_conf(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext_conf(x, issuer, NID_key_usage, "critical,digitalSignature");
    add_ext_conf(x, issuer, NID_ext_key_usage, "serverAuth");
    add_ext_conf(x, issuer, NID_subject_key_identifier, "hash");
    add_ext_conf(x, issuer, NID_authority_key_identifier, "keyid:always");
    add_ext_conf(x, issuer, NID_subject_alt_name,
                 "DNS:good.test,DNS:other.test,DNS:localhost,IP:127.0.0.1");
    if (!X509_sign(x, ikey, EVP_sha256()))
        die("sign leaf");
    if (n_emb) {
        STACK_OF(SCT) *list = sk_SCT_new_null();
        unsigned char *tbs = NULL;
        int tbs_len = i2d_re_X509_tbs(x, &tbs);
        spki_hash(ikey, ikh);
        for (int i = 0; i < n_emb; i++) {
            struct logspec l;
            parse_logspec(embeds[i], &l);
            sk_SCT_push(list, sign_sct(&l, 1, ikh, tbs, (size_t)tbs_len));
            EVP_PKEY_free(l.key);
        }
        if (!X509_add1_ext_i2d(x, NID_ct_precert_scts, list, 0, 0))
            die("embed SCTs");
        if (!X509_sign(x, ikey, EVP_sha256()))
            die("re-sign leaf");
        SCT_LIST_free(list);
        OPENSSL_free(tbs);
    }
    f = fopen(cert_p, "w");
    if (!f || !PEM_write_X509(f, x))
        die(cert_p);
    fclose(f);
    f = fopen(key_p, "w");
    if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
        die(key_p);
    fclose(f);
    return 0;
}

static int cmd_scts(int argc, char **argv)
{
    const char *cert_p = NULL, *si_p = NULL, *ocsp_p = NULL, *issuer_p = NULL, *ikey_p = NULL;
    const char *logs[16];
    int n_logs = 0;
    X509 *x;
    unsigned char *der = NULL;
    int der_len;
    STACK_OF(SCT) *list = sk_SCT_new_null();

    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--cert")) cert_p = argv[i + 1];
        else if (!strcmp(argv[i], "--serverinfo")) si_p = argv[i + 1];
        else if (!strcmp(argv[i], "--ocsp")) ocsp_p = argv[i + 1];
        else if (!strcmp(argv[i], "--issuer")) issuer_p = argv[i + 1];
        else if (!strcmp(argv[i], "--issuer-key")) ikey_p = argv[i + 1];
        else if (!strcmp(argv[i], "--log") && n_logs < 16) logs[n_logs++] = argv[i + 1];
        else die("scts: unknown option");
    }
    if (!cert_p || (!si_p && !ocsp_p))
        die("scts: --cert and --serverinfo or --ocsp required");
    x = read_cert(cert_p);
    der_len = i2d_X509(x, &der);
    for (int i = 0; i < n_logs; i++) {
        struct logspec l;
        parse_logspec(logs[i], &l);
        sk_SCT_push(list, sign_sct(&l, 0, NULL, der, (size_t)der_len));
        EVP_PKEY_free(l.key);
    }
    if (si_p) {
        unsigned char *lst = NULL, buf[8192];
        int len = i2o_SCT_LIST(list, &lst);
        size_t n = 0;
        FILE *f;
        if (len <= 0 || len > 8000)
            die("i2o_SCT_LIST");
        put(buf, &n, 0x00001180, 4); /* TLS 1.2 ServerHello + TLS 1.3 Certificate */
        put(buf, &n, 18, 2);          /* signed_certificate_timestamp */
        put(buf, &n, (unsigned long long)len, 2);
        memcpy(buf + n, lst, (size_t)len);
        n += (size_t)len;
        f = fopen(si_p, "w");
        if (!f || !PEM_write(f, "SERVERINFOV2 FOR CT", "", buf, (long)n))
            die(si_p);
        fclose(f);
        OPENSSL_free(lst);
    }
    if (ocsp_p) {
        X509 *issuer;
        EVP_PKEY *ikey;
        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        OCSP_CERTID *id;
        OCSP_SINGLERESP *single;
        OCSP_RESPONSE *resp;
        ASN1_TIME *thisupd = X509_gmtime_adj(NULL, -600), *nextupd = X509_gmtime_adj(NULL, 86400);
        FILE *f;
        if (!issuer_p || !ikey_p)
            die("scts --ocsp needs --issuer and --issuer-key");
        issuer = read_cert(issuer_p);
        ikey = read_key(ikey_p);
        id = OCSP_cert_to_id(NULL, x, issuer);
        single = OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, NULL, thisupd, nextupd);
        if (!single || !OCSP_SINGLERESP_add1_ext_i2d(single, NID_ct_cert_scts, list, 0, 0) ||
            !OCSP_basic_sign(bs, issuer, ikey, EVP_sha256(), NULL, 0))
            die("OCSP response");
        resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
        f = fopen(ocsp_p, "wb");
        {
            unsigned char *rd = NULL;
            int rl = resp ? i2d_OCSP_RESPONSE(resp, &rd) : -1;
            if (!f || rl <= 0 || fwrite(rd, 1, (size_t)rl, f) != (size_t)rl)
                die(ocsp_p);
            OPENSSL_free(rd);
        }
        fclose(f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "log"))
        return cmd_log(argv[2], argc >= 4 && !strcmp(argv[3], "rsa"));
    if (argc >= 2 && !strcmp(argv[1], "leaf"))
        return cmd_leaf(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "scts"))
        return cmd_scts(argc - 2, argv + 2);
    fprintf(stderr, "usage: ct_tool log KEY | leaf ... | scts ... (see the source)\n");
    return 2;
}
