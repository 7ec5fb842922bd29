/*
 * bypass_binding_libs.c — the small libraries of the binding tests
 * (tests/integration/test_bypass_binding.c), one source compiled into each
 * with BB_LIB set:
 *
 *   libbb_sibling.so  bb_sibling_name(): "sibling". It lives only in the
 *                     test directory, where no default search path looks.
 *   libbb_origin.so   DT_RUNPATH=$ORIGIN; bb_origin_open(way) opens its
 *                     sibling by bare name, from its own code, so only a
 *                     dlopen/dlmopen that still sees libbb_origin.so as its
 *                     caller finds it (the shim's hooks must tail-call).
 *   libbb_deep.so     bb_clash(), also defined by bypass_binding_host:
 *                     bb_deep_probe() returns the one it binds to, "library"
 *                     under RTLD_DEEPBIND, "program" without.
 *   libbb_user.so     bb_user() calls bb_clash() without linking what
 *                     defines it: loaded second into a namespace, it finds
 *                     it only through the namespace's global scope (the
 *                     searchlist of the namespace's first object).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define BB_EXPORT __attribute__((visibility("default")))

#if BB_LIB == 1
BB_EXPORT const char *bb_sibling_name(void);
BB_EXPORT const char *bb_sibling_name(void)
{
    return "sibling";
}

#elif BB_LIB == 2
BB_EXPORT const char *bb_origin_open(const char *way);

/* "dlopen", "dlopen-deepbind", "dlmopen-base", "dlmopen-newlm": the
 * sibling's name through the loaded handle, or the error. */
BB_EXPORT const char *bb_origin_open(const char *way)
{
    static char out[512];
    const char *lib = "libbb_sibling.so";
    const char *(*name)(void);
    void *h;

    if (strcmp(way, "dlopen") == 0)
        h = dlopen(lib, RTLD_NOW);
    else if (strcmp(way, "dlopen-deepbind") == 0)
        h = dlopen(lib, RTLD_NOW | RTLD_DEEPBIND);
    else if (strcmp(way, "dlmopen-base") == 0)
        h = dlmopen(LM_ID_BASE, lib, RTLD_NOW);
    else if (strcmp(way, "dlmopen-newlm") == 0)
        h = dlmopen(LM_ID_NEWLM, lib, RTLD_NOW);
    else
        return "unknown way";
    if (h == NULL) {
        snprintf(out, sizeof out, "failed: %s", dlerror());
        return out;
    }
    *(void **)&name = dlsym(h, "bb_sibling_name");
    snprintf(out, sizeof out, "ok %s", name ? name() : "(no bb_sibling_name)");
    return out;
}

#elif BB_LIB == 3
BB_EXPORT const char *bb_clash(void);
BB_EXPORT const char *bb_deep_probe(void);

BB_EXPORT const char *bb_clash(void)
{
    return "library";
}

BB_EXPORT const char *bb_deep_probe(void)
{
    return bb_clash();
}
#elif BB_LIB == 4
const char *bb_clash(void);
BB_EXPORT const char *bb_user(void);

BB_EXPORT const char *bb_user(void)
{
    return bb_clash();
}
#else
#error "BB_LIB must be 1, 2, 3 or 4"
#endif
