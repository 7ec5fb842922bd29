/* pin_text — how the tlspin command writes pins and describes certificates
 * and keys. Pins are computed by the engine (chain_spki_pin,
 * chain_pubkey_pin) and written by it (tlspin_pin_format); this only adds
 * the other spellings the policy accepts and the human descriptions. */
#ifndef TLSPIN_PIN_TEXT_H
#define TLSPIN_PIN_TEXT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <tlspin/module.h>

enum pin_spelling {
    PIN_SPELL_TLSPIN,   /* sha256/<b64> */
    PIN_SPELL_CURL,     /* sha256//<b64> (curl --pinnedpubkey) */
    PIN_SPELL_HPKP      /* pin-sha256="<b64>" */
};

/* "tlspin", "curl" or "hpkp". Returns 0, or -1 for anything else. */
int pin_spelling_parse(const char *name, enum pin_spelling *out);

/* The pin in that spelling; out holds at least TLSPIN_PIN_TEXT_MAX + 8. */
void pin_spell(const unsigned char pin[TLSPIN_PIN_LEN], enum pin_spelling spelling, char *out,
               size_t outlen);
#define PIN_SPELL_MAX (TLSPIN_PIN_TEXT_MAX + 8)

/* RFC 2253 form of a name, as the engine's records write subjects (UTF-8
 * kept); control characters never reach the output. */
void pin_name_text(const X509_NAME *name, char *out, size_t outlen);

/* "EC P-256", "RSA 2048", "ED25519"... or "unknown key". */
void pin_key_text(const EVP_PKEY *key, char *out, size_t outlen);

/* Where a certificate stands on its own: "root" (self-issued CA or
 * self-signed), "intermediate" (another CA) or "leaf". */
const char *pin_cert_role(X509 *cert);

#endif
