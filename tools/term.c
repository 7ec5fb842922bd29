/* Colour only on a terminal (see term.h). */
#include "term.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int decided[3], colour[3];

static int slot(FILE *stream)
{
    int fd = fileno(stream);
    return fd == 1 ? 1 : fd == 2 ? 2 : 0;
}

int term_colour(FILE *stream)
{
    int s = slot(stream);
    if (s == 0)
        return 0;   /* only stdout and stderr are ever coloured */
    if (!decided[s]) {
        const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
        colour[s] = isatty(fileno(stream)) && (no == NULL || no[0] == '\0') &&
                    term != NULL && term[0] != '\0' && strcmp(term, "dumb") != 0;
        decided[s] = 1;
    }
    return colour[s];
}

const char *term_on(FILE *stream, enum term_style style)
{
    static const char *const seq[] = {
        [TERM_BOLD] = "\033[1m",    [TERM_DIM] = "\033[2m",   [TERM_RED] = "\033[1;31m",
        [TERM_YELLOW] = "\033[33m", [TERM_GREEN] = "\033[32m", [TERM_CYAN] = "\033[36m",
    };
    if (!term_colour(stream) || (unsigned)style >= sizeof(seq) / sizeof(seq[0]))
        return "";
    return seq[style];
}

const char *term_off(FILE *stream)
{
    return term_colour(stream) ? "\033[0m" : "";
}
