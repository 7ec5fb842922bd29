/* Well-formed UTF-8, for the command's outputs that must not pass bytes a
 * reader could misread (JSON strings, text for a terminal). */
#ifndef TLSPIN_TOOLS_UTF8_H
#define TLSPIN_TOOLS_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s, or 0 when it is not
 * one: overlong forms, surrogates and code points above U+10FFFF are
 * refused (RFC 3629). A NUL ends a sequence. */
size_t utf8_len(const unsigned char *s);

#endif
