/* See safe_text.h. */
#include "safe_text.h"

#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p that is not a C1 control,
 * or 0 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_printable(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n, i;
    unsigned long cp;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp <= 0x9f || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

char *safe_text(const char *in, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t o = 0;

    if (outlen == 0)
        return out;
    while (*p) {
        char piece[5];
        size_t n, used;
        if (*p >= 0x20 && *p < 0x7f) {
            piece[0] = (char)*p;
            n = used = 1;
        } else if ((used = utf8_printable(p)) > 0) {
            memcpy(piece, p, used);
            n = used;
        } else {
            snprintf(piece, sizeof(piece), "\\x%02x", *p);
            n = 4;
            used = 1;
        }
        if (o + n >= outlen)
            break;
        memcpy(out + o, piece, n);
        o += n;
        p += used;
    }
    out[o] = '\0';
    return out;
}
