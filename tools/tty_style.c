/* tty_style — see tty_style.h. */
#include "tty_style.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int ttys_colour_ok(FILE *f)
{
    const char *term = getenv("TERM");
    if (getenv("NO_COLOR") != NULL)
        return 0;
    if (term == NULL || strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(f));
}

const char *ttys_on(FILE *f, enum ttys_colour c)
{
    static const char *const seq[] = {
        [TTYS_RED] = "\033[31m", [TTYS_GREEN] = "\033[32m", [TTYS_YELLOW] = "\033[33m",
        [TTYS_BOLD] = "\033[1m", [TTYS_DIM] = "\033[2m"};
    return ttys_colour_ok(f) ? seq[c] : "";
}

const char *ttys_off(FILE *f)
{
    return ttys_colour_ok(f) ? "\033[0m" : "";
}

int ttys_columns(FILE *f)
{
    struct winsize ws;
    if (!isatty(fileno(f)))
        return 0;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    return c && atoi(c) > 0 ? atoi(c) : 80;
}
