/* Host names, IP literals and host patterns: one normal form, one matcher.
 *
 * Everything a policy matches goes through tlspin_host_normalize first, so
 * the matcher only compares whole labels of lower-case text. Wildcards are a
 * whole first label only ("*." one label, "**." any depth incl. the apex):
 * partial-label wildcards and wildcards over IPs are refused outright rather
 * than given subtle meanings. */
#include "hostname.h"

#include "message.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest name or pattern in normal form (RFC 1035 presentation limit). */
#define HOST_TEXT_MAX 253
#define LABEL_MAX 63

enum wildcard_kind { WILDCARD_NONE, WILDCARD_ONE_LABEL, WILDCARD_ANY_DEPTH };

static int copy_out(const char *text, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t len = strlen(text);

    if (out == NULL || len + 1 > outlen) {
        msg_set(err, errlen, "no room for the normalised host name");
        return -1;
    }
    memcpy(out, text, len + 1);
    return 0;
}

/* IPv6 literal, with or without brackets, to inet_ntop's canonical text. */
static int normalize_ipv6(const char *in, size_t len, const char *quoted, char *out,
                          size_t outlen, char *err, size_t errlen)
{
    char inner[INET6_ADDRSTRLEN + 1];
    char canon[INET6_ADDRSTRLEN];
    unsigned char addr[16];

    if (in[0] == '[') {
        if (len < 3 || in[len - 1] != ']') {
            msg_set(err, errlen, "\"%s\" is not an IPv6 address in brackets", quoted);
            return -1;
        }
        in++;
        len -= 2;
    }
    if (memchr(in, '*', len) != NULL) {
        msg_set(err, errlen, "\"%s\": no wildcard is allowed on an IP address", quoted);
        return -1;
    }
    if (len >= sizeof(inner)) {
        msg_set(err, errlen, "\"%s\" is not an IPv6 address", quoted);
        return -1;
    }
    memcpy(inner, in, len);
    inner[len] = '\0';
    if (inet_pton(AF_INET6, inner, addr) != 1) {
        const char *colon = strchr(inner, ':');
        if (colon != NULL && colon == strrchr(inner, ':') && memchr(inner, '.', len) != NULL)
            msg_set(err, errlen, "\"%s\" is not a host name: ':' belongs only in an IPv6 "
                    "address (write the port separately)", quoted);
        else
            msg_set(err, errlen, "\"%s\" is not an IPv6 address (zone ids are not "
                    "supported)", quoted);
        return -1;
    }
    if (inet_ntop(AF_INET6, addr, canon, sizeof(canon)) == NULL) {
        msg_set(err, errlen, "\"%s\" cannot be printed as an IPv6 address", quoted);
        return -1;
    }
    return copy_out(canon, out, outlen, err, errlen);
}

/* Split off a leading "*." or "**.". */
static enum wildcard_kind take_wildcard(const char **rest)
{
    if (strncmp(*rest, "**.", 3) == 0) {
        *rest += 3;
        return WILDCARD_ANY_DEPTH;
    }
    if (strncmp(*rest, "*.", 2) == 0) {
        *rest += 2;
        return WILDCARD_ONE_LABEL;
    }
    return WILDCARD_NONE;
}

static int is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Labels of 1..63 characters of [a-z0-9_-]; counts them into *labels. */
static int check_labels(const char *name, const char *quoted, size_t *labels, char *err,
                        size_t errlen)
{
    size_t run = 0;
    const char *p;

    *labels = 0;
    for (p = name;; p++) {
        if (*p == '.' || *p == '\0') {
            if (run == 0) {
                msg_set(err, errlen, "\"%s\" has an empty label", quoted);
                return -1;
            }
            (*labels)++;
            run = 0;
            if (*p == '\0')
                return 0;
            continue;
        }
        if (*p == '*') {
            msg_set(err, errlen, "\"%s\": '*' is only allowed as the whole first label "
                    "(\"*.\" for one label, \"**.\" for any depth)", quoted);
            return -1;
        }
        if (!is_label_char(*p)) {
            unsigned char c = (unsigned char)*p;
            if (c > 0x20 && c < 0x7f)
                msg_set(err, errlen, "\"%s\" contains '%c', not allowed in a host name",
                        quoted, c);
            else
                msg_set(err, errlen, "\"%s\" contains byte 0x%02x, not allowed in a host "
                        "name", quoted, c);
            return -1;
        }
        if (++run > LABEL_MAX) {
            msg_set(err, errlen, "\"%s\" has a label longer than %d characters", quoted,
                    LABEL_MAX);
            return -1;
        }
    }
}

static int made_of(const char *text, const char *set)
{
    return strspn(text, set) == strlen(text);
}

/* A last label of digits only (or 0x<hex>) is an IP address in disguise to
 * inet_aton and URL parsers: refuse it unless it is a real dotted quad. */
static int last_label_is_numeric(const char *name)
{
    const char *last = strrchr(name, '.');

    last = last ? last + 1 : name;
    if (strncmp(last, "0x", 2) == 0)
        return made_of(last + 2, "0123456789abcdef");
    return last[0] != '\0' && made_of(last, "0123456789");
}

/* Host name, IPv4 literal or pattern (already lower case, trailing dot gone). */
static int normalize_name(const char *lower, const char *quoted, char *out, size_t outlen,
                          char *err, size_t errlen)
{
    const char *rest = lower;
    enum wildcard_kind kind = take_wildcard(&rest);
    unsigned char addr4[4];
    size_t labels;

    if (check_labels(rest, quoted, &labels, err, errlen) != 0)
        return -1;
    if (inet_pton(AF_INET, rest, addr4) == 1) {
        if (kind != WILDCARD_NONE) {
            msg_set(err, errlen, "\"%s\": no wildcard is allowed on an IP address", quoted);
            return -1;
        }
        return copy_out(rest, out, outlen, err, errlen);
    }
    if (last_label_is_numeric(rest)) {
        msg_set(err, errlen, "\"%s\" is neither a host name (its last label is a number) "
                "nor a dotted-quad IPv4 address", quoted);
        return -1;
    }
    if (kind != WILDCARD_NONE && labels < 2) {
        msg_set(err, errlen, "\"%s\": a wildcard needs at least two labels after it (it "
                "would cover a whole public suffix)", quoted);
        return -1;
    }
    if (strlen(lower) > HOST_TEXT_MAX) {
        msg_set(err, errlen, "\"%s\" is longer than %d characters", quoted, HOST_TEXT_MAX);
        return -1;
    }
    return copy_out(lower, out, outlen, err, errlen);
}

int tlspin_host_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    char quoted[64 * 4 + 8];
    char lower[TLSPIN_HOST_MAX];
    size_t len, i;

    /* Cleared by hand: a vsnprintf costs 1.5 KB of the program's stack. */
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (in == NULL) {
        msg_set(err, errlen, "no host name given");
        return -1;
    }
    msg_quote(in, strlen(in), 64, quoted, sizeof(quoted));
    len = strnlen(in, TLSPIN_HOST_MAX);
    if (len >= TLSPIN_HOST_MAX) {
        msg_set(err, errlen, "\"%s\" is longer than %d characters", quoted, HOST_TEXT_MAX);
        return -1;
    }
    if (len == 0) {
        msg_set(err, errlen, "empty host name");
        return -1;
    }
    if (in[0] == '[' || memchr(in, ':', len) != NULL)
        return normalize_ipv6(in, len, quoted, out, outlen, err, errlen);
    for (i = 0; i < len; i++)
        lower[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    if (len > 1 && lower[len - 1] == '.')
        len--;
    lower[len] = '\0';
    return normalize_name(lower, quoted, out, outlen, err, errlen);
}

/* Length without one trailing dot: the matcher tolerates un-normalised
 * trailing dots rather than miss a pinned host because of one. */
static size_t name_length(const char *s)
{
    size_t len = strnlen(s, TLSPIN_HOST_MAX);

    if (len > 1 && s[len - 1] == '.')
        len--;
    return len;
}

/* host[0..hlen) ends with "." + suffix[0..slen), case-insensitively, with a
 * non-empty part in front; *front_len gets the length of that part. */
static int ends_with_label_suffix(const char *host, size_t hlen, const char *suffix,
                                  size_t slen, size_t *front_len)
{
    if (slen == 0 || hlen < slen + 2)
        return 0;
    if (host[hlen - slen - 1] != '.')
        return 0;
    if (strncasecmp(host + hlen - slen, suffix, slen) != 0)
        return 0;
    *front_len = hlen - slen - 1;
    return 1;
}

int tlspin_host_match(const char *pattern, const char *host)
{
    size_t plen, hlen, front = 0;
    const char *suffix = pattern;
    enum wildcard_kind kind;

    if (pattern == NULL || host == NULL)
        return 0;
    plen = name_length(pattern);
    hlen = name_length(host);
    if (plen == 0 || hlen == 0 || plen >= TLSPIN_HOST_MAX || hlen >= TLSPIN_HOST_MAX)
        return 0;
    if (memchr(host, '*', hlen) != NULL)
        return 0; /* a host is never a pattern */
    kind = take_wildcard(&suffix);
    if (kind == WILDCARD_NONE)
        return plen == hlen && strncasecmp(pattern, host, hlen) == 0;
    if (tlspin_host_is_ip(host))
        return 0;
    if ((size_t)(suffix - pattern) >= plen)
        return 0; /* "*." or "**." alone (not normalized): no suffix to match */
    plen -= (size_t)(suffix - pattern);
    if (kind == WILDCARD_ANY_DEPTH) {
        if (plen == hlen && strncasecmp(suffix, host, hlen) == 0)
            return 1; /* the apex */
        return ends_with_label_suffix(host, hlen, suffix, plen, &front);
    }
    if (!ends_with_label_suffix(host, hlen, suffix, plen, &front))
        return 0;
    return memchr(host, '.', front) == NULL; /* exactly one label */
}

int tlspin_host_is_ip(const char *host)
{
    char inner[INET6_ADDRSTRLEN + 1];
    unsigned char addr[16];
    size_t len;

    if (host == NULL)
        return 0;
    len = strnlen(host, sizeof(inner) + 2);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(inner))
        return 0;
    memcpy(inner, host, len);
    inner[len] = '\0';
    return inet_pton(AF_INET, inner, addr) == 1 || inet_pton(AF_INET6, inner, addr) == 1;
}
