/* Checks on the raw text of a pinsets file for what libconfig 1.5 would
 * accept silently: NUL bytes, @include, "\x00" in strings (cuts a string
 * short) and integers beyond 32 bits (wrapped: 4294967739 reads as 443). */
#ifndef FILE_SOURCE_CHECK_H
#define FILE_SOURCE_CHECK_H

#include <stddef.h>

/* Returns 0, or -1 with "file:line: reason" in err. */
int source_check(const char *file, const char *text, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
