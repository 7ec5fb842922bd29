/*
 * test_guest.c — libtlspin.so is a light, well-behaved guest in every
 * process: no DT_NEEDED on OpenSSL or libconfig, no undefined OpenSSL symbol,
 * only the interposed OpenSSL names exported (and really interposed), no work
 * at load time, nothing on the application's error queue after an allowed
 * handshake; and a polite one (guest_probe, tests/clients): it never calls
 * openlog/closelog, preserves errno across the hooks that do no I/O, and
 * never exits or aborts the program, not even with a broken policy or
 * without its engine (then it refuses every client handshake).
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const struct run_opts plain = {0};

/* Run a binutils command on a file and return its stdout (test fails if it
 * does not run). */
static char *tool_output(const char *const argv[])
{
    struct run_result r;
    ck_assert_int_eq(run_argv(&plain, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "%s failed: " RUN_FMT, argv[0], RUN_ARGS(&r));
    free(r.err);
    return r.out;
}

/* The symbol names of `nm -D` output lines whose type letter is not one of
 * `skip_types`, as a sorted, space separated list. */
static const char *nm_names(const char *nm_out, const char *skip_types)
{
    static char out[8192];
    char *copy = strdup(nm_out), *save = NULL;
    char *names[512];
    size_t n = 0, off = 0;

    for (char *line = strtok_r(copy, "\n", &save); line && n < 512;
         line = strtok_r(NULL, "\n", &save)) {
        /* "0000000000001234 T SSL_connect" or "                 U dlsym@GLIBC_2.34" */
        char type, name[1024];
        char *p = line;
        while (*p == ' ')
            p++;
        if (strchr(" \t", line[0]) == NULL) { /* value present */
            while (*p && *p != ' ')
                p++;
            while (*p == ' ')
                p++;
        }
        if (sscanf(p, "%c %1023s", &type, name) != 2)
            continue;
        if (strchr(skip_types, type))
            continue;
        names[n++] = strdup(name);
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
    free(copy);
    return out;
}

START_TEST(no_needed_on_openssl_or_libconfig)
{
    char *o = tool_output((const char *const[]){"/usr/bin/readelf", "-d", SHIM_PATH, NULL});

    /* Non-vacuous: we did parse a dynamic section that lists libc. */
    ck_assert_msg(strstr(o, "(NEEDED)") && strstr(o, "[libc.so.6]"),
                  "readelf -d shows no NEEDED libc.so.6:\n%s", o);
    ck_assert_msg(!strstr(o, "[libssl"), "libtlspin.so needs libssl:\n%s", o);
    ck_assert_msg(!strstr(o, "[libcrypto"), "libtlspin.so needs libcrypto:\n%s", o);
    ck_assert_msg(!strstr(o, "[libconfig"), "libtlspin.so needs libconfig:\n%s", o);
    free(o);
}
END_TEST

START_TEST(no_undefined_openssl_symbol)
{
    static const char *const prefixes[] = {
        "SSL_", "SSLv", "TLS_", "DTLS", "X509", "EVP_", "CRYPTO_", "ERR_", "BIO_", "OPENSSL_",
        "OSSL_", "PEM_", "ASN1_", "d2i_", "i2d_", "RAND_", "BN_", "EC_", "RSA_", "OBJ_",
        "config_", NULL};
    char *o = tool_output(
        (const char *const[]){"/usr/bin/nm", "-D", "--undefined-only", SHIM_PATH, NULL});
    const char *names = nm_names(o, "");
    char buf[8192], *save = NULL;

    ck_assert_msg(strstr(names, "dl"), "no libc/libdl import at all? nm says: %s", names);
    snprintf(buf, sizeof buf, "%s", names);
    for (char *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
        for (size_t i = 0; prefixes[i]; i++)
            ck_assert_msg(strncmp(s, prefixes[i], strlen(prefixes[i])) != 0,
                          "libtlspin.so has an undefined OpenSSL/libconfig symbol %s "
                          "(fatal under LD_BIND_NOW in programs without OpenSSL)",
                          s);
    free(o);
}
END_TEST

START_TEST(exports_exactly_the_interposed_names)
{
    char *o = tool_output(
        (const char *const[]){"/usr/bin/nm", "-D", "--defined-only", SHIM_PATH, NULL});
    /* 'A': version-node housekeeping symbols; nothing else may be defined. */
    const char *names = nm_names(o, "A");

    char *map = read_file(TLSPIN_SOURCE_DIR "/loader/exports.map", NULL);
    char want[4096] = "";

    /* The global names of the version script, sorted as nm_names sorts. */
    ck_assert_ptr_nonnull(map);
    {
        char listed[64][64];
        size_t n = 0;
        const char *p = strstr(map, "global:");
        const char *end = strstr(map, "local:");
        ck_assert_msg(p && end && p < end, "exports.map has no global/local sections");
        for (p += 7; p < end && n < 64;) {
            int len = 0;
            if (sscanf(p, " %63[A-Za-z0-9_];%n", listed[n], &len) == 1 && len > 0) {
                n++;
                p += len;
            } else {
                p++;
            }
        }
        ck_assert_msg(n >= 7, "exports.map lists only %zu names", n);
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(listed[j - 1], listed[j]) > 0; j--) {
                char t[64];
                memcpy(t, listed[j], sizeof t);
                memcpy(listed[j], listed[j - 1], sizeof t);
                memcpy(listed[j - 1], t, sizeof t);
            }
        for (size_t i = 0; i < n; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? " " : "",
                     listed[i]);
    }
    ck_assert_msg(strstr(want, "X509_verify_cert") && strstr(want, "SSL_clear"),
                  "exports.map lacks a hook: %s", want);
    ck_assert_msg(strcmp(names, want) == 0,
                  "libtlspin.so exports: %s\nexports.map lists: %s\n(nm -D --defined-only:\n%s)",
                  names, want, o);
    free(map);
    free(o);
}
END_TEST

START_TEST(file_module_exports_only_its_entry)
{
    char *o = tool_output(
        (const char *const[]){"/usr/bin/nm", "-D", "--defined-only", FILE_MODULE_PATH, NULL});
    const char *names = nm_names(o, "A");

    ck_assert_msg(strcmp(names, "tlspin_module_describe") == 0, "file.so exports: %s\n%s",
                  names, o);
    free(o);
}
END_TEST

/* The interposition is real: the dynamic linker binds libcurl's SSL_connect
 * reference (SSL_connect@OPENSSL_3.0.0) and libssl's own internal calls to
 * SSL_do_handshake and X509_verify_cert to libtlspin.so. */
START_TEST(interposition_binds_versioned_references)
{
    static const char *const env[] = {"LD_BIND_NOW=1", "LD_DEBUG=bindings", NULL};
    struct run_opts o = {.preload = 1, .env = env};
    struct run_result r;
    static const char *const expect[][2] = {
        {"libcurl.so", "`SSL_connect'"},
        {"libssl.so.3", "`SSL_do_handshake'"},
        {"libssl.so.3", "`X509_verify_cert'"},
    };

    write_file_policy(NULL);
    RUN(&r, &o, CURL, "-q", "--version");
    ck_assert_msg(r.exited && r.code == 0, "curl --version: " RUN_FMT, RUN_ARGS(&r));
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        int found = 0;
        char *copy = strdup(r.err), *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save))
            found = strstr(l, "binding file") && strstr(l, expect[i][0]) &&
                    strstr(l, "libtlspin.so") && strstr(l, expect[i][1]);
        free(copy);
        ck_assert_msg(found, "no binding of %s from %s to libtlspin.so", expect[i][1],
                      expect[i][0]);
    }
    run_result_free(&r);
}
END_TEST

static void assert_quiet_true(int bind_now)
{
    static const char *const now[] = {"LD_BIND_NOW=1", NULL};
    struct run_opts o = {.preload = 1, .env = bind_now ? now : NULL};
    struct run_result r;
    size_t mark = syslog_mark();

    write_file_policy(NULL);
    RUN(&r, &o, "/bin/true");
    ck_assert_msg(r.exited && r.code == 0 && r.out_len == 0 && r.err_len == 0,
                  "/bin/true under the preload: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    RUN(&r, &o, "/bin/sh", "-c", "echo ok");
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0 && r.err_len == 0,
                  "sh -c 'echo ok' under the preload: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "records:\n%s", syslog_dump_since(mark));
}

START_TEST(non_tls_programs_run_quietly)
{
    assert_quiet_true(0);
}
END_TEST

START_TEST(non_tls_programs_run_quietly_bind_now)
{
    assert_quiet_true(1);
}
END_TEST

/* Nothing happens at load time: a broken policy is never even read by a
 * program that makes no TLS handshake. */
START_TEST(broken_policy_does_not_touch_non_tls_programs)
{
    static const char *const now[] = {"LD_BIND_NOW=1", NULL};
    struct run_opts o = {.preload = 1, .env = now};
    struct run_result r;
    size_t mark = syslog_mark();

    write_policy("version = 1;\nmode = \"enforce\"\nstack = ( { module = ; } );\n");
    RUN(&r, &o, "/bin/sh", "-c", "echo ok; ls / >/dev/null && echo listed");
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\nlisted\n") == 0 &&
                      r.err_len == 0,
                  "sh under the preload with a broken policy: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* Also a policy file that does not exist at all. */
    o.config = "/nonexistent/tlspin.conf";
    RUN(&r, &o, "/bin/true");
    ck_assert_msg(r.exited && r.code == 0 && r.err_len == 0, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0,
                  "a non-TLS program logged (work at load time?):\n%s", syslog_dump_since(mark));
}
END_TEST

/* A program that makes allowed handshakes finds its OpenSSL error queue as
 * it would without tlspin: empty. Net::SSLeay gives perl the raw calls, so
 * the queue is read right after SSL_connect, before anything clears it.
 * Cases: a pinned host with the matching key, an unpinned host, and
 * VERIFY_NONE against a chain the app's store does not verify (tlspin then
 * verifies against the system store itself, which fails, and falls back to
 * the pinned leaf: its own failed verification must leave no trace). */
static const char perl_queue[] =
    "use strict; use warnings; use Net::SSLeay; use IO::Socket::INET;\n"
    "my ($port, $host, $ca, $verify) = @ARGV;\n"
    "Net::SSLeay::initialize();\n"
    "my $ctx = Net::SSLeay::CTX_new() or die 'CTX_new';\n"
    "Net::SSLeay::CTX_load_verify_locations($ctx, $ca, '') or die 'CA';\n"
    "Net::SSLeay::CTX_set_verify($ctx, $verify ? &Net::SSLeay::VERIFY_PEER : "
    "&Net::SSLeay::VERIFY_NONE);\n"
    "my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die 'sock';\n"
    "my $ssl = Net::SSLeay::new($ctx);\n"
    "Net::SSLeay::set_fd($ssl, fileno($sock));\n"
    "Net::SSLeay::set_tlsext_host_name($ssl, $host);\n"
    "Net::SSLeay::ERR_clear_error();\n"
    "my $rc = Net::SSLeay::connect($ssl);\n"
    "my @q; while (my $e = Net::SSLeay::ERR_get_error()) { push @q, "
    "Net::SSLeay::ERR_error_string($e); }\n"
    "print \"connect=$rc verify=\", Net::SSLeay::get_verify_result($ssl), \"\\n\";\n"
    "print \"queue: $_\\n\" for @q;\n"
    "Net::SSLeay::write($ssl, \"GET / HTTP/1.0\\r\\n\\r\\n\") if $rc == 1;\n"
    "exit($rc == 1 ? 0 : 1);\n";

static void queue_case(const char *server, const char *host, const char *ca, int verify,
                       const char *want_line)
{
    struct server s;
    struct run_result r;
    char cafile[PATH_MAX];

    snprintf(cafile, sizeof cafile, "%s", cert(ca));
    server_start(&s, server);
    ck_assert_int_eq(RUN(&r, &(struct run_opts){.preload = 1}, PERL, "-e", perl_queue,
                         fmt("%d", s.port), host, cafile, verify ? "1" : "0"),
                     0);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, want_line) == 0,
                  "[%s %s verify=%d] allowed handshake, expected only '%s': " RUN_FMT, server,
                  host, verify, want_line, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);
}

START_TEST(allowed_handshake_leaves_error_queue_empty)
{
    struct server s;
    struct run_result r;
    char cafile[PATH_MAX];

    write_file_policy(NULL);
    write_good_pinset();
    queue_case("good", "good.test", "trust.pem", 1, "connect=1 verify=0\n");
    queue_case("icpt", "other.test", "trust.pem", 1, "connect=1 verify=0\n");
    /* self.pem as the store: the good chain does not verify (20: unable to
     * get local issuer certificate), VERIFY_NONE lets it through. */
    queue_case("good", "good.test", "self.pem", 0, "connect=1 verify=20\n");

    /* Control: the same probe does see tlspin's entries on a refusal. */
    snprintf(cafile, sizeof cafile, "%s", cert("trust.pem"));
    server_start(&s, "icpt");
    ck_assert_int_eq(RUN(&r, &(struct run_opts){.preload = 1}, PERL, "-e", perl_queue,
                         fmt("%d", s.port), "good.test", cafile, "1"),
                     0);
    ck_assert_msg(r.exited && r.code == 1 && has_tlspin_error_entry(r.out),
                  "the probe does not see a refusal's queue: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A polite guest: syslog identity, errno, no exit (guest_probe)       */
/* ------------------------------------------------------------------ */

#define GUEST_PROBE BIN_DIR "/guest_probe"
#define PROBE_BLOCKED "handshake failed ssl_error=1 verify_result=50 " \
                      "(application verification failure)"

/* A real session for good.test (PEM, as tls_client --sess-out writes it),
 * made without the shim against a server of its own, so that the probe's
 * handshake never resumes it. Returns its path (static). */
static const char *good_session(void)
{
    static char path[PATH_MAX];
    struct server s;
    struct run_result r;

    snprintf(path, sizeof path, "%s/good-session.pem", H.tmp);
    server_start(&s, "good");
    tls_client_run(&r, &plain, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--sess-out", path, NULL});
    assert_client_ok(&r);
    run_result_free(&r);
    server_stop(&s);
    ck_assert_msg(access(path, R_OK) == 0, "tls_client --sess-out wrote no %s", path);
    return path;
}

/* guest_probe to 127.0.0.1:port as good.test, trusting trust.pem. */
static void probe_run(struct run_result *r, const struct run_opts *o, int port, const char *sess)
{
    const char *argv[] = {GUEST_PROBE, "--connect", fmt("127.0.0.1:%d", port), "--sni",
                          "good.test", "--cafile", cert("trust.pem"),
                          sess ? "--sess-in" : NULL, sess, NULL};
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* The probe reached its end: nothing in the process exited or aborted. */
static void assert_probe_finished(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 0 && has_line(r->out, "probe-end"),
                  "guest_probe did not reach its end (exit/abort inside the process?): " RUN_FMT,
                  RUN_ARGS(r));
}

/* errno right after each hooked call equals the sentinel set right before. */
static void assert_errno_preserved(const struct run_result *r, int with_session)
{
    static const char *const calls[] = {"SSL_CTX_set_cert_verify_callback",
                                        "SSL_set_connect_state", "SSL_set_session-NULL",
                                        "SSL_set_session"};
    long sentinel = line_number(r->out, "errno-sentinel=");

    ck_assert_msg(sentinel == EDOM, "no errno-sentinel=%d line: " RUN_FMT, EDOM, RUN_ARGS(r));
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        long v;
        if (!with_session && strcmp(calls[i], "SSL_set_session") == 0)
            continue;
        v = line_number(r->out, fmt("errno-after-%s=", calls[i]));
        ck_assert_msg(v == sentinel, "errno after %s is %ld (%s), was %ld (%s) before: " RUN_FMT,
                      calls[i], v, v >= 0 ? strerror((int)v) : "no line", sentinel,
                      strerror((int)sentinel), RUN_ARGS(r));
    }
}

/* The probe's own closing line still carries what its openlog() said:
 * facility LOCAL1 (<LOCAL1|INFO> = <142>), tag guestprobe with [pid]. */
static void assert_own_syslog_identity(size_t mark, pid_t pid)
{
    const struct syslog_rec *p = syslog_wait_for_since(mark, "probe-after-handshake", 3000);
    const char *pri = fmt("<%d>", LOG_LOCAL1 | LOG_INFO);

    ck_assert_msg(p != NULL, "the probe's own syslog line never arrived:\n%s",
                  syslog_dump_since(mark));
    ck_assert_msg(p->facility == LOG_LOCAL1 && p->severity == LOG_INFO &&
                      strncmp(p->raw, pri, strlen(pri)) == 0,
                  "the probe's line lost its facility/level (expected %s): %s", pri, p->raw);
    ck_assert_msg(strcmp(p->tag, "guestprobe") == 0 &&
                      strstr(p->raw, fmt("guestprobe[%d]: probe-after-handshake", (int)pid)),
                  "the probe's line lost its ident or [pid] (openlog/closelog called by the "
                  "shim?): %s",
                  p->raw);
}

/* The tlspin record is tagged with the program's own name and [pid],
 * whatever ident the program gave openlog(): tlspin writes its records to
 * /dev/log itself, so the program's logging state neither shapes nor drops
 * them (issue 11, case 8). */
static void assert_record_tagged(const struct syslog_rec *rec, pid_t pid)
{
    ck_assert_msg(strcmp(rec->tag, "guest_probe") == 0 &&
                      strstr(rec->raw, fmt("guest_probe[%d]: tlspin:", (int)pid)),
                  "the tlspin record is not tagged with the program's name: %s", rec->raw);
}

/* The handshake is refused by the policy: errno intact, the program's syslog
 * identity intact, tlspin's record tagged with the program's name and in
 * the policy's facility. */
START_TEST(polite_guest_when_blocked)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *sess;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    sess = good_session();
    server_start(&s, "icpt");

    mark = syslog_mark();
    probe_run(&r, &(struct run_opts){.preload = 1}, s.port, sess);
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, "sess-in=loaded") && has_line(r.out, PROBE_BLOCKED) &&
                      has_tlspin_error_entry(r.out),
                  "the interceptor's key was not refused: " RUN_FMT, RUN_ARGS(&r));
    assert_errno_preserved(&r, 1);
    assert_own_syslog_identity(mark, r.pid);

    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 0);
    ck_assert_msg(rec != NULL, "no pin-mismatch record:\n%s", syslog_dump_since(mark));
    assert_record_tagged(rec, r.pid);
    ck_assert_msg(rec->facility == LOG_AUTHPRIV && rec->severity == LOG_WARNING,
                  "the record is not in the policy's authpriv.warning: %s", rec->raw);
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "program", "guest_probe");
    ck_assert_field(rec, "pid", fmt("%d", (int)r.pid));
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);
}
END_TEST

/* The same with a policy that allows the handshake (good.test pinned to
 * the interceptor's key): a full handshake through the program's own
 * cert_verify_callback (wrapped by tlspin), no record. */
START_TEST(polite_guest_when_allowed)
{
    struct server s;
    struct run_result r;
    const char *sess;
    size_t mark;

    write_file_policy(NULL);
    write_pinsets("lab",
                  "pinsets = ( { name = \"lab\"; hosts = [ \"good.test\" ];\n"
                  "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_ICPT"), pin("PIN_BACKUP"));
    sess = good_session();
    server_start(&s, "icpt");

    mark = syslog_mark();
    probe_run(&r, &(struct run_opts){.preload = 1}, s.port, sess);
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, "sess-in=loaded") && has_line(r.out, "handshake ok") &&
                      has_line(r.out, "app-cert-verify-calls=1"),
                  "expected an allowed full handshake through the app's callback: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_errno_preserved(&r, 1);
    assert_own_syslog_identity(mark, r.pid);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "an allowed pinned handshake logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* A policy with a syntax error: every client handshake is refused
 * (on_error's default cannot even be read), the program goes on. */
START_TEST(polite_guest_with_broken_policy)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *sess;
    size_t mark;

    sess = good_session();
    write_policy("version = 1;\nmode = \"enforce\"\nstack = ( { module = ; } );\n");
    server_start(&s, "good");

    mark = syslog_mark();
    probe_run(&r, &(struct run_opts){.preload = 1}, s.port, sess);
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, PROBE_BLOCKED), "a broken policy did not refuse: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_errno_preserved(&r, 1);
    assert_own_syslog_identity(mark, r.pid);
    rec = syslog_wait_for_since(mark, "action=blocked", 0);
    ck_assert_msg(rec != NULL, "no blocked record:\n%s", syslog_dump_since(mark));
    assert_record_tagged(rec, r.pid);
    ck_assert_field(rec, "event", "policy-error");
    run_result_free(&r);
}
END_TEST

/* libtlspin.so copied alone into a directory without libtlspin-engine.so:
 * its engine cannot be loaded. Returns the copy's path (static). */
static const char *lonely_shim(void)
{
    static char path[PATH_MAX];
    char cmd[3 * PATH_MAX];

    snprintf(path, sizeof path, "%s/lonely/libtlspin.so", H.tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/lonely' && cp '%s' '%s'", H.tmp, SHIM_PATH, path);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(access(fmt("%s/lonely/libtlspin-engine.so", H.tmp), F_OK) != 0,
                  "an engine next to the copy");
    return path;
}

/* Without its engine the shim refuses every client handshake (fail closed)
 * and says why, once; the program still reaches its end, and programs that
 * make no handshake run as usual. A policy that would allow the handshake
 * (control: the real shim allows it) shows the refusal is the missing
 * engine's. */
START_TEST(fails_closed_without_engine)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char preload[PATH_MAX + 16], config[PATH_MAX + 16];
    const char *const env[] = {preload, config, NULL};
    const struct run_opts lonely = {.env = env};
    const char *sess;
    size_t mark;

    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lonely_shim());
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    write_file_policy(NULL);
    sess = good_session();
    server_start(&s, "good");

    probe_run(&r, &(struct run_opts){.preload = 1}, s.port, sess);
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, "handshake ok"), "control with the engine: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    probe_run(&r, &lonely, s.port, sess);
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, PROBE_BLOCKED),
                  "without its engine the shim did not refuse the handshake: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_own_syslog_identity(mark, r.pid);
    rec = syslog_wait_for_since(mark, "event=policy-error", 0);
    ck_assert_msg(rec != NULL, "no policy-error record:\n%s", syslog_dump_since(mark));
    assert_record_tagged(rec, r.pid);
    ck_assert_msg(strncmp(rec->msg, "tlspin: event=policy-error action=blocked ", 42) == 0,
                  "record: %s", rec->raw);
    ck_assert_field_has(rec, "reason", fmt("cannot load %s/lonely/libtlspin-engine.so", H.tmp));
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);

    mark = syslog_mark();
    RUN(&r, &lonely, "/bin/true");
    ck_assert_msg(r.exited && r.code == 0 && r.out_len == 0 && r.err_len == 0,
                  "/bin/true under the engine-less shim: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    RUN(&r, &lonely, "/bin/sh", "-c", "echo ok");
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0 && r.err_len == 0,
                  "sh under the engine-less shim: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a non-TLS program logged:\n%s",
                  syslog_dump_since(mark));
}
END_TEST

/* errno survives the hooks even when the first one fails to load the
 * engine. */
START_TEST(errno_preserved_without_engine)
{
    struct server s;
    struct run_result r;
    char preload[PATH_MAX + 16], config[PATH_MAX + 16];
    const char *const env[] = {preload, config, NULL};
    const char *sess;

    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lonely_shim());
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    write_file_policy(NULL);
    sess = good_session();
    server_start(&s, "good");
    probe_run(&r, &(struct run_opts){.env = env}, s.port, sess);
    assert_probe_finished(&r);
    assert_errno_preserved(&r, 1);
    run_result_free(&r);
}
END_TEST

/* Engine skew: a program started before an upgrade runs the old shim and
 * finds the new engine at its first handshake. An engine of another
 * interface is refused without being called (it would abort), the handshake
 * fails closed, and the record says to restart the program. */
START_TEST(fails_closed_with_an_engine_of_another_interface)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char preload[PATH_MAX + 16], config[PATH_MAX + 16];
    const char *const env[] = {preload, config, NULL};
    const char *dir = fmt("%s/skew", H.tmp);
    size_t mark;

    run_sh(fmt("mkdir -p '%s' && cp '%s' '%s/libtlspin.so' && "
               "cp '%s/lib/testprograms/libtp_other_engine.so' '%s/libtlspin-engine.so'",
               dir, SHIM_PATH, dir, TLSPIN_BUILD_DIR, dir));
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libtlspin.so", dir);
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    write_file_policy(NULL);
    server_start(&s, "good");

    mark = syslog_mark();
    probe_run(&r, &(struct run_opts){.env = env}, s.port, good_session());
    assert_probe_finished(&r);
    ck_assert_msg(has_line(r.out, PROBE_BLOCKED),
                  "an engine of another interface did not fail closed: " RUN_FMT, RUN_ARGS(&r));
    rec = syslog_wait_for_since(mark, "event=policy-error", 0);
    ck_assert_msg(rec != NULL, "no policy-error record:\n%s", syslog_dump_since(mark));
    ck_assert_field_has(rec, "reason", fmt("%s/libtlspin-engine.so is not an engine of this "
                                           "shim's interface", dir));
    ck_assert_field_has(rec, "reason", "restart it");
    run_result_free(&r);
}
END_TEST

Suite *guest_suite(void);
Suite *guest_suite(void)
{
    Suite *s = suite_create("guest");
    TCase *tc = harness_tcase("symbols");

    tcase_add_test(tc, no_needed_on_openssl_or_libconfig);
    tcase_add_test(tc, no_undefined_openssl_symbol);
    tcase_add_test(tc, exports_exactly_the_interposed_names);
    tcase_add_test(tc, file_module_exports_only_its_entry);
    tcase_add_test(tc, interposition_binds_versioned_references);
    suite_add_tcase(s, tc);

    tc = harness_tcase("load");
    tcase_add_test(tc, non_tls_programs_run_quietly);
    tcase_add_test(tc, non_tls_programs_run_quietly_bind_now);
    tcase_add_test(tc, broken_policy_does_not_touch_non_tls_programs);
    suite_add_tcase(s, tc);

    tc = harness_tcase("error queue");
    tcase_add_test(tc, allowed_handshake_leaves_error_queue_empty);
    suite_add_tcase(s, tc);

    tc = harness_tcase("polite guest");
    tcase_add_test(tc, polite_guest_when_blocked);
    tcase_add_test(tc, polite_guest_when_allowed);
    tcase_add_test(tc, polite_guest_with_broken_policy);
    tcase_add_test(tc, fails_closed_without_engine);
    tcase_add_test(tc, fails_closed_with_an_engine_of_another_interface);
    tcase_add_test(tc, errno_preserved_without_engine);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(guest_suite());
}
