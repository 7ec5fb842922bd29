/* verify.c — verify one SCT ourselves (RFC 6962 §3.2), with the module's
 * own log list: never OpenSSL's CT callback, which libssl skips in several
 * cases (see the README). The signature verdict is cached per (leaf,
 * issuer, SCT); time and log-state checks run every time. */
#include "ct.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/x509v3.h>

const char *ct_sct_status_name(enum sct_status s)
{
    static const char *const names[] = {"ok", "unknown-log", "bad-signature", "future-sct",
                                        "retired-log", "untrusted-log", "outside-interval",
                                        "unsupported", "no-issuer"};
    return names[s];
}

/* The TBSCertificate without the SCT list extension: what a precertificate
 * SCT signs (the log removed the poison; the CA then added the SCTs). */
static int precert_tbs(struct ct_leaf *leaf)
{
    X509 *dup;
    int idx, len;
    unsigned char *p = NULL;

    if (leaf->precert_tbs != NULL)
        return 0;
    dup = X509_dup(leaf->cert);
    if (dup == NULL)
        return -1;
    while ((idx = X509_get_ext_by_NID(dup, NID_ct_precert_scts, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(dup, idx));
    while ((idx = X509_get_ext_by_NID(dup, NID_ct_precert_poison, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(dup, idx));
    len = i2d_re_X509_tbs(dup, &p);
    X509_free(dup);
    if (len <= 0)
        return -1;
    leaf->precert_tbs = p;
    leaf->precert_tbs_len = (size_t)len;
    return 0;
}

static void put_u(unsigned char *b, size_t *n, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        b[(*n)++] = (unsigned char)(v >> (8 * i));
}

void ct_verify_sct(const struct ct_loglist *ll, struct ct_cache *sig_cache, struct ct_leaf *leaf,
                   const unsigned char *raw, size_t raw_len, enum sct_channel ch, int64_t now,
                   struct sct_result *out)
{
    const unsigned char *p = raw;
    SCT *sct = o2i_SCT(NULL, &p, raw_len);
    unsigned char *id = NULL, *ext = NULL, *sig = NULL, *buf = NULL, key[32];
    size_t idlen, extlen, siglen, n = 0, body_len;
    const unsigned char *body;
    EVP_MD_CTX *md = NULL;
    int cached, ok;
    unsigned int mdlen;

    memset(out, 0, sizeof *out);
    out->channel = ch;
    out->status = SCT_UNSUPPORTED;
    if (sct == NULL || SCT_get_version(sct) != SCT_VERSION_V1)
        goto done;
    idlen = SCT_get0_log_id(sct, &id);
    if (idlen != 32)
        goto done;
    memcpy(out->log_id, id, 32);
    out->timestamp_ms = SCT_get_timestamp(sct);
    extlen = SCT_get0_extensions(sct, &ext);
    siglen = SCT_get0_signature(sct, &sig);
    out->log = ct_loglist_find(ll, out->log_id);
    if (out->log == NULL) {
        out->status = SCT_UNKNOWN_LOG;
        goto done;
    }
    if (out->log->state == LOG_PENDING || out->log->state == LOG_REJECTED) {
        out->status = SCT_LOG_UNTRUSTED;
        goto done;
    }
    /* No allowance: libssl gives none during a handshake either. */
    if (out->timestamp_ms > (uint64_t)now * 1000) {
        out->status = SCT_FUTURE;
        goto done;
    }
    if (out->log->state == LOG_RETIRED &&
        out->timestamp_ms >= (uint64_t)out->log->state_since * 1000) {
        out->status = SCT_LOG_RETIRED;
        goto done;
    }
    if (ch == CH_EMBEDDED) {
        if (!leaf->have_issuer) {
            out->status = SCT_NO_ISSUER;
            goto done;
        }
        if (precert_tbs(leaf) != 0)
            goto done;
        body = leaf->precert_tbs;
        body_len = leaf->precert_tbs_len;
    } else {
        body = leaf->der;
        body_len = leaf->der_len;
    }
    if (siglen == 0 || body_len > 0xFFFFFF || extlen > 0xFFFF)
        goto done;

    /* The signed structure (digitally-signed struct of RFC 6962 §3.2). */
    buf = malloc(2 + 8 + 2 + 32 + 3 + body_len + 2 + extlen);
    if (buf == NULL)
        goto done;
    put_u(buf, &n, 0, 1);                    /* sct_version v1 */
    put_u(buf, &n, 0, 1);                    /* signature_type certificate_timestamp */
    put_u(buf, &n, out->timestamp_ms, 8);
    put_u(buf, &n, ch == CH_EMBEDDED ? 1 : 0, 2); /* precert_entry / x509_entry */
    if (ch == CH_EMBEDDED) {
        memcpy(buf + n, leaf->issuer_key_hash, 32);
        n += 32;
    }
    put_u(buf, &n, body_len, 3);
    memcpy(buf + n, body, body_len);
    n += body_len;
    put_u(buf, &n, extlen, 2);
    if (extlen)
        memcpy(buf + n, ext, extlen);
    n += extlen;

    /* Cache key: hash of what is signed and of the signature. */
    {
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        ok = h != NULL && EVP_DigestInit_ex(h, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(h, out->log_id, 32) && EVP_DigestUpdate(h, buf, n) &&
             EVP_DigestUpdate(h, sig, siglen) && EVP_DigestFinal_ex(h, key, &mdlen);
        EVP_MD_CTX_free(h);
        if (!ok)
            goto done;
    }
    cached = sig_cache ? ct_cache_get(sig_cache, 0, key) : -1;
    if (cached >= 0) {
        out->status = cached ? SCT_OK : SCT_BAD_SIGNATURE;
        goto done;
    }
    /* Only SHA-256 with the log's own key type (ECDSA or RSA PKCS#1 v1.5). */
    {
        int nid = SCT_get_signature_nid(sct);
        if ((nid != NID_ecdsa_with_SHA256 || !EVP_PKEY_is_a(out->log->key, "EC")) &&
            (nid != NID_sha256WithRSAEncryption || !EVP_PKEY_is_a(out->log->key, "RSA"))) {
            out->status = SCT_BAD_SIGNATURE;
            goto done;
        }
    }
    md = EVP_MD_CTX_new();
    ok = md != NULL &&
         EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, out->log->key) == 1 &&
         EVP_DigestVerify(md, sig, siglen, buf, n) == 1;
    out->status = ok ? SCT_OK : SCT_BAD_SIGNATURE;
    if (sig_cache)
        ct_cache_put(sig_cache, 0, key, ok);
done:
    if (out->status == SCT_OK && out->log->interval_end != 0 &&
        (leaf->cert == NULL || 1)) {
        /* Sharded logs accept only certificates expiring in their interval. */
        const ASN1_TIME *na = leaf->cert ? X509_get0_notAfter(leaf->cert) : NULL;
        struct tm tm;
        if (na == NULL || ASN1_TIME_to_tm(na, &tm) != 1) {
            out->status = SCT_OUTSIDE_INTERVAL;
        } else {
            int64_t t = (int64_t)timegm(&tm);
            if (t < out->log->interval_start || t >= out->log->interval_end)
                out->status = SCT_OUTSIDE_INTERVAL;
        }
    }
    EVP_MD_CTX_free(md);
    free(buf);
    SCT_free(sct);
}
