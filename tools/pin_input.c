/* Certificates, keys and CSRs from files (see pin_input.h). */
#include "pin_input.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "pin_text.h"

#define INPUT_MAX (16 * 1024 * 1024)
#define ITEMS_MAX 1024

static int slurp(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            unsigned char *more;
            if (cap >= INPUT_MAX) {
                snprintf(err, errlen, "larger than %d MiB", INPUT_MAX >> 20);
                goto fail;
            }
            cap = cap ? cap * 2 : 65536;
            if ((more = realloc(buf, cap + 1)) == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = more;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s", strerror(errno));
                goto fail;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
fail:
    if (f != stdin)
        fclose(f);
    free(buf);
    return -1;
}

static struct pin_item *new_item(struct pin_input *in, enum pin_item_kind kind, char *err,
                                 size_t errlen)
{
    struct pin_item *more;

    if (in->n >= ITEMS_MAX) {
        snprintf(err, errlen, "more than %d objects", ITEMS_MAX);
        return NULL;
    }
    if ((more = realloc(in->items, (in->n + 1) * sizeof(*more))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    in->items = more;
    memset(&more[in->n], 0, sizeof(*more));
    more[in->n].kind = kind;
    return &more[in->n++];
}

static int add_cert(struct pin_input *in, X509 *cert, char *err, size_t errlen)
{
    struct pin_item *it = new_item(in, PIN_ITEM_CERT, err, errlen);

    if (it == NULL) {
        X509_free(cert);
        return -1;
    }
    it->cert = cert;
    if (chain_spki_pin(cert, it->pin) != 0) {
        snprintf(err, errlen, "certificate %zu: cannot compute the pin of its key", in->n);
        return -1;
    }
    pin_name_text(X509_get_subject_name(cert), it->subject, sizeof(it->subject));
    pin_key_text(X509_get0_pubkey(cert), it->key, sizeof(it->key));
    return 0;
}

/* A key or CSR: pin of its SubjectPublicKeyInfo. */
static int add_pubkey(struct pin_input *in, enum pin_item_kind kind, const X509_PUBKEY *xpk,
                      const X509_NAME *subject, char *err, size_t errlen)
{
    struct pin_item *it = new_item(in, kind, err, errlen);

    if (it == NULL)
        return -1;
    if (chain_pubkey_pin(xpk, it->pin) != 0) {
        snprintf(err, errlen, "%s %zu: cannot compute the pin of its key",
                 pin_item_kind_name(kind), in->n);
        return -1;
    }
    if (subject != NULL)
        pin_name_text(subject, it->subject, sizeof(it->subject));
    pin_key_text(X509_PUBKEY_get0((X509_PUBKEY *)xpk), it->key, sizeof(it->key));
    return 0;
}

static int add_evp_pkey(struct pin_input *in, enum pin_item_kind kind, EVP_PKEY *pkey,
                        char *err, size_t errlen)
{
    X509_PUBKEY *xpk = NULL;
    int rc;

    if (X509_PUBKEY_set(&xpk, pkey) != 1) {
        snprintf(err, errlen, "cannot take the public key of a %s", pin_item_kind_name(kind));
        return -1;
    }
    rc = add_pubkey(in, kind, xpk, NULL, err, errlen);
    X509_PUBKEY_free(xpk);
    return rc;
}

/* One DER object of a known kind; `what` is the PEM label or NULL (DER
 * file: try each kind). Returns 1 if taken, 0 if not of that kind, -1 on
 * error. */
static int take_cert(struct pin_input *in, const unsigned char *der, long len, int aux,
                     char *err, size_t errlen)
{
    const unsigned char *p = der;
    X509 *cert = aux ? d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);
    if (cert == NULL || p != der + len) {
        X509_free(cert);
        return 0;
    }
    return add_cert(in, cert, err, errlen) == 0 ? 1 : -1;
}

static int take_csr(struct pin_input *in, const unsigned char *der, long len, char *err,
                    size_t errlen)
{
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, len);
    int rc;

    if (req == NULL || p != der + len) {
        X509_REQ_free(req);
        return 0;
    }
    rc = add_pubkey(in, PIN_ITEM_CSR, X509_REQ_get_X509_PUBKEY(req),
                    X509_REQ_get_subject_name(req), err, errlen) == 0 ? 1 : -1;
    X509_REQ_free(req);
    return rc;
}

static int take_spki(struct pin_input *in, const unsigned char *der, long len, char *err,
                     size_t errlen)
{
    const unsigned char *p = der;
    X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, len);
    int rc;

    /* X509_PUBKEY_get0 decodes the key: an SPKI of an unknown algorithm is
     * no key we could match. */
    if (xpk == NULL || p != der + len || X509_PUBKEY_get0(xpk) == NULL) {
        X509_PUBKEY_free(xpk);
        return 0;
    }
    rc = add_pubkey(in, PIN_ITEM_PUBKEY, xpk, NULL, err, errlen) == 0 ? 1 : -1;
    X509_PUBKEY_free(xpk);
    return rc;
}

static int take_private(struct pin_input *in, const unsigned char *der, long len, char *err,
                        size_t errlen)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, len);
    int rc;

    if (pkey == NULL) {
        EVP_PKEY_free(pkey);
        return 0;
    }
    rc = add_evp_pkey(in, PIN_ITEM_PRIVKEY, pkey, err, errlen) == 0 ? 1 : -1;
    EVP_PKEY_free(pkey);
    return rc;
}

/* PKCS#1 "RSA PUBLIC KEY". */
static int take_rsa_public(struct pin_input *in, const unsigned char *der, long len, char *err,
                           size_t errlen)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
    int rc;

    if (pkey == NULL)
        return 0;
    rc = add_evp_pkey(in, PIN_ITEM_PUBKEY, pkey, err, errlen) == 0 ? 1 : -1;
    EVP_PKEY_free(pkey);
    return rc;
}

static int encrypted(char *err, size_t errlen, unsigned block)
{
    snprintf(err, errlen, "PEM block %u is an encrypted private key: pin its certificate or "
             "public key instead (openssl pkey -in KEY -pubout)", block);
    return -1;
}

static int read_pem(const unsigned char *data, size_t len, struct pin_input *in, char *err,
                    size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    unsigned block = 0;
    int rc = 0;

    if (bio == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        long dlen = 0;
        int taken;

        ERR_clear_error();
        if (PEM_read_bio(bio, &name, &header, &der, &dlen) != 1) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE || block == 0) {
                snprintf(err, errlen, "PEM block %u cannot be read (%s)", block + 1,
                         ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                                                     : "bad base64 or missing END line");
                rc = -1;
            }
            ERR_clear_error();
            break;
        }
        block++;
        if (strstr(header, "ENCRYPTED") != NULL || strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
            taken = encrypted(err, errlen, block);
        else if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0)
            taken = take_cert(in, der, dlen, 0, err, errlen);
        else if (strcmp(name, "TRUSTED CERTIFICATE") == 0)
            taken = take_cert(in, der, dlen, 1, err, errlen);
        else if (strcmp(name, "CERTIFICATE REQUEST") == 0 ||
                 strcmp(name, "NEW CERTIFICATE REQUEST") == 0)
            taken = take_csr(in, der, dlen, err, errlen);
        else if (strcmp(name, "PUBLIC KEY") == 0)
            taken = take_spki(in, der, dlen, err, errlen);
        else if (strcmp(name, "RSA PUBLIC KEY") == 0)
            taken = take_rsa_public(in, der, dlen, err, errlen);
        else if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0 ||
                 strcmp(name, "EC PRIVATE KEY") == 0 || strcmp(name, "DSA PRIVATE KEY") == 0)
            taken = take_private(in, der, dlen, err, errlen);
        else if (strcmp(name, "EC PARAMETERS") == 0 || strcmp(name, "DH PARAMETERS") == 0 ||
                 strcmp(name, "X509 CRL") == 0)
            taken = 1;   /* nothing to pin, harmless next to a key */
        else {
            snprintf(err, errlen, "PEM block %u is \"%.60s\", not a certificate, key or CSR",
                     block, name);
            taken = -1;
        }
        if (taken == 0)
            snprintf(err, errlen, "PEM block %u (\"%.60s\") cannot be decoded", block, name);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        if (taken != 1) {
            rc = -1;
            break;
        }
    }
    BIO_free(bio);
    return rc;
}

static int read_der(const unsigned char *data, size_t len, struct pin_input *in, char *err,
                    size_t errlen)
{
    int taken;

    if (len > (size_t)INPUT_MAX)
        return -1;
    taken = take_cert(in, data, (long)len, 0, err, errlen);
    if (taken == 0)
        taken = take_csr(in, data, (long)len, err, errlen);
    if (taken == 0)
        taken = take_spki(in, data, (long)len, err, errlen);
    if (taken == 0)
        taken = take_private(in, data, (long)len, err, errlen);
    if (taken == 0)
        snprintf(err, errlen, "not a certificate, public key, private key or CSR (PEM or DER)");
    ERR_clear_error();
    return taken == 1 ? 0 : -1;
}

int pin_input_read(const char *path, struct pin_input *out, char *err, size_t errlen)
{
    unsigned char *data;
    size_t len;
    int rc;

    memset(out, 0, sizeof(*out));
    if (slurp(path, &data, &len, err, errlen) != 0)
        return -1;
    if (len == 0) {
        snprintf(err, errlen, "empty");
        free(data);
        return -1;
    }
    if (strstr((const char *)data, "-----BEGIN ") != NULL)
        rc = read_pem(data, len, out, err, errlen);
    else
        rc = read_der(data, len, out, err, errlen);
    free(data);
    ERR_clear_error();
    if (rc == 0 && out->n == 0) {
        snprintf(err, errlen, "no certificate, key or CSR in it");
        rc = -1;
    }
    if (rc != 0)
        pin_input_free(out);
    return rc;
}

void pin_input_free(struct pin_input *in)
{
    for (size_t i = 0; i < in->n; i++)
        X509_free(in->items[i].cert);
    free(in->items);
    in->items = NULL;
    in->n = 0;
}

const char *pin_item_kind_name(enum pin_item_kind kind)
{
    switch (kind) {
    case PIN_ITEM_CERT: return "certificate";
    case PIN_ITEM_PUBKEY: return "public key";
    case PIN_ITEM_PRIVKEY: return "private key";
    case PIN_ITEM_CSR: return "CSR";
    }
    return "?";
}
