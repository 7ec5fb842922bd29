/* The entry tlspin leaves on the OpenSSL error queue when it refuses. */
#ifndef TLSPIN_OSSL_ERROR_H
#define TLSPIN_OSSL_ERROR_H

enum tlspin_reason {
    TLSPIN_R_PIN_MISMATCH,
    TLSPIN_R_PIN_DENIED,
    TLSPIN_R_POLICY_ERROR,
    TLSPIN_R_UNPINNED_HOST,
    TLSPIN_R_REFUSED
};

/* Pushes SSL_R_CERTIFICATE_VERIFY_FAILED with the data
 * "tlspin: <reason text> (<detail>)". */
void tlspin_err_raise(enum tlspin_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
