/*
 * client_dlopen.c — tls_client_dlopen loads OpenSSL the way python3's _ssl
 * and perl's Net::SSLeay end up doing: dlopen RTLD_LOCAL, every function
 * through dlsym(handle). With a preload in place, these pointers go to
 * libssl's own functions, not to the preload's hooks.
 */
#include "client_ossl.h"

#include <dlfcn.h>
#include <stdio.h>

struct tlsc_api tlsc_api;

static int resolve(void *handle, const char *lib, const char *name, void **slot,
                   char *err, size_t errlen)
{
    *slot = dlsym(handle, name);
    if (!*slot) {
        snprintf(err, errlen, "dlsym(%s, %s) failed: %s", lib, name, dlerror());
        return -1;
    }
    return 0;
}

int tlsc_ossl_load(char *err, size_t errlen)
{
    void *crypto, *ssl;

    /* The versioned sonames: libssl.so exists only with the -dev package. */
    crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!crypto) {
        snprintf(err, errlen, "dlopen(libcrypto.so.3): %s", dlerror());
        return -1;
    }
    ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!ssl) {
        snprintf(err, errlen, "dlopen(libssl.so.3): %s", dlerror());
        return -1;
    }
    /* # and ## keep the names from expanding to the pointer macros. */
#define TLSC_RESOLVE_SSL(name)                                                     \
    if (resolve(ssl, "libssl.so.3", #name, (void **)&tlsc_api.p_##name, err, errlen) < 0) \
        return -1;
#define TLSC_RESOLVE_CRYPTO(name)                                                  \
    if (resolve(crypto, "libcrypto.so.3", #name, (void **)&tlsc_api.p_##name, err,     \
                errlen) < 0)                                                       \
        return -1;
    TLSC_LIBSSL_FUNCS(TLSC_RESOLVE_SSL)
    TLSC_LIBCRYPTO_FUNCS(TLSC_RESOLVE_CRYPTO)
#undef TLSC_RESOLVE_SSL
#undef TLSC_RESOLVE_CRYPTO
    /* The handles stay open for the life of the process. */
    return 0;
}
