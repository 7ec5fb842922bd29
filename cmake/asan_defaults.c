/* Compiled into the shim of a sanitized build only (cmake/sanitize.cmake).
 * A program that gets the shim from /etc/ld.so.preload, or from `tlspin
 * run` (the shim first, then the inherited LD_PRELOAD), has the ASan runtime
 * loaded but not first in its library list; ASan would refuse to start and
 * take the program down, though its interceptors still come before libc
 * whenever the runtime is anywhere in LD_PRELOAD. ASAN_OPTIONS adds to this. */
const char *__asan_default_options(void) __attribute__((visibility("default")));

const char *__asan_default_options(void)
{
    return "verify_asan_link_order=0";
}
