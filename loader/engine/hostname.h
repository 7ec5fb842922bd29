/* Host names and host patterns, as policies match them. */
#ifndef TLSPIN_HOSTNAME_H
#define TLSPIN_HOSTNAME_H

#include "engine_export.h"

#include <stddef.h>
#include <tlspin/module.h>

/* Longest normalised host or pattern, including the NUL. */
#define TLSPIN_HOST_MAX TLSPIN_HOST_TEXT_MAX

/* Normalise a host name, IP literal or pattern:
 *  - lower case (ASCII), one trailing dot removed;
 *  - IPv4 literals in dotted quad; IPv6 literals (with or without brackets)
 *    in canonical inet_ntop form without brackets;
 *  - patterns keep a leading "*." (exactly one label) or "**." (any depth,
 *    apex included); no other '*' anywhere; no wildcard on an IP literal;
 *  - labels 1..63 bytes of [a-z0-9_-], total <= 253; no empty label.
 * Returns 0, or -1 with a reason in err (out is then unspecified). */
TLSPIN_ENGINE_API int tlspin_host_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* 1 if the normalised host matches the normalised pattern, else 0. */
TLSPIN_ENGINE_API int tlspin_host_match(const char *pattern, const char *host);

/* 1 if the (normalised) text is an IPv4 or IPv6 literal. */
TLSPIN_ENGINE_API int tlspin_host_is_ip(const char *host);

#endif
