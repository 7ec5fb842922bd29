/*
 * bypass_binding_load.c — tls_client_binding: tls_client_dlopen's client,
 * but libssl.so.3 is loaded the way that binds it around a preload
 * (issue 11, case 3; tests/integration/test_bypass_binding.c). The way comes
 * from TLSPIN_TEST_LOAD, as tls_client's options are shared with the other
 * clients:
 *
 *   local            dlopen RTLD_NOW|RTLD_LOCAL (python's default; control)
 *   deepbind         dlopen RTLD_NOW|RTLD_LOCAL|RTLD_DEEPBIND
 *   deepbind-global  dlopen RTLD_NOW|RTLD_GLOBAL|RTLD_DEEPBIND (php's
 *                    extension loader)
 *   base-deepbind    dlmopen(LM_ID_BASE, ..., RTLD_NOW|RTLD_DEEPBIND)
 *   newlm            dlmopen(LM_ID_NEWLM, ..., RTLD_NOW): a namespace of its own
 *   newlm-deepbind   the same with RTLD_DEEPBIND
 *   newlm-reuse      dlmopen(LM_ID_NEWLM) of libz.so.1 first, then libssl.so.3
 *                    into that namespace (dlinfo RTLD_DI_LMID)
 *   deepbind-path    dlopen(TLSPIN_TEST_LIBSSL, RTLD_NOW|RTLD_DEEPBIND): a
 *                    libssl.so.3 given by path (a copy of its own, or the
 *                    system's)
 *   foreign          the same as newlm-reuse, but the namespace is made by libc's own
 *                    dlmopen, reached through a libc handle (around any
 *                    preload's hook); libssl.so.3 through the hooked one
 *
 * libssl.so.3 is loaded first; every function, libcrypto's included, comes
 * from its handle (dlsym searches the handle's dependencies), so the program
 * calls exactly the copy it loaded. A refused load prints dlerror() and
 * exits 2, as tls_client does for any setup error.
 */
#include "client_ossl.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tlsc_api tlsc_api;

static void *load(const char *how, char *err, size_t errlen)
{
    const char *lib = "libssl.so.3";
    void *h = NULL;

    if (strcmp(how, "deepbind-path") == 0 && (lib = getenv("TLSPIN_TEST_LIBSSL")) == NULL) {
        snprintf(err, errlen, "deepbind-path needs TLSPIN_TEST_LIBSSL");
        return NULL;
    }

    if (strcmp(how, "local") == 0)
        h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    else if (strcmp(how, "deepbind") == 0)
        h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    else if (strcmp(how, "deepbind-path") == 0)
        h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    else if (strcmp(how, "deepbind-global") == 0)
        h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL | RTLD_DEEPBIND);
    else if (strcmp(how, "base-deepbind") == 0)
        h = dlmopen(LM_ID_BASE, lib, RTLD_NOW | RTLD_DEEPBIND);
    else if (strcmp(how, "newlm") == 0)
        h = dlmopen(LM_ID_NEWLM, lib, RTLD_NOW);
    else if (strcmp(how, "newlm-deepbind") == 0)
        h = dlmopen(LM_ID_NEWLM, lib, RTLD_NOW | RTLD_DEEPBIND);
    else if (strcmp(how, "newlm-reuse") == 0) {
        Lmid_t ns;
        void *z = dlmopen(LM_ID_NEWLM, "libz.so.1", RTLD_NOW);
        if (z == NULL || dlinfo(z, RTLD_DI_LMID, &ns) != 0) {
            snprintf(err, errlen, "dlmopen(LM_ID_NEWLM, libz.so.1): %s", dlerror());
            return NULL;
        }
        h = dlmopen(ns, lib, RTLD_NOW);
    } else if (strcmp(how, "foreign") == 0) {
        void *(*libc_dlmopen)(Lmid_t, const char *, int);
        void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        void *z;
        Lmid_t ns;

        if (libc == NULL || (*(void **)&libc_dlmopen = dlsym(libc, "dlmopen")) == NULL ||
            (z = libc_dlmopen(LM_ID_NEWLM, "libz.so.1", RTLD_NOW)) == NULL ||
            dlinfo(z, RTLD_DI_LMID, &ns) != 0) {
            snprintf(err, errlen, "libc's dlmopen(LM_ID_NEWLM, libz.so.1): %s", dlerror());
            return NULL;
        }
        h = dlmopen(ns, lib, RTLD_NOW);
    } else {
        snprintf(err, errlen, "TLSPIN_TEST_LOAD=%s: unknown way", how);
        return NULL;
    }
    if (h == NULL) {
        const char *e = dlerror();
        snprintf(err, errlen, "load %s (%s) refused: %s", lib, how, e ? e : "(no dlerror)");
    }
    return h;
}

int tlsc_ossl_load(char *err, size_t errlen)
{
    const char *how = getenv("TLSPIN_TEST_LOAD");
    void *ssl = load(how ? how : "local", err, errlen);

    if (ssl == NULL)
        return -1;
    printf("loaded %s\n", how ? how : "local");
#define TLSC_RESOLVE(name)                                                        \
    if ((*(void **)&tlsc_api.p_##name = dlsym(ssl, #name)) == NULL) {             \
        snprintf(err, errlen, "dlsym(libssl.so.3, %s): %s", #name, dlerror());    \
        return -1;                                                                \
    }
    TLSC_LIBSSL_FUNCS(TLSC_RESOLVE)
    TLSC_LIBCRYPTO_FUNCS(TLSC_RESOLVE)
#undef TLSC_RESOLVE
    /* The handle stays open for the life of the process. */
    return 0;
}
