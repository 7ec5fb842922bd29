/* fuzz_policy — the policy file, tlspin.conf (loader/engine/config.c through
 * config_load, as the engine and `tlspin check` read it: libconfig, then
 * tlspin's own checks). No module is loaded. */
#include "fuzz.h"

#include "config.h"
#include "module_harness.h"

static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    path = fh_path("tlspin.conf");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy_config *config = NULL;
    char err[1024];

    fh_write(path, data, size);
    if (config_load(path, TLSPIN_FUZZ_MODULEDIR, &config, err, sizeof err) == 0)
        config_free(config);
    return 0;
}
