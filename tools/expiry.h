/* expiry — how close a certificate is to its end, in the steps the tlspin
 * command warns at: 30, 14, 7 and 1 days before, and after. With pinning an
 * expired certificate is a total outage (the pinned key cannot simply be
 * swapped), so every subcommand that shows a certificate says this. */
#ifndef TLSPIN_EXPIRY_H
#define TLSPIN_EXPIRY_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* The warning marks, in days, largest first. */
#define EXPIRY_N_MARKS 4
extern const int expiry_marks[EXPIRY_N_MARKS];   /* 30, 14, 7, 1 */

struct expiry {
    int64_t not_after;      /* seconds since the epoch */
    int64_t seconds_left;   /* negative once expired */
    long days_left;         /* whole days left (rounded down); negative once expired */
    int expired;            /* 1 when not_after has passed */
    int mark;               /* the smallest mark M with seconds_left <= M days
                               (30, 14, 7 or 1); 0 when expired; -1 when more
                               than 30 days are left */
};

/* Fills `out` for an end date. */
void expiry_compute(int64_t not_after, int64_t now, struct expiry *out);

/* For a certificate's notAfter. Returns 0, or -1 when it is unreadable. */
int expiry_of_cert(X509 *cert, int64_t now, struct expiry *out);

/* ASN1_TIME to seconds since the epoch. Returns 0 or -1. */
int expiry_asn1_to_epoch(const ASN1_TIME *t, int64_t *out);

/* "expires in 29 days (30-day warning)", "expires in 5 hours (1-day warning)",
 * "expired 3 days ago", "expires in 90 days". */
void expiry_describe(const struct expiry *e, char *out, size_t outlen);

/* "2026-03-01 12:00:00 UTC" and "2026-03-01T12:00:00Z". */
void expiry_format_utc(int64_t t, char *out, size_t outlen);
void expiry_format_iso(int64_t t, char *out, size_t outlen);

#endif
