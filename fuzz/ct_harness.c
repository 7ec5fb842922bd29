/* ct_harness.c — see ct_harness.h. */
#include "ct_harness.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "module_harness.h"

static char *b64(const unsigned char *in, int len)
{
    char *out = malloc((size_t)(4 * ((len + 2) / 3) + 1));
    if (out == NULL)
        abort();
    EVP_EncodeBlock((unsigned char *)out, in, len);
    return out;
}

const char *fh_ct_log_list(unsigned char log_id[32], EVP_PKEY **key)
{
    EVP_PKEY *log_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *spki = NULL;
    int spki_len;
    char *key64, *id64, ts[32], *list;
    time_t now = time(NULL);
    FILE *f;

    if (log_key == NULL || (spki_len = i2d_PUBKEY(log_key, &spki)) <= 0 ||
        EVP_Digest(spki, (size_t)spki_len, log_id, NULL, EVP_sha256(), NULL) != 1)
        abort();
    key64 = b64(spki, spki_len);
    id64 = b64(log_id, 32);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    list = fh_path("log_list.json");
    if ((f = fopen(list, "w")) == NULL)
        abort();
    fprintf(f, "{\"log_list_timestamp\": \"%s\", \"operators\": [\n"
               " {\"name\": \"A\", \"logs\": [{\"description\": \"a\", \"log_id\": \"%s\",\n"
               "   \"key\": \"%s\", \"state\": {\"usable\": {\"timestamp\": \"2020-01-01T00:00:00Z\"}}}]}]}\n",
            ts, id64, key64);
    fclose(f);
    OPENSSL_free(spki);
    free(key64);
    free(id64);
    if (key != NULL)
        *key = log_key;
    else
        EVP_PKEY_free(log_key);
    return list;
}

void fh_ct_log_ids(unsigned char *buf, size_t n, const unsigned char log_id[32])
{
    for (size_t i = 0; i + 32 <= n; i++) {
        size_t k = 0;
        while (k < 32 && buf[i + k] == 0xAA)
            k++;
        if (k == 32) {
            memcpy(buf + i, log_id, 32);
            i += 31;
        }
    }
}
