/* Programs classify a failed handshake by the *first* error on the queue
 * (curl: ERR_get_error) or the last (python: ERR_peek_last_error), and print
 * "certificate problem" only for the SSL library's CERTIFICATE_VERIFY_FAILED.
 * So tlspin pushes that very code first, with data that names tlspin and says
 * why, then an entry of its own "tlspin" library; libssl adds its own
 * CERTIFICATE_VERIFY_FAILED last. Every program reports a certificate error
 * in its usual words, and whoever prints the queue (ERR_print_errors,
 * ERR_error_string) sees "tlspin" and the reason. */
#include "ossl_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static int lib_code;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static ERR_STRING_DATA lib_name[] = {
    { 0, "tlspin" },
    { 0, NULL },
};

static ERR_STRING_DATA reasons[] = {
    { ERR_PACK(0, 0, TLSPIN_R_PIN_MISMATCH), "public key pin mismatch" },
    { ERR_PACK(0, 0, TLSPIN_R_PIN_DENIED), "denied public key in chain" },
    { ERR_PACK(0, 0, TLSPIN_R_POLICY_ERROR), "policy error" },
    { ERR_PACK(0, 0, TLSPIN_R_UNPINNED_HOST), "unpinned host denied by policy" },
    { ERR_PACK(0, 0, TLSPIN_R_REFUSED), "refused by policy" },
    { 0, NULL },
};

static void register_lib(void)
{
    lib_code = ERR_get_next_error_library();
    /* ERR_load_strings stops at an entry whose code is 0: the library name
     * entry needs its code before loading. */
    lib_name[0].error = ERR_PACK(lib_code, 0, 0);
    ERR_load_strings(lib_code, lib_name);
    ERR_load_strings(lib_code, reasons);
}

static const char *reason_text(enum tlspin_reason reason)
{
    for (const ERR_STRING_DATA *r = reasons; r->string; r++)
        if (ERR_GET_REASON(r->error) == (int)reason)
            return r->string;
    return "refused by policy";
}

static void raise_verify_failed(enum tlspin_reason reason, const char *detail)
{
    ERR_new();
    ERR_set_debug("tlspin", 0, "tlspin_refuse");
    ERR_set_error(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "tlspin: %s (%s)",
                  reason_text(reason), detail);
}

void tlspin_err_raise_last(enum tlspin_reason reason, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    raise_verify_failed(reason, detail);
}

void tlspin_err_raise(enum tlspin_reason reason, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    pthread_once(&lib_once, register_lib);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* "tlspin" where OpenSSL prints the source file: no build path leaks
     * into the program's messages. */
    raise_verify_failed(reason, detail);
    ERR_new();
    ERR_set_debug("tlspin", 0, "tlspin_refuse");
    ERR_set_error(lib_code, (int)reason, "%s", detail);
}
