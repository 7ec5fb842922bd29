/* pin_input — reading what an operator has on disk to pin: certificates,
 * chains (every certificate of the file), public keys, private keys (their
 * public half) and certificate signing requests, in PEM (any number of
 * blocks, in order) or DER (one object). */
#ifndef TLSPIN_PIN_INPUT_H
#define TLSPIN_PIN_INPUT_H

#include <openssl/x509.h>
#include <stddef.h>
#include <tlspin/module.h>

enum pin_item_kind {
    PIN_ITEM_CERT,
    PIN_ITEM_PUBKEY,
    PIN_ITEM_PRIVKEY,
    PIN_ITEM_CSR
};

struct pin_item {
    enum pin_item_kind kind;
    unsigned char pin[TLSPIN_PIN_LEN];  /* SHA-256 of the SubjectPublicKeyInfo */
    X509 *cert;                         /* owned; certificates only */
    char subject[512];                  /* certificates and CSRs; "" for keys */
    char key[64];                       /* "EC P-256", "RSA 2048"... */
};

struct pin_input {
    struct pin_item *items;
    size_t n;
};

/* Reads `path` ("-" reads standard input). Returns 0 with at least one
 * item, or -1 with a reason in err (nothing kept). An encrypted private key
 * is refused: its certificate or public key has the same pin. */
int pin_input_read(const char *path, struct pin_input *out, char *err, size_t errlen);
void pin_input_free(struct pin_input *in);

/* "certificate", "public key", "private key", "CSR". */
const char *pin_item_kind_name(enum pin_item_kind kind);

#endif
