/* Compiled only into the ASan build of the shim. Preloaded into a program
 * that does not link ASan (/bin/true under LD_BIND_NOW, a shell), the
 * runtime it brings in cannot be first in the library list; without this it
 * refuses to start and takes the program down. The suites that look for
 * leaks preload libasan first anyway. */
const char *__asan_default_options(void) __attribute__((visibility("default")));

const char *__asan_default_options(void)
{
    return "verify_asan_link_order=0";
}
