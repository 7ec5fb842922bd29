/*
 * asan_first.c — preloaded right after gcc's libasan into the uninstrumented
 * programs of a sanitized suite run (TLSPIN_SANITIZE; harness.c puts both
 * ahead of the shim). It initializes the ASan runtime before libc's locale
 * lock can be held around its lazy initialization.
 *
 * Why: a preloaded runtime has no .preinit_array entry, so its constructor
 * runs after those of the program's own libraries. curl and wget link
 * gnutls, whose libp11-kit constructor calls newlocale(); glibc's newlocale
 * takes __libc_setlocale_lock for writing and calls malloc; ASan's malloc
 * interceptor then initializes the runtime, which calls dlerror() (its
 * swift_demangle lookup); dlerror translates its message with gettext, and
 * __dcigettext read-locks and unlocks the same lock. The unlock releases
 * the writer's lock, newlocale's own unlock then underflows the reader
 * count, and the next setlocale() (curl's main) waits forever. Calling
 * __asan_init() here first, with no lock held, makes the lazy path a no-op.
 * Found on glibc 2.36 / gcc 12 (Debian 12); curl hangs even without tlspin.
 */
#include <dlfcn.h>
#include <locale.h>
#include <stddef.h>

void __asan_init(void);
locale_t newlocale(int category_mask, const char *locale, locale_t base)
    __attribute__((visibility("default")));

typedef locale_t (*newlocale_fn)(int, const char *, locale_t);

locale_t newlocale(int category_mask, const char *locale, locale_t base)
{
    static newlocale_fn real;

    __asan_init(); /* idempotent once initialized */
    if (!real)
        real = (newlocale_fn)dlsym(RTLD_NEXT, "newlocale");
    return real ? real(category_mask, locale, base) : (locale_t)0;
}
