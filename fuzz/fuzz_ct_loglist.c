/* fuzz_ct_loglist — a CT log list (the JSON of modules/ct/json.c and the
 * list's rules in loglist.c), through the ct module's open() with
 * log_list = <file>. */
#include "fuzz.h"

#include "module_harness.h"

static const struct tlspin_module *mod;
static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mod = fh_module("ct");
    path = fh_path("log_list.json");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A list of any age is read to the end: staleness is judged after. */
    const char *kv[] = {"log_list", path, "max_list_age_days", "3650"};

    fh_write(path, data, size);
    (void)fh_open_close(mod, 2, kv);
    return 0;
}
