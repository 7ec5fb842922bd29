/* cert_report — one certificate, key or CSR as `tlspin pin` and `tlspin
 * probe` show it: pin, position in the chain, where it came from, subject,
 * issuer, validity with the 30/14/7/1-day expiry marks, key type. In text
 * (colour on a terminal) or as a JSON object. */
#ifndef TLSPIN_CERT_REPORT_H
#define TLSPIN_CERT_REPORT_H

#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <tlspin/module.h>

#include "json_out.h"
#include "pin_text.h"

enum cert_origin {
    ORIGIN_FILE,             /* read from a file */
    ORIGIN_SERVER,           /* sent by the server, part of the verified chain */
    ORIGIN_TRUST_STORE,      /* completed from the trust store (not sent) */
    ORIGIN_PRESENTED_ONLY    /* sent by the server, NOT in the verified chain:
                                tlspin never counts it */
};

struct cert_entry {
    X509 *cert;              /* NULL for a key or a CSR */
    const unsigned char *pin;
    const char *kind;        /* "certificate", "public key", "private key", "CSR" */
    const char *position;    /* "leaf", "intermediate", "root"; NULL for keys/CSRs */
    enum cert_origin origin;
    const char *subject;     /* used when cert is NULL (CSR); may be NULL */
    const char *key;         /* used when cert is NULL */
};

/* A titled block:
 *     leaf certificate (sent by the server)
 *       pin        sha256/...
 *       subject    CN=...
 *       issuer     CN=...
 *       not after  2026-03-01 12:00:00 UTC (expires in 29 days, within 30 days)
 *       key        EC P-256                                                    */
void cert_report_block(FILE *out, const struct cert_entry *e, enum pin_spelling spelling,
                       int64_t now);

/* One JSON object (key NULL inside an array). */
void cert_report_json(struct json *j, const char *key, const struct cert_entry *e,
                      enum pin_spelling spelling, int64_t now);

/* "sent by the server", "from the trust store", ... */
const char *cert_origin_text(enum cert_origin origin);
/* "file", "server", "trust-store", "presented-only" */
const char *cert_origin_token(enum cert_origin origin);

#endif
