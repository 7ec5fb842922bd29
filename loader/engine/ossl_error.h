/* The entry tlspin leaves on the OpenSSL error queue when it refuses. */
#ifndef TLSPIN_OSSL_ERROR_H
#define TLSPIN_OSSL_ERROR_H

enum tlspin_reason {
    TLSPIN_R_PIN_MISMATCH = 100,
    TLSPIN_R_PIN_DENIED = 101,
    TLSPIN_R_POLICY_ERROR = 102,
    TLSPIN_R_UNPINNED_HOST = 103,
    TLSPIN_R_REFUSED = 104
};

/* Pushes SSL_R_CERTIFICATE_VERIFY_FAILED with the data
 * "tlspin: <reason text> (<detail>)", then the same reason in tlspin's own
 * error library. */
void tlspin_err_raise(enum tlspin_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Only the SSL CERTIFICATE_VERIFY_FAILED entry: on top of a queue libssl
 * ended with its own error, for programs that read the last entry (python
 * raises SSLCertVerificationError by it). */
void tlspin_err_raise_last(enum tlspin_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
