/* fuzz_log_line — system log lines as `tlspin log` reads them
 * (tools/log_line.c, compiled in: the CLI is a dlopen'ed object whose
 * functions are not exported). Log lines carry peer-controlled text. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log_line.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"verdict", "host", "port", "module", "reason",
                                       "program", "pins", ""};
    char *line = malloc(size + 1);
    struct log_entry e;
    char out[512];

    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (logl_parse(line, (time_t)1796000000, &e) == 1 && e.msg != NULL)
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            (void)logl_field(e.msg, keys[i], out, sizeof out);
            (void)logl_field(e.msg, keys[i], out, 4);
        }
    free(line);
    return 0;
}
