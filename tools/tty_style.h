/* tty_style — colour and width only on a terminal (for run, doctor,
 * enable-system, disable-system, status and log). NO_COLOR (any value) and
 * TERM=dumb turn colour off; nothing is ever coloured into a pipe or file. */
#ifndef TLSPIN_TTY_STYLE_H
#define TLSPIN_TTY_STYLE_H

#include <stdio.h>

enum ttys_colour { TTYS_RED, TTYS_GREEN, TTYS_YELLOW, TTYS_BOLD, TTYS_DIM };

/* 1 when f is a terminal that takes colour. */
int ttys_colour_ok(FILE *f);
/* The escape sequence that starts / ends colour c on f ("" when none). */
const char *ttys_on(FILE *f, enum ttys_colour c);
const char *ttys_off(FILE *f);
/* Columns of the terminal f is, or 0 when f is not a terminal. */
int ttys_columns(FILE *f);

#endif
