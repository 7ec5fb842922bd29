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
