/* client_ctx.h — the SSL_CTX of the test clients and its app callbacks. */
#ifndef TLSC_CLIENT_CTX_H
#define TLSC_CLIENT_CTX_H

#include "client_ossl.h"
#include "client_options.h"

/* How often the app's own callbacks ran (printed at exit: a shim that
 * replaces or skips them is caught). */
struct tlsc_counters {
    unsigned verify_cb;
    unsigned cert_verify_cb;
};
extern struct tlsc_counters tlsc_counters;

/* Build the context from the options; NULL on failure (error queue set). */
SSL_CTX *tlsc_ctx_new(const struct tlsc_options *opts);

#endif
