/* Pins: SHA-256 of a DER SubjectPublicKeyInfo, written "sha256/<base64>". */
#ifndef TLSPIN_PIN_H
#define TLSPIN_PIN_H

#include "engine_export.h"

#include <stddef.h>
#include <tlspin/module.h>

/* Accepts "sha256/<b64>", "sha256//<b64>" (curl) and pin-sha256="<b64>"
 * (HPKP), surrounding white space ignored. The base64 MUST decode to exactly
 * 32 bytes (standard alphabet, '=' padding required). Returns 0, or -1 with a
 * reason in err. */
TLSPIN_ENGINE_API int tlspin_pin_parse(const char *text, unsigned char pin[TLSPIN_PIN_LEN],
                     char *err, size_t errlen);

/* Writes "sha256/<b64>" (51 characters) into out; out must hold
 * TLSPIN_PIN_TEXT_MAX bytes. */
TLSPIN_ENGINE_API void tlspin_pin_format(const unsigned char pin[TLSPIN_PIN_LEN], char *out, size_t outlen);

/* Standard base64 with padding. encode returns the length written (without
 * NUL) or -1 if out is too small; decode returns the decoded length or -1 on
 * any invalid character, bad padding or overflow of out. */
TLSPIN_ENGINE_API int tlspin_base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen);
TLSPIN_ENGINE_API int tlspin_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);

#endif
