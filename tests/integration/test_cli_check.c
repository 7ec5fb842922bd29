/*
 * test_cli_check.c — `tlspin check`, the real binary, over policies written
 * into the test's directory:
 *   - every way the policy cannot load, as FILE:LINE: error: lines (syntax,
 *     unknown key, unknown module, another ABI, no entry point, a module
 *     refusing its args, a bad pin, a pinset without backup, a host claimed
 *     twice), each with exit 2;
 *   - the modules' own diagnostics (lint): pinset expiry around the 30, 14,
 *     7 and 1-day marks, expired pinsets, single pins, shadowed patterns;
 *   - who besides root can change the policy, the pinsets and the modules;
 *   - the summary line, --json, -q, TLSPIN_CONFIG, usage, colour.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"

static const struct run_opts plain = {0};

static void check(struct run_result *r, const char *const extra[])
{
    const char *argv[16] = {TLSPIN_CLI, "check", "--config", H.config};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&plain, r, argv), 0);
}

static void expect_line(const struct run_result *r, const char *line)
{
    ck_assert_msg(has_line(r->out, line), "no line '%s': " RUN_FMT, line, RUN_ARGS(r));
}

static size_t lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* The policy with a custom stack, rate limit off. */
static void policy_with(const char *stack)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"deny\";\n"
                 "stack = (\n%s\n);\n",
                 stack);
    mkdir(H.pinsets, 0755);
}

static const char *file_entry(void)
{
    return fmt("  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }",
               H.pinsets);
}

/* "YYYY-MM-DD" of today + days, UTC. */
static const char *day(int days)
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return fmt("%s", buf);
}

static const char *pinset_file(const char *name)
{
    return fmt("%s/%s.conf", H.pinsets, name);
}

/* ------------------------------------------------------------------ */
/* A good policy                                                       */
/* ------------------------------------------------------------------ */

START_TEST(good_policy_is_ok)
{
    struct run_result r;

    write_file_policy(NULL);
    write_good_pinset();
    check(&r, NULL);
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s: 0 errors, 0 warnings, 0 notes: ok\n", H.config));
    ck_assert_str_eq(r.err, "");
    run_result_free(&r);

    /* -q: nothing at all to say */
    check(&r, (const char *const[]){"-q", NULL});
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);

    /* the installed default policy shape: the file module over an empty dir */
    write_file_policy(NULL);
    check(&r, NULL);
    expect_exit(&r, 0);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The policy does not load                                            */
/* ------------------------------------------------------------------ */

START_TEST(syntax_error_names_file_and_line)
{
    struct run_result r;

    write_policy("version = 1;\n"
                 "stack = (\n"
                 "  { module = \"file\"; control = \"required\"; }\n"
                 "  { module = \"file\"; control = \"required\"; }\n"
                 ");\n");
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s:4: error: syntax error", H.config));
    expect_line(&r, fmt("%s: 1 error, 0 warnings, 0 notes: the policy does not load: a running "
                        "program keeps its last good policy; a program starting now refuses "
                        "every handshake", H.config));
    run_result_free(&r);
}
END_TEST

START_TEST(unknown_key_and_value)
{
    struct run_result r;

    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "colour = \"blue\";\n"
                 "stack = ();\n");
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s:3: error: unknown key \"colour\" in %s", H.config, H.config));
    run_result_free(&r);

    write_policy("version = 1;\nmode = \"relaxed\";\nstack = ();\n");
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s:2: error: \"mode\" must be one of enforce, report, not \"relaxed\"",
                        H.config));
    run_result_free(&r);

    /* a missing policy */
    check(&r, (const char *const[]){"--config", fmt("%s/none.conf", H.tmp), NULL});
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s/none.conf: error: cannot read the policy file: No such file or "
                        "directory", H.tmp));
    run_result_free(&r);
}
END_TEST

START_TEST(modules_that_cannot_run)
{
    struct run_result r;

    policy_with(fmt("  { module = \"nope\"; control = \"optional\"; },\n"
                    "  { module = \"%s/bad_abi.so\"; control = \"optional\"; },\n"
                    "  { module = \"%s/no_entry.so\"; control = \"optional\"; },\n"
                    "  { module = \"%s/open_fails.so\"; control = \"optional\"; },\n"
                    "  { module = \"%s/gone.so\"; control = \"optional\"; },\n"
                    "%s",
                    TESTMODULE_DIR, TESTMODULE_DIR, TESTMODULE_DIR, TESTMODULE_DIR,
                    file_entry()));
    write_good_pinset();
    check(&r, NULL);
    expect_exit(&r, 2);
    /* The list of installed modules grows with the project: name "file". */
    expect_text(&r, fmt("%s:6: error: unknown module \"nope\": there is no %s/nope.so "
                        "(installed: ", H.config, MODULE_DIR));
    expect_text(&r, "file)");
    expect_line(&r, fmt("%s:7: error: %s/bad_abi.so: module ABI 2.0, this tlspin speaks 1.2 "
                        "(major must match)", H.config, TESTMODULE_DIR));
    expect_line(&r, fmt("%s:8: error: %s/no_entry.so is not a tlspin module: it has no "
                        "tlspin_module_describe()", H.config, TESTMODULE_DIR));
    expect_line(&r, fmt("%s:9: error: test: open failed on purpose", H.config));
    expect_line(&r, fmt("%s:10: error: unknown module: there is no %s/gone.so", H.config,
                        TESTMODULE_DIR));
    expect_text(&r, "5 errors, 0 warnings, 0 notes: the policy does not load cleanly");
    expect_text(&r, "by on_error = \"deny\"");
    /* the healthy file module after them was still checked: nothing to say */
    ck_assert_msg(lines(r.out) == 6, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* a bare module name must be a name */
    policy_with("  { module = \"../evil\"; control = \"required\"; }");
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, "must be a bare name ([a-z0-9_-]) or an absolute path");
    run_result_free(&r);
}
END_TEST

START_TEST(pinset_errors_point_into_the_pinset_file)
{
    struct run_result r;

    write_file_policy(NULL);
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                         "    pins = [ \"sha256/AAAA\", \"%s\" ]; }\n"
                         ");\n", pin("PIN_BACKUP"));
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s:3: error: pin \"sha256/AAAA\" is 3 bytes, a SHA-256 pin is 32",
                        pinset_file("api")));
    run_result_free(&r);

    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                         "    pins = [ \"%s\" ]; }\n"
                         ");\n", pin("PIN_GOOD"));
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s:3: error: pinset \"api\" has only one distinct pin; a backup pin",
                        pinset_file("api")));
    run_result_free(&r);

    /* the same host and port claimed by two pinsets */
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"a\"; hosts = [ \"good.test\" ]; pins = [ \"%s\", \"%s\" ]; },\n"
                         "  { name = \"b\"; hosts = [ \"good.test\" ]; pins = [ \"%s\", \"%s\" ]; }\n"
                         ");\n", pin("PIN_GOOD"), pin("PIN_BACKUP"), pin("PIN_INT"),
                  pin("PIN_BACKUP"));
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s:3: error: host \"good.test\" of pinset \"b\" is already claimed by "
                        "pinset \"a\"", pinset_file("api")));
    run_result_free(&r);

    /* a syntax error in a pinset file */
    write_pinsets("api", "pinsets = (\n  { name = \"api\" \n);\n");
    check(&r, NULL);
    expect_exit(&r, 2);
    ck_assert_msg(has_line_prefix(r.out, fmt("%s:3: error: ", pinset_file("api"))), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The modules' own diagnostics                                        */
/* ------------------------------------------------------------------ */

START_TEST(pinset_expiry_marks)
{
    static const int days[] = { 31, 30, 14, 7, 1 };
    struct run_result r;
    char body[8192];
    size_t len = 0;

    write_file_policy(NULL);
    len += (size_t)snprintf(body + len, sizeof body - len, "pinsets = (\n");
    for (size_t i = 0; i < sizeof days / sizeof *days; i++)
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "  { name = \"d%d\"; hosts = [ \"d%d.test\" ];\n"
                                "    pins = [ \"%s\", \"%s\" ];\n"
                                "    expires = \"%s\"; },\n",
                                days[i], days[i], pin("PIN_GOOD"), pin("PIN_BACKUP"),
                                day(days[i]));
    len += (size_t)snprintf(body + len, sizeof body - len,
                            "  { name = \"today\"; hosts = [ \"today.test\" ];\n"
                            "    pins = [ \"%s\", \"%s\" ];\n"
                            "    expires = \"%s\"; }\n);\n",
                            pin("PIN_GOOD"), pin("PIN_BACKUP"), day(0));
    write_pinsets("exp", "%s", body);
    check(&r, NULL);
    expect_exit(&r, 1);   /* warnings only */
    ck_assert_msg(strstr(r.out, "\"d31\"") == NULL, "31 days left is no warning: " RUN_FMT,
                  RUN_ARGS(&r));
    expect_line(&r, fmt("%s:7: warning: pinset \"d30\" expires in 30 days (%s)",
                        pinset_file("exp"), day(30)));
    expect_line(&r, fmt("%s:10: warning: pinset \"d14\" expires in 14 days (%s)",
                        pinset_file("exp"), day(14)));
    expect_line(&r, fmt("%s:13: warning: pinset \"d7\" expires in 7 days (%s)",
                        pinset_file("exp"), day(7)));
    expect_line(&r, fmt("%s:16: warning: pinset \"d1\" expires in 1 day (%s)",
                        pinset_file("exp"), day(1)));
    expect_line(&r, fmt("%s:19: warning: pinset \"today\" expires today (%s, end of the day UTC)",
                        pinset_file("exp"), day(0)));
    expect_text(&r, "0 errors, 5 warnings, 0 notes: the policy loads, with warnings");
    run_result_free(&r);

    /* expired: an error, though the policy loads (the pinset is no longer
     * enforced, which is what needs fixing) */
    write_pinsets("exp", "pinsets = (\n"
                         "  { name = \"old\"; hosts = [ \"old.test\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ];\n"
                         "    expires = \"%s\"; }\n);\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"), day(-1));
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s:4: error: pinset \"old\" expired on %s; it is not enforced",
                        pinset_file("exp"), day(-1)));
    expect_text(&r, "1 error, 0 warnings, 0 notes: the policy loads, but needs fixing");
    run_result_free(&r);
}
END_TEST

START_TEST(single_pin_and_shadowed_patterns)
{
    struct run_result r;

    write_file_policy(NULL);
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"api\"; hosts = [ \"api.example.com\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; },\n"
                         "  { name = \"wild\"; hosts = [ \"*.example.com\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; },\n"
                         "  { name = \"one\"; hosts = [ \"one.test\" ];\n"
                         "    pins = [ \"%s\" ]; allow_single_pin = true; }\n"
                         ");\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"), pin("PIN_INT"), pin("PIN_BACKUP"),
                  pin("PIN_GOOD"));
    check(&r, NULL);
    expect_exit(&r, 1);
    expect_line(&r, fmt("%s:4: note: pattern \"*.example.com\" of pinset \"wild\" is shadowed "
                        "for \"api.example.com\" by the more specific pinset \"api\" (%s:2)",
                        pinset_file("api"), pinset_file("api")));
    expect_text(&r, fmt("%s:7: warning: pinset \"one\" has a single pin (allowed by "
                        "allow_single_pin)", pinset_file("api")));
    expect_text(&r, "0 errors, 1 warning, 1 note: the policy loads, with warnings");
    run_result_free(&r);

    /* notes alone: exit 0 */
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"api\"; hosts = [ \"api.example.com\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; },\n"
                         "  { name = \"deep\"; hosts = [ \"**.example.com\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; }\n"
                         ");\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"), pin("PIN_INT"), pin("PIN_BACKUP"));
    check(&r, NULL);
    expect_exit(&r, 0);
    expect_text(&r, "0 errors, 0 warnings, 1 note: ok");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Permissions                                                         */
/* ------------------------------------------------------------------ */

START_TEST(files_others_can_change)
{
    struct run_result r;
    const char *mods = fmt("%s/mods", H.tmp);
    const char *mod = fmt("%s/mods/file.so", H.tmp);
    char *so;
    size_t so_len;
    FILE *f;

    /* a private copy of the file module, to change its mode */
    mkdir(mods, 0755);
    so = read_file(FILE_MODULE_PATH, &so_len);
    ck_assert_ptr_nonnull(so);
    f = fopen(mod, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(so, 1, so_len, f), so_len);
    fclose(f);
    free(so);
    chmod(mod, 0755);
    policy_with(fmt("  { module = \"%s\"; control = \"required\"; args = { pinsets = \"%s\"; }; }",
                    mod, H.pinsets));
    write_good_pinset();
    chmod(H.config, 0644);
    chmod(H.tmp, 0755);
    chmod(H.pinsets, 0755);
    chmod(pinset_file("api"), 0644);
    check(&r, NULL);
    expect_exit(&r, 0);
    run_result_free(&r);

    /* world-writable: refused where they are loaded (StrictModes, issue 13),
     * and named by the permission check too */
    chmod(H.pinsets, 0777);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s: writable by group and others (mode 0777): refused", H.pinsets));
    run_result_free(&r);
    chmod(H.pinsets, 0755);
    chmod(mod, 0757);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("cannot load module %s: writable by others (mode 0757): refused", mod));
    expect_line(&r, fmt("%s: error: the module is writable by everybody (mode 0757): anyone on "
                        "this machine can change which keys are trusted", mod));
    run_result_free(&r);
    chmod(mod, 0755);

    /* another owner, a group: refused too (each alone) */
    ck_assert_int_eq(chown(pinset_file("api"), 65534, 65534), 0);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s: owned by uid 65534, not root: refused", pinset_file("api")));
    run_result_free(&r);
    ck_assert_int_eq(chown(pinset_file("api"), 0, 0), 0);
    ck_assert_int_eq(chown(H.config, 0, 65534), 0);
    chmod(H.config, 0664);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s: error: writable by group (mode 0664): refused", H.config));
    run_result_free(&r);
    ck_assert_int_eq(chown(H.config, 0, 0), 0);
    chmod(H.config, 0644);
    ck_assert_int_eq(chown(mods, 65534, 0), 0);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("cannot load module %s: the directory %s: owned by uid 65534, not root: "
                        "refused", mod, mods));
    run_result_free(&r);
    ck_assert_int_eq(chown(mods, 0, 0), 0);

    /* the policy's directory */
    chmod(H.tmp, 0777);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_line(&r, fmt("%s: error: the policy directory is writable by everybody (mode 0777): "
                        "anyone on this machine can change which keys are trusted", H.tmp));
    run_result_free(&r);
    chmod(H.tmp, 0700);
}
END_TEST

START_TEST(included_files_are_named_and_checked)
{
    struct run_result r;
    const char *inc;

    /* @include resolves next to the policy; its findings name it in full */
    inc = write_file("stack.inc",
                     "stack = (\n"
                     "%s,\n"
                     "%s,\n"
                     "  { module = \"nope\"; control = \"optional\"; }\n"
                     ");\n",
                     file_entry(), fmt("  { module = \"file\"; control = \"optional\"; args = "
                                       "{ pinsets = \"%s\"; }; }", H.pinsets));
    write_policy("version = 1;\n@include \"stack.inc\"\n");
    mkdir(H.pinsets, 0755);
    write_pinsets("api", "pinsets = ( { name = \"one\"; hosts = [ \"one.test\" ];\n"
                         "  pins = [ \"%s\" ]; allow_single_pin = true; } );\n", pin("PIN_GOOD"));
    /* an included file anyone can change is refused (StrictModes) */
    chmod(inc, 0646);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("cannot read the included file %s: writable by others (mode 0646): "
                        "refused", inc));
    run_result_free(&r);
    chmod(inc, 0644);
    check(&r, NULL);
    expect_exit(&r, 2);
    expect_text(&r, fmt("%s:4: error: unknown module \"nope\": there is no %s/nope.so "
                        "(installed: ", inc, MODULE_DIR));
    /* the file module twice over the same pinsets: its warning once */
    expect_text(&r, "1 error, 1 warning, 0 notes: the policy does not load cleanly");
    run_result_free(&r);

    /* a syntax error inside the included file */
    write_file("stack.inc", "stack = ( { module = \"file\" ;; } );\n");
    check(&r, NULL);
    expect_exit(&r, 2);
    ck_assert_msg(has_line_prefix(r.out, fmt("%s:1: error: ", inc)), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Output, options                                                     */
/* ------------------------------------------------------------------ */

START_TEST(json_output)
{
    struct run_result r;

    policy_with(fmt("  { module = \"nope\"; control = \"optional\"; },\n%s", file_entry()));
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"one\"; hosts = [ \"one.test\" ];\n"
                         "    pins = [ \"%s\" ]; allow_single_pin = true; }\n"
                         ");\n", pin("PIN_GOOD"));
    check(&r, (const char *const[]){"--json", NULL});
    expect_exit(&r, 2);
    assert_json(r.out, "d['config']", H.config);
    assert_json(r.out, "d['status']", "errors");
    assert_json(r.out, "d['exit']", "2");
    assert_json(r.out, "d['loads']", "false");
    assert_json(r.out, "[d['errors'], d['warnings'], d['notes']]", "[1, 1, 0]");
    assert_json(r.out, "[(f['line'], f['severity'], f['source']) for f in d['findings']]",
              "[[6, \"error\", \"policy\"], [3, \"warning\", \"file\"]]");
    assert_json(r.out, "d['findings'][1]['file']", pinset_file("api"));
    assert_json(r.out, "[(e['module'], e['control'], e['healthy']) for e in d['stack']]",
              "[[\"nope\", \"optional\", false], [\"file\", \"required\", true]]");
    run_result_free(&r);
}
END_TEST

START_TEST(default_path_usage_and_colour)
{
    struct run_result r;
    const char *argv_env[] = {TLSPIN_CLI, "check", NULL};

    write_file_policy(NULL);
    /* TLSPIN_CONFIG, as the shim reads it */
    struct run_opts env = {.env = (const char *const[]){fmt("TLSPIN_CONFIG=%s", H.config), NULL}};
    ck_assert_int_eq(run_argv(&env, &r, argv_env), 0);
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s: 0 errors, 0 warnings, 0 notes: ok\n", H.config));
    run_result_free(&r);

    /* a relative --config is made absolute */
    struct run_opts in_tmp = {.env = NULL};
    ck_assert_int_eq(RUN(&r, &in_tmp, "/bin/sh", "-c",
                         fmt("cd '%s' && exec '%s' check --config tlspin.conf", H.tmp,
                             TLSPIN_CLI)), 0);
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s: 0 errors, 0 warnings, 0 notes: ok\n", H.config));
    run_result_free(&r);

    check(&r, (const char *const[]){"extra", NULL});
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "unexpected argument \"extra\""), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    check(&r, (const char *const[]){"--frobnicate", NULL});
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "unknown option \"--frobnicate\""), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    check(&r, (const char *const[]){"--help", NULL});
    expect_exit(&r, 0);
    ck_assert_msg(has_line(r.out, "usage: tlspin check [--config PATH] [--json] [-q]"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    /* colour on a terminal only */
    write_pinsets("api", "pinsets = ( { name = \"one\"; hosts = [ \"one.test\" ];\n"
                         "  pins = [ \"%s\" ]; allow_single_pin = true; } );\n", pin("PIN_GOOD"));
    check(&r, NULL);
    expect_exit(&r, 1);
    ck_assert_msg(strchr(r.out, '\033') == NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/script", "-qec",
                         fmt("/usr/bin/env -u NO_COLOR TERM=xterm %s check --config %s",
                             TLSPIN_CLI, H.config), "/dev/null"), 0);
    ck_assert_msg(r.exited && r.code == 1, RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "\033[33mwarning\033[0m: pinset \"one\""), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

static Suite *cli_check_suite(void)
{
    Suite *s = suite_create("cli_check");
    TCase *tc;

    tc = harness_tcase("load");
    tcase_add_test(tc, good_policy_is_ok);
    tcase_add_test(tc, syntax_error_names_file_and_line);
    tcase_add_test(tc, unknown_key_and_value);
    tcase_add_test(tc, modules_that_cannot_run);
    tcase_add_test(tc, pinset_errors_point_into_the_pinset_file);
    suite_add_tcase(s, tc);
    tc = harness_tcase("lint");
    tcase_add_test(tc, pinset_expiry_marks);
    tcase_add_test(tc, single_pin_and_shadowed_patterns);
    suite_add_tcase(s, tc);
    tc = harness_tcase("permissions");
    tcase_add_test(tc, files_others_can_change);
    tcase_add_test(tc, included_files_are_named_and_checked);
    suite_add_tcase(s, tc);
    tc = harness_tcase("output");
    tcase_add_test(tc, json_output);
    tcase_add_test(tc, default_path_usage_and_colour);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_check_suite());
}
