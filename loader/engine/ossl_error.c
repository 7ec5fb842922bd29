/* Programs classify a failed handshake by the *first* error on the queue
 * (curl: ERR_get_error) or the last (python: ERR_peek_last_error), and print
 * "certificate problem" only for the SSL library's CERTIFICATE_VERIFY_FAILED.
 * So tlspin's entry is that very code, with data that names tlspin and says
 * why: every program reports a certificate error in its usual words, and
 * anyone who prints the queue sees "tlspin: public key pin mismatch". */
#include "ossl_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>

static const char *reason_text(enum tlspin_reason reason)
{
    switch (reason) {
    case TLSPIN_R_PIN_MISMATCH: return "public key pin mismatch";
    case TLSPIN_R_PIN_DENIED: return "denied public key in chain";
    case TLSPIN_R_POLICY_ERROR: return "policy error";
    case TLSPIN_R_UNPINNED_HOST: return "unpinned host denied by policy";
    case TLSPIN_R_REFUSED: return "refused by policy";
    }
    return "refused by policy";
}

void tlspin_err_raise(enum tlspin_reason reason, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ERR_new();
    ERR_set_debug(OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC);
    ERR_set_error(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "tlspin: %s (%s)",
                  reason_text(reason), detail);
}
