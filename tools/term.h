/* term — colour for the tlspin command, only where a person reads it.
 *
 * Colour is used when the stream is a terminal, NO_COLOR is unset or empty
 * (https://no-color.org) and TERM is not "dumb"; never in a pipe, a file or
 * cron mail. The answer is worked out once per stream.
 *
 *     printf("%serror%s: ...\n", term_on(stdout, TERM_RED), term_off(stdout));
 *
 * term_on/term_off return "" when the stream gets no colour, so the same
 * format string serves both cases. */
#ifndef TLSPIN_TERM_H
#define TLSPIN_TERM_H

#include <stdio.h>

enum term_style {
    TERM_BOLD,
    TERM_DIM,
    TERM_RED,      /* errors, CRITICAL, blocked */
    TERM_YELLOW,   /* warnings */
    TERM_GREEN,    /* OK, allowed, pass */
    TERM_CYAN      /* notes, names */
};

/* 1 when `stream` (stdout or stderr) gets colour. */
int term_colour(FILE *stream);

/* The escape sequence that starts `style`, or "" without colour. */
const char *term_on(FILE *stream, enum term_style style);

/* The escape sequence that ends any style, or "" without colour. */
const char *term_off(FILE *stream);

#endif
