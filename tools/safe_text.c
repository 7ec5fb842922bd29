/* See safe_text.h. */
#include "safe_text.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p that is neither ASCII
 * (handled byte by byte) nor a C1 control (U+0080..U+009F: C2 80..C2 9F),
 * or 0. */
static size_t utf8_printable(const unsigned char *p)
{
    size_t n = utf8_len(p);

    if (n < 2 || (p[0] == 0xc2 && p[1] <= 0x9f))
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
