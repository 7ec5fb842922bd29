/* The signed pinset format: parsing, Ed25519 verification, signing.
 * See sigfmt.h for the layout. Everything here works on memory only. */
#include "sigfmt.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void errf(char *err, size_t errlen, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *f, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, f);
    vsnprintf(err, errlen, f, ap);
    va_end(ap);
}

void sigfmt_key_id(const unsigned char pub[32], char out[SIGFMT_KEYID_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    size_t i;

    EVP_Digest(pub, 32, md, &mdlen, EVP_sha256(), NULL);
    for (i = 0; i < SIGFMT_KEYID_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[SIGFMT_KEYID_LEN] = '\0';
}

int sigfmt_keys_add_pem(struct sigfmt_keys *keys, const char *pem, size_t len,
                        const char *source, char *err, size_t errlen)
{
    BIO *bio;
    EVP_PKEY *pk;
    size_t publen = 32, i;
    struct sigfmt_key k;

    memset(&k, 0, sizeof(k));
    if (len > 4096) {
        errf(err, errlen, "%s: too large for a public key", source);
        return -1;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    pk = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    if (pk == NULL) {
        errf(err, errlen, "%s: not a PEM public key", source);
        return -1;
    }
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pk, k.pub, &publen) != 1 || publen != 32) {
        EVP_PKEY_free(pk);
        ERR_clear_error();
        errf(err, errlen, "%s: not an Ed25519 public key", source);
        return -1;
    }
    EVP_PKEY_free(pk);
    sigfmt_key_id(k.pub, k.id);
    snprintf(k.source, sizeof(k.source), "%s", source);
    for (i = 0; i < keys->n; i++)
        if (memcmp(keys->k[i].pub, k.pub, 32) == 0)
            return 0; /* the same key twice counts once */
    if (keys->n >= SIGFMT_KEYS_MAX) {
        errf(err, errlen, "%s: more than %d trusted keys", source, SIGFMT_KEYS_MAX);
        return -1;
    }
    keys->k[keys->n++] = k;
    return 0;
}

static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return -1; /* a 19-digit serial above INT64_MAX */
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sigfmt_time_parse(const char *t, size_t len, int64_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y, mo, d, h, mi, s, days = 0, i;

    if (len != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || t[19] != 'Z' || digits(t, 4, &y) || digits(t + 5, 2, &mo) ||
        digits(t + 8, 2, &d) || digits(t + 11, 2, &h) || digits(t + 14, 2, &mi) ||
        digits(t + 17, 2, &s))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || s > 59)
        return -1;
    for (i = 1970; i < y; i++)
        days += leap(i) ? 366 : 365;
    for (i = 1; i < mo; i++)
        days += mdays[i - 1] + (i == 2 && leap(y));
    days += d - 1;
    *out = ((days * 24 + h) * 60 + mi) * 60 + s;
    return 0;
}

void sigfmt_time_format(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One line starting at *pos (must end with \n before end); returns its
 * length without the \n and advances, or -1. */
static long next_line(const char *buf, size_t len, size_t *pos, const char **line)
{
    const char *nl;

    if (*pos >= len)
        return -1;
    nl = memchr(buf + *pos, '\n', len - *pos);
    if (nl == NULL)
        return -1;
    *line = buf + *pos;
    long n = (long)(nl - (buf + *pos));
    *pos += (size_t)n + 1;
    return n;
}

static int ed25519_verify(const unsigned char pub[32], const unsigned char sig[64],
                          const char *msg, size_t len)
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    if (pk != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
        EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)msg, len) == 1)
        ok = 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return ok;
}

/* "<word> <value>" with the word exact; value pointer/length out. */
static int field(const char *line, long n, const char *word, const char **val, size_t *vlen)
{
    size_t w = strlen(word);

    if (n < 0 || (size_t)n <= w + 1 || memcmp(line, word, w) != 0 || line[w] != ' ')
        return -1;
    *val = line + w + 1;
    *vlen = (size_t)n - w - 1;
    return 0;
}

static int is_hexid(const char *s, size_t n)
{
    size_t i;

    if (n != SIGFMT_KEYID_LEN)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Strict base64 of exactly 64 bytes (88 characters, canonical). */
static int sig_decode(const char *s, size_t n, unsigned char out[64])
{
    unsigned char tmp[72];
    char again[100];

    if (n != 88)
        return -1;
    if (EVP_DecodeBlock(tmp, (const unsigned char *)s, 88) != 66)
        return -1;
    memcpy(out, tmp, 64);
    EVP_EncodeBlock((unsigned char *)again, out, 64);
    return memcmp(again, s, 88) == 0 ? 0 : -1;
}

enum sigfmt_result sigfmt_verify(const char *buf, size_t len, const struct sigfmt_keys *keys,
                                 const struct sigfmt_limits *lim, struct sigfmt_info *info,
                                 char *err, size_t errlen)
{
    size_t pos = 0, nsig = 0, i, j, vlen, ok_signers = 0, m = strlen(SIGFMT_MAGIC);
    const char *line, *val;
    long n;
    struct {
        const char *id;
        unsigned char sig[64];
    } sigs[SIGFMT_SIGS_MAX];
    const struct sigfmt_key *signed_by[SIGFMT_SIGS_MAX];
    unsigned threshold = lim->threshold ? lim->threshold : 1;
    int64_t maxv = lim->max_validity ? lim->max_validity : SIGFMT_MAX_VALIDITY_DEFAULT;
    char unknown[SIGFMT_SIGS_MAX * (SIGFMT_KEYID_LEN + 1) + 1] = "";
    unsigned int mdlen;

    memset(info, 0, sizeof(*info));
    if (len == 0) {
        errf(err, errlen, "empty file");
        return SIGFMT_BAD;
    }
    if (len > SIGFMT_FILE_MAX) {
        errf(err, errlen, "larger than %u bytes", SIGFMT_FILE_MAX);
        return SIGFMT_BAD;
    }
    if (memchr(buf, '\r', len) != NULL) {
        errf(err, errlen, "carriage return in the file (CRLF line ends?): not the bytes "
             "that were signed");
        return SIGFMT_BAD;
    }
    if (memchr(buf, '\0', len) != NULL) {
        errf(err, errlen, "NUL byte in the file");
        return SIGFMT_BAD;
    }
    if (len < m || memcmp(buf, SIGFMT_MAGIC, m) != 0) {
        errf(err, errlen, "not a signed pinset (first line is not \"%.*s\")", (int)m - 1,
             SIGFMT_MAGIC);
        return SIGFMT_BAD;
    }
    pos = m;
    for (;;) {
        n = next_line(buf, len, &pos, &line);
        if (n < 0) {
            errf(err, errlen, "truncated: no payload after the signatures");
            return SIGFMT_BAD;
        }
        if (n == 0)
            break;
        if (field(line, n, "sig", &val, &vlen) != 0 || vlen != SIGFMT_KEYID_LEN + 1 + 88 ||
            !is_hexid(val, SIGFMT_KEYID_LEN) || val[SIGFMT_KEYID_LEN] != ' ') {
            errf(err, errlen, "line %zu of the signature block is not \"sig <key-id> "
                 "<signature>\"", nsig + 2);
            return SIGFMT_BAD;
        }
        if (nsig >= SIGFMT_SIGS_MAX) {
            errf(err, errlen, "more than %d signatures", SIGFMT_SIGS_MAX);
            return SIGFMT_BAD;
        }
        if (sig_decode(val + SIGFMT_KEYID_LEN + 1, 88, sigs[nsig].sig) != 0) {
            errf(err, errlen, "signature %zu is not 64 bytes of base64", nsig + 1);
            return SIGFMT_BAD;
        }
        for (i = 0; i < nsig; i++)
            if (memcmp(sigs[i].id, val, SIGFMT_KEYID_LEN) == 0) {
                errf(err, errlen, "key id %.16s signs twice", val);
                return SIGFMT_BAD;
            }
        sigs[nsig++].id = val;
    }
    if (nsig == 0) {
        errf(err, errlen, "no signature");
        return SIGFMT_BAD;
    }
    info->payload = buf + pos;
    info->payload_len = len - pos;
    /* Signatures first: nothing of the payload is read before they hold. */
    for (i = 0; i < nsig; i++) {
        const struct sigfmt_key *k = NULL;
        for (j = 0; j < keys->n; j++)
            if (memcmp(keys->k[j].id, sigs[i].id, SIGFMT_KEYID_LEN) == 0)
                k = &keys->k[j];
        if (k == NULL) {
            if (unknown[0] != '\0')
                strcat(unknown, ",");
            strncat(unknown, sigs[i].id, SIGFMT_KEYID_LEN);
            continue;
        }
        if (!ed25519_verify(k->pub, sigs[i].sig, info->payload, info->payload_len)) {
            errf(err, errlen, "bad signature for trusted key %s (%s): the file was altered, "
                 "or signed by another key under this key's id", k->id, k->source);
            return SIGFMT_BAD;
        }
        signed_by[ok_signers++] = k;
    }
    if (ok_signers < threshold) {
        if (ok_signers == 0)
            errf(err, errlen, "not signed by a trusted key (signed by %s; trusted: %zu "
                 "key%s)", unknown[0] ? unknown : "nobody", keys->n, keys->n == 1 ? "" : "s");
        else
            errf(err, errlen, "signed by %zu trusted key%s, %u needed", ok_signers,
                 ok_signers == 1 ? "" : "s", threshold);
        return SIGFMT_BAD;
    }
    for (i = 0; i < ok_signers; i++) {
        if (i > 0)
            strcat(info->signers, ",");
        strcat(info->signers, signed_by[i]->id);
    }
    EVP_Digest(buf, len, info->sha256, &mdlen, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++)
        snprintf(info->sha256_hex + 2 * i, 3, "%02x", info->sha256[i]);

    /* The payload header: fixed fields in a fixed order. */
    pos = 0;
    {
        const char *p = info->payload;
        size_t plen = info->payload_len, pm = strlen(SIGFMT_PAYLOAD_MAGIC);
        int64_t serial;
        if (plen < pm || memcmp(p, SIGFMT_PAYLOAD_MAGIC, pm) != 0) {
            errf(err, errlen, "payload does not start with \"%.*s\"", (int)pm - 1,
                 SIGFMT_PAYLOAD_MAGIC);
            return SIGFMT_BAD;
        }
        pos = pm;
        n = next_line(p, plen, &pos, &line);
        if (field(line, n, "serial", &val, &vlen) != 0 || vlen > 19 || val[0] == '0' ||
            digits(val, vlen, &serial) != 0 || serial <= 0) {
            errf(err, errlen, "payload line 2 is not \"serial <1..%lld>\"", (long long)INT64_MAX);
            return SIGFMT_BAD;
        }
        info->serial = (uint64_t)serial;
        n = next_line(p, plen, &pos, &line);
        if (field(line, n, "issued", &val, &vlen) != 0 ||
            sigfmt_time_parse(val, vlen, &info->issued) != 0) {
            errf(err, errlen, "payload line 3 is not \"issued YYYY-MM-DDTHH:MM:SSZ\"");
            return SIGFMT_BAD;
        }
        n = next_line(p, plen, &pos, &line);
        if (field(line, n, "expires", &val, &vlen) != 0 ||
            sigfmt_time_parse(val, vlen, &info->expires) != 0) {
            errf(err, errlen, "payload line 4 is not \"expires YYYY-MM-DDTHH:MM:SSZ\"");
            return SIGFMT_BAD;
        }
        n = next_line(p, plen, &pos, &line);
        if (n != 0) {
            errf(err, errlen, "payload line 5 is not empty (unknown or extra field)");
            return SIGFMT_BAD;
        }
        info->body = p + pos;
        info->body_len = plen - pos;
    }
    if (info->expires <= info->issued) {
        errf(err, errlen, "expires is not after issued");
        return SIGFMT_BAD;
    }
    if (info->expires - info->issued > maxv) {
        errf(err, errlen, "validity of %lld s is longer than the %lld s allowed",
             (long long)(info->expires - info->issued), (long long)maxv);
        return SIGFMT_BAD;
    }
    if (info->issued > lim->now + SIGFMT_SKEW) {
        char t[21];
        sigfmt_time_format(info->issued, t);
        errf(err, errlen, "issued in the future (%s)", t);
        return SIGFMT_BAD;
    }
    if (lim->now >= info->expires) {
        char t[21];
        sigfmt_time_format(info->expires, t);
        errf(err, errlen, "expired at %s (serial %llu)", t, (unsigned long long)info->serial);
        return SIGFMT_STALE;
    }
    return SIGFMT_OK;
}

static int ed25519_sign(const char *pem, size_t pem_len, const char *msg, size_t len,
                        unsigned char sig[64], char id[SIGFMT_KEYID_LEN + 1], char *err,
                        size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char pub[32];
    size_t publen = 32, siglen = 64;
    int r = -1;

    BIO_free(bio);
    if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1) {
        errf(err, errlen, "not an Ed25519 private key (PEM)");
        goto out;
    }
    sigfmt_key_id(pub, id);
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, len) != 1 ||
        siglen != 64) {
        errf(err, errlen, "signing failed");
        goto out;
    }
    r = 0;
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return r;
}

char *sigfmt_sign(const char *body, size_t body_len, uint64_t serial, int64_t issued,
                  int64_t expires, const char *const *priv_pems, const size_t *priv_lens,
                  size_t n_priv, size_t *len, char *err, size_t errlen)
{
    char hdr[256], ti[21], te[21];
    char *payload = NULL, *out = NULL;
    size_t plen, hlen, i, o;

    if (n_priv == 0 || n_priv > SIGFMT_SIGS_MAX) {
        errf(err, errlen, "1 to %d signing keys", SIGFMT_SIGS_MAX);
        return NULL;
    }
    if (memchr(body, '\r', body_len) != NULL || memchr(body, '\0', body_len) != NULL) {
        errf(err, errlen, "the pinset has a CR or NUL byte");
        return NULL;
    }
    sigfmt_time_format(issued, ti);
    sigfmt_time_format(expires, te);
    hlen = (size_t)snprintf(hdr, sizeof(hdr), SIGFMT_PAYLOAD_MAGIC "serial %llu\nissued %s\n"
                            "expires %s\n\n", (unsigned long long)serial, ti, te);
    plen = hlen + body_len;
    payload = malloc(plen + 1);
    out = malloc(strlen(SIGFMT_MAGIC) + n_priv * (4 + SIGFMT_KEYID_LEN + 1 + 88 + 1) + 1 +
                 plen + 1);
    if (payload == NULL || out == NULL) {
        errf(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(payload, hdr, hlen);
    memcpy(payload + hlen, body, body_len);
    o = (size_t)sprintf(out, "%s", SIGFMT_MAGIC);
    for (i = 0; i < n_priv; i++) {
        unsigned char sig[64];
        char id[SIGFMT_KEYID_LEN + 1], b64[100];
        if (ed25519_sign(priv_pems[i], priv_lens[i], payload, plen, sig, id, err, errlen) != 0)
            goto fail;
        EVP_EncodeBlock((unsigned char *)b64, sig, 64);
        o += (size_t)sprintf(out + o, "sig %s %s\n", id, b64);
    }
    out[o++] = '\n';
    memcpy(out + o, payload, plen);
    o += plen;
    out[o] = '\0';
    free(payload);
    if (o > SIGFMT_FILE_MAX) {
        errf(err, errlen, "the signed file would be %zu bytes, more than %u", o,
             SIGFMT_FILE_MAX);
        free(out);
        return NULL;
    }
    *len = o;
    return out;
fail:
    free(payload);
    free(out);
    return NULL;
}
