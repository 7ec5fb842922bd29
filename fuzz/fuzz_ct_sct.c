/* fuzz_ct_sct — SCT lists as a server delivers them, through the ct
 * module's open() and check(): embedded in the leaf certificate (the
 * precertificate-SCT extension, read by OpenSSL's o2i_SCT_LIST, then the
 * module's checks and signature verification: verify.c, policy.c) and in a
 * stapled OCSP response (the module's own walk over the staple's
 * singleExtensions). The third channel, the TLS extension, is
 * fuzz_ct_sct_tls's.
 *
 * Input: 2 bytes (big-endian) n, then n bytes of TLS-encoded SCT list for
 * the leaf, then the OCSP response. Each run of 32 0xAA bytes in the SCT
 * list becomes the log id of the one log in the harness's log list, so
 * mutations reach the signature check. The leaf is made and signed anew
 * each run (self-signed, P-256). */
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct_harness.h"
#include "module_harness.h"

static const struct tlspin_module *mod;
static const char *list;
static EVP_PKEY *leaf_key;
static unsigned char log_id[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mod = fh_module("ct");
    leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (leaf_key == NULL)
        abort();
    list = fh_ct_log_list(log_id, NULL);
    return 0;
}

/* A self-signed leaf for a.example carrying scts (wrapped in the OCTET
 * STRING the extension holds); DER in *der. */
static int make_leaf(const unsigned char *scts, size_t n, unsigned char **der)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    unsigned char *enc = NULL;
    int enc_len, len = -1;

    if (x == NULL || name == NULL || inner == NULL || outer == NULL ||
        !ASN1_OCTET_STRING_set(inner, scts, (int)n) ||
        (enc_len = i2d_ASN1_OCTET_STRING(inner, &enc)) <= 0 ||
        !ASN1_OCTET_STRING_set(outer, enc, enc_len))
        goto out;
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"a.example", -1,
                               -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30);
    X509_set_pubkey(x, leaf_key);
    ext = X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, outer);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1 || X509_sign(x, leaf_key, EVP_sha256()) <= 0)
        goto out;
    len = i2d_X509(x, der);
out:
    X509_EXTENSION_free(ext);
    OPENSSL_free(enc);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
    X509_NAME_free(name);
    X509_free(x);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[] = {"log_list", list};
    struct tlspin_arg items[1] = {{"log_list", &kv[1], 1, "fuzz.conf", 1}};
    struct tlspin_args args = {items, 1};
    struct tlspin_cert cert;
    struct tlspin_conn conn;
    struct tlspin_finding finding;
    unsigned char *scts, *der = NULL;
    size_t n;
    void *state = NULL;
    char err[512];
    int der_len;

    if (size < 2)
        return 0;
    n = (size_t)data[0] << 8 | data[1];
    if (n > size - 2)
        n = size - 2;
    if ((scts = malloc(n + 1)) == NULL)
        return 0;
    memcpy(scts, data + 2, n);
    fh_ct_log_ids(scts, n, log_id);
    der_len = make_leaf(scts, n, &der);
    free(scts);
    if (der_len <= 0)
        return 0;
    if (fh_open_state(mod, &args, &state, err, sizeof err) == 0) {
        memset(&cert, 0, sizeof cert);
        cert.der = der;
        cert.der_len = (size_t)der_len;
        memset(&conn, 0, sizeof conn);
        conn.struct_size = sizeof conn;
        conn.host = "a.example";
        conn.port = 443;
        conn.verified = &cert;
        conn.n_verified = 1;
        conn.presented = &cert;
        conn.n_presented = 1;
        conn.now = (int64_t)time(NULL);
        conn.ocsp_response = size > 2 + n ? data + 2 + n : NULL;
        conn.ocsp_response_len = size - 2 - n;
        memset(&finding, 0, sizeof finding);
        finding.struct_size = sizeof finding;
        (void)mod->check(state, &conn, &finding);
        mod->close(state);
    }
    OPENSSL_free(der);
    return 0;
}
