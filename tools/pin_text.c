/* Spellings of pins and descriptions of certificates and keys. */
#include "pin_text.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "pin.h"

int pin_spelling_parse(const char *name, enum pin_spelling *out)
{
    if (strcmp(name, "tlspin") == 0)
        *out = PIN_SPELL_TLSPIN;
    else if (strcmp(name, "curl") == 0)
        *out = PIN_SPELL_CURL;
    else if (strcmp(name, "hpkp") == 0)
        *out = PIN_SPELL_HPKP;
    else
        return -1;
    return 0;
}

void pin_spell(const unsigned char pin[TLSPIN_PIN_LEN], enum pin_spelling spelling, char *out,
               size_t outlen)
{
    char text[TLSPIN_PIN_TEXT_MAX];
    const char *b64;

    tlspin_pin_format(pin, text, sizeof(text));   /* "sha256/<b64>" */
    b64 = text + strlen("sha256/");
    switch (spelling) {
    case PIN_SPELL_CURL:
        snprintf(out, outlen, "sha256//%s", b64);
        break;
    case PIN_SPELL_HPKP:
        snprintf(out, outlen, "pin-sha256=\"%s\"", b64);
        break;
    default:
        snprintf(out, outlen, "%s", text);
    }
}

/* C0 controls and DEL are escaped by OpenSSL; C1 controls (U+0080..U+009F,
 * UTF-8 C2 80..C2 9F) could still steer a terminal: replaced by '?'. */
static void drop_c1(char *s)
{
    unsigned char *p = (unsigned char *)s, *o = p;
    while (*p) {
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            *o++ = '?';
            p += 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            *o++ = '?';
            p++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
}

void pin_name_text(const X509_NAME *name, char *out, size_t outlen)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (bio == NULL)
        return;
    if (name != NULL &&
        X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
        (len = BIO_get_mem_data(bio, &data)) > 0)
        snprintf(out, outlen, "%.*s", (int)len, data);
    BIO_free(bio);
    drop_c1(out);
}

void pin_key_text(const EVP_PKEY *key, char *out, size_t outlen)
{
    const char *type;
    char group[64] = "";

    if (key == NULL || (type = EVP_PKEY_get0_type_name(key)) == NULL) {
        snprintf(out, outlen, "unknown key");
        return;
    }
    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) == 1) {
        /* OpenSSL names P-256 "prime256v1"; operators know the NIST name. */
        const char *nist = strcmp(group, "prime256v1") == 0 ? "P-256"
                           : strcmp(group, "secp384r1") == 0 ? "P-384"
                           : strcmp(group, "secp521r1") == 0 ? "P-521" : group;
        snprintf(out, outlen, "EC %s", nist);
    } else if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS") ||
               EVP_PKEY_is_a(key, "DSA")) {
        snprintf(out, outlen, "%s %d", type, EVP_PKEY_get_bits(key));
    } else {
        snprintf(out, outlen, "%s", type);
    }
}

const char *pin_cert_role(X509 *cert)
{
    if (X509_check_issued(cert, cert) == X509_V_OK)
        return "root";
    if (X509_check_ca(cert) > 0)
        return "intermediate";
    return "leaf";
}
