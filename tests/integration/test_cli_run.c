/*
 * test_cli_run.c — `tlspin doctor`, `tlspin run` and `tlspin log`, on the
 * real programs of the machine and on programs built here:
 *   - doctor's verdicts: curl and openssl (OpenSSL 3), python3 and perl
 *     (OpenSSL loaded at run time), wget, lynx, mutt and git-remote-https
 *     (GnuTLS), a statically linked program and a static-pie one built with
 *     gcc, setuid/setgid/file-capability copies of curl (as root and as
 *     nobody), the same covered through /etc/ld.so.preload (in an overlay),
 *     scripts (#!/usr/bin/env ...) judged by their interpreter;
 *   - run: curl against a real server on 127.0.0.1 is blocked on a pin
 *     mismatch (its own error, no byte to the server, one record from the
 *     curl process itself) and passes on a match; LD_PRELOAD kept with the
 *     shim first; --config made absolute; refusals (exit 126) unless
 *     --force; 127 for a missing program; 125 for a broken policy;
 *   - log: real records (from a blocked curl) written in rsyslog's formats,
 *     decoded, filtered with --since; the journal path through journalctl.
 */
#include "harness.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"
#define MARKER "tlspin-cli-run-request"
#define GIT_REMOTE_HTTPS "/usr/lib/git-core/git-remote-https"

/* Exit statuses of `tlspin run` (docs/tlspin.1). */
#define RUN_FAILED 125
#define RUN_REFUSED 126
#define RUN_NOT_FOUND 127

/* Run the tlspin command (argv after "tlspin") with opts o (NULL: none). */
#define CLI(r, o, ...) RUN((r), (o), TLSPIN_CLI, __VA_ARGS__)
/* The same with PATH set to path (the harness passes its own PATH on, and
 * an extra "PATH=" in run_opts.env would come second). */
#define CLI_PATH(r, path, ...) RUN((r), NULL, "/usr/bin/env", fmt("PATH=%s", (path)), TLSPIN_CLI, \
                                   __VA_ARGS__)

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

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* H.tmp and its parents readable by nobody (for runs under setpriv). */
static void open_tmp_to_all(void)
{
    ck_assert_int_eq(chmod(H.root, 0755), 0);
    ck_assert_int_eq(chmod(H.tmp, 0755), 0);
    ck_assert_int_eq(chmod(H.certs, 0755), 0);
}

/* A copy of `src` at H.tmp/name with mode, returned. */
static const char *copy_program(const char *src, const char *name, mode_t mode)
{
    const char *dst = fmt("%s/%s", H.tmp, name);
    ck_assert_int_eq(system(fmt("cp '%s' '%s'", src, dst)), 0);
    ck_assert_int_eq(chmod(dst, mode), 0);
    return dst;
}

/* A tiny C program built with gcc and `flags` (-static, -static-pie). */
static const char *build_static(const char *name, const char *flags)
{
    const char *src = write_file(fmt("%s.c", name),
                                 "#include <stdio.h>\n"
                                 "int main(void) { puts(\"static\"); return 0; }\n");
    const char *bin = fmt("%s/%s", H.tmp, name);
    int rc = system(fmt("cc %s -o '%s' '%s'", flags, bin, src));
    ck_assert_msg(rc == 0, "cc %s failed (static libc: libc6-dev)", flags);
    return bin;
}

/* ------------------------------------------------------------------ */
/* doctor                                                               */
/* ------------------------------------------------------------------ */

START_TEST(doctor_curl_links_openssl)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", CURL, OPENSSL);
    assert_exit(&r, 0);
    ck_assert_uint_eq(count_lines(r.out), 2);
    assert_out_has(&r, CURL ": covered: it links OpenSSL 3 (libssl.so.3 via libcurl.so.4)");
    assert_out_has(&r, OPENSSL ": covered: it links OpenSSL 3 (libssl.so.3)");
    run_result_free(&r);

    /* -v: the facts, including curl's GnuTLS (through librtmp): noted. */
    CLI(&r, NULL, "doctor", "-v", CURL);
    assert_exit(&r, 0);
    assert_out_has(&r, "TLS library: libssl.so.3 via libcurl.so.4 (OpenSSL 3)");
    run_result_free(&r);
}
END_TEST

/* python3 and perl link no libssl: they load it at run time, through
 * python's _ssl extension and perl's Net::SSLeay. */
START_TEST(doctor_interpreters_covered_when_they_load_openssl)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", PYTHON3, PERL);
    assert_exit(&r, 0);
    assert_out_has(&r, PYTHON3 ": covered when it loads OpenSSL: its _ssl module (");
    assert_out_has(&r, "lib-dynload/_ssl");
    assert_out_has(&r, PERL ": covered when it loads OpenSSL: its Net::SSLeay module (");
    ck_assert_msg(strstr(r.out, ") links OpenSSL 3 (libssl.so.3)") != NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

static const struct {
    const char *path, *via;
} gnutls_programs[] = {
    {"/usr/bin/wget", "(libgnutls.so.30)"},
    {"/usr/bin/lynx", "(libgnutls.so.30)"},
    {"/usr/bin/mutt", "(libgnutls.so.30)"},
    {GIT_REMOTE_HTTPS, "(libgnutls.so.30 via libcurl-gnutls.so.4)"},
};

START_TEST(doctor_gnutls_programs_not_covered)
{
    struct run_result r;
    const char *path = gnutls_programs[_i].path;

    ck_assert_msg(access(path, X_OK) == 0, "%s is missing: install it (script/setup; git for "
                  "git-remote-https)", path);
    CLI(&r, NULL, "doctor", path);
    assert_exit(&r, 1);
    ck_assert_uint_eq(count_lines(r.out), 1);
    assert_out_has(&r, fmt("%s: not covered: it uses GnuTLS %s, not OpenSSL. Use the "
                           "program's own pinning",
                           path, gnutls_programs[_i].via));
    run_result_free(&r);
}
END_TEST

START_TEST(doctor_static_programs_not_covered)
{
    struct run_result r;
    const char *st = build_static("hello-static", "-static");
    const char *pie = build_static("hello-static-pie", "-static-pie");

    CLI(&r, NULL, "doctor", st, pie);
    assert_exit(&r, 1);
    assert_out_has(&r, fmt("%s: not covered: it is statically linked: no dynamic loader runs, "
                           "so neither LD_PRELOAD nor /etc/ld.so.preload applies. Nothing can "
                           "cover it from outside the process",
                           st));
    assert_out_has(&r, fmt("%s: not covered: it is statically linked (static-pie)", pie));
    run_result_free(&r);
}
END_TEST

/* A Go program links libc at most and makes its TLS connections with
 * crypto/tls: told by Go's build-info section, which a C program built here
 * carries for the test (the Go toolchain is not on the machine). */
START_TEST(doctor_go_program_not_covered)
{
    struct run_result r;
    const char *src = write_file("gofake.c",
                                 "__attribute__((section(\".go.buildinfo\"), used))\n"
                                 "static const char buildinfo[32] = \"\\xff Go buildinf:\";\n"
                                 "int main(void) { return 0; }\n");
    const char *bin = fmt("%s/gofake", H.tmp);
    ck_assert_int_eq(system(fmt("cc -o '%s' '%s'", bin, src)), 0);

    CLI(&r, NULL, "doctor", bin);
    assert_exit(&r, 1);
    assert_out_has(&r, fmt("%s: not covered: it is a Go program: Go's own crypto/tls makes its "
                           "connections, never OpenSSL",
                           bin));
    run_result_free(&r);
}
END_TEST

/* A file capability (cap_net_raw, permitted + effective) written as the
 * security.capability xattr, as setcap(8) does. */
static void set_file_cap(const char *path)
{
    struct vfs_cap_data cap;
    memset(&cap, 0, sizeof cap);
    cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    cap.data[0].permitted = 1u << CAP_NET_RAW;
    ck_assert_msg(setxattr(path, "security.capability", &cap, XATTR_CAPS_SZ_2, 0) == 0,
                  "setxattr security.capability: %s", strerror(errno));
}

/* setuid/setgid/capabilities: the loader ignores LD_PRELOAD for the users
 * who run them, so doctor says "not covered" (as root too) and points to
 * enable-system. */
START_TEST(doctor_privileged_copies_not_covered)
{
    struct run_result r;
    const char *suid = copy_program(CURL, "curl-setuid", 04755);
    const char *sgid = copy_program(CURL, "curl-setgid", 02755);
    const char *capd = copy_program(CURL, "curl-cap", 0755);

    /* chown clears setuid/setgid: the mode comes after. */
    ck_assert_int_eq(chown(sgid, 0, 4 /* adm, or any group but root's */), 0);
    ck_assert_int_eq(chmod(sgid, 02755), 0);
    set_file_cap(capd);
    open_tmp_to_all();

    CLI(&r, NULL, "doctor", suid, sgid, capd);
    assert_exit(&r, 1);
    assert_out_has(&r, fmt("%s: not covered: it is setuid root, so the dynamic loader ignores "
                           "LD_PRELOAD for it. List the shim in /etc/ld.so.preload: tlspin "
                           "enable-system",
                           suid));
    assert_out_has(&r, fmt("%s: not covered: it is setgid ", sgid));
    assert_out_has(&r, fmt("%s: not covered: it has file capabilities (cap_net_raw)", capd));
    run_result_free(&r);

    /* The same verdict for an ordinary user. */
    {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", TLSPIN_CLI, "doctor", suid, capd, NULL};
        ck_assert_int_eq(run_argv(NULL, &r, argv), 0);
    }
    assert_exit(&r, 1);
    assert_out_has(&r, fmt("%s: not covered: it is setuid root", suid));
    assert_out_has(&r, fmt("%s: not covered: it has file capabilities", capd));
    run_result_free(&r);
}
END_TEST

/* Listed in /etc/ld.so.preload (an overlay private to this test), the
 * shim does cover setuid programs: doctor says so. */
START_TEST(doctor_setuid_covered_system_wide)
{
    struct run_result r;
    const char *suid = copy_program(CURL, "curl-setuid", 04755);
    FILE *f;

    test_private_mounts();
    overlay_over("/etc");
    f = fopen("/etc/ld.so.preload", "w");
    ck_assert_ptr_nonnull(f);
    fputs(SHIM_PATH "\n", f);
    ck_assert_int_eq(fclose(f), 0);

    CLI(&r, NULL, "doctor", suid);
    assert_exit(&r, 0);
    assert_out_has(&r, fmt("%s: covered system-wide: it links OpenSSL 3 (libssl.so.3 via "
                           "libcurl.so.4); through /etc/ld.so.preload, as it is setuid root",
                           suid));
    run_result_free(&r);
}
END_TEST

/* A script is judged by its interpreter, env(1) followed through PATH. */
START_TEST(doctor_scripts_judged_by_interpreter)
{
    struct run_result r;
    const char *st = build_static("static-interp", "-static");
    const char *py = write_file("tool.py", "#!/usr/bin/env -S python3 -I\nprint('hi')\n");
    const char *sh = write_file("tool.sh", "#!%s\n", st);
    const char *nested = write_file("nested", "#!%s\n", py);
    const char *missing = write_file("missing.sh", "#!/nonexistent/interpreter\n");

    ck_assert_int_eq(chmod(py, 0755), 0);
    ck_assert_int_eq(chmod(sh, 0755), 0);
    ck_assert_int_eq(chmod(nested, 0755), 0);
    ck_assert_int_eq(chmod(missing, 0755), 0);

    CLI_PATH(&r, "/usr/bin:/bin", "doctor", "-v", py);
    assert_exit(&r, 0);
    assert_out_has(&r, fmt("%s: covered when it loads OpenSSL: it is a script for "
                           "/usr/bin/python3, "
                           "whose _ssl module (",
                           py));
    assert_out_has(&r, fmt("    %s is a script run by /usr/bin/python3", py));
    run_result_free(&r);

    CLI_PATH(&r, "/usr/bin:/bin", "doctor", sh, missing);
    assert_exit(&r, 1);
    assert_out_has(&r, fmt("%s: not covered: it is a script for %s, which is statically linked", sh,
                           st));
    assert_out_has(&r, fmt("%s: not found: a script, but its interpreter /nonexistent/interpreter "
                           "does not exist",
                           missing));
    run_result_free(&r);

    /* A script whose interpreter is a script: followed to the end. */
    CLI_PATH(&r, "/usr/bin:/bin", "doctor", nested);
    assert_exit(&r, 0);
    assert_out_has(&r, "it is a script for /usr/bin/python3");
    run_result_free(&r);
}
END_TEST

START_TEST(doctor_several_programs_one_line_each)
{
    struct run_result r;

    /* Names are looked up in PATH, as the shell would. */
    CLI_PATH(&r, "/usr/bin:/bin", "doctor", "curl", "wget", "no-such-program-here");
    assert_exit(&r, 1);
    ck_assert_uint_eq(count_lines(r.out), 3);
    assert_out_has(&r, "curl (/usr/bin/curl): covered: ");
    assert_out_has(&r, "wget (/usr/bin/wget): not covered: ");
    assert_out_has(&r, "no-such-program-here: not found: command not found\n");
    run_result_free(&r);
}
END_TEST

START_TEST(doctor_usage)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", "--help");
    assert_exit(&r, 0);
    assert_out_has(&r, "usage: tlspin doctor [-v] PROGRAM...");
    assert_out_has(&r, "Exit status: 0 every PROGRAM can be covered");
    run_result_free(&r);

    CLI(&r, NULL, "doctor");
    assert_exit(&r, 2);
    assert_err_has(&r, "name at least one program");
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);

    CLI(&r, NULL, "doctor", "--bogus", CURL);
    assert_exit(&r, 2);
    assert_err_has(&r, "unknown option \"--bogus\"\nTry 'tlspin doctor --help'.");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* run                                                                  */
/* ------------------------------------------------------------------ */

static void curl_through_tlspin(struct run_result *r, const struct run_opts *o, int port,
                                const char *const pre[])
{
    const char *argv[40];
    size_t n = 0;

    argv[n++] = TLSPIN_CLI;
    argv[n++] = "run";
    for (size_t i = 0; pre && pre[i]; i++)
        argv[n++] = pre[i];
    argv[n++] = "--";
    argv[n++] = CURL;
    argv[n++] = "-q";
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--cacert";
    argv[n++] = cert("trust.pem");
    argv[n++] = "--resolve";
    argv[n++] = fmt("good.test:%d:127.0.0.1", port);
    argv[n++] = "-H";
    argv[n++] = "X-Probe: " MARKER;
    argv[n++] = fmt("https://good.test:%d/", port);
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* The point of it all: curl, unmodified, run by `tlspin run` against an
 * interceptor presenting a trusted but unpinned key, is blocked. */
START_TEST(run_curl_blocked_on_mismatch)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *const pre[] = {"--config", H.config, NULL};
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    curl_through_tlspin(&r, NULL, s.port, pre);

    /* curl's own words and exit status; tlspin itself said nothing. */
    assert_exit(&r, 60);
    assert_err_has(&r, "SSL certificate problem: application verification failure");
    ck_assert_msg(strstr(r.err, "tlspin:") == NULL, "tlspin run spoke: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got_no_data(&s);

    /* The record comes from the curl process, which is the process `tlspin
     * run` started (exec, no fork). */
    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
    ck_assert_str_eq(rec->tag, "curl");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "program", "curl");
    ck_assert_field(rec, "pid", fmt("%d", (int)r.pid));
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_uint_eq(syslog_tlspin_count_since(mark), 1);
    run_result_free(&r);
}
END_TEST

START_TEST(run_curl_passes_on_match)
{
    struct server s;
    struct run_result r;
    const char *const pre[] = {"--config", H.config, NULL};
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    mark = syslog_mark();
    curl_through_tlspin(&r, NULL, s.port, pre);
    assert_exit(&r, 0);
    assert_server_got(&s, MARKER);
    ck_assert_uint_eq(syslog_tlspin_count_since(mark), 0);
    run_result_free(&r);
}
END_TEST

/* LD_PRELOAD: the shim first, the user's entries kept (once each); the
 * policy exported as an absolute TLSPIN_CONFIG even when given relative
 * (programs run from the test directory). */
START_TEST(run_environment)
{
    struct run_result r;
    const char *const env[] = {
        "LD_PRELOAD=/lib/x86_64-linux-gnu/libz.so.1 " SHIM_PATH, NULL};
    struct run_opts o = {.env = env};

    write_file_policy(NULL);
    CLI(&r, &o, "run", "--config", "tlspin.conf", "--", "/usr/bin/env");
    assert_exit(&r, 0);
    ck_assert_msg(has_line(r.out, "LD_PRELOAD=" SHIM_PATH ":/lib/x86_64-linux-gnu/libz.so.1"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("TLSPIN_CONFIG=%s", H.config)), RUN_FMT, RUN_ARGS(&r));
    ck_assert_str_eq(r.err, "");
    run_result_free(&r);

    /* Without an LD_PRELOAD: just the shim. "--" is optional. */
    CLI(&r, NULL, "run", "--config", H.config, "/usr/bin/env");
    assert_exit(&r, 0);
    ck_assert_msg(has_line(r.out, "LD_PRELOAD=" SHIM_PATH), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* The program's arguments and exit status pass through untouched. */
    CLI(&r, NULL, "run", "--config", H.config, "--", "/bin/sh", "-c", "echo \"$1\"; exit 7",
        "sh", "--force");
    assert_exit(&r, 7);
    ck_assert_str_eq(r.out, "--force\n");
    run_result_free(&r);
}
END_TEST

/* Programs the shim cannot cover are refused (126) before they run, with
 * why and what to do; --force runs them with a warning. */
START_TEST(run_refuses_uncoverable)
{
    struct run_result r;
    const char *st = build_static("hello-static", "-static");

    write_file_policy(NULL);
    CLI(&r, NULL, "run", "--config", H.config, "--", "/usr/bin/wget", "--version");
    assert_exit(&r, RUN_REFUSED);
    ck_assert_str_eq(r.out, ""); /* wget did not run */
    assert_err_has(&r, "tlspin: /usr/bin/wget cannot be covered: it uses GnuTLS (libgnutls.so.30), "
                       "not OpenSSL.\n");
    assert_err_has(&r, "tlspin: Use the program's own pinning");
    assert_err_has(&r, "--force runs it anyway");
    run_result_free(&r);

    CLI(&r, NULL, "run", "--force", "--config", H.config, "--", "/usr/bin/wget", "--version");
    assert_exit(&r, 0);
    assert_out_has(&r, "GNU Wget");
    assert_err_has(&r, "tlspin: warning: /usr/bin/wget cannot be covered: it uses GnuTLS");
    assert_err_has(&r, "NOT checked against the policy");
    run_result_free(&r);

    CLI(&r, NULL, "run", "--config", H.config, "--", st);
    assert_exit(&r, RUN_REFUSED);
    assert_err_has(&r, "is statically linked");
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);

    CLI(&r, NULL, "run", "--config", H.config, "-f", "--", st);
    assert_exit(&r, 0);
    ck_assert_str_eq(r.out, "static\n");
    run_result_free(&r);
}
END_TEST

/* A setuid-root copy run by an ordinary user: the loader would drop
 * LD_PRELOAD, so run refuses. Run by root (its owner), LD_PRELOAD applies:
 * it runs, and the shim does block. */
START_TEST(run_setuid_depends_on_who_runs_it)
{
    struct server s;
    struct run_result r;
    const char *suid = copy_program(CURL, "curl-setuid", 04755);

    write_file_policy(NULL);
    write_good_pinset();
    open_tmp_to_all();
    ck_assert_int_eq(chmod(H.config, 0644), 0);
    {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", TLSPIN_CLI, "run", "--config", H.config, "--",
                              suid, "--version", NULL};
        ck_assert_int_eq(run_argv(NULL, &r, argv), 0);
    }
    assert_exit(&r, RUN_REFUSED);
    assert_err_has(&r, fmt("tlspin: %s cannot be covered: it is setuid root, so the dynamic "
                           "loader ignores LD_PRELOAD for it when you run it.\n",
                           suid));
    assert_err_has(&r, "tlspin enable-system");
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);

    server_start(&s, "icpt");
    {
        const char *argv[] = {TLSPIN_CLI, "run", "--config", H.config, "--", suid, "-q", "-sS",
                              "--max-time", "10", "--cacert", cert("trust.pem"), "--resolve",
                              fmt("good.test:%d:127.0.0.1", s.port),
                              fmt("https://good.test:%d/", s.port), NULL};
        ck_assert_int_eq(run_argv(NULL, &r, argv), 0);
    }
    assert_exit(&r, 60);
    assert_server_got_no_data(&s);
    run_result_free(&r);
}
END_TEST

/* With the shim listed in /etc/ld.so.preload (an
 * overlay private to this test): run by nobody, the setuid program is
 * covered system-wide, so run lets it go, saying that --config does not
 * apply; the default policy (pinning good.test) blocks the interceptor. */
START_TEST(run_setuid_covered_system_wide)
{
    struct server s;
    struct run_result r;
    const char *suid = copy_program(CURL, "curl-setuid", 04755);
    FILE *f;

    ck_assert_msg(strncmp(TLSPIN_DEFAULT_CONFIG, "/etc/", 5) == 0, "%s outside /etc",
                  TLSPIN_DEFAULT_CONFIG);
    write_good_pinset();
    write_policy("version = 1;\nstack = ();\n"); /* what --config names: pins nothing */
    open_tmp_to_all();
    ck_assert_int_eq(system(fmt("chmod -R go+rX '%s'", H.tmp)), 0);
    test_private_mounts();
    overlay_over("/etc");
    ck_assert_int_eq(system("mkdir -p \"$(dirname '" TLSPIN_DEFAULT_CONFIG "')\""), 0);
    f = fopen(TLSPIN_DEFAULT_CONFIG, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "version = 1;\nstack = ( { module = \"file\"; control = \"required\"; "
               "args = { pinsets = \"%s\"; }; } );\n", H.pinsets);
    ck_assert_int_eq(fclose(f), 0);
    f = fopen("/etc/ld.so.preload", "w");
    ck_assert_ptr_nonnull(f);
    fputs(SHIM_PATH "\n", f);
    ck_assert_int_eq(fclose(f), 0);

    server_start(&s, "icpt");
    {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", TLSPIN_CLI, "run", "--config", H.config, "--",
                              suid, "-q", "-sS", "--max-time", "10", "--cacert",
                              cert("trust.pem"), "--resolve",
                              fmt("good.test:%d:127.0.0.1", s.port),
                              fmt("https://good.test:%d/", s.port), NULL};
        ck_assert_int_eq(run_argv(NULL, &r, argv), 0);
    }
    assert_exit(&r, 60);
    assert_err_has(&r, fmt("tlspin: warning: %s ignores --config: it links OpenSSL 3", suid));
    assert_err_has(&r, "through /etc/ld.so.preload, as it is setuid root; the system policy "
                       "applies.");
    assert_server_got_no_data(&s);
    run_result_free(&r);
}
END_TEST

START_TEST(run_errors)
{
    struct run_result r;
    const char *bad = write_file("bad.conf", "version = 1;\nmode = \"enforce\";\nstack = ( { "
                                             "module = \"file\"; control = \"requird\"; } );\n");

    /* Not found: 127, as a shell would say. */
    CLI(&r, NULL, "run", "--", "/nonexistent/program");
    assert_exit(&r, RUN_NOT_FOUND);
    assert_err_has(&r, "/nonexistent/program: no such file");
    run_result_free(&r);

    /* A policy with errors would refuse every handshake: 125, file:line. */
    CLI(&r, NULL, "run", "--config", bad, "--", CURL, "--version");
    assert_exit(&r, RUN_FAILED);
    assert_err_has(&r, fmt("policy error: %s:3:", bad));
    ck_assert_str_eq(r.out, "");
    run_result_free(&r);
    CLI(&r, NULL, "run", "--force", "--config", bad, "--", CURL, "--version");
    assert_exit(&r, 0);
    assert_out_has(&r, "curl ");
    run_result_free(&r);

    /* Usage. */
    CLI(&r, NULL, "run");
    assert_exit(&r, RUN_FAILED);
    assert_err_has(&r, "usage: tlspin run");
    run_result_free(&r);
    CLI(&r, NULL, "run", "--config");
    assert_exit(&r, RUN_FAILED);
    assert_err_has(&r, "--config needs a value");
    run_result_free(&r);
    CLI(&r, NULL, "run", "--help");
    assert_exit(&r, 0);
    assert_out_has(&r, "usage: tlspin run [--config PATH]");
    assert_out_has(&r, "127 PROGRAM not found");
    run_result_free(&r);
    CLI(&r, NULL, "run", "--library", SHIM_PATH ".missing", "--", CURL);
    assert_exit(&r, RUN_FAILED);
    assert_err_has(&r, "the shim " SHIM_PATH ".missing: No such file or directory");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* log                                                                  */
/* ------------------------------------------------------------------ */

/* Two real records: curl run by `tlspin run`, blocked twice by the
 * interceptor (rate limiting is off in write_file_policy). */
static void two_real_records(const struct syslog_rec *out[2], size_t *mark, pid_t pids[2])
{
    struct server s;
    struct run_result r;
    const char *const pre[] = {"--config", H.config, NULL};

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    *mark = syslog_mark();
    for (int i = 0; i < 2; i++) {
        curl_through_tlspin(&r, NULL, s.port, pre);
        assert_exit(&r, 60);
        pids[i] = r.pid;
        run_result_free(&r);
    }
    for (int tries = 0; tries < 40 && syslog_tlspin_count_since(*mark) < 2; tries++)
        usleep(50000);
    size_t n, k = 0;
    const struct syslog_rec *recs = syslog_since(*mark, &n);
    for (size_t i = 0; i < n; i++)
        if (strncmp(recs[i].msg, "tlspin: ", 8) == 0 && k < 2)
            out[k++] = &recs[i];
    ck_assert_msg(k == 2 && syslog_tlspin_count_since(*mark) == 2, "expected 2 records:\n%s",
                  syslog_dump_since(*mark));
}

static const char *rfc3339(time_t t)
{
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.123456+00:00", &tm);
    return fmt("%s", buf);
}

static const char *traditional(time_t t)
{
    struct tm tm;
    char buf[64];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%b %e %H:%M:%S", &tm);
    return fmt("%s", buf);
}

/* The data lines of the table (after the header). */
static size_t table_rows(const char *out)
{
    size_t n = count_lines(out);
    return n > 0 ? n - 1 : 0;
}

START_TEST(log_decodes_real_records_from_files)
{
    const struct syslog_rec *rec[2];
    size_t mark;
    pid_t pids[2];
    struct run_result r;
    time_t now = time(NULL);

    two_real_records(rec, &mark, pids);
    /* As rsyslog writes them: Debian 12's RFC 3339 format for one, three
     * days old, the traditional one for the other, just now; other
     * programs' lines around them. */
    const char *file = write_file(
        "auth.log",
        "%s testhost sshd[100]: Accepted publickey for root from 127.0.0.1\n"
        "%s testhost %s[%d]: %s\n"
        "%s testhost CRON[200]: pam_unix(cron:session): session opened\n"
        "%s testhost %s[%d]: %s\n"
        "%s testhost sudo[300]: tlspin is a word, not a record: tlspin: event=fake\n",
        rfc3339(now - 3 * 86400 - 60), rfc3339(now - 3 * 86400), rec[0]->tag, (int)pids[0],
        rec[0]->msg, rfc3339(now - 3600), traditional(now), rec[1]->tag, (int)pids[1], rec[1]->msg,
        rfc3339(now));

    CLI(&r, NULL, "log", "--file", file);
    assert_exit(&r, 0);
    ck_assert_msg(has_line_prefix(r.out, "TIME "), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "PROGRAM[PID]") && strstr(r.out, "EVENT") &&
                      strstr(r.out, "ACTION") && strstr(r.out, "HOST:PORT") &&
                      strstr(r.out, "PINSET") && strstr(r.out, "REASON"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(table_rows(r.out) == 2, "two records expected: " RUN_FMT, RUN_ARGS(&r));
    for (int i = 0; i < 2; i++) {
        assert_out_has(&r, fmt("curl[%d]", (int)pids[i]));
    }
    assert_out_has(&r, "pin-mismatch");
    assert_out_has(&r, "blocked");
    assert_out_has(&r, "good.test");
    assert_out_has(&r, "api");
    assert_out_has(&r, "no certificate of the verified chain has a pinned key");
    /* Not a terminal: nothing trimmed, no colour. */
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour in a pipe: " RUN_FMT, RUN_ARGS(&r));
    /* Oldest first, with its local time. */
    {
        struct tm tm;
        char when[32];
        time_t t = now - 3 * 86400;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        ck_assert_msg(strstr(r.out, when) != NULL && strstr(r.out, when) < strstr(r.out,
                      fmt("curl[%d]", (int)pids[1])), "time %s: " RUN_FMT, when, RUN_ARGS(&r));
    }
    run_result_free(&r);

    /* --since: the old record goes. */
    CLI(&r, NULL, "log", "--file", file, "--since", "1 day ago");
    assert_exit(&r, 0);
    ck_assert_msg(table_rows(r.out) == 1, RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("curl[%d]", (int)pids[1]));
    ck_assert_msg(strstr(r.out, fmt("curl[%d]", (int)pids[0])) == NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* --since in the future: none, said on stderr. */
    CLI(&r, NULL, "log", "--file", file, "--since", fmt("@%lld", (long long)now + 3600));
    assert_exit(&r, 0);
    ck_assert_str_eq(r.out, "");
    assert_err_has(&r, "no tlspin record in");
    run_result_free(&r);

    /* --raw: the records as logged, every field. */
    CLI(&r, NULL, "log", "--file", file, "--raw", "-n", "1");
    assert_exit(&r, 0);
    ck_assert_uint_eq(count_lines(r.out), 1);
    assert_out_has(&r, fmt("%s[%d]: tlspin: event=pin-mismatch", rec[1]->tag, (int)pids[1]));
    assert_out_has(&r, " chain=\"sha256/");
    run_result_free(&r);
}
END_TEST

/* The datagrams exactly as syslog(3) sent them (what a capture of /dev/log
 * or a relay holds), read from standard input. */
START_TEST(log_reads_raw_datagrams_from_stdin)
{
    const struct syslog_rec *rec[2];
    size_t mark;
    pid_t pids[2];
    struct run_result r;

    two_real_records(rec, &mark, pids);
    struct run_opts o = {.input = fmt("%s\n%s\n", rec[0]->raw, rec[1]->raw)};
    CLI(&r, &o, "log", "--file", "-");
    assert_exit(&r, 0);
    ck_assert_msg(table_rows(r.out) == 2, RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("curl[%d]", (int)pids[0]));
    assert_out_has(&r, "blocked");
    run_result_free(&r);
}
END_TEST

/* journald's records come from journalctl -o short-iso; --since is handed
 * to it as @EPOCH. A journalctl of our own, first in PATH, serves lines
 * made from real records and notes its arguments. */
START_TEST(log_reads_the_journal)
{
    const struct syslog_rec *rec[2];
    size_t mark;
    pid_t pids[2];
    struct run_result r;
    time_t now = time(NULL);
    char iso[64];
    struct tm tm;

    two_real_records(rec, &mark, pids);
    gmtime_r(&now, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S+0000", &tm);
    const char *lines = write_file("journal.txt", "%s testhost systemd[1]: Started foo.\n"
                                                  "%s testhost %s[%d]: %s\n",
                                   iso, iso, rec[0]->tag, (int)pids[0], rec[0]->msg);
    const char *fake = write_file("bin/journalctl",
                                  "#!/bin/sh\necho \"$@\" > '%s/journalctl.args'\n"
                                  "cat '%s'\n",
                                  H.tmp, lines);
    ck_assert_int_eq(chmod(fake, 0755), 0);
    CLI_PATH(&r, fmt("%s/bin:/usr/bin:/bin", H.tmp), "log", "--journal", "--since",
             "2 hours ago");
    assert_exit(&r, 0);
    ck_assert_msg(table_rows(r.out) == 1, RUN_FMT, RUN_ARGS(&r));
    assert_out_has(&r, fmt("curl[%d]", (int)pids[0]));
    char *args = read_file(fmt("%s/journalctl.args", H.tmp), NULL);
    ck_assert_ptr_nonnull(args);
    const char *since = strstr(args, "--since=@");
    ck_assert_msg(strstr(args, "--no-pager") && strstr(args, "-o short-iso") && since &&
                      llabs(strtoll(since + 9, NULL, 10) - ((long long)now - 7200)) <= 5,
                  "journalctl was run with: %s", args);
    free(args);
    run_result_free(&r);
}
END_TEST

/* On a terminal (script(1) gives the command a pty; its size is unset, so
 * COLUMNS says the width): every line fits, the wide fields are cut with an
 * ellipsis, the action is coloured; NO_COLOR turns colour off, and -w
 * turns trimming off. */
START_TEST(log_on_a_terminal_fits_and_colours)
{
    const struct syslog_rec *rec[2];
    size_t mark;
    pid_t pids[2];
    struct run_result r;

    two_real_records(rec, &mark, pids);
    const char *file = write_file("auth.log", "%s box %s[%d]: %s\n", rfc3339(time(NULL)),
                                  rec[0]->tag, (int)pids[0], rec[0]->msg);
    const char *cmd = fmt("env COLUMNS=80 TERM=xterm LANG=C.UTF-8 LC_ALL=C.UTF-8 '%s' log "
                          "--file '%s'", TLSPIN_CLI, file);
    RUN(&r, NULL, "/usr/bin/script", "-qec", cmd, "/dev/null");
    assert_exit(&r, 0);
    assert_out_has(&r, "\033[1;31mblocked");
    assert_out_has(&r, "\xE2\x80\xA6"); /* the reason did not fit */
    /* Every line, without its colour codes, fits 80 columns. */
    for (const char *l = r.out; *l;) {
        const char *nl = strchr(l, '\n');
        size_t cols = 0, len = nl ? (size_t)(nl - l) : strlen(l);
        for (size_t i = 0; i < len; i++) {
            if (l[i] == '\033') {
                while (i < len && l[i] != 'm')
                    i++;
                continue;
            }
            if (l[i] == '\r' || ((unsigned char)l[i] & 0xC0) == 0x80)
                continue; /* CR of the pty; UTF-8 continuation bytes */
            cols++;
        }
        ck_assert_msg(cols <= 80, "a line of %zu columns: " RUN_FMT, cols, RUN_ARGS(&r));
        l = nl ? nl + 1 : l + len;
    }
    run_result_free(&r);

    cmd = fmt("env COLUMNS=80 TERM=xterm NO_COLOR=1 '%s' log -w --file '%s'", TLSPIN_CLI, file);
    RUN(&r, NULL, "/usr/bin/script", "-qec", cmd, "/dev/null");
    assert_exit(&r, 0);
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour despite NO_COLOR: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_out_has(&r, "no certificate of the verified chain has a pinned key");
    run_result_free(&r);
}
END_TEST

START_TEST(log_usage_and_errors)
{
    struct run_result r;

    CLI(&r, NULL, "log", "--help");
    assert_exit(&r, 0);
    assert_out_has(&r, "usage: tlspin log [--since TIME] [--file PATH]");
    run_result_free(&r);

    CLI(&r, NULL, "log", "--since", "the day before", "--file", "/dev/null");
    assert_exit(&r, 2);
    assert_err_has(&r, "--since: not a time: \"the day before\"");
    run_result_free(&r);

    CLI(&r, NULL, "log", "--file", fmt("%s/no-such.log", H.tmp));
    assert_exit(&r, 1);
    assert_err_has(&r, "cannot read");
    assert_err_has(&r, "No such file or directory");
    run_result_free(&r);

    CLI(&r, NULL, "log", "--journal", "--file", "/dev/null");
    assert_exit(&r, 2);
    run_result_free(&r);

    CLI(&r, NULL, "log", "--file", "/dev/null");
    assert_exit(&r, 0);
    ck_assert_str_eq(r.out, "");
    assert_err_has(&r, "no tlspin record in /dev/null");
    run_result_free(&r);
}
END_TEST

static Suite *cli_run_suite(void)
{
    Suite *s = suite_create("cli_run");
    TCase *tc;

    tc = harness_tcase("doctor");
    tcase_add_test(tc, doctor_curl_links_openssl);
    tcase_add_test(tc, doctor_interpreters_covered_when_they_load_openssl);
    tcase_add_loop_test(tc, doctor_gnutls_programs_not_covered, 0,
                        (int)(sizeof gnutls_programs / sizeof gnutls_programs[0]));
    tcase_add_test(tc, doctor_static_programs_not_covered);
    tcase_add_test(tc, doctor_go_program_not_covered);
    tcase_add_test(tc, doctor_privileged_copies_not_covered);
    tcase_add_test(tc, doctor_setuid_covered_system_wide);
    tcase_add_test(tc, doctor_scripts_judged_by_interpreter);
    tcase_add_test(tc, doctor_several_programs_one_line_each);
    tcase_add_test(tc, doctor_usage);
    suite_add_tcase(s, tc);

    tc = harness_tcase("run");
    tcase_add_test(tc, run_curl_blocked_on_mismatch);
    tcase_add_test(tc, run_curl_passes_on_match);
    tcase_add_test(tc, run_environment);
    tcase_add_test(tc, run_refuses_uncoverable);
    tcase_add_test(tc, run_setuid_depends_on_who_runs_it);
    tcase_add_test(tc, run_setuid_covered_system_wide);
    tcase_add_test(tc, run_errors);
    suite_add_tcase(s, tc);

    tc = harness_tcase("log");
    tcase_add_test(tc, log_decodes_real_records_from_files);
    tcase_add_test(tc, log_reads_raw_datagrams_from_stdin);
    tcase_add_test(tc, log_reads_the_journal);
    tcase_add_test(tc, log_on_a_terminal_fits_and_colours);
    tcase_add_test(tc, log_usage_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_run_suite());
}
