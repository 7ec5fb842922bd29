/* Parsing the text of one pinsets file (libconfig syntax) into pinsets. */
#ifndef FILE_PINSET_PARSE_H
#define FILE_PINSET_PARSE_H

#include <stddef.h>
#include <tlspin/module.h>

#include "pinset.h"

/* Parse text[0..len) (already read from `file`, which must be owned by list)
 * and append its pinsets to list. Checks each pinset on its own;
 * names and host claims across pinsets are checked later, when all files are
 * read. Returns 0, or -1 with "file:line: reason" in err. */
int pinset_parse_text(struct pinset_list *list, const struct tlspin_host *host,
                      const char *file, const char *text, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
