/*
 * integration_bench_smoke — script/bench never rots: a tiny-iteration run
 * (--quick) against this build must run every figure of README
 * "Performance" and produce its outputs. It asserts that the benchmark ran
 * and reported each figure with a verdict, never what the timings were: a
 * quick run's numbers mean nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char *out_dir(void)
{
    return fmt("%s/bench-out", H.tmp);
}

/* The row of table.txt whose text contains `what`, with a verdict. */
static void assert_row(const char *table, const char *what, int budgeted)
{
    const char *p = strstr(table, what);
    ck_assert_msg(p != NULL, "no row \"%s\" in the table:\n%s", what, table);
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char *row = strndup(p, len);
    if (budgeted)
        ck_assert_msg(strstr(row, " PASS") != NULL || strstr(row, " MISS") != NULL,
                      "row without a verdict: %s", row);
    ck_assert_msg(strstr(row, "nan") == NULL, "row without a number: %s", row);
    free(row);
}

static size_t lines_of(const char *name)
{
    size_t len = 0, n = 0;
    char *s = read_file(fmt("%s/%s", out_dir(), name), &len);
    ck_assert_msg(s != NULL, "%s/%s was not written", out_dir(), name);
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    free(s);
    return n;
}

START_TEST(quick_run_reports_every_figure)
{
    struct run_result r;
    const char *env[] = {fmt("BUILD=%s", TLSPIN_BUILD_DIR), fmt("OUT=%s", out_dir()), NULL};
    struct run_opts o = {.env = env, .timeout_ms = 500000};

    ck_assert_int_eq(RUN(&r, &o, "/bin/bash", TLSPIN_SOURCE_DIR "/script/bench", "--quick"), 0);
    ck_assert_msg(r.exited && r.code == 0, "script/bench --quick: " RUN_FMT, RUN_ARGS(&r));

    size_t len = 0;
    char *table = read_file(fmt("%s/table.txt", out_dir()), &len);
    ck_assert_msg(table != NULL, "no table.txt; stdout:\n%s", r.out);
    /* what it printed is the table it wrote */
    ck_assert_msg(strstr(r.out, "budgets checked") != NULL, "%s", r.out);

    /* figure 1 and 2, both keys, pinned and unpinned */
    const char *keys[] = {"ecdsa-p256", "rsa-2048"};
    for (int k = 0; k < 2; k++) {
        assert_row(table, fmt("1 full handshake %s tlspin-pinned / no preload", keys[k]), 1);
        assert_row(table, fmt("1 full handshake %s tlspin-unpinned / no preload", keys[k]), 1);
        assert_row(table, fmt("2 resumed handshake %s tlspin-pinned / no preload", keys[k]), 1);
        assert_row(table, fmt("2 resumed handshake %s tlspin-unpinned / no preload", keys[k]), 1);
    }
    assert_row(table, "curl under tlspin / curl --pinnedpubkey", 1);
    assert_row(table, "/bin/true: tlspin / empty preload", 1);
    assert_row(table, "sh -c :: tlspin / empty preload", 1);
    assert_row(table, "resident memory added", 1);
    assert_row(table, "10000 hosts: first handshake, added by tlspin", 1);
    assert_row(table, "10000 hosts: decide(), pinned host", 1);
    assert_row(table, "10000 hosts: memory per host", 0);
    assert_row(table, "10 hosts: decide(), pinned host", 0);
    assert_row(table, "none: 2 threads / 1 thread", 1);
    assert_row(table, "tlspin: 2 threads / 1 thread", 1);
    assert_row(table, "added by tlspin per handshake", 0);
    assert_row(table, "floor: SHA-256 per cert + one lookup", 0);
    assert_row(table, "tlspin per handshake / floor", 0);
    ck_assert_msg(strstr(table, "budgets checked") != NULL, "%s", table);
    free(table);

    /* the raw numbers: a header and samples in every file */
    ck_assert_uint_gt(lines_of("handshakes.csv"), 100);
    ck_assert_uint_gt(lines_of("curl.csv"), 2);
    ck_assert_uint_gt(lines_of("exec-true.csv"), 20);
    ck_assert_uint_gt(lines_of("exec-sh.csv"), 20);
    ck_assert_uint_gt(lines_of("memory.csv"), 3);
    ck_assert_uint_gt(lines_of("scale.csv"), 2);
    ck_assert_uint_gt(lines_of("first.csv"), 4);
    ck_assert_uint_gt(lines_of("threads.csv"), 3);
    ck_assert_uint_gt(lines_of("callgrind.csv"), 8);
    char *json = read_file(fmt("%s/results.json", out_dir()), &len);
    ck_assert_msg(json != NULL && strstr(json, "\"figures\"") != NULL, "results.json");
    free(json);

    /* the plot is a PNG */
    char *png = read_file(fmt("%s/handshake-latency.png", out_dir()), &len);
    ck_assert_msg(png != NULL && len > 1000 && memcmp(png, "\x89PNG", 4) == 0,
                  "no handshake-latency.png (is gnuplot-nox installed?)");
    free(png);
    run_result_free(&r);
}
END_TEST

static Suite *bench_smoke_suite(void)
{
    Suite *s = suite_create("bench_smoke");
    TCase *tc = harness_tcase("quick");
    tcase_set_timeout(tc, 560);
    tcase_add_test(tc, quick_run_reports_every_figure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(bench_smoke_suite());
}
