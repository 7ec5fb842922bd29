/* fuzz_signed_payload — what a trusted signer's file says, past a valid
 * signature: the payload header (serial, issued, expires: sigfmt.c), the
 * rollback floor, and the pinsets body (sigbody.c with the file module's
 * reader), through the signed module's open(). The input is the payload;
 * the harness signs it with the one trusted key. "@ISSUED@" and "@EXPIRES@"
 * in it become an hour ago and a day ahead, so the seeds stay fresh. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "module_harness.h"
#include "signed_harness.h"

static const struct tlspin_module *mod;
static const char *keys;
static char *cache, issued[21], expires[21];

static void iso(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    time_t now = time(NULL);

    (void)argc;
    (void)argv;
    mod = fh_module("signed");
    keys = sh_init();
    cache = fh_path("pinset.signed");
    iso(now - 3600, issued);
    iso(now + 86400, expires);
    return 0;
}

/* Copy of data with each placeholder replaced by a 20-byte time. */
static uint8_t *fill(const uint8_t *data, size_t size, size_t *out_len)
{
    uint8_t *out = malloc(size * 3 + 1); /* 8 bytes "@ISSUED@" become 20 */
    size_t i = 0, o = 0;

    if (out == NULL)
        return NULL;
    while (i < size) {
        if (size - i >= 8 && memcmp(data + i, "@ISSUED@", 8) == 0) {
            memcpy(out + o, issued, 20);
            o += 20;
            i += 8;
        } else if (size - i >= 9 && memcmp(data + i, "@EXPIRES@", 9) == 0) {
            memcpy(out + o, expires, 20);
            o += 20;
            i += 9;
        } else {
            out[o++] = data[i++];
        }
    }
    *out_len = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[] = {"cache", cache, "keys", keys};
    size_t plen, len;
    uint8_t *payload = fill(data, size, &plen);
    char *file;

    if (payload == NULL)
        return 0;
    file = sh_sign(payload, plen, &len);
    free(payload);
    if (file == NULL)
        return 0;
    fh_write(cache, (const uint8_t *)file, len);
    free(file);
    (void)fh_open_close(mod, 2, kv);
    return 0;
}
