/* coverage — can the shim cover this program? The analysis behind
 * `tlspin run` and `tlspin doctor`, from the files alone (nothing is run):
 * scripts are followed to their interpreter, then the ELF file says whether
 * the dynamic loader runs at all (static, Go), which TLS library the
 * program uses through its dependency closure (OpenSSL 3, GnuTLS, NSS, ...),
 * and its setuid/setgid bits and file capabilities say whether the loader
 * will honour LD_PRELOAD. */
#ifndef TLSPIN_COVERAGE_H
#define TLSPIN_COVERAGE_H

#include <limits.h>
#include <stddef.h>

enum cov_kind {
    /* covered */
    COV_OPENSSL,          /* links OpenSSL 3 (libssl.so.3) */
    COV_LAZY_OPENSSL,     /* loads it at run time (python's _ssl, perl's Net::SSLeay) */
    COV_NO_TLS,           /* links no TLS library: covered if it ever loads libssl.so.3 */
    /* not covered */
    COV_STATIC,           /* no dynamic loader: statically linked (or static-pie) */
    COV_GO,               /* Go: crypto/tls, never OpenSSL */
    COV_GNUTLS,
    COV_NSS,
    COV_OTHER_TLS,        /* mbed TLS, wolfSSL, LibreSSL's libtls, ... */
    COV_OLD_OPENSSL,      /* another libssl soname (1.1, 1.0) */
    COV_BUNDLED_OPENSSL,  /* defines SSL_connect itself, no libssl.so.3 */
    COV_SECURE,           /* setuid/setgid/capabilities: LD_PRELOAD ignored */
    COV_WRONG_MACHINE,    /* another ELF class or machine than the shim */
    COV_UNKNOWN,          /* not found, unreadable, not a program */
};

#define COV_MAX_NOTES 12

struct cov_report {
    enum cov_kind kind;
    int covered;              /* 1 for the first three kinds (and COV_SECURE via ld.so.preload) */
    int system_wide;          /* covered only because /etc/ld.so.preload lists the shim */
    int not_found;            /* the program (or its interpreter) does not exist */
    int secure;               /* LD_PRELOAD would be ignored (setuid/setgid/caps) */
    char path[PATH_MAX];      /* the program as found through PATH */
    char analysed[PATH_MAX];  /* the ELF file judged (the interpreter of a script) */
    char why[1024];           /* one sentence, no final period */
    char todo[512];           /* what to do, one sentence, or "" */
    char notes[COV_MAX_NOTES][512]; /* details for --verbose */
    size_t n_notes;
};

struct cov_options {
    /* 1 (tlspin run): judge this execution by the caller (root running a
     * setuid-root program does get LD_PRELOAD). 0 (tlspin doctor): judge the
     * program as its users run it (setuid means LD_PRELOAD is ignored). */
    int this_execution;
    const char *shim;             /* the shim's path (its class and machine) */
    const char *ld_library_path;  /* what the program will see, or NULL */
};

/* Find `name` as execvp() would (a name with a slash is taken as is).
 * Returns 0, or an errno (ENOENT, EACCES). */
int cov_find_program(const char *name, char *out, size_t outlen);

/* Analyse `program` (a name or path). Always fills r; returns r->covered. */
int cov_analyse(const char *program, const struct cov_options *o, struct cov_report *r);

#endif
