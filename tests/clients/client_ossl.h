/*
 * client_ossl.h — the only way the client sources reach OpenSSL.
 *
 * tls_client links libssl and calls it directly. tls_client_dlopen is built
 * from the same sources with TLSC_DLOPEN defined: then every OpenSSL
 * function name becomes a pointer that client_dlopen.c resolved with dlsym
 * from an RTLD_LOCAL handle (see client_dlopen_api.h), like python3 and perl
 * load libssl. OpenSSL's headers are used for types, constants and macros
 * only.
 */
#ifndef TLSC_CLIENT_OSSL_H
#define TLSC_CLIENT_OSSL_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#ifdef TLSC_DLOPEN
#include "client_dlopen_api.h"
#endif

/* Make OpenSSL callable: nothing to do when linked; dlopen + dlsym in
 * tls_client_dlopen. Returns 0, or -1 with a message in err. */
int tlsc_ossl_load(char *err, size_t errlen);

#endif
