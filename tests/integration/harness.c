/*
 * harness.c — suite entry (harness_main) and the per-test fixture.
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct harness H = {.syslog_fd = -1};

/* Best effort: one entry that cannot be removed must not stop the walk. */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "harness: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void rm_rf(const char *dir)
{
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int keep_tmp(void)
{
    const char *k = getenv("TLSPIN_TEST_KEEP");
    return k && *k && strcmp(k, "0") != 0;
}

static void setup(void)
{
    snprintf(H.tmp, sizeof H.tmp, "%s/test-XXXXXX", H.root);
    ck_assert_msg(mkdtemp(H.tmp) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(H.config, sizeof H.config, "%s/tlspin.conf", H.tmp);
    snprintf(H.pinsets, sizeof H.pinsets, "%s/pins.d", H.tmp);
    syslog_reset();
}

static void teardown(void)
{
    servers_stop_all();
    if (!keep_tmp())
        rm_rf(H.tmp);
}

#ifdef TLSPIN_SANITIZE_PRELOAD
/* The suites' own instruments that make certificates, PSKs or attacks and
 * exit without freeing their OpenSSL objects (stacks through libcrypto stop
 * at its first frame, so a suppression cannot name them): no leak check,
 * for them and for ct_unit, which runs ct_tool with system(). Findings for
 * their owners (tests/integration/ct_tool.c, tests/clients/). */
static int leaky_instrument(const char *prog)
{
    static const char *const names[] = {"/ct_tool", "/ct_unit", "/bypass_attack_client",
                                        "/bypass_mkpsk", "/hs_client", NULL};
    size_t plen = strlen(prog);

    for (size_t i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (plen >= n && strcmp(prog + plen - n, names[i]) == 0)
            return 1;
    }
    return 0;
}

int harness_sanitizer_env(char **env, const char *prog)
{
    static const char key[] = "LD_PRELOAD=", opts[] = "ASAN_OPTIONS=";
    const size_t klen = sizeof key - 1, rlen = strlen(TLSPIN_SANITIZE_PRELOAD);
    int ours = prog && strncmp(prog, TLSPIN_BUILD_DIR "/", strlen(TLSPIN_BUILD_DIR) + 1) == 0 &&
               !leaky_instrument(prog);
    int n = 0;

    for (size_t i = 0; env && env[i]; i++) {
        const char *v = env[i] + klen;
        char *fixed;

        if (!ours && strncmp(env[i], opts, sizeof opts - 1) == 0) {
            /* The last setting of a flag wins. */
            if (asprintf(&fixed, "%s:detect_leaks=0", env[i]) >= 0)
                env[i] = fixed;
            continue;
        }

        if (strncmp(env[i], key, klen) != 0 || *v == '\0')
            continue;
        if (strncmp(v, TLSPIN_SANITIZE_PRELOAD, rlen) == 0 &&
            (v[rlen] == ':' || v[rlen] == ' ' || v[rlen] == '\0'))
            continue;
        if (asprintf(&fixed, "%s%s:%s", key, TLSPIN_SANITIZE_PRELOAD, v) < 0)
            continue;
        env[i] = fixed;
        n++;
    }
    return n;
}

/* What every program the suite starts inherits (children keep ASAN_OPTIONS
 * and friends: proc.c scrubs only what changes where a client connects or
 * what it trusts). Reports go to files in TLSPIN_SANITIZER_REPORTS as well
 * as failing the process (halt_on_error, exitcode): a report in a child
 * whose exit status a test ignores is still found by the final CTest test
 * (sanitizer_reports, tests/integration/CMakeLists.txt). */
static int sanitizer_setup(void)
{
    static char asan[2048], ubsan[1024], lsan[1024];

    if (mkdir(TLSPIN_SANITIZER_REPORTS, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "harness: mkdir %s: %s\n", TLSPIN_SANITIZER_REPORTS, strerror(errno));
        return -1;
    }
    /* verify_asan_link_order=0: a program that gets the shim from
     * /etc/ld.so.preload or from `tlspin run` (shim first, then the
     * inherited LD_PRELOAD) has the runtime loaded, ahead of libc, but not
     * first; the check would kill it though interception works.
     * handle_sigbus=0: the tests that truncate a mapped engine expect the
     * program to die of SIGBUS, as it does unsanitized. */
    snprintf(asan, sizeof asan,
             "halt_on_error=1:detect_leaks=1:verify_asan_link_order=0:handle_sigbus=0:"
             "log_path=%s/asan:log_exe_name=1%s%s",
             TLSPIN_SANITIZER_REPORTS, getenv("TLSPIN_ASAN_OPTIONS") ? ":" : "",
             getenv("TLSPIN_ASAN_OPTIONS") ? getenv("TLSPIN_ASAN_OPTIONS") : "");
    snprintf(ubsan, sizeof ubsan,
             "halt_on_error=1:print_stacktrace=1:log_path=%s/ubsan:log_exe_name=1",
             TLSPIN_SANITIZER_REPORTS);
    snprintf(lsan, sizeof lsan, "suppressions=%s:print_suppressions=0",
             TLSPIN_SOURCE_DIR "/tests/integration/lsan.supp");
    if (setenv("ASAN_OPTIONS", asan, 1) || setenv("UBSAN_OPTIONS", ubsan, 1) ||
        setenv("LSAN_OPTIONS", lsan, 1))
        return -1;
    return 0;
}
#else
int harness_sanitizer_env(char **env, const char *prog)
{
    (void)env;
    (void)prog;
    return 0;
}

static int sanitizer_setup(void)
{
    return 0;
}
#endif

TCase *harness_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    return tc;
}

int harness_main(Suite *suite)
{
    const char *base = getenv("TMPDIR");
    SRunner *sr;
    int failed;

    /* ctest may run us with no stdin and a pipe for stdout: keep the order
     * of our lines and Check's. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (sanitizer_setup() != 0) {
        fprintf(stderr, "harness: FAILED to set up the sanitizer options; no test ran\n");
        return 2;
    }

    H.syslog_fd = harness_enter_namespace();
    if (H.syslog_fd < 0) {
        fprintf(stderr, "harness: FAILED to set up the test namespace; no test ran\n");
        return 2;
    }

    snprintf(H.root, sizeof H.root, "%.700s/tlspin-suite-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(H.root)) {
        perror("harness: mkdtemp");
        return 2;
    }
    snprintf(H.certs, sizeof H.certs, "%s/certs", H.root);
    if (fixtures_make(H.certs) != 0) {
        fprintf(stderr, "harness: FAILED to generate the certificates; no test ran\n");
        rm_rf(H.root);
        return 2;
    }

    sr = srunner_create(suite);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_VERBOSE);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    if (keep_tmp())
        fprintf(stderr, "harness: kept %s\n", H.root);
    else
        rm_rf(H.root);
    return failed == 0 ? 0 : 1;
}
