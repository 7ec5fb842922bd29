/* Finding the true line of a scalar in an array or list.
 *
 * libconfig 1.5 stamps such an element with the line of the token after it
 * (its parser's lookahead: the ',' or the closing ']'), which may be lines
 * later. The element itself lies between the previous element's stamp and
 * its own, so a look back over that window for its literal text finds it. */
#ifndef FILE_SOURCE_LINES_H
#define FILE_SOURCE_LINES_H

#include <stddef.h>

/* A forward-only cursor over the text: callers ask in document order. */
struct source_lines {
    const char *text;
    size_t len;
    size_t pos;                  /* start of line `line` */
    unsigned line;
};

void source_lines_init(struct source_lines *s, const char *text, size_t len);

/* The line in [floor, stamped] nearest to `stamped` that holds `needle`
 * (with `token` set: not inside a longer word or number), or `stamped` when
 * none does. Calls must not decrease `stamped`. */
unsigned source_lines_find(struct source_lines *s, unsigned floor, unsigned stamped,
                           const char *needle, int token);

#endif
