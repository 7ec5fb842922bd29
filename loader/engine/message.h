/* Error messages about untrusted input: formatting and quoting. */
#ifndef TLSPIN_MESSAGE_H
#define TLSPIN_MESSAGE_H

#include <stddef.h>

/* printf into err (NULL-safe, always NUL-terminated when errlen > 0). */
void msg_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies up to max_chars bytes of text[0..len) for a message: printable
 * ASCII as is, '"' and '\\' backslash-escaped, anything else \xNN, "..." when
 * cut. Never overflows out. */
void msg_quote(const char *text, size_t len, size_t max_chars, char *out, size_t outlen);

#endif
