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
 *
 * Recovery (issue 12, point 3): with the engine truncated, replaced by
 * garbage or deleted, a module missing or the policy broken, `tlspin
 * status` says what a new process does and exits non-zero, `tlspin
 * disable-system` takes the shim out, and the manual way back (sed from a
 * root shell) works while the broken shim is preloaded into every program.
 * The engine the CLI itself was built against is damaged as well (under an
 * overlay in this test's mounts), as on an installed machine where both
 * are the same file.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
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

/* The nearest existing directory at or above path (never "/"), static. */
static const char *nearest_existing_dir(const char *path)
{
    static char dir[PATH_MAX];
    struct stat st;
    char *slash;

    snprintf(dir, sizeof dir, "%s", path);
    while (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        slash = strrchr(dir, '/');
        ck_assert_msg(slash && slash != dir, "nothing but / above %s", path);
        *slash = '\0';
    }
    return dir;
}

/* The test's own /etc (and the build's policy directory, when that is
 * elsewhere); returns a trusted copy of the shim tree, laid out as
 * installed: <libdir>/tlspin/{libtlspin.so,libtlspin-engine.so,modules/}. */
static const char *setup_system(void)
{
    const char *dir = fmt("%s/sys/lib/tlspin", H.tmp);

    test_private_mounts();
    overlay_over("/etc");
    /* Everything written to the default policy lands in an overlay too. */
    if (strncmp(TLSPIN_DEFAULT_CONFIG, "/etc/", 5) != 0)
        overlay_over(nearest_existing_dir(TLSPIN_DEFAULT_CONFIG));
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " exists before the test");
    ck_assert_int_eq(system(fmt("mkdir -p '%s/modules' && "
                                "cp '%s' '%s/libtlspin-engine.so' '%s/' && "
                                "cp '%s' '%s/modules/' && chmod -R go-w '%s/sys'",
                                dir, SHIM_PATH, TLSPIN_BUILD_DIR "/lib/tlspin", dir,
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
    /* refused where it is read (StrictModes, issue 13), so it does not load */
    assert_err_has(&r, fmt("refusing: the policy %s has 1 error", H.config));
    assert_err_has(&r, "writable by group and others (mode 0666): refused");
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
    const char *dir = fmt("%s/sys/lib/tlspin", H.tmp);
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
        ck_assert_int_eq(unlink(fmt("%s/libtlspin-engine.so", dir)), 0);
        expect = "its engine: ";
        break;
    case BAD_ENGINE_WRITABLE:
        ck_assert_int_eq(chmod(fmt("%s/libtlspin-engine.so", dir), 0666), 0);
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

/* ------------------------------------------------------------------ */
/* Recovery (issue 12, point 3)                                         */
/* ------------------------------------------------------------------ */

/* How the engine is broken. A copy cut short inside its first segment
 * passes dlopen's checks and kills whoever loads it with SIGBUS; one cut to
 * nothing, garbage and a deleted file are refused by dlopen. */
enum damage { DAMAGE_EMPTY, DAMAGE_CUT, DAMAGE_GARBAGE, DAMAGE_MISSING, N_DAMAGE };

static const char *const damage_name[] = {"truncated to 0 bytes", "truncated to 8 KiB",
                                          "garbage", "deleted"};

/* What dlopen says of it, as status must report. */
static const char *const damage_says[] = {"file too short", "killed the process (signal 7",
                                          "invalid ELF header", "No such file or directory"};

static void damage_file(const char *file, enum damage d)
{
    switch (d) {
    case DAMAGE_EMPTY:
        run_sh(fmt(": > '%s'", file));
        break;
    case DAMAGE_CUT:
        run_sh(fmt("truncate -s 8192 '%s'", file));
        break;
    case DAMAGE_GARBAGE:
        run_sh(fmt("yes 'not an ELF object' | head -c 65536 > '%s'", file));
        break;
    case DAMAGE_MISSING:
        run_sh(fmt("rm -f '%s'", file));
        break;
    case N_DAMAGE:
        break;
    }
}

/* The default policy (what every program reads system-wide): the file
 * module over H.pinsets, good.test pinned to its own key. */
static void good_default_policy(void)
{
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
}

/* curl to good.test on port, with no LD_PRELOAD: only /etc/ld.so.preload
 * can put the shim in it. */
static void curl_good(struct run_result *r, int port)
{
    ck_assert_int_eq(RUN(r, NULL, CURL, "-q", "-sS", "--max-time", "10", "--cacert",
                         cert("trust.pem"), "--resolve", fmt("good.test:%d:127.0.0.1", port),
                         "-o", "/dev/null", fmt("https://good.test:%d/", port)),
                     0);
}

static void assert_curl_refused(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 60 &&
                      strstr(r->err, "application verification failure") != NULL,
                  "curl should have been refused (60): " RUN_FMT, RUN_ARGS(r));
}

/* Enabled system-wide with a good policy, a server up (started before the
 * shim is listed: a server is a program too), curl through: the state a
 * machine is in before something breaks. Returns the shim. */
static const char *enabled_machine(struct server *s)
{
    const char *lib = setup_system();
    struct run_result r;

    good_default_policy();
    server_start(s, "good");
    CLI(&r, NULL, "enable-system", "--library", lib);
    assert_exit(&r, 0);
    run_result_free(&r);
    curl_good(&r, s->port);
    ck_assert_msg(r.exited && r.code == 0, "curl before the damage: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    return lib;
}

/* Damage the engine next to the listed shim, and the one the CLI was
 * built against (an overlay: the build tree stays whole outside this
 * test's mounts). */
static const char *break_engines(enum damage d)
{
    const char *engine = fmt("%s/sys/lib/tlspin/libtlspin-engine.so", H.tmp);

    overlay_over(TLSPIN_BUILD_DIR "/lib/tlspin");
    damage_file(engine, d);
    damage_file(TLSPIN_BUILD_DIR "/lib/tlspin/libtlspin-engine.so", d);
    return engine;
}

/* status says the engine is broken and what that does; disable-system
 * takes the shim out and exits 0; the next curl goes through. */
START_TEST(broken_engine_status_and_disable)
{
    struct server s;
    struct run_result r;
    const char *lib = enabled_machine(&s), *engine;
    char *text;

    engine = break_engines((enum damage)_i);

    CLI(&r, NULL, "--help");
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "disable-system"),
                  "tlspin --help with the engine %s: " RUN_FMT, damage_name[_i], RUN_ARGS(&r));
    run_result_free(&r);

    CLI(&r, NULL, "status");
    ck_assert_msg(r.exited && r.code == 2, "status with the engine %s: " RUN_FMT,
                  damage_name[_i], RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "system-wide: enabled, but broken"), RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("  engine: %s: broken: ", engine));
    assert_out_has(&r, damage_says[_i]);
    assert_out_has(&r, fmt("  policy: %s: not read (only the engine reads it)",
                           TLSPIN_DEFAULT_CONFIG));
    if (_i == DAMAGE_CUT)
        assert_out_has(&r, "  a new process DIES at its first TLS handshake as a client");
    else
        assert_out_has(&r, "  a new process REFUSES EVERY TLS HANDSHAKE it makes as a client "
                           "(fail closed");
    assert_out_has(&r, "  the way back: tlspin disable-system");
    ck_assert_msg(strstr(r.out, "healthy") == NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* A command that needs the engine says so, and points at the way back. */
    CLI(&r, NULL, "check");
    ck_assert_msg(r.exited && r.code == 2, "check with the engine %s: " RUN_FMT,
                  damage_name[_i], RUN_ARGS(&r));
    assert_err_has(&r, _i == DAMAGE_CUT ? "tlspin check: loading the tlspin commands ("
                                        : "tlspin check: cannot load the tlspin commands: ");
    assert_err_has(&r, "`tlspin disable-system`");
    assert_err_has(&r, "works without any of these files");
    run_result_free(&r);

    CLI(&r, NULL, "disable-system");
    ck_assert_msg(r.exited && r.code == 0, "disable-system with the engine %s: " RUN_FMT,
                  damage_name[_i], RUN_ARGS(&r));
    assert_out_has(&r, "disabled: removed 1 entry from " PRELOAD);
    run_result_free(&r);
    text = preload_text();
    ck_assert_msg(text == NULL, PRELOAD " still there: %s", text ? text : "");

    curl_good(&r, s.port);
    ck_assert_msg(r.exited && r.code == 0, "curl after disable-system: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    CLI(&r, NULL, "status");
    assert_exit(&r, 1);
    ck_assert_msg(has_line(r.out, "system-wide: not enabled (" PRELOAD " does not exist)"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    (void)lib;
}
END_TEST

/* The manual way back, from a root shell: sh and sed never load OpenSSL,
 * so they run under the preloaded broken shim while every OpenSSL client
 * is refused; sed takes the line out and the next curl goes through. */
START_TEST(broken_engine_manual_recovery)
{
    struct server s;
    struct run_result r;
    const char *lib = enabled_machine(&s);
    size_t mark;
    char *text;

    break_engines((enum damage)_i);

    mark = syslog_mark();
    curl_good(&r, s.port);
    /* An engine cut short would pass dlopen and kill curl with SIGBUS at
     * its first handshake: the shim checks the file is whole first. */
    assert_curl_refused(&r);
    {
        const struct syslog_rec *rec = syslog_wait_for_since(mark, "event=policy-error", 2000);
        ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
        ck_assert_field(rec, "action", "blocked");
        ck_assert_field_has(rec, "reason", _i == DAMAGE_CUT ? "is cut short" : "cannot load");
    }
    run_result_free(&r);

    /* The shell and sed start and work with the shim preloaded. */
    ck_assert_int_eq(RUN(&r, NULL, "/bin/sh", "-c",
                         "grep -c libtlspin.so /etc/ld.so.preload; echo broken | sed s/broken/fine/"),
                     0);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "1\nfine\n") == 0 &&
                      r.err[0] == '\0',
                  "sh and sed under the broken shim: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, NULL, "/bin/sh", "-c",
                         "sed -i '\\#/libtlspin\\.so$#d' /etc/ld.so.preload"),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "sed -i: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    text = preload_text();
    ck_assert_msg(text == NULL || strstr(text, "libtlspin.so") == NULL, "still listed: %s", text);
    free(text);

    curl_good(&r, s.port);
    ck_assert_msg(r.exited && r.code == 0, "curl after the manual edit: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    (void)lib;
}
END_TEST

/* A module that does not load (its .so deleted next to the engine): that
 * stack entry is faulty and on_error decides the handshakes that reach it;
 * status says so and exits 2, disable-system works. */
START_TEST(missing_module_status_and_disable)
{
    struct server s;
    struct run_result r;
    const char *module = fmt("%s/sys/lib/tlspin/modules/file.so", H.tmp);
    const struct syslog_rec *rec;
    size_t mark;

    enabled_machine(&s);
    ck_assert_int_eq(unlink(module), 0);
    /* The build's own module too: nothing the CLI uses may depend on it. */
    overlay_over(MODULE_DIR);
    ck_assert_int_eq(unlink(FILE_MODULE_PATH), 0);

    CLI(&r, NULL, "status");
    assert_exit(&r, 2);
    ck_assert_msg(has_line(r.out, "system-wide: enabled, but broken"), RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("  engine: %s/sys/lib/tlspin/libtlspin-engine.so loads", H.tmp));
    assert_out_has(&r, fmt("  policy: %s: 1 error\n    %s:", TLSPIN_DEFAULT_CONFIG,
                           TLSPIN_DEFAULT_CONFIG));
    assert_out_has(&r, "  a new process runs with stack entry 1 (module file, required) broken: "
                       "every handshake\n  that reaches it is decided by on_error = deny "
                       "(refused).");
    run_result_free(&r);

    mark = syslog_mark();
    curl_good(&r, s.port);
    assert_curl_refused(&r);
    run_result_free(&r);
    rec = syslog_wait_for_since(mark, "event=module-error", 2000);
    ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field_has(rec, "reason", "cannot load module");

    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " still there");
    curl_good(&r, s.port);
    ck_assert_msg(r.exited && r.code == 0, "curl after disable-system: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* The policy edited into a syntax error: every client handshake refused
 * (on_error of a file that cannot be read is deny), the record says
 * event=policy-error; status says so and exits 2; disable-system works,
 * and so does the manual way back. */
START_TEST(broken_policy_status_disable_and_manual)
{
    struct server s;
    struct run_result r;
    size_t mark;
    FILE *f;

    enabled_machine(&s);
    f = fopen(TLSPIN_DEFAULT_CONFIG, "w");
    ck_assert_ptr_nonnull(f);
    fputs("version = 1;\nstack = (\n", f);
    ck_assert_int_eq(fclose(f), 0);

    CLI(&r, NULL, "status");
    assert_exit(&r, 2);
    ck_assert_msg(has_line(r.out, "system-wide: enabled, but broken"), RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, "  engine: ");
    assert_out_has(&r, fmt("  policy: %s: 1 error\n    %s:", TLSPIN_DEFAULT_CONFIG,
                           TLSPIN_DEFAULT_CONFIG));
    assert_out_has(&r, "  a new process REFUSES EVERY TLS HANDSHAKE it makes as a client: the "
                       "policy is unusable\n  and on_error is deny");
    run_result_free(&r);

    mark = syslog_mark();
    curl_good(&r, s.port);
    assert_curl_refused(&r);
    run_result_free(&r);
    const struct syslog_rec *rec = syslog_wait_for_since(mark, "event=policy-error", 2000);
    ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field_has(rec, "reason", TLSPIN_DEFAULT_CONFIG ":3: ");

    /* The manual way, then the command (which finds nothing left to do). */
    ck_assert_int_eq(RUN(&r, NULL, "/bin/sh", "-c",
                         "sed -i '\\#/libtlspin\\.so$#d' /etc/ld.so.preload"), 0);
    ck_assert_msg(r.exited && r.code == 0, "sed -i: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    curl_good(&r, s.port);
    ck_assert_msg(r.exited && r.code == 0, "curl after the manual edit: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    CLI(&r, NULL, "enable-system");
    assert_exit(&r, 1);   /* refused over the broken policy */
    run_result_free(&r);
    write_preload(fmt("%s/sys/lib/tlspin/libtlspin.so\n", H.tmp), 0644);
    CLI(&r, NULL, "disable-system");
    assert_exit(&r, 0);
    assert_out_has(&r, "disabled: removed 1 entry from " PRELOAD);
    run_result_free(&r);
}
END_TEST

/* With a last good policy committed (tlspin check --commit), a broken
 * policy is not "every handshake refused": status says a new process
 * enforces the snapshot (asked from the engine, as the shim's would). */
START_TEST(status_says_the_last_good_policy_stands_in)
{
    const char *lib = setup_system();
    const char *state = fmt("%s/state", H.tmp);
    struct run_opts o = {.env = (const char *const[]){fmt("TLSPIN_STATE_DIR=%s", state), NULL}};
    struct run_result r;

    good_policy();
    ck_assert_int_eq(mkdir(state, 0755), 0);
    CLI(&r, &o, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 0);
    run_result_free(&r);
    CLI(&r, &o, "check", "--config", H.config, "--commit");
    assert_exit(&r, 0);
    run_result_free(&r);
    write_policy("version = 1;\nstack = (\n");

    CLI(&r, &o, "status", "--config", H.config);
    assert_exit(&r, 2);
    assert_out_has(&r, fmt("  policy: %s: 1 error\n", H.config));
    assert_out_has(&r, "  a new process enforces the LAST GOOD policy in place of the broken one, "
                       "with the\n  record event=policy-error action=using-last-good (committed ");
    ck_assert_msg(strstr(r.out, "REFUSES") == NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* What keeps the way back open whatever is damaged: bin/tlspin needs
 * nothing but libc to start (the engine, OpenSSL and libconfig are reached
 * by dlopen, for the commands that need them). */
START_TEST(the_cli_needs_only_libc)
{
    struct run_result r;
    const char *line;
    int needed = 0;

    ck_assert_int_eq(RUN(&r, NULL, "/usr/bin/readelf", "-dW", TLSPIN_CLI), 0);
    ck_assert_msg(r.exited && r.code == 0, "readelf: " RUN_FMT, RUN_ARGS(&r));
    for (line = strstr(r.out, "(NEEDED)"); line; line = strstr(line + 1, "(NEEDED)")) {
        needed++;
        ck_assert_msg(strncmp(strchr(line, '['), "[libc.so.6]", 11) == 0,
                      "bin/tlspin needs more than libc: " RUN_FMT, RUN_ARGS(&r));
    }
    ck_assert_msg(needed == 1, "bin/tlspin: %d DT_NEEDED: " RUN_FMT, needed, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* enable-system never lists a shim whose engine does not load. */
START_TEST(enable_refuses_an_engine_that_does_not_load)
{
    const char *lib = setup_system();
    const char *engine = fmt("%s/sys/lib/tlspin/libtlspin-engine.so", H.tmp);
    struct run_result r;

    good_policy();
    damage_file(engine, (enum damage)_i);
    CLI(&r, NULL, "enable-system", "--library", lib, "--config", H.config);
    assert_exit(&r, 1);
    assert_err_has(&r, "tlspin enable-system: refusing the library: its engine ");
    assert_err_has(&r, damage_says[_i]);
    run_result_free(&r);
    ck_assert_msg(access(PRELOAD, F_OK) != 0, PRELOAD " written despite the refusal");
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

    tc = harness_tcase("recovery");
    tcase_add_loop_test(tc, broken_engine_status_and_disable, 0, N_DAMAGE);
    tcase_add_loop_test(tc, broken_engine_manual_recovery, 0, N_DAMAGE);
    tcase_add_test(tc, missing_module_status_and_disable);
    tcase_add_test(tc, broken_policy_status_disable_and_manual);
    tcase_add_test(tc, status_says_the_last_good_policy_stands_in);
    tcase_add_test(tc, the_cli_needs_only_libc);
    /* DAMAGE_MISSING is refused earlier, by the trust check (test above). */
    tcase_add_loop_test(tc, enable_refuses_an_engine_that_does_not_load, 0, DAMAGE_MISSING);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_system_suite());
}
