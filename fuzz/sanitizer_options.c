/* sanitizer_options.c — the sanitizer settings every fuzz harness runs with,
 * built in so that script/fuzz, CTest and a harness run by hand agree.
 * (Linked only into the libFuzzer harnesses.) */

#define FUZZ_EXPORT __attribute__((visibility("default"), used))

FUZZ_EXPORT const char *__asan_default_options(void);
FUZZ_EXPORT const char *__ubsan_default_options(void);
FUZZ_EXPORT const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    /* verify_asan_link_order=0: clang names libFuzzer's libstdc++ before the
     * shared ASan runtime (-shared-libsan, which the dlopen'ed modules need);
     * libstdc++ defines none of the functions ASan intercepts, so the order
     * is harmless. */
    return "verify_asan_link_order=0:detect_leaks=1:abort_on_error=1:"
           "detect_stack_use_after_return=1:strict_string_checks=1";
}

const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1";
}

const char *__lsan_default_suppressions(void)
{
    /* Only leaks proven to be inside a library tlspin uses. libconfig 1.5
     * (Debian 12) leaks its scanner's buffer for an unterminated string
     * literal, 64 bytes per such load (docs/security.md, "Fuzzing"). */
    return "leak:libconfig.so\n";
}
