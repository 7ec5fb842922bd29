/* fuzz_hostname — host names and host patterns (loader/engine/hostname.c):
 * the input is "<pattern>\n<host>"; both are normalized, then matched. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "hostname.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *host;
    char pat_n[TLSPIN_HOST_MAX], host_n[TLSPIN_HOST_MAX], again[TLSPIN_HOST_MAX], err[256];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    host = strchr(text, '\n');
    if (host != NULL)
        *host++ = '\0';
    else
        host = text;
    (void)tlspin_host_is_ip(text);
    (void)tlspin_host_match(text, host);            /* raw text too: it must not crash */
    if (tlspin_host_normalize(text, pat_n, sizeof pat_n, err, sizeof err) == 0) {
        /* Normalizing is idempotent. */
        if (tlspin_host_normalize(pat_n, again, sizeof again, err, sizeof err) != 0 ||
            strcmp(pat_n, again) != 0)
            abort();
        if (tlspin_host_normalize(host, host_n, sizeof host_n, err, sizeof err) == 0)
            (void)tlspin_host_match(pat_n, host_n);
    }
    free(text);
    return 0;
}
