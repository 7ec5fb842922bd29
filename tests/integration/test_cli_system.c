/*
 * test_cli_system.c — `tlspin enable-system`, `disable-system` and
 * `status`, always inside this test's own mount namespace with a writable
 * overlay over /etc (test_private_mounts + overlay_over): the real
 * /etc/ld.so.preload is never touched, and whatever a test writes there
 * is gone when the test process ends.
 *
 * The shim enabled is a copy of the build's (shim, engine, file module)
 * under the test directory, so the root-owned, not-writable-by-others
 * checks hold wherever the build tree lives.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"
#define PRELOAD "/etc/ld.so.preload"
#define ZLIB "/lib/x86_64-linux-gnu/libz.so.1" /* a harmless library to preload */

#define CLI(r, o, ...) RUN((r), (o), TLSPIN_CLI, __VA_ARGS__)

static void assert_exit(const struct run_result *r, int code)
{
    ck_assert_msg(r->exited && r->code == code, "expected exit %d: " RUN_FMT, code, RUN_ARGS(r));
}

static void assert_out_has(const struct run_result *r, const char *text)
{
    ck_assert_msg(strstr(r->out, text) != NULL, "stdout lacks '%s': " RUN_FMT, text, RUN_ARGS(r));
}

static void assert_err_has(const struct run_result *r, const char *text)
{
    ck_assert_msg(strstr(r->err, text) != NULL, "stderr lacks '%s': " RUN_FMT, text, RUN_ARGS(r));
}

/* The test's own /etc; sets *lib to a trusted copy of the shim tree. */
static const char *setup_system(void)
{
    const char *dir = fmt("%s/sys/lib", H.tmp);

    /* Everything written under /etc lands in the overlay; the default
     * policy must be there too. */
    ck_assert_msg(strncmp(TLSPIN_DEFAULT_CONFIG, "/etc/", 5) == 0,
                  "TLSPIN_DEFAULT_CONFIG (%s) is outside /etc", TLSPIN_DEFAULT_CONFIG);
    test_private_mounts();
    overlay_over("/etc");
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " exists before the test");
    ck_assert_int_eq(system(fmt("mkdir -p '%s/tlspin/modules' && "
                                "cp '%s' '%s/' && cp '%s/tlspin/libtlspin-engine.so' "
                                "'%s/tlspin/' && cp '%s' '%s/tlspin/modules/' && "
                                "chmod -R go-w '%s/sys'",
                                dir, SHIM_PATH, dir, TLSPIN_BUILD_DIR "/lib", dir,
                                FILE_MODULE_PATH, dir, H.tmp)),
                     0);
    return fmt("%s/libtlspin.so", dir);
}

/* A policy that loads: the file module over H.pinsets, good.test pinned. */
static void good_policy(void)
{
    write_file_policy(NULL);
    write_good_pinset();
}

static char *preload_text(void)
{
    char *t = read_file(PRELOAD, NULL);
    return t;
}

static void write_preload(const char *text, mode_t mode)
{
    int fd = open(PRELOAD, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_msg(fd >= 0, PRELOAD ": %s", strerror(errno));
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

/* No temporary file of ours is left in /etc. */
static void assert_no_temp_left(void)
{
    DIR *d = opendir("/etc");
    struct dirent *e;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(strstr(e->d_name, ".tlspin-") == NULL, "temporary file left: /etc/%s",
                      e->d_name);
    closedir(d);
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_ino;
}

/* ------------------------------------------------------------------ */

START_TEST(enable_creates_the_file_and_status_says_healthy)
{
    const char *lib = setup_system();
    struct run_result r;
    struct stat st;
    char *text;

    good_policy();
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    assert_out_has(&r, fmt("enabled: " PRELOAD " lists %s", lib));
    run_result_free(&r);
    text = preload_text();
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, fmt("%s\n", lib));
    free(text);
    ck_assert_int_eq(stat(PRELOAD, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    ck_assert_int_eq(st.st_uid, 0);
    ck_assert_int_eq(st.st_gid, 0);
    assert_no_temp_left();

    CLI(&r, NULL, "status", "--config", H.config);
    assert_exit(&r, 0);
    ck_assert_msg(has_line(r.out, "system-wide: enabled, healthy"), RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("  library: %s (root-owned", lib));
    assert_out_has(&r, fmt("  policy: %s loads (mode enforce, 1 module: file)", H.config));
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour in a pipe: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* Other entries (on their own lines, or sharing ours with ':') survive
 * enabling and disabling byte for byte; enabling twice writes nothing;
 * every write is a rename (a new inode), with the file's mode kept. */
START_TEST(edits_keep_other_entries_and_are_idempotent)
{
    const char *lib = setup_system();
    const char *before = ZLIB "\n\n" ZLIB "\t  \n";
    struct run_result r;
    ino_t ino;
    char *text;
    struct stat st;

    good_policy();
    write_preload(before, 0640);
    ino = inode_of(PRELOAD);

    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    run_result_free(&r);
    text = preload_text();
    ck_assert_str_eq(text, fmt("%s%s\n", before, lib));
    free(text);
    ck_assert_msg(inode_of(PRELOAD) != ino, "the file was rewritten in place, not renamed");
    ck_assert_int_eq(stat(PRELOAD, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    assert_no_temp_left();

    ino = inode_of(PRELOAD);
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    assert_out_has(&r, fmt("already enabled: " PRELOAD " lists %s", lib));
    run_result_free(&r);
    ck_assert_msg(inode_of(PRELOAD) == ino, "an idempotent enable rewrote the file");

    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    assert_out_has(&r, "disabled: removed 1 entry from " PRELOAD);
    run_result_free(&r);
    text = preload_text();
    ck_assert_str_eq(text, before);
    free(text);

    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    assert_out_has(&r, "not enabled: " PRELOAD " lists no tlspin shim");
    run_result_free(&r);

    /* Sharing a line, separated as ld.so allows (':' and spaces). */
    write_preload(fmt(ZLIB ":%s " ZLIB "\n" ZLIB "\n", lib), 0644);
    CLI(&r, NULL, "disable-system", "--library", lib);
    assert_exit(&r, 0);
    run_result_free(&r);
    text = preload_text();
    ck_assert_str_eq(text, ZLIB ":" ZLIB "\n" ZLIB "\n");
    free(text);
    assert_no_temp_left();
}
END_TEST

/* Removing the last entry removes the file; an entry of another tlspin
 * (another path to libtlspin.so) is replaced by enabling, not doubled. */
START_TEST(last_entry_removes_file_other_shim_replaced)
{
    const char *lib = setup_system();
    struct run_result r;
    char *text;

    good_policy();
    write_preload("/opt/old/lib/libtlspin.so\n" ZLIB "\n", 0644);
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    assert_out_has(&r, "replacing /opt/old/lib/libtlspin.so in " PRELOAD);
    run_result_free(&r);
    text = preload_text();
    ck_assert_str_eq(text, fmt(ZLIB "\n%s\n", lib));
    free(text);

    write_preload(fmt("%s\n", lib), 0644);
    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " left behind with no entry");
}
END_TEST

/* A policy with errors is refused, each error with its file:line; so is a
 * missing policy. The default policy is the one at TLSPIN_DEFAULT_CONFIG. */
START_TEST(enable_refuses_a_broken_policy)
{
    const char *lib = setup_system();
    const char *bad = write_file("bad.conf", "version = 1;\nmode = \"enforce\";\n"
                                             "stack = ( { module = \"file\"; contrl = "
                                             "\"required\"; } );\n");
    struct run_result r;
    FILE *f;

    CLI(&r, NULL, "enable-system", "--library", lib, "--config", bad);
    assert_exit(&r, 1);
    assert_err_has(&r, fmt("refusing: the policy %s has 1 error:\n  %s:3: ", bad, bad));
    assert_err_has(&r, "fix the policy (tlspin check)");
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written despite the refusal");

    /* A module that does not load (missing .so): an error too. */
    write_policy("version = 1;\nstack = (\n  { module = \"nosuchmodule\"; } );\n");
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 1);
    assert_err_has(&r, fmt("%s:3: ", H.config));
    run_result_free(&r);

    /* The default policy (what setuid programs read): missing, then broken. */
    ck_assert_int_eq(system("mkdir -p \"$(dirname '" TLSPIN_DEFAULT_CONFIG "')\""), 0);
    unlink(TLSPIN_DEFAULT_CONFIG);
    CLI(&r, NULL, "enable-system", "--library", lib);
    assert_exit(&r, 1);
    assert_err_has(&r, "refusing: the policy " TLSPIN_DEFAULT_CONFIG " has 1 error");
    assert_err_has(&r, "No such file or directory");
    run_result_free(&r);
    f = fopen(TLSPIN_DEFAULT_CONFIG, "w");
    ck_assert_ptr_nonnull(f);
    fputs("version = 1;\nstack = (\n", f);
    fclose(f);
    CLI(&r, NULL, "enable-system", "--library", lib);
    assert_exit(&r, 1);
    assert_err_has(&r, TLSPIN_DEFAULT_CONFIG ":");
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written despite the refusal");
}
END_TEST

/* Beyond what the policy loader refuses, everything `tlspin check` calls an
 * error refuses too (a policy anyone can rewrite); its warnings (a pinset
 * about to expire) are shown, and enabling goes on. */
START_TEST(enable_runs_tlspin_check)
{
    const char *lib = setup_system();
    struct run_result r;
    char expires[32];
    time_t soon = time(NULL) + 10 * 86400;
    struct tm tm;

    good_policy();
    ck_assert_int_eq(chmod(H.config, 0666), 0);
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 1);
    assert_err_has(&r, fmt("refusing: tlspin check finds errors in %s:\n", H.config));
    assert_err_has(&r, "writable by everybody");
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written despite the refusal");
    ck_assert_int_eq(chmod(H.config, 0644), 0);

    gmtime_r(&soon, &tm);
    strftime(expires, sizeof expires, "%Y-%m-%d", &tm);
    write_pinsets("api", "pinsets = ( { name = \"api\"; hosts = [ \"good.test\" ];\n"
                         "  pins = [ \"%s\", \"%s\" ]; expires = \"%s\"; } );\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"), expires);
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    assert_err_has(&r, "tlspin enable-system: warning: tlspin check says:\n");
    assert_err_has(&r, "expires in");
    assert_out_has(&r, "enabled: ");
    run_result_free(&r);
}
END_TEST

/* Libraries that must never be preloaded into every process. */
enum bad_lib {
    BAD_RELATIVE, BAD_MISSING, BAD_DIRECTORY, BAD_GROUP_WRITABLE, BAD_WORLD_WRITABLE_DIR,
    BAD_NOT_ROOT, BAD_NOT_ELF, BAD_NOT_THE_SHIM, BAD_NO_ENGINE, BAD_ENGINE_WRITABLE, N_BAD
};

START_TEST(enable_refuses_an_unsafe_library)
{
    const char *lib = setup_system();
    const char *dir = fmt("%s/sys/lib", H.tmp);
    const char *path = lib, *expect = NULL;
    struct run_result r;

    good_policy();
    switch (_i) {
    case BAD_RELATIVE:
        path = "sys/lib/libtlspin.so";
        expect = "sys/lib/libtlspin.so is not an absolute path";
        break;
    case BAD_MISSING:
        path = fmt("%s/nothing.so", dir);
        expect = "nothing.so: No such file or directory";
        break;
    case BAD_DIRECTORY:
        path = dir;
        expect = fmt("%s is not a regular file", dir);
        break;
    case BAD_GROUP_WRITABLE:
        ck_assert_int_eq(chmod(lib, 0664), 0);
        expect = fmt("%s is writable by its group (mode 0664)", lib);
        break;
    case BAD_WORLD_WRITABLE_DIR:
        ck_assert_int_eq(chmod(dir, 0777), 0);
        expect = fmt("its directory %s is writable by everyone (mode 0777)", dir);
        break;
    case BAD_NOT_ROOT:
        ck_assert_int_eq(chown(lib, 65534, 65534), 0);
        expect = fmt("%s is owned by ", lib);
        break;
    case BAD_NOT_ELF:
        path = write_file("sys/lib/text.so", "not a library\n");
        ck_assert_int_eq(chmod(path, 0644), 0);
        expect = "is not an ELF file";
        break;
    case BAD_NOT_THE_SHIM:
        ck_assert_int_eq(system(fmt("cp " ZLIB " '%s/libz.so.1'", dir)), 0);
        path = fmt("%s/libz.so.1", dir);
        expect = "is not the tlspin shim";
        break;
    case BAD_NO_ENGINE:
        ck_assert_int_eq(unlink(fmt("%s/tlspin/libtlspin-engine.so", dir)), 0);
        expect = "its engine: ";
        break;
    case BAD_ENGINE_WRITABLE:
        ck_assert_int_eq(chmod(fmt("%s/tlspin/libtlspin-engine.so", dir), 0666), 0);
        expect = "its engine: ";
        break;
    }
    CLI(&r, NULL, "enable-system", "--library", path, "--config", H.config);
    assert_exit(&r, 1);
    assert_err_has(&r, "tlspin enable-system: refusing the library: ");
    assert_err_has(&r, expect);
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written despite the refusal");
}
END_TEST

/* A symbolic link to a trusted shim: the file it names is what gets listed
 * (the entry no longer depends on the link). */
START_TEST(enable_lists_the_resolved_path)
{
    const char *lib = setup_system();
    const char *link = fmt("%s/sys/libtlspin-link.so", H.tmp);
    struct run_result r;
    char *text;

    good_policy();
    ck_assert_int_eq(symlink(lib, link), 0);
    CLI(&r, NULL, "enable-system", "--library", link, "--config", H.config);
    assert_exit(&r, 0);
    assert_out_has(&r, fmt("(%s is %s)", link, lib));
    run_result_free(&r);
    text = preload_text();
    ck_assert_str_eq(text, fmt("%s\n", lib));
    free(text);
}
END_TEST

START_TEST(status_reports_each_state)
{
    const char *lib = setup_system();
    const char *bad = write_file("bad.conf", "version = 1;\nbogus = 1;\nstack = ();\n");
    struct run_result r;

    good_policy();
    /* Disabled: 1. */
    CLI(&r, NULL, "status", "--config", H.config);
    assert_exit(&r, 1);
    ck_assert_msg(has_line(r.out, "system-wide: not enabled (" PRELOAD " does not exist)"),
                  RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("  policy: %s loads", H.config));
    run_result_free(&r);

    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    run_result_free(&r);

    /* Enabled, policy broken: 2, its error with file:line. */
    CLI(&r, NULL, "status", "--config", bad);
    assert_exit(&r, 2);
    ck_assert_msg(has_line(r.out, "system-wide: enabled, but broken"), RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("  policy: %s: 1 error\n    %s:2: ", bad, bad));
    run_result_free(&r);

    /* Enabled, library made unsafe: 2. */
    ck_assert_int_eq(chmod(lib, 0666), 0);
    CLI(&r, NULL, "status", "--config", H.config);
    assert_exit(&r, 2);
    assert_out_has(&r, fmt("  library: %s: broken: %s is writable by everyone (mode 0666)", lib,
                           lib));
    run_result_free(&r);
    ck_assert_int_eq(chmod(lib, 0644), 0);

    /* Another entry that does not exist is pointed out. */
    write_preload(fmt("/nonexistent/libfoo.so\n%s\n", lib), 0644);
    CLI(&r, NULL, "status", "--config", H.config);
    assert_exit(&r, 0);
    assert_out_has(&r, "note: " PRELOAD " also lists /nonexistent/libfoo.so, which does not exist");
    run_result_free(&r);
}
END_TEST

/* Disabling never depends on the policy: with a broken one it still works. */
START_TEST(disable_works_with_a_broken_policy)
{
    const char *lib = setup_system();
    struct run_result r;

    good_policy();
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    run_result_free(&r);
    write_policy("this is not a policy\n");
    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " still there");
}
END_TEST

/* What it is for: with the shim enabled system-wide and the default policy
 * pinning good.test, a client started with no LD_PRELOAD at all is
 * blocked by the interceptor; disabled, the same client gets through. */
START_TEST(enabled_system_wide_blocks_without_ld_preload)
{
    const char *lib = setup_system();
    struct server s;
    struct run_result r;
    size_t mark;
    FILE *f;

    write_good_pinset();
    ck_assert_int_eq(system("mkdir -p \"$(dirname '" TLSPIN_DEFAULT_CONFIG "')\""), 0);
    f = fopen(TLSPIN_DEFAULT_CONFIG, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
               "log = { rate_limit_seconds = 0; };\n"
               "stack = ( { module = \"file\"; control = \"required\"; args = { pinsets = "
               "\"%s\"; }; } );\n",
            H.pinsets);
    ck_assert_int_eq(fclose(f), 0);

    CLI(&r, NULL, "enable-system", "--library", lib);
    assert_exit(&r, 0);
    assert_out_has(&r, "policy: " TLSPIN_DEFAULT_CONFIG);
    run_result_free(&r);

    server_start(&s, "icpt");
    mark = syslog_mark();
    tls_client_run(&r, NULL, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);
    const struct syslog_rec *rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");

    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    run_result_free(&r);
    tls_client_run(&r, NULL, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_ok(&r);
    run_result_free(&r);
}
END_TEST

/* Eight enables and eight disables racing: the file ends up consistent
 * (one entry or none, the other entry kept), no temporary file left. */
START_TEST(concurrent_edits_are_serialised)
{
    const char *lib = setup_system();
    int rc;
    char *text;

    good_policy();
    write_preload(ZLIB "\n", 0644);
    rc = system(fmt("for i in 1 2 3 4 5 6 7 8; do "
                    "'%s' enable-system --library '%s' --config '%s' >/dev/null & "
                    "'%s' disable-system >/dev/null & done; wait; "
                    "'%s' enable-system --library '%s' --config '%s' >/dev/null",
                    TLSPIN_CLI, lib, H.config, TLSPIN_CLI, TLSPIN_CLI, lib, H.config));
    ck_assert_int_eq(rc, 0);
    text = preload_text();
    ck_assert_str_eq(text, fmt(ZLIB "\n%s\n", lib));
    free(text);
    assert_no_temp_left();
}
END_TEST

/* Without root: a clear error, nothing written. */
START_TEST(enable_as_ordinary_user_fails_clearly)
{
    const char *lib = setup_system();
    struct run_result r;

    good_policy();
    ck_assert_int_eq(chmod(H.root, 0755), 0);
    ck_assert_int_eq(chmod(H.tmp, 0755), 0);
    ck_assert_int_eq(chmod(H.config, 0644), 0);
    {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", TLSPIN_CLI, "enable-system", "--library", lib,
                              "--config", H.config, NULL};
        ck_assert_int_eq(run_argv(NULL, &r, argv), 0);
    }
    assert_exit(&r, 1);
    assert_err_has(&r,
                   "tlspin enable-system: cannot write in /etc: Permission denied (run as root)");
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written");
}
END_TEST

START_TEST(usage_texts)
{
    struct run_result r;
    static const char *const cmds[][2] = {
        {"enable-system", "usage: tlspin enable-system [--library PATH] [--config PATH]"},
        {"disable-system", "usage: tlspin disable-system [--library PATH]"},
        {"status", "usage: tlspin status [--config PATH]"},
    };
    for (size_t i = 0; i < 3; i++) {
        CLI(&r, NULL, cmds[i][0], "--help");
        assert_exit(&r, 0);
        assert_out_has(&r, cmds[i][1]);
        assert_out_has(&r, "Exit status: 0 ");
        run_result_free(&r);
        CLI(&r, NULL, cmds[i][0], "--bogus");
        assert_exit(&r, 2);
        assert_err_has(&r, fmt("tlspin %s: unknown option \"--bogus\"", cmds[i][0]));
        run_result_free(&r);
    }
    CLI(&r, NULL, "disable-system", "--library", "relative.so");
    assert_exit(&r, 2);
    assert_err_has(&r, "--library must be an absolute path");
    run_result_free(&r);
}
END_TEST

static Suite *cli_system_suite(void)
{
    Suite *s = suite_create("cli_system");
    TCase *tc;

    tc = harness_tcase("ld.so.preload");
    tcase_add_test(tc, enable_creates_the_file_and_status_says_healthy);
    tcase_add_test(tc, edits_keep_other_entries_and_are_idempotent);
    tcase_add_test(tc, last_entry_removes_file_other_shim_replaced);
    tcase_add_test(tc, enable_lists_the_resolved_path);
    tcase_add_test(tc, concurrent_edits_are_serialised);
    suite_add_tcase(s, tc);

    tc = harness_tcase("refusals");
    tcase_add_test(tc, enable_refuses_a_broken_policy);
    tcase_add_test(tc, enable_runs_tlspin_check);
    tcase_add_loop_test(tc, enable_refuses_an_unsafe_library, 0, N_BAD);
    tcase_add_test(tc, enable_as_ordinary_user_fails_clearly);
    tcase_add_test(tc, usage_texts);
    suite_add_tcase(s, tc);

    tc = harness_tcase("status and effect");
    tcase_add_test(tc, status_reports_each_state);
    tcase_add_test(tc, disable_works_with_a_broken_policy);
    tcase_add_test(tc, enabled_system_wide_blocks_without_ld_preload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_system_suite());
}
