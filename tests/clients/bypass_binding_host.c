/*
 * bypass_binding_host.c — a plugin host for the binding tests
 * (tests/integration/test_bypass_binding.c):
 *
 *   bypass_binding_host plugin WAY PLUGIN [tls_client options...]
 *       Loads PLUGIN (libbb_plugin.so: tls_client built as a library that
 *       links libssl, as python's _ssl does) with WAY — "local"
 *       (RTLD_NOW|RTLD_LOCAL), "deepbind" (…|RTLD_DEEPBIND), "newlm"
 *       (dlmopen(LM_ID_NEWLM)), "deepbind-old" (RTLD_DEEPBIND through
 *       dlopen@GLIBC_2.2.5, the version binaries linked before glibc 2.34
 *       reference) — and runs its client with the options.
 *       Exit: the client's, or 2 (with dlerror() on stderr) when the load
 *       fails.
 *
 *   bypass_binding_host origin DIR
 *       Loads DIR/libbb_origin.so, which opens libbb_sibling.so by bare name
 *       through its DT_RUNPATH=$ORIGIN in each of four ways. Prints
 *       "direct: ..." (the same bare name from this program, which has no
 *       such RUNPATH: must fail) and "origin WAY: ok sibling" per way.
 *
 *   bypass_binding_host deep PATH
 *       dlopen(PATH, RTLD_NOW|RTLD_DEEPBIND) of libbb_deep.so (by path, or
 *       a bare name found through LD_LIBRARY_PATH): prints
 *       "bb_clash=library" when the library's own bb_clash won over this
 *       program's (what RTLD_DEEPBIND is for), and "libssl=0|1": whether
 *       libssl.so.3 is in the process afterwards.
 *
 *   bypass_binding_host cycle N PATH
 *       N times dlmopen(LM_ID_NEWLM, PATH) then dlclose: "cycle ok N", or
 *       "cycle failed at I: ..." (a namespace kept alive by someone else
 *       would run out after 15).
 *
 *   bypass_binding_host second-root FIRST SECOND
 *       dlmopen(LM_ID_NEWLM, FIRST), then SECOND into the same namespace:
 *       "second-root: ok <bb_user()>" or "second-root: failed: ...".
 *
 *   bypass_binding_host missing N PATH
 *       N times dlmopen(LM_ID_NEWLM) of a file that does not exist (each
 *       must fail with the loader's own error, "missing failed I: ..."
 *       otherwise), then PATH once: "missing ok N".
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The program's bb_clash, in the global scope (ENABLE_EXPORTS). */
__attribute__((visibility("default"))) const char *bb_clash(void);
__attribute__((visibility("default"))) const char *bb_clash(void)
{
    return "program";
}

/* dlopen as binaries linked before glibc 2.34 reference it (libdl's). */
void *dlopen_glibc_2_2_5(const char *file, int flags);
__asm__(".symver dlopen_glibc_2_2_5, dlopen@GLIBC_2.2.5");

static int usage(void)
{
    fprintf(stderr, "usage: bypass_binding_host plugin WAY PLUGIN [args] | origin DIR | "
                    "deep PATH | cycle N PATH | second-root FIRST SECOND | missing N PATH\n");
    return 2;
}

static int run_plugin(const char *way, const char *path, int argc, char **argv)
{
    int (*run)(int, char **);
    void *h;

    if (strcmp(way, "local") == 0)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    else if (strcmp(way, "deepbind") == 0)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    else if (strcmp(way, "newlm") == 0)
        h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW);
    else if (strcmp(way, "deepbind-old") == 0)
        h = dlopen_glibc_2_2_5(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    else
        return usage();
    if (h == NULL) {
        const char *e = dlerror();
        fprintf(stderr, "load %s (%s) refused: %s\n", path, way, e ? e : "(no dlerror)");
        return 2;
    }
    *(void **)&run = dlsym(h, "bb_plugin_run");
    if (run == NULL) {
        fprintf(stderr, "no bb_plugin_run in %s: %s\n", path, dlerror());
        return 2;
    }
    fflush(stdout);
    return run(argc, argv);
}

static int origin(const char *dir)
{
    static const char *const ways[] = {"dlopen", "dlopen-deepbind", "dlmopen-base",
                                       "dlmopen-newlm"};
    const char *(*open_sibling)(const char *);
    char path[4096];
    void *h;
    int rc = 0;

    h = dlopen("libbb_sibling.so", RTLD_NOW);
    printf("direct: %s\n", h ? "found" : "not found");
    snprintf(path, sizeof path, "%s/libbb_origin.so", dir);
    h = dlopen(path, RTLD_NOW);
    if (h == NULL || (*(void **)&open_sibling = dlsym(h, "bb_origin_open")) == NULL) {
        printf("setup failed: %s\n", dlerror());
        return 2;
    }
    for (size_t i = 0; i < sizeof ways / sizeof *ways; i++) {
        const char *r = open_sibling(ways[i]);
        printf("origin %s: %s\n", ways[i], r);
        if (strcmp(r, "ok sibling") != 0)
            rc = 1;
    }
    return rc;
}

static int deep(const char *path)
{
    const char *(*probe)(void);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    void *ssl;

    if (h == NULL || (*(void **)&probe = dlsym(h, "bb_deep_probe")) == NULL) {
        printf("load failed: %s\n", dlerror());
        return 2;
    }
    printf("bb_clash=%s\n", probe());
    ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD);
    printf("libssl=%d\n", ssl != NULL);
    return 0;
}

static int cycle(const char *count, const char *path)
{
    int n = atoi(count);

    for (int i = 0; i < n; i++) {
        void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW);
        if (h == NULL) {
            printf("cycle failed at %d: %s\n", i, dlerror());
            return 1;
        }
        dlclose(h);
    }
    printf("cycle ok %d\n", n);
    return 0;
}

static int second_root(const char *first, const char *second)
{
    const char *(*user)(void);
    void *a = dlmopen(LM_ID_NEWLM, first, RTLD_NOW), *b;
    Lmid_t ns;

    if (a == NULL || dlinfo(a, RTLD_DI_LMID, &ns) != 0) {
        printf("setup failed: %s\n", dlerror());
        return 2;
    }
    b = dlmopen(ns, second, RTLD_NOW);
    if (b == NULL || (*(void **)&user = dlsym(b, "bb_user")) == NULL) {
        printf("second-root: failed: %s\n", dlerror());
        return 1;
    }
    printf("second-root: ok %s\n", user());
    return 0;
}

static int missing(const char *count, const char *path)
{
    int n = atoi(count);
    void *h;

    for (int i = 0; i < n; i++) {
        const char *e;
        if (dlmopen(LM_ID_NEWLM, "/nonexistent/libbb_missing.so", RTLD_NOW) != NULL ||
            (e = dlerror()) == NULL || strstr(e, "cannot open shared object file") == NULL) {
            printf("missing failed %d: %s\n", i, dlerror());
            return 1;
        }
    }
    if ((h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW)) == NULL) {
        printf("missing failed at the end: %s\n", dlerror());
        return 1;
    }
    printf("missing ok %d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "plugin") == 0)
        /* The client sees argv[3] (the plugin) as its program name. */
        return run_plugin(argv[2], argv[3], argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "origin") == 0)
        return origin(argv[2]);
    if (argc == 3 && strcmp(argv[1], "deep") == 0)
        return deep(argv[2]);
    if (argc == 4 && strcmp(argv[1], "cycle") == 0)
        return cycle(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "second-root") == 0)
        return second_root(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "missing") == 0)
        return missing(argv[2], argv[3]);
    return usage();
}
