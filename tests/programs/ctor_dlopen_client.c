/*
 * ctor_dlopen_client — dlopen()s libtp_ctor.so, whose constructor makes the
 * process's first TLS handshake while glibc's dlopen runs it, with the
 * loader's lock (dl_load_lock) held by this thread: the shim loads its
 * engine there, from inside a dlopen. A shim that loaded it from another
 * thread would wait for that lock forever (the run hangs). This program
 * links no OpenSSL: libssl comes with the library, as python's _ssl brings
 * it. main() reports what the library saw, as ctor_lib_client does:
 * "main: ctor result=..." and exits 0 (ok), 1 (blocked) or 2 (otherwise).
 */
#include <dlfcn.h>
#include <stdio.h>

/* tp_common.h's enum tp_result (not included: it needs OpenSSL's headers). */
enum { TP_OK, TP_BLOCKED, TP_OTHER };

int main(void)
{
    static const char *const names[] = {"ok", "blocked", "other"};
    void *lib = dlopen(TP_CTOR_LIB, RTLD_NOW | RTLD_LOCAL);
    int (*result)(void);
    int r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (lib == NULL) {
        printf("main: cannot load %s: %s\n", TP_CTOR_LIB, dlerror());
        return 2;
    }
    *(void **)&result = dlsym(lib, "tp_ctor_lib_result");
    if (result == NULL || (r = result()) < 0) {
        printf("main: the library constructor did not run\n");
        return 2;
    }
    printf("main: ctor result=%s\n", r <= TP_OTHER ? names[r] : "?");
    return r == TP_OK ? 0 : r == TP_BLOCKED ? 1 : 2;
}
