/* client_linked.c — tls_client links libssl: OpenSSL needs no loading. */
#include "client_ossl.h"

int tlsc_ossl_load(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return 0;
}
