/* Error and diagnostic text for the file module. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void diag_errf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (err == NULL || errlen == 0)
        return;
    err[0] = '\0';
    if (file != NULL && line > 0)
        n = snprintf(err, errlen, "%s:%u: ", file, line);
    else if (file != NULL)
        n = snprintf(err, errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

void diag_quote(const char *text, char out[DIAG_QUOTE_MAX])
{
    size_t i, o = 0;

    out[0] = '\0';
    if (text == NULL)
        return;
    for (i = 0; text[i] != '\0' && o + 8 < DIAG_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i >= 64) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, DIAG_QUOTE_MAX - o, "\\x%02x", c);
    }
    out[o] = '\0';
}
