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
#include <stdarg.h>
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

/* Where finish() looks for its texts; ONLY_ON_STDERR also wants stdout
 * empty (a refusal: the program did not run, or a report of nothing). */
enum stream { ON_STDOUT, ON_STDERR, ONLY_ON_STDERR };

/* The last checks of most commands here, which are judged by an exit status
 * and a few texts: r exited `code`, each text of the NULL-terminated list is
 * in `where`; then r is freed. */
static void __attribute__((sentinel)) finish(struct run_result *r, int code, enum stream where,
                                              ...)
{
    va_list ap;

    assert_exit(r, code);
    if (where == ONLY_ON_STDERR)
        ck_assert_msg(r->out[0] == '\0', "stdout not empty: " RUN_FMT, RUN_ARGS(r));
    va_start(ap, where);
    for (const char *t = va_arg(ap, const char *); t; t = va_arg(ap, const char *)) {
        if (where == ON_STDOUT)
            assert_out_has(r, t);
        else
            assert_err_has(r, t);
    }
    va_end(ap);
    run_result_free(r);
}

/* A program run by tlspin run exited `code` having printed exactly `out`:
 * what it said passed through untouched. r is freed. */
static void finish_exactly(struct run_result *r, int code, const char *out)
{
    assert_exit(r, code);
    ck_assert_str_eq(r->out, out);
    run_result_free(r);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* doctor and log --raw print one line per program or record. */
static void assert_out_lines(const struct run_result *r, size_t n)
{
    ck_assert_msg(count_lines(r->out) == n, "expected %zu lines: " RUN_FMT, n, RUN_ARGS(r));
}

/* run and env print what they were given as whole lines. */
static void assert_out_line(const struct run_result *r, const char *line)
{
    ck_assert_msg(has_line(r->out, line), "no line '%s': " RUN_FMT, line, RUN_ARGS(r));
}

/* tlspin log chooses colour by where its output goes. */
static void assert_no_colour(const struct run_result *r, const char *why)
{
    ck_assert_msg(strchr(r->out, '\033') == NULL, "%s: " RUN_FMT, why, RUN_ARGS(r));
}

/* What setpriv needs to run the rest as nobody (uid and gid 65534, no
 * groups): an ordinary user, for whom the loader ignores LD_PRELOAD in a
 * setuid program. A launcher for cli_behind(). */
static const char *const AS_NOBODY[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                        "--clear-groups", NULL};

/* Run `tlspin ARGS...` (args NULL-terminated) behind launcher, or directly
 * when it is NULL: one argv for run_argv(). */
static void cli_behind(struct run_result *r, const char *const launcher[], const char *const args[])
{
    const char *argv[48];
    size_t n = 0;

    for (size_t i = 0; launcher && launcher[i]; i++)
        argv[n++] = launcher[i];
    argv[n++] = TLSPIN_CLI;
    for (size_t i = 0; args[i]; i++) {
        ck_assert_uint_lt(n, sizeof argv / sizeof *argv - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(NULL, r, argv), 0);
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

/* path made executable, returned: scripts and fake programs of a test. */
static const char *executable(const char *path)
{
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

/* H.tmp/name built with cc and `flags` from the C `source` (written to
 * H.tmp/name.c): the programs doctor judges that the machine lacks. */
static const char *build_c(const char *name, const char *flags, const char *source)
{
    const char *src = write_file(fmt("%s.c", name), "%s", source);
    const char *bin = fmt("%s/%s", H.tmp, name);
    int rc = system(fmt("cc %s -o '%s' '%s'", flags, bin, src));
    ck_assert_msg(rc == 0, "cc %s -o %s failed (static libc: libc6-dev)", flags, bin);
    return bin;
}

/* A tiny C program built with gcc and `flags` (-static, -static-pie). */
static const char *build_static(const char *name, const char *flags)
{
    return build_c(name, flags,
                   "#include <stdio.h>\n"
                   "int main(void) { puts(\"static\"); return 0; }\n");
}

/* Write `text` to path, outside H.tmp (the /etc overlay of private_etc()). */
static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A writable /etc for this test alone (mount namespace and overlay), so
 * system-wide files written there reach no other test. */
static void private_etc(void)
{
    test_private_mounts();
    overlay_over("/etc");
}

/* The shim in /etc/ld.so.preload: system-wide, setuid programs included. */
static void preload_system_wide(void)
{
    put_file("/etc/ld.so.preload", SHIM_PATH "\n");
}

/* ------------------------------------------------------------------ */
/* doctor                                                               */
/* ------------------------------------------------------------------ */

START_TEST(doctor_curl_links_openssl)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", CURL, OPENSSL);
    assert_out_lines(&r, 2);
    finish(&r, 0, ON_STDOUT, CURL ": covered: it links OpenSSL 3 (libssl.so.3 via libcurl.so.4)",
           OPENSSL ": covered: it links OpenSSL 3 (libssl.so.3)", NULL);

    /* -v: the facts, including curl's GnuTLS (through librtmp): noted. */
    CLI(&r, NULL, "doctor", "-v", CURL);
    finish(&r, 0, ON_STDOUT, "TLS library: libssl.so.3 via libcurl.so.4 (OpenSSL 3)", NULL);
}
END_TEST

/* python3 and perl link no libssl: they load it at run time, through
 * python's _ssl extension and perl's Net::SSLeay. */
START_TEST(doctor_interpreters_covered_when_they_load_openssl)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", PYTHON3, PERL);
    finish(&r, 0, ON_STDOUT, PYTHON3 ": covered when it loads OpenSSL: its _ssl module (",
           "lib-dynload/_ssl", PERL ": covered when it loads OpenSSL: its Net::SSLeay module (",
           ") links OpenSSL 3 (libssl.so.3)", NULL);
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
    assert_out_lines(&r, 1);
    finish(&r, 1, ON_STDOUT,
           fmt("%s: not covered: it uses GnuTLS %s, not OpenSSL. Use the program's own pinning",
               path, gnutls_programs[_i].via), NULL);
}
END_TEST

START_TEST(doctor_static_programs_not_covered)
{
    struct run_result r;
    const char *st = build_static("hello-static", "-static");
    const char *pie = build_static("hello-static-pie", "-static-pie");

    CLI(&r, NULL, "doctor", st, pie);
    finish(&r, 1, ON_STDOUT,
           fmt("%s: not covered: it is statically linked: no dynamic loader runs, so neither "
               "LD_PRELOAD nor /etc/ld.so.preload applies. Nothing can cover it from outside "
               "the process", st),
           fmt("%s: not covered: it is statically linked (static-pie)", pie), NULL);
}
END_TEST

/* A Go program links libc at most and makes its TLS connections with
 * crypto/tls: told by Go's build-info section, which a C program built here
 * carries for the test (the Go toolchain is not on the machine). */
START_TEST(doctor_go_program_not_covered)
{
    struct run_result r;
    const char *bin = build_c("gofake", "",
                              "__attribute__((section(\".go.buildinfo\"), used))\n"
                              "static const char buildinfo[32] = \"\\xff Go buildinf:\";\n"
                              "int main(void) { return 0; }\n");

    CLI(&r, NULL, "doctor", bin);
    finish(&r, 1, ON_STDOUT, fmt("%s: not covered: it is a Go program: Go's own crypto/tls makes "
                                 "its connections, never OpenSSL", bin), NULL);
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
    finish(&r, 1, ON_STDOUT,
           fmt("%s: not covered: it is setuid root, so the dynamic loader ignores LD_PRELOAD for "
               "it. List the shim in /etc/ld.so.preload: tlspin enable-system", suid),
           fmt("%s: not covered: it is setgid ", sgid),
           fmt("%s: not covered: it has file capabilities (cap_net_raw)", capd), NULL);

    /* The same verdict for an ordinary user. */
    cli_behind(&r, AS_NOBODY, (const char *const[]){"doctor", suid, capd, NULL});
    finish(&r, 1, ON_STDOUT, fmt("%s: not covered: it is setuid root", suid),
           fmt("%s: not covered: it has file capabilities", capd), NULL);
}
END_TEST

/* Listed in /etc/ld.so.preload (an overlay private to this test), the
 * shim does cover setuid programs: doctor says so. */
START_TEST(doctor_setuid_covered_system_wide)
{
    struct run_result r;
    const char *suid = copy_program(CURL, "curl-setuid", 04755);

    private_etc();
    preload_system_wide();
    CLI(&r, NULL, "doctor", suid);
    finish(&r, 0, ON_STDOUT, fmt("%s: covered system-wide: it links OpenSSL 3 (libssl.so.3 via "
                                 "libcurl.so.4); through /etc/ld.so.preload, as it is setuid root",
                                 suid), NULL);
}
END_TEST

/* A script is judged by its interpreter, env(1) followed through PATH. */
START_TEST(doctor_scripts_judged_by_interpreter)
{
    struct run_result r;
    const char *st = build_static("static-interp", "-static");
    const char *py = executable(write_file("tool.py", "#!/usr/bin/env -S python3 -I\n"
                                                      "print('hi')\n"));
    const char *sh = executable(write_file("tool.sh", "#!%s\n", st));
    const char *nested = executable(write_file("nested", "#!%s\n", py));
    const char *missing = executable(write_file("missing.sh", "#!/nonexistent/interpreter\n"));

    CLI_PATH(&r, "/usr/bin:/bin", "doctor", "-v", py);
    finish(&r, 0, ON_STDOUT,
           fmt("%s: covered when it loads OpenSSL: it is a script for /usr/bin/python3, whose "
               "_ssl module (", py),
           fmt("    %s is a script run by /usr/bin/python3", py), NULL);

    CLI_PATH(&r, "/usr/bin:/bin", "doctor", sh, missing);
    finish(&r, 1, ON_STDOUT,
           fmt("%s: not covered: it is a script for %s, which is statically linked", sh, st),
           fmt("%s: not found: a script, but its interpreter /nonexistent/interpreter does not "
               "exist", missing), NULL);

    /* A script whose interpreter is a script: followed to the end. */
    CLI_PATH(&r, "/usr/bin:/bin", "doctor", nested);
    finish(&r, 0, ON_STDOUT, "it is a script for /usr/bin/python3", NULL);
}
END_TEST

START_TEST(doctor_several_programs_one_line_each)
{
    struct run_result r;

    /* Names are looked up in PATH, as the shell would. */
    CLI_PATH(&r, "/usr/bin:/bin", "doctor", "curl", "wget", "no-such-program-here");
    assert_out_lines(&r, 3);
    finish(&r, 1, ON_STDOUT, "curl (/usr/bin/curl): covered: ",
           "wget (/usr/bin/wget): not covered: ",
           "no-such-program-here: not found: command not found\n", NULL);
}
END_TEST

START_TEST(doctor_usage)
{
    struct run_result r;
    CLI(&r, NULL, "doctor", "--help");
    finish(&r, 0, ON_STDOUT, "usage: tlspin doctor [-v] PROGRAM...",
           "Exit status: 0 every PROGRAM can be covered", NULL);

    CLI(&r, NULL, "doctor");
    finish(&r, 2, ONLY_ON_STDERR, "name at least one program", NULL);

    CLI(&r, NULL, "doctor", "--bogus", CURL);
    finish(&r, 2, ON_STDERR, "unknown option \"--bogus\"\nTry 'tlspin doctor --help'.", NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* run                                                                  */
/* ------------------------------------------------------------------ */

/* `tlspin run --config H.config -- CURL ...` (curl, or a copy of it at
 * `curl`) fetching https://good.test:port/ from 127.0.0.1 with the test CA,
 * behind launcher (cli_behind()); header (NULL: none) goes with the request.
 * Every curl of this suite is run so. */
static void curl_via_tlspin(struct run_result *r, const char *const launcher[], const char *curl,
                            int port, const char *header)
{
    const char *args[24] = {"run", "--config", H.config, "--", curl, "-q", "-sS",
                            "--max-time", "10", "--cacert", cert("trust.pem"), "--resolve",
                            fmt("good.test:%d:127.0.0.1", port)};
    size_t n = 13;

    if (header) {
        args[n++] = "-H";
        args[n++] = header;
    }
    args[n++] = fmt("https://good.test:%d/", port);
    args[n] = NULL;
    cli_behind(r, launcher, args);
}

/* The setup of the curl tests: the usual policy with good.test pinned, and
 * a server presenting `identity`. Returns the syslog mark taken last, so
 * that only curl's records follow it. */
static size_t serve_pinned(struct server *s, const char *identity)
{
    write_file_policy(NULL);
    write_good_pinset();
    server_start(s, identity);
    return syslog_mark();
}

/* curl failed the handshake (exit 60) before it sent the server a byte. */
static void assert_curl_blocked(const struct run_result *r, const struct server *s)
{
    assert_exit(r, 60);
    assert_server_got_no_data(s);
}

/* The point of it all: curl, unmodified, run by `tlspin run` against an
 * interceptor presenting a trusted but unpinned key, is blocked. */
START_TEST(run_curl_blocked_on_mismatch)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark = serve_pinned(&s, "icpt");

    curl_via_tlspin(&r, NULL, CURL, s.port, "X-Probe: " MARKER);

    /* curl's own words and exit status; tlspin itself said nothing. */
    assert_curl_blocked(&r, &s);
    assert_err_has(&r, "SSL certificate problem: application verification failure");
    ck_assert_msg(strstr(r.err, "tlspin:") == NULL, "tlspin run spoke: " RUN_FMT, RUN_ARGS(&r));

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
    size_t mark = serve_pinned(&s, "good");

    curl_via_tlspin(&r, NULL, CURL, s.port, "X-Probe: " MARKER);
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
    assert_out_line(&r, "LD_PRELOAD=" SHIM_PATH ":" SANITIZER_PRELOAD_ENTRIES
                        "/lib/x86_64-linux-gnu/libz.so.1");
    assert_out_line(&r, fmt("TLSPIN_CONFIG=%s", H.config));
    ck_assert_str_eq(r.err, "");
    run_result_free(&r);

    /* Without an LD_PRELOAD: just the shim. "--" is optional. */
    CLI(&r, NULL, "run", "--config", H.config, "/usr/bin/env");
    assert_exit(&r, 0);
    assert_out_line(&r, "LD_PRELOAD=" SHIM_PATH);
    run_result_free(&r);

    /* The program's arguments and exit status pass through untouched. */
    CLI(&r, NULL, "run", "--config", H.config, "--", "/bin/sh", "-c", "echo \"$1\"; exit 7",
        "sh", "--force");
    finish_exactly(&r, 7, "--force\n");
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
    finish(&r, RUN_REFUSED, ONLY_ON_STDERR, /* wget did not run */
           "tlspin: /usr/bin/wget cannot be covered: it uses GnuTLS (libgnutls.so.30), "
           "not OpenSSL.\n",
           "tlspin: Use the program's own pinning", "--force runs it anyway", NULL);

    CLI(&r, NULL, "run", "--force", "--config", H.config, "--", "/usr/bin/wget", "--version");
    assert_out_has(&r, "GNU Wget");
    finish(&r, 0, ON_STDERR, "tlspin: warning: /usr/bin/wget cannot be covered: it uses GnuTLS",
           "NOT checked against the policy", NULL);

    CLI(&r, NULL, "run", "--config", H.config, "--", st);
    finish(&r, RUN_REFUSED, ONLY_ON_STDERR, "is statically linked", NULL);

    CLI(&r, NULL, "run", "--config", H.config, "-f", "--", st);
    finish_exactly(&r, 0, "static\n");
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
    cli_behind(&r, AS_NOBODY,
               (const char *const[]){"run", "--config", H.config, "--", suid, "--version", NULL});
    finish(&r, RUN_REFUSED, ONLY_ON_STDERR,
           fmt("tlspin: %s cannot be covered: it is setuid root, so the dynamic loader ignores "
               "LD_PRELOAD for it when you run it.\n", suid),
           "tlspin enable-system", NULL);

    server_start(&s, "icpt");
    curl_via_tlspin(&r, NULL, suid, s.port, NULL);
    assert_curl_blocked(&r, &s);
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

    ck_assert_msg(strncmp(TLSPIN_DEFAULT_CONFIG, "/etc/", 5) == 0, "%s outside /etc",
                  TLSPIN_DEFAULT_CONFIG);
    write_good_pinset();
    write_policy("version = 1;\nstack = ();\n"); /* what --config names: pins nothing */
    open_tmp_to_all();
    ck_assert_int_eq(system(fmt("chmod -R go+rX '%s'", H.tmp)), 0);
    private_etc();
    ck_assert_int_eq(system("mkdir -p \"$(dirname '" TLSPIN_DEFAULT_CONFIG "')\""), 0);
    put_file(TLSPIN_DEFAULT_CONFIG,
             fmt("version = 1;\nstack = ( { module = \"file\"; control = \"required\"; "
                 "args = { pinsets = \"%s\"; }; } );\n", H.pinsets));
    preload_system_wide();

    server_start(&s, "icpt");
    curl_via_tlspin(&r, AS_NOBODY, suid, s.port, NULL);
    finish(&r, 60, ON_STDERR,
           fmt("tlspin: warning: %s ignores --config: it links OpenSSL 3", suid),
           "through /etc/ld.so.preload, as it is setuid root; the system policy applies.", NULL);
    assert_server_got_no_data(&s);
}
END_TEST

START_TEST(run_errors)
{
    struct run_result r;
    const char *bad = write_file("bad.conf", "version = 1;\nmode = \"enforce\";\nstack = ( { "
                                             "module = \"file\"; control = \"requird\"; } );\n");

    /* Not found: 127, as a shell would say. */
    CLI(&r, NULL, "run", "--", "/nonexistent/program");
    finish(&r, RUN_NOT_FOUND, ON_STDERR, "/nonexistent/program: no such file", NULL);

    /* A policy with errors would refuse every handshake: 125, file:line. */
    CLI(&r, NULL, "run", "--config", bad, "--", CURL, "--version");
    finish(&r, RUN_FAILED, ONLY_ON_STDERR, fmt("policy error: %s:3:", bad), NULL);
    CLI(&r, NULL, "run", "--force", "--config", bad, "--", CURL, "--version");
    finish(&r, 0, ON_STDOUT, "curl ", NULL);

    /* Usage. */
    CLI(&r, NULL, "run");
    finish(&r, RUN_FAILED, ON_STDERR, "usage: tlspin run", NULL);
    CLI(&r, NULL, "run", "--config");
    finish(&r, RUN_FAILED, ON_STDERR, "--config needs a value", NULL);
    CLI(&r, NULL, "run", "--help");
    finish(&r, 0, ON_STDOUT, "usage: tlspin run [--config PATH]", "127 PROGRAM not found", NULL);
    CLI(&r, NULL, "run", "--library", SHIM_PATH ".missing", "--", CURL);
    finish(&r, RUN_FAILED, ON_STDERR, "the shim " SHIM_PATH ".missing: No such file or directory",
           NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* log                                                                  */
/* ------------------------------------------------------------------ */

/* Two real records of curl blocked by the interceptor under `tlspin run`,
 * and the pids of the two curl processes that wrote them. */
struct blocked_curls {
    const struct syslog_rec *rec[2];
    pid_t pid[2];
};

/* Two real records: curl run by `tlspin run`, blocked twice by the
 * interceptor (rate limiting is off in write_file_policy). */
static void two_real_records(struct blocked_curls *b)
{
    struct server s;
    struct run_result r;
    size_t mark = serve_pinned(&s, "icpt");

    for (int i = 0; i < 2; i++) {
        curl_via_tlspin(&r, NULL, CURL, s.port, "X-Probe: " MARKER);
        assert_exit(&r, 60);
        b->pid[i] = r.pid;
        run_result_free(&r);
    }
    for (int tries = 0; tries < 40 && syslog_tlspin_count_since(mark) < 2; tries++)
        usleep(50000);
    size_t n, k = 0;
    const struct syslog_rec *recs = syslog_since(mark, &n);
    for (size_t i = 0; i < n; i++)
        if (strncmp(recs[i].msg, "tlspin: ", 8) == 0 && k < 2)
            b->rec[k++] = &recs[i];
    ck_assert_msg(k == 2 && syslog_tlspin_count_since(mark) == 2, "expected 2 records:\n%s",
                  syslog_dump_since(mark));
}

/* Record i of b as a log line (no newline) stamped `when`, from `host`:
 * what rsyslog and journalctl write. */
static const char *record_line(const char *when, const char *host, const struct blocked_curls *b,
                               int i)
{
    return fmt("%s %s %s[%d]: %s", when, host, b->rec[i]->tag, (int)b->pid[i], b->rec[i]->msg);
}

/* How tlspin log names the process of record i in its table. */
static const char *curl_of(const struct blocked_curls *b, int i)
{
    return fmt("curl[%d]", (int)b->pid[i]);
}

/* The time stamps of the inputs of tlspin log and of its table. */
enum stamp {
    RFC3339,     /* rsyslog's default on Debian 12, in UTC */
    TRADITIONAL, /* rsyslog's traditional format, local time */
    SHORT_ISO,   /* journalctl -o short-iso, in UTC */
    TABLE_TIME,  /* tlspin log's TIME column, local time */
};

/* t written as `kind` says (fmt()'s ring buffer). */
static const char *stamp(time_t t, enum stamp kind)
{
    struct tm tm;
    char buf[64];

    if (kind == RFC3339 || kind == SHORT_ISO)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    strftime(buf, sizeof buf,
             kind == RFC3339       ? "%Y-%m-%dT%H:%M:%S.123456+00:00"
             : kind == TRADITIONAL ? "%b %e %H:%M:%S"
             : kind == SHORT_ISO   ? "%Y-%m-%dT%H:%M:%S+0000"
                                   : "%Y-%m-%d %H:%M:%S",
             &tm);
    return fmt("%s", buf);
}

/* tlspin log printed a table of n records (data lines after the header). */
static void assert_table_rows(const struct run_result *r, size_t n)
{
    size_t lines = count_lines(r->out);

    ck_assert_msg((lines > 0 ? lines - 1 : 0) == n, "expected %zu records: " RUN_FMT, n,
                  RUN_ARGS(r));
}

/* `tlspin log ARGS` on a terminal of 80 columns (script(1) gives it a pty),
 * with `env` ("K=V ...") added to its environment. */
static void log_on_terminal(struct run_result *r, const char *env, const char *args)
{
    const char *cmd = fmt("env COLUMNS=80 TERM=xterm %s '%s' log %s", env, TLSPIN_CLI, args);

    ck_assert_int_eq(RUN(r, NULL, "/usr/bin/script", "-qec", cmd, "/dev/null"), 0);
}

START_TEST(log_decodes_real_records_from_files)
{
    struct blocked_curls b;
    struct run_result r;
    time_t now = time(NULL);

    two_real_records(&b);
    /* As rsyslog writes them: Debian 12's RFC 3339 format for one, three
     * days old, the traditional one for the other, just now; other
     * programs' lines around them. */
    const char *file = write_file(
        "auth.log",
        "%s testhost sshd[100]: Accepted publickey for root from 127.0.0.1\n"
        "%s\n"
        "%s testhost CRON[200]: pam_unix(cron:session): session opened\n"
        "%s\n"
        "%s testhost sudo[300]: tlspin is a word, not a record: tlspin: event=fake\n",
        stamp(now - 3 * 86400 - 60, RFC3339),
        record_line(stamp(now - 3 * 86400, RFC3339), "testhost", &b, 0),
        stamp(now - 3600, RFC3339), record_line(stamp(now, TRADITIONAL), "testhost", &b, 1),
        stamp(now, RFC3339));

    CLI(&r, NULL, "log", "--file", file);
    assert_exit(&r, 0);
    ck_assert_msg(has_line_prefix(r.out, "TIME "), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "PROGRAM[PID]") && strstr(r.out, "EVENT") &&
                      strstr(r.out, "ACTION") && strstr(r.out, "HOST:PORT") &&
                      strstr(r.out, "PINSET") && strstr(r.out, "REASON"),
                  RUN_FMT, RUN_ARGS(&r));
    assert_table_rows(&r, 2);
    for (int i = 0; i < 2; i++) {
        assert_out_has(&r, curl_of(&b, i));
    }
    assert_out_has(&r, "pin-mismatch");
    assert_out_has(&r, "blocked");
    assert_out_has(&r, "good.test");
    assert_out_has(&r, "api");
    assert_out_has(&r, "no certificate of the verified chain has a pinned key");
    /* Not a terminal: nothing trimmed, no colour. */
    assert_no_colour(&r, "colour in a pipe");
    /* Oldest first, with its local time. */
    {
        const char *when = stamp(now - 3 * 86400, TABLE_TIME);
        ck_assert_msg(strstr(r.out, when) != NULL &&
                          strstr(r.out, when) < strstr(r.out, curl_of(&b, 1)),
                      "time %s: " RUN_FMT, when, RUN_ARGS(&r));
    }
    run_result_free(&r);

    /* --since: the old record goes. */
    CLI(&r, NULL, "log", "--file", file, "--since", "1 day ago");
    assert_table_rows(&r, 1);
    ck_assert_msg(strstr(r.out, curl_of(&b, 0)) == NULL, RUN_FMT, RUN_ARGS(&r));
    finish(&r, 0, ON_STDOUT, curl_of(&b, 1), NULL);

    /* --since in the future: none, said on stderr. */
    CLI(&r, NULL, "log", "--file", file, "--since", fmt("@%lld", (long long)now + 3600));
    finish(&r, 0, ONLY_ON_STDERR, "no tlspin record in", NULL);

    /* --raw: the records as logged, every field. */
    CLI(&r, NULL, "log", "--file", file, "--raw", "-n", "1");
    assert_out_lines(&r, 1);
    finish(&r, 0, ON_STDOUT, fmt("%s[%d]: tlspin: event=pin-mismatch", b.rec[1]->tag,
                                 (int)b.pid[1]),
           " chain=\"sha256/", NULL);
}
END_TEST

/* The datagrams exactly as syslog(3) sent them (what a capture of /dev/log
 * or a relay holds), read from standard input. */
START_TEST(log_reads_raw_datagrams_from_stdin)
{
    struct blocked_curls b;
    struct run_result r;

    two_real_records(&b);
    struct run_opts o = {.input = fmt("%s\n%s\n", b.rec[0]->raw, b.rec[1]->raw)};
    CLI(&r, &o, "log", "--file", "-");
    assert_table_rows(&r, 2);
    finish(&r, 0, ON_STDOUT, curl_of(&b, 0), "blocked", NULL);
}
END_TEST

/* journald's records come from journalctl -o short-iso; --since is handed
 * to it as @EPOCH. A journalctl of our own, first in PATH, serves lines
 * made from real records and notes its arguments. */
START_TEST(log_reads_the_journal)
{
    struct blocked_curls b;
    struct run_result r;
    time_t now = time(NULL);

    two_real_records(&b);
    const char *iso = stamp(now, SHORT_ISO);
    const char *lines = write_file("journal.txt", "%s testhost systemd[1]: Started foo.\n%s\n",
                                   iso, record_line(iso, "testhost", &b, 0));
    executable(write_file("bin/journalctl",
                          "#!/bin/sh\necho \"$@\" > '%s/journalctl.args'\n"
                          "cat '%s'\n",
                          H.tmp, lines));
    CLI_PATH(&r, fmt("%s/bin:/usr/bin:/bin", H.tmp), "log", "--journal", "--since",
             "2 hours ago");
    assert_table_rows(&r, 1);
    finish(&r, 0, ON_STDOUT, curl_of(&b, 0), NULL);
    char *args = read_file(fmt("%s/journalctl.args", H.tmp), NULL);
    ck_assert_ptr_nonnull(args);
    const char *since = strstr(args, "--since=@");
    ck_assert_msg(strstr(args, "--no-pager") && strstr(args, "-o short-iso") && since &&
                      llabs(strtoll(since + 9, NULL, 10) - ((long long)now - 7200)) <= 5,
                  "journalctl was run with: %s", args);
    free(args);
}
END_TEST

/* On a terminal (script(1) gives the command a pty; its size is unset, so
 * COLUMNS says the width): every line fits, the wide fields are cut with an
 * ellipsis, the action is coloured; NO_COLOR turns colour off, and -w
 * turns trimming off. */
START_TEST(log_on_a_terminal_fits_and_colours)
{
    struct blocked_curls b;
    struct run_result r;

    two_real_records(&b);
    const char *file = write_file("auth.log", "%s\n",
                                  record_line(stamp(time(NULL), RFC3339), "box", &b, 0));
    log_on_terminal(&r, "LANG=C.UTF-8 LC_ALL=C.UTF-8", fmt("--file '%s'", file));
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

    log_on_terminal(&r, "NO_COLOR=1", fmt("-w --file '%s'", file));
    assert_no_colour(&r, "colour despite NO_COLOR");
    finish(&r, 0, ON_STDOUT, "no certificate of the verified chain has a pinned key", NULL);
}
END_TEST

START_TEST(log_usage_and_errors)
{
    struct run_result r;

    CLI(&r, NULL, "log", "--help");
    finish(&r, 0, ON_STDOUT, "usage: tlspin log [--since TIME] [--file PATH]", NULL);

    CLI(&r, NULL, "log", "--since", "the day before", "--file", "/dev/null");
    finish(&r, 2, ON_STDERR, "--since: not a time: \"the day before\"", NULL);

    CLI(&r, NULL, "log", "--file", fmt("%s/no-such.log", H.tmp));
    finish(&r, 1, ON_STDERR, "cannot read", "No such file or directory", NULL);

    CLI(&r, NULL, "log", "--journal", "--file", "/dev/null");
    assert_exit(&r, 2);
    run_result_free(&r);

    CLI(&r, NULL, "log", "--file", "/dev/null");
    finish(&r, 0, ONLY_ON_STDERR, "no tlspin record in /dev/null", NULL);
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
