/* Pins: strict base64 and the three accepted spellings of a SHA-256 SPKI pin.
 *
 * Strict means: standard alphabet only, '=' padding mandatory, padding bits
 * zero (one text per pin), no white space inside. A pin that is accepted here
 * is exactly what `tlspin_pin_format` prints back, so logs and configs agree. */
#include "pin.h"

#include "message.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longest pin text we look at. Real pins are at most 57 characters
 * (pin-sha256="<44>"); anything much longer is not a pin. */
#define PIN_TEXT_CAP 512

/* How much of a bad pin we quote back in an error message. */
#define PIN_QUOTE_MAX 80

enum b64_status {
    B64_OK = 0,
    B64_BAD_LENGTH,   /* not a multiple of 4 */
    B64_BAD_CHAR,     /* outside the standard alphabet */
    B64_BAD_PADDING,  /* '=' somewhere other than the last one or two places */
    B64_NONZERO_BITS, /* padding bits set: a second spelling of the same bytes */
    B64_NO_ROOM,      /* out too small */
    B64_TOO_LONG      /* input beyond what an int length can report */
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of one base64 character of the standard alphabet, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int tlspin_base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
    size_t need, i, o = 0;

    if (out == NULL || (in == NULL && inlen > 0))
        return -1;
    if (inlen > ((size_t)INT_MAX / 4) * 3 - 3)
        return -1;
    need = ((inlen + 2) / 3) * 4;
    if (outlen < need + 1)
        return -1;
    for (i = 0; i + 2 < inlen; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < inlen) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < inlen)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = (i + 1 < inlen) ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return (int)o;
}

/* Number of '=' at the end of a quad-aligned input (at most two), after
 * checking that no '=' appears anywhere else. */
static enum b64_status b64_padding(const char *in, size_t inlen, size_t *pads)
{
    size_t i, n = 0;

    while (n < 2 && n < inlen && in[inlen - 1 - n] == '=')
        n++;
    for (i = 0; i < inlen - n; i++)
        if (in[i] == '=')
            return B64_BAD_PADDING;
    *pads = n;
    return B64_OK;
}

/* Strict decoder; on failure *bad is the offset of the offending character
 * (for messages). */
static enum b64_status b64_decode_strict(const char *in, size_t inlen, unsigned char *out,
                                         size_t outlen, size_t *written, size_t *bad)
{
    size_t pads = 0, need, i, o = 0;
    enum b64_status st;

    *written = 0;
    *bad = 0;
    if (inlen == 0)
        return B64_OK;
    if (in == NULL)
        return B64_BAD_CHAR;
    if (inlen > (size_t)INT_MAX)
        return B64_TOO_LONG;
    if (inlen % 4 != 0)
        return B64_BAD_LENGTH;
    st = b64_padding(in, inlen, &pads);
    if (st != B64_OK)
        return st;
    need = (inlen / 4) * 3 - pads;
    if (need > outlen || (need > 0 && out == NULL))
        return B64_NO_ROOM;
    for (i = 0; i < inlen; i += 4) {
        int v[4];
        size_t k, valid = (i + 4 == inlen) ? 4 - pads : 4;
        for (k = 0; k < 4; k++) {
            v[k] = (k < valid) ? b64_value((unsigned char)in[i + k]) : 0;
            if (v[k] < 0) {
                *bad = i + k;
                return B64_BAD_CHAR;
            }
        }
        if ((valid == 2 && (v[1] & 0x0f) != 0) || (valid == 3 && (v[2] & 0x03) != 0)) {
            *bad = i + valid - 1;
            return B64_NONZERO_BITS;
        }
        out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
        if (valid > 2)
            out[o++] = (unsigned char)(((v[1] & 0x0f) << 4) | (v[2] >> 2));
        if (valid > 3)
            out[o++] = (unsigned char)(((v[2] & 0x03) << 6) | v[3]);
    }
    *written = o;
    return B64_OK;
}

int tlspin_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
    size_t written, bad;

    if (b64_decode_strict(in, inlen, out, outlen, &written, &bad) != B64_OK)
        return -1;
    return (int)written;
}

/* ------------------------------------------------------------------------ */
/* Pins                                                                     */
/* ------------------------------------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);

    return len >= plen && memcmp(s, prefix, plen) == 0;
}

/* Decode one base64 body and insist on exactly TLSPIN_PIN_LEN bytes. */
static int pin_decode_body(const char *body, size_t len, const char *quoted,
                           unsigned char pin[TLSPIN_PIN_LEN], char *err, size_t errlen)
{
    unsigned char buf[PIN_TEXT_CAP];
    size_t written, bad;
    enum b64_status st = b64_decode_strict(body, len, buf, sizeof(buf), &written, &bad);

    switch (st) {
    case B64_OK:
        break;
    case B64_BAD_LENGTH:
        msg_set(err, errlen, "pin \"%s\" is not valid base64: its length (%zu) is not a "
                "multiple of 4 ('=' padding is required)", quoted, len);
        return -1;
    case B64_BAD_CHAR: {
        unsigned char c = (unsigned char)body[bad];
        if (c > 0x20 && c < 0x7f)
            msg_set(err, errlen, "pin \"%s\" is not valid base64: character '%c' is not in "
                    "the standard alphabet", quoted, c);
        else
            msg_set(err, errlen, "pin \"%s\" is not valid base64: byte 0x%02x is not in the "
                    "standard alphabet", quoted, c);
        return -1;
    }
    case B64_BAD_PADDING:
        msg_set(err, errlen, "pin \"%s\" is not valid base64: '=' may only end it", quoted);
        return -1;
    case B64_NONZERO_BITS:
        msg_set(err, errlen, "pin \"%s\" is not valid base64: the bits before the '=' "
                "padding must be zero", quoted);
        return -1;
    case B64_NO_ROOM:
    case B64_TOO_LONG:
    default:
        msg_set(err, errlen, "pin \"%s\" is too long, a SHA-256 pin is 32 bytes", quoted);
        return -1;
    }
    if (written != TLSPIN_PIN_LEN) {
        msg_set(err, errlen, "pin \"%s\" is %zu byte%s, a SHA-256 pin is %d", quoted, written,
                written == 1 ? "" : "s", TLSPIN_PIN_LEN);
        return -1;
    }
    memcpy(pin, buf, TLSPIN_PIN_LEN);
    return 0;
}

/* "sha256/<b64>" or curl's "sha256//<b64>". Base64 may itself begin with '/',
 * so both readings are tried; only one of them can be 44 characters long. */
static int pin_parse_sha256_slash(const char *s, size_t len, const char *quoted,
                                  unsigned char pin[TLSPIN_PIN_LEN], char *err, size_t errlen)
{
    static const char single[] = "sha256/";
    static const char curl[] = "sha256//";
    const char *body = s + strlen(single);
    size_t blen = len - strlen(single);

    if (has_prefix(s, len, curl) && blen != 44) {
        body = s + strlen(curl);
        blen = len - strlen(curl);
    }
    return pin_decode_body(body, blen, quoted, pin, err, errlen);
}

/* HPKP: pin-sha256="<b64>", quotes required. */
static int pin_parse_hpkp(const char *s, size_t len, const char *quoted,
                          unsigned char pin[TLSPIN_PIN_LEN], char *err, size_t errlen)
{
    static const char prefix[] = "pin-sha256=";
    const char *body = s + strlen(prefix);
    size_t blen = len - strlen(prefix);

    if (blen < 2 || body[0] != '"' || body[blen - 1] != '"') {
        msg_set(err, errlen, "pin \"%s\" must quote its base64: pin-sha256=\"<base64>\"",
                quoted);
        return -1;
    }
    return pin_decode_body(body + 1, blen - 2, quoted, pin, err, errlen);
}

/* explain = 0: no message at all (the fast path, for the common valid pin);
 * explain = 1: the pin quoted into a reason. */
static int pin_parse(const char *text, unsigned char pin[TLSPIN_PIN_LEN], char *err,
                     size_t errlen, int explain)
{
    char quoted[PIN_QUOTE_MAX * 4 + 8];
    unsigned char tmp[TLSPIN_PIN_LEN];
    size_t len;
    const char *s;
    int r = -1;

    quoted[0] = '\0';
    if (text == NULL || pin == NULL) {
        msg_set(err, errlen, "no pin given");
        return -1;
    }
    len = strnlen(text, PIN_TEXT_CAP);
    if (len >= PIN_TEXT_CAP) {
        msg_set(err, errlen, "pin is too long (more than %d characters)", PIN_TEXT_CAP - 1);
        return -1;
    }
    s = text;
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (explain)
        msg_quote(s, len, PIN_QUOTE_MAX, quoted, sizeof(quoted));
    if (len == 0)
        msg_set(err, errlen, "empty pin");
    else if (has_prefix(s, len, "sha256/"))
        r = pin_parse_sha256_slash(s, len, quoted, tmp, err, errlen);
    else if (has_prefix(s, len, "pin-sha256="))
        r = pin_parse_hpkp(s, len, quoted, tmp, err, errlen);
    else
        msg_set(err, errlen, "pin \"%s\" is not a SHA-256 pin: write sha256/<base64>, "
                "sha256//<base64> or pin-sha256=\"<base64>\"", quoted);
    if (r == 0)
        memcpy(pin, tmp, TLSPIN_PIN_LEN);
    return r;
}

int tlspin_pin_parse(const char *text, unsigned char pin[TLSPIN_PIN_LEN], char *err,
                     size_t errlen)
{
    /* Loading 10,000 pinsets parses 20,000 pins: quote and format only when
     * one turns out to be wrong. */
    if (pin_parse(text, pin, NULL, 0, 0) == 0) {
        if (err != NULL && errlen > 0)
            err[0] = '\0';
        return 0;
    }
    return pin_parse(text, pin, err, errlen, 1);
}

void tlspin_pin_format(const unsigned char pin[TLSPIN_PIN_LEN], char *out, size_t outlen)
{
    static const char prefix[] = "sha256/";
    size_t plen = strlen(prefix);

    if (out == NULL || outlen == 0)
        return;
    out[0] = '\0';
    if (pin == NULL || outlen < plen + 44 + 1)
        return;
    memcpy(out, prefix, plen);
    if (tlspin_base64_encode(pin, TLSPIN_PIN_LEN, out + plen, outlen - plen) < 0)
        out[0] = '\0';
}
