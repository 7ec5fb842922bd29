/* One way to put untrusted text into an error message, so a host name or a
 * pin from a policy file cannot forge lines or hide bytes. */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void msg_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void msg_quote(const char *text, size_t len, size_t max_chars, char *out, size_t outlen)
{
    size_t i, o = 0;

    if (outlen == 0)
        return;
    for (i = 0; i < len && text[i] != '\0' && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i >= max_chars) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}
