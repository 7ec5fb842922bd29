/* signed_harness.c — see signed_harness.h. */
#include "signed_harness.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "module_harness.h"

static EVP_PKEY *key;
static char key_id[17];

const char *sh_init(void)
{
    char *dir = fh_path("keys"), *pub = fh_path("keys/fuzz.pub");
    unsigned char raw[32], digest[32];
    size_t rawlen = sizeof raw;
    FILE *f;

    key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL || EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != 32 ||
        EVP_Digest(raw, rawlen, digest, NULL, EVP_sha256(), NULL) != 1)
        abort();
    for (int i = 0; i < 8; i++)
        snprintf(key_id + 2 * i, 3, "%02x", digest[i]);
    if (mkdir(dir, 0700) != 0 || (f = fopen(pub, "w")) == NULL)
        abort();
    if (PEM_write_PUBKEY(f, key) != 1)
        abort();
    fclose(f);
    free(pub);
    return dir;
}

char *sh_sign(const uint8_t *payload, size_t plen, size_t *len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[64];
    size_t siglen = sizeof sig;
    char b64[100], *out = NULL;
    int n;

    if (ctx == NULL)
        return NULL;
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
        EVP_DigestSign(ctx, sig, &siglen, payload, plen) == 1 && siglen == 64) {
        EVP_EncodeBlock((unsigned char *)b64, sig, 64);
        out = malloc(256 + plen); /* the envelope lines are 134 bytes */
        if (out != NULL) {
            n = sprintf(out, "tlspin-signed-pinset 1\nsig %s %s\n\n", key_id, b64);
            memcpy(out + n, payload, plen);
            *len = (size_t)n + plen;
        }
    }
    EVP_MD_CTX_free(ctx);
    return out;
}
