/* fuzz_signed_envelope — a signed pinset file as the signed module reads its
 * cache (modules/signed/sigfmt.c: envelope line, signature lines, key ids,
 * base64, then the signature check), through the module's open() with
 * cache = <file>, keys = <directory of one trusted key>. The input is the
 * whole file: mutations keep no valid signature, so this harness covers
 * what is read before the signature is checked; fuzz_signed_payload covers
 * the rest. */
#include "fuzz.h"

#include <stdlib.h>

#include "module_harness.h"
#include "signed_harness.h"

static const struct tlspin_module *mod;
static const char *keys;
static char *cache;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mod = fh_module("signed");
    keys = sh_init();
    cache = fh_path("pinset.signed");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[] = {"cache", cache, "keys", keys};

    fh_write(cache, data, size);
    (void)fh_open_close(mod, 2, kv);
    return 0;
}
