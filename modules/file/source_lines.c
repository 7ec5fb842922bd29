/* Finding the true line of a scalar in an array or list (see the header). */
#include "source_lines.h"

#include <string.h>

/* How far back to look: the window is normally a line or two; comments in
 * between could make it longer. */
#define SOURCE_LOOKBACK_LINES 1000

void source_lines_init(struct source_lines *s, const char *text, size_t len)
{
    s->text = text;
    s->len = len;
    s->pos = 0;
    s->line = 1;
}

static void advance_to_line(struct source_lines *s, unsigned line)
{
    while (s->line < line && s->pos < s->len) {
        const char *nl = memchr(s->text + s->pos, '\n', s->len - s->pos);
        if (nl == NULL)
            return;
        s->pos = (size_t)(nl - s->text) + 1;
        s->line++;
    }
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-' || c == '+';
}

static int span_has(const char *start, const char *end, const char *needle, size_t nlen,
                    int token)
{
    const char *p = start;

    while ((size_t)(end - p) >= nlen) {
        const char *hit = memmem(p, (size_t)(end - p), needle, nlen);
        if (hit == NULL)
            return 0;
        if (!token || ((hit == start || !word_char(hit[-1])) &&
                       (hit + nlen == end || !word_char(hit[nlen]))))
            return 1;
        p = hit + 1;
    }
    return 0;
}

/* Start of the line before the one starting at pos (pos > 0). */
static size_t previous_line_start(const char *text, size_t pos)
{
    size_t i = pos - 1; /* the '\n' that ends the previous line */

    while (i > 0 && text[i - 1] != '\n')
        i--;
    return i;
}

unsigned source_lines_find(struct source_lines *s, unsigned floor, unsigned stamped,
                           const char *needle, int token)
{
    size_t nlen = strlen(needle), start;
    unsigned line, steps = 0;

    advance_to_line(s, stamped);
    if (s->line != stamped || nlen == 0)
        return stamped;
    start = s->pos;
    for (line = stamped; line >= floor && steps < SOURCE_LOOKBACK_LINES; line--, steps++) {
        const char *end = memchr(s->text + start, '\n', s->len - start);
        if (end == NULL)
            end = s->text + s->len;
        if (span_has(s->text + start, end, needle, nlen, token))
            return line;
        if (start == 0 || line == 0)
            break;
        start = previous_line_start(s->text, start);
    }
    return stamped;
}
