/* fuzz_file_pinset — a pinset file as the file module reads it: its
 * libconfig-syntax reader (modules/file/conf_tree.c) and the pinset rules
 * (pinset_parse.c), through the module's open() with pinsets = <file>. */
#include "fuzz.h"

#include "module_harness.h"

static const struct tlspin_module *mod;
static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mod = fh_module("file");
    path = fh_path("pins.conf");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[] = {"pinsets", path};

    fh_write(path, data, size);
    (void)fh_open_close(mod, 1, kv);
    return 0;
}
