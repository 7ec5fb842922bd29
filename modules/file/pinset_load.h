/* Loading every pinset of a `pinsets` path: a directory of *.conf files
 * (sorted) or a single file. */
#ifndef FILE_PINSET_LOAD_H
#define FILE_PINSET_LOAD_H

#include <stddef.h>
#include <tlspin/module.h>

#include "pinset.h"

/* path comes from the policy at arg_file:arg_line (for messages about the
 * path itself). Fills list (which the caller frees either way). Returns 0, or
 * -1 with "file:line: reason" in err. */
int pinset_load(struct pinset_list *list, const struct tlspin_host *host, const char *path,
                const char *arg_file, unsigned arg_line, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
