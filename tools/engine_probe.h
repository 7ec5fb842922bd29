/* engine_probe — what a new process would do with a given shim: load the
 * engine that shim would dlopen and the policy with that engine's modules,
 * in a child process, and report. For bin/tlspin, which links nothing but
 * libc: `tlspin status` and `tlspin enable-system` see the installed files,
 * not whatever the CLI happens to link. */
#ifndef TLSPIN_ENGINE_PROBE_H
#define TLSPIN_ENGINE_PROBE_H

#include <limits.h>
#include <stddef.h>

struct probe_entry {
    char *module;              /* as the policy names it */
    char *control;             /* required, requisite, sufficient, optional */
    char *fault;               /* why it cannot run; NULL when it loaded */
};

struct engine_probe {
    char engine[PATH_MAX];     /* the file the shim dlopens (loader/resolve.c) */
    int engine_ok;             /* it loaded and has the shim's entry point */
    char engine_error[640];    /* else why: dlerror(), or how the process died */
    int killed_by;             /* signal that ended the child (0: none) */
    int killed_in_policy;      /* ... while loading the policy, not the engine */
    /* Set when engine_ok and the policy was loaded to the end: */
    int policy_ran;
    char moduledir[PATH_MAX];  /* where that engine loads modules from */
    char *policy_fault;        /* the policy file is unusable (NULL: it loaded) */
    int have_config;           /* the settings below were read from the file */
    int mode_report, on_error_allow;
    size_t n_entries;
    struct probe_entry *entries;
    size_t n_faulty;
    /* The seam for the last good policy (issue 12, point 1): when the policy
     * has a fault and the engine exports TLSPIN_PROBE_LAST_GOOD, what it
     * says: 1 a new process enforces the last good snapshot instead
     * (last_good_text: when it was committed, where it is), -1 one exists
     * but fails its checks (last_good_text: why; on_error decides), 0 none
     * (on_error decides, as with an engine without it). */
    int last_good;
    char last_good_text[640];
    /* The modules' own warnings ("<file>: <message>"): trouble ahead, such as
     * a CT log list or a signed pinset about to go stale. */
    char **warnings;
    size_t n_warnings;
};

/* The engine's entry for it (loader/engine/last_good.h, being written):
 *   int last_good_info(const char *path, time_t *committed, char *gendir,
 *                      size_t gendirlen, char *why, size_t whylen);
 * 1 with its commit time and generation directory, 0 without a snapshot,
 * -1 with why when one exists but fails its checks. Looked up with dlsym, so
 * that an engine without it still works (then on_error decides). */
#define TLSPIN_PROBE_LAST_GOOD "last_good_info"

/* The engine next to the shim listed as `shim_entry`, as the shim finds it:
 * dladdr() of the shim gives the path the loader was given (symbolic links
 * are not resolved), so this is <dirname of the entry>/tlspin/...; an entry
 * that is not an absolute path gets the installed engine. */
void engine_path_for_shim(const char *shim_entry, char *out, size_t outlen);

/* Fill *out for the shim listed as shim_entry and the policy at policy_path.
 * Returns 0, or -1 with why in err when the probe itself could not run (no
 * process, no pipe): then nothing is known. */
int engine_probe_run(const char *shim_entry, const char *policy_path, struct engine_probe *out,
                     char *err, size_t errlen);
void engine_probe_free(struct engine_probe *p);

#endif
