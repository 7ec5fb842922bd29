/*
 * test_programs.c — real, unmodified programs under the preload: curl (also
 * with -k), python3 (urllib and the raw ssl module), openssl s_client, perl
 * IO::Socket::SSL. For each:
 *   - the threat is real: against a server presenting the interception
 *     proxy's certificate (signed by a CA the client trusts) the program
 *     succeeds WITHOUT the shim, and the server receives its request;
 *   - pinned host, matching key: success, the request reaches the server, no
 *     record;
 *   - pinned host, interceptor's key: the program fails with its own error
 *     text, not one application byte reaches the server, and exactly one
 *     syslog record with the expected fields arrives on /dev/log;
 *   - unpinned host (against the interceptor, even): success, no record.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* What each program sends: the server logs it, so "the request reached the
 * server" and "not one byte reached it" are checked on the server side. */
#define MARKER "tlspin-probe-request"

struct program {
    const char *name;          /* test name */
    const char *tag;           /* syslog tag and program= of its records */
    /* Build argv for host:port (the name is resolved to 127.0.0.1). */
    void (*argv)(const char *host, int port, const char *argv[16]);
    const char *input;         /* stdin, or NULL */
    /* Texts of the program's own error report on a pin mismatch (all must
     * appear in stdout+stderr). */
    const char *blocked_text[3];
    int blocked_code;          /* its exit status then; -1: any non-zero */
    const char *trust;         /* expected trust= of the record; NULL: any */
};

static void curl_argv(const char *host, int port, const char *argv[16], int insecure)
{
    size_t n = 0;
    argv[n++] = CURL;
    argv[n++] = "-q"; /* no ~/.curlrc */
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--cacert";
    argv[n++] = cert("trust.pem");
    if (insecure)
        argv[n++] = "-k";
    argv[n++] = "--resolve";
    argv[n++] = fmt("%s:%d:127.0.0.1", host, port);
    argv[n++] = "-H";
    argv[n++] = "X-Probe: " MARKER;
    argv[n++] = fmt("https://%s:%d/", host, port);
    argv[n] = NULL;
}

static void curl_verify(const char *host, int port, const char *argv[16])
{
    curl_argv(host, port, argv, 0);
}

static void curl_insecure(const char *host, int port, const char *argv[16])
{
    curl_argv(host, port, argv, 1);
}

/* urllib: the URL names the host; getaddrinfo is pointed at 127.0.0.1 so
 * that urllib's own code sets server_hostname (SNI and verification). */
static const char py_urllib[] =
    "import socket, ssl, sys, urllib.request\n"
    "host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "real = socket.getaddrinfo\n"
    "def gai(h, *a, **k):\n"
    "    return real('127.0.0.1' if h == host else h, *a, **k)\n"
    "socket.getaddrinfo = gai\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "req = urllib.request.Request('https://%s:%d/' % (host, port),\n"
    "                             headers={'X-Probe': '" MARKER "'})\n"
    "try:\n"
    "    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:\n"
    "        body = r.read()\n"
    "        print('OK', r.status, len(body))\n"
    "except Exception as e:\n"
    "    reason = getattr(e, 'reason', e)\n"
    "    print('FAILED', type(e).__name__, type(reason).__name__,\n"
    "          getattr(reason, 'verify_message', '-'), repr(e))\n"
    "    sys.exit(1)\n";

static void python_urllib(const char *host, int port, const char *argv[16])
{
    size_t n = 0;
    argv[n++] = PYTHON3;
    argv[n++] = "-I"; /* isolated: no user site, no PYTHON* variables */
    argv[n++] = "-c";
    argv[n++] = py_urllib;
    argv[n++] = host;
    argv[n++] = fmt("%d", port);
    argv[n++] = cert("trust.pem");
    argv[n] = NULL;
}

/* The raw ssl module: wrap_socket() performs the handshake
 * (SSL_do_handshake, libssl loaded RTLD_LOCAL by _ssl). */
static const char py_ssl[] =
    "import socket, ssl, sys\n"
    "host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "s = socket.create_connection(('127.0.0.1', port), timeout=10)\n"
    "try:\n"
    "    t = ctx.wrap_socket(s, server_hostname=host)\n"
    "except ssl.SSLCertVerificationError as e:\n"
    "    print('FAILED SSLCertVerificationError', e.verify_code, e.verify_message, repr(e))\n"
    "    sys.exit(1)\n"
    "except Exception as e:\n"
    "    print('FAILED', type(e).__name__, repr(e))\n"
    "    sys.exit(2)\n"
    "t.sendall(b'GET / HTTP/1.0\\r\\nHost: ' + host.encode() + b'\\r\\nX-Probe: " MARKER
    "\\r\\n\\r\\n')\n"
    "data = b''\n"
    "while True:\n"
    "    b = t.recv(4096)\n"
    "    if not b: break\n"
    "    data += b\n"
    "print('OK', t.version(), len(data))\n";

static void python_ssl(const char *host, int port, const char *argv[16])
{
    size_t n = 0;
    argv[n++] = PYTHON3;
    argv[n++] = "-I";
    argv[n++] = "-c";
    argv[n++] = py_ssl;
    argv[n++] = host;
    argv[n++] = fmt("%d", port);
    argv[n++] = cert("trust.pem");
    argv[n] = NULL;
}

/* s_client: SSL_VERIFY_NONE by default, handshake implicit in the first
 * SSL_write/SSL_read after SSL_set_connect_state. It sends its stdin and
 * quits at its end. */
static void s_client(const char *host, int port, const char *argv[16])
{
    size_t n = 0;
    argv[n++] = OPENSSL;
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = fmt("127.0.0.1:%d", port);
    argv[n++] = "-servername";
    argv[n++] = host;
    argv[n++] = "-CAfile";
    argv[n++] = cert("trust.pem");
    argv[n] = NULL;
}

static const char perl_ssl[] =
    "use strict; use warnings; use IO::Socket::SSL;\n"
    "my ($host, $port, $ca) = @ARGV;\n"
    "my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port,\n"
    "    SSL_hostname => $host, SSL_verifycn_name => $host, SSL_verifycn_scheme => 'http',\n"
    "    SSL_ca_file => $ca, SSL_verify_mode => SSL_VERIFY_PEER, Timeout => 10)\n"
    "  or do { print \"FAILED $SSL_ERROR\\n\"; exit 1; };\n"
    "print $s \"GET / HTTP/1.0\\r\\nHost: $host\\r\\nX-Probe: " MARKER "\\r\\n\\r\\n\";\n"
    "my $n = 0; while (my $l = <$s>) { $n += length $l; }\n"
    "print \"OK \", $s->get_sslversion, \" $n\\n\";\n";

static void perl_io_socket_ssl(const char *host, int port, const char *argv[16])
{
    size_t n = 0;
    argv[n++] = PERL;
    argv[n++] = "-e";
    argv[n++] = perl_ssl;
    argv[n++] = host;
    argv[n++] = fmt("%d", port);
    argv[n++] = cert("trust.pem");
    argv[n] = NULL;
}

static const struct program programs[] = {
    {"curl", "curl", curl_verify, NULL,
     {"SSL certificate problem: application verification failure", NULL}, 60, "app-verified"},
    /* -k: SSL_VERIFY_NONE. Still pinned; only the leaf key (or a chain that
     * verifies against the *system* store) can be trusted then. */
    {"curl -k", "curl", curl_insecure, NULL,
     {"SSL certificate problem: application verification failure", NULL}, 60, "leaf-only"},
    {"python3 urllib", "python3", python_urllib, NULL,
     {"FAILED URLError SSLCertVerificationError application verification failure", NULL}, 1,
     "app-verified"},
    {"python3 ssl", "python3", python_ssl, NULL,
     {"FAILED SSLCertVerificationError 50 application verification failure", NULL}, 1,
     "app-verified"},
    {"openssl s_client", "openssl", s_client,
     "GET / HTTP/1.0\r\nHost: good.test\r\nX-Probe: " MARKER "\r\n\r\n",
     {"Verify return code: 50 (application verification failure)", NULL}, -1, NULL},
    {"perl IO::Socket::SSL", "perl", perl_io_socket_ssl, NULL,
     {"FAILED SSL connect attempt failed", "certificate verify failed", NULL}, 1,
     "app-verified"},
};
#define N_PROGRAMS ((int)(sizeof programs / sizeof *programs))

/* ------------------------------------------------------------------ */

static void run_program(const struct program *p, const char *host, int port, int preload,
                        struct run_result *r)
{
    const char *argv[16];
    struct run_opts o = {.preload = preload, .input = p->input, .timeout_ms = 20000};

    p->argv(host, port, argv);
    ck_assert_int_eq(run_argv(&o, r, argv), 0);
}

static void assert_success(const struct program *p, const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 0, "%s should have succeeded: " RUN_FMT, p->name,
                  RUN_ARGS(r));
    if (p->argv == s_client) /* s_client reports the handshake on stdout */
        ck_assert_msg(strstr(r->out, "Verify return code: 0 (ok)"), "%s: " RUN_FMT, p->name,
                      RUN_ARGS(r));
    else if (p->argv != curl_verify && p->argv != curl_insecure)
        ck_assert_msg(strncmp(r->out, "OK ", 3) == 0, "%s: " RUN_FMT, p->name, RUN_ARGS(r));
}

static void assert_request_reached(const struct server *s, const struct program *p)
{
    char *log = server_log(s);
    ck_assert_msg(strstr(log, MARKER), "%s: the server did not receive the request; its log:\n%s",
                  p->name, log);
    free(log);
}

/* The pin-mismatch record since mark; fails if none. */
static const struct syslog_rec *record_with(size_t mark)
{
    const struct syslog_rec *r = syslog_wait_for_since(mark, "event=pin-mismatch", 0);
    ck_assert_msg(r != NULL, "no pin-mismatch record:\n%s", syslog_dump_since(mark));
    return r;
}

/* The threat: without tlspin, the interceptor is trusted. */
START_TEST(threat_without_shim)
{
    const struct program *p = &programs[_i];
    struct server s;
    struct run_result r;
    size_t mark = syslog_mark();

    server_start(&s, "icpt");
    run_program(p, "good.test", s.port, 0, &r);
    assert_success(p, &r);
    assert_request_reached(&s, p);
    ck_assert_uint_eq(syslog_tlspin_count_since(mark), 0);
    run_result_free(&r);
}
END_TEST

START_TEST(pinned_match_passes)
{
    const struct program *p = &programs[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    mark = syslog_mark();
    run_program(p, "good.test", s.port, 1, &r);
    assert_success(p, &r);
    assert_request_reached(&s, p);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a silent pass logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

START_TEST(pinned_mismatch_blocked)
{
    const struct program *p = &programs[_i];
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char keys[512], chain[4096], pid[32];
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    run_program(p, "good.test", s.port, 1, &r);

    /* The program failed, in its own words. */
    ck_assert_msg(r.exited && r.code != 0, "%s was not blocked: " RUN_FMT, p->name, RUN_ARGS(&r));
    if (p->blocked_code >= 0)
        ck_assert_msg(r.code == p->blocked_code, "%s: expected exit %d: " RUN_FMT, p->name,
                      p->blocked_code, RUN_ARGS(&r));
    /* s_client prints the error queue: an entry of library tlspin. */
    if (p->argv == s_client)
        ck_assert_msg(has_tlspin_error_entry(r.err) || has_tlspin_error_entry(r.out),
                      "%s: no error queue entry of library tlspin: " RUN_FMT, p->name,
                      RUN_ARGS(&r));
    for (size_t i = 0; p->blocked_text[i]; i++)
        ck_assert_msg(strstr(r.out, p->blocked_text[i]) || strstr(r.err, p->blocked_text[i]),
                      "%s: no '%s' in its output: " RUN_FMT, p->name, p->blocked_text[i],
                      RUN_ARGS(&r));

    /* Not one byte of application data reached the server. */
    assert_server_got_no_data(&s);

    /* The record, with the fields an operator needs (and below: it is the
     * only one). */
    rec = record_with(mark);
    ck_assert_int_eq(rec->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(rec->severity, LOG_WARNING);
    ck_assert_msg(strcmp(rec->tag, p->tag) == 0, "tag '%s', expected '%s': %s", rec->tag, p->tag,
                  rec->raw);
    ck_assert_msg(rec_keys(rec, keys, sizeof keys) == 0, "unparsable record: %s", rec->msg);
    ck_assert_msg(strcmp(keys, "event action program pid host port peer pinset module control "
                               "verdict trust chain expected reason") == 0,
                  "keys in the wrong order or missing: %s\n%s", keys, rec->msg);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "program", p->tag);
    snprintf(pid, sizeof pid, "%d", (int)r.pid);
    ck_assert_field(rec, "pid", pid);
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "port", fmt("%d", s.port));
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "module", "file");
    ck_assert_field(rec, "control", "required");
    ck_assert_field(rec, "verdict", "fail");
    if (p->trust)
        ck_assert_field(rec, "trust", p->trust);
    ck_assert_field(rec, "expected", fmt("%s,%s", pin("PIN_GOOD"), pin("PIN_BACKUP")));
    /* The chain starts with the interceptor's leaf: its pin and subject. */
    ck_assert_int_eq(rec_field(rec, "chain", chain, sizeof chain), 0);
    ck_assert_msg(strncmp(chain, fmt("%s ", pin("PIN_ICPT")), strlen(pin("PIN_ICPT")) + 1) == 0,
                  "chain does not start with the interceptor leaf %s: %s", pin("PIN_ICPT"),
                  chain);
    ck_assert_msg(strstr(chain, "CN=good.test"), "no leaf subject in chain: %s", chain);
    ck_assert_msg(!strstr(chain, pin("PIN_GOOD")), "chain has the good pin?: %s", chain);
    /* peer: the socket's address where the program's SSL has one; curl
     * reads and writes through a BIO of its own, so "-" is allowed there. */
    {
        char peer[256];
        ck_assert_int_eq(rec_field(rec, "peer", peer, sizeof peer), 0);
        ck_assert_msg(strcmp(peer, fmt("127.0.0.1:%d", s.port)) == 0 ||
                          (strcmp(p->tag, "curl") == 0 && strcmp(peer, "-") == 0),
                      "%s: peer=%s", p->name, peer);
    }
    ck_assert_msg(rec_field(rec, "reason", chain, sizeof chain) == 0 && chain[0],
                  "no reason: %s", rec->msg);
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);
}
END_TEST

START_TEST(unpinned_host_passes)
{
    const struct program *p = &programs[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    /* Even the interceptor: other.test has no pinset, so nothing changes. */
    server_start(&s, "icpt");
    mark = syslog_mark();
    run_program(p, "other.test", s.port, 1, &r);
    assert_success(p, &r);
    assert_request_reached(&s, p);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "an unpinned host logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* The same against openssl s_server -www, a server of another make: _i =
 * program * 2 + (0: good key, passes; 1: interceptor's key, blocked). */
START_TEST(s_server_match_and_mismatch)
{
    const struct program *p = &programs[_i / 2];
    int icpt = _i % 2;
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    if (icpt)
        server_s_server(&s, cert("icpt.pem"), cert("icpt.key"), cert("icpt-ca.pem"),
                        (const char *const[]){"-www", NULL});
    else
        server_s_server(&s, cert("good.pem"), cert("good.key"), cert("int.pem"),
                        (const char *const[]){"-www", NULL});
    mark = syslog_mark();
    run_program(p, "good.test", s.port, 1, &r);
    if (!icpt) {
        assert_success(p, &r);
        ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    } else {
        ck_assert_msg(r.exited && r.code != 0, "%s was not blocked: " RUN_FMT, p->name,
                      RUN_ARGS(&r));
        ck_assert_msg(strstr(r.out, p->blocked_text[0]) || strstr(r.err, p->blocked_text[0]),
                      "%s: " RUN_FMT, p->name, RUN_ARGS(&r));
        ck_assert_field(record_with(mark), "action", "blocked");
    }
    run_result_free(&r);
}
END_TEST

static Suite *programs_suite(void)
{
    Suite *s = suite_create("programs");
    TCase *tc;

    tc = harness_tcase("threat");
    tcase_add_loop_test(tc, threat_without_shim, 0, N_PROGRAMS);
    suite_add_tcase(s, tc);
    tc = harness_tcase("match");
    tcase_add_loop_test(tc, pinned_match_passes, 0, N_PROGRAMS);
    suite_add_tcase(s, tc);
    tc = harness_tcase("mismatch");
    tcase_add_loop_test(tc, pinned_mismatch_blocked, 0, N_PROGRAMS);
    suite_add_tcase(s, tc);
    tc = harness_tcase("s_server");
    tcase_add_loop_test(tc, s_server_match_and_mismatch, 0, 2 * N_PROGRAMS);
    suite_add_tcase(s, tc);
    tc = harness_tcase("unpinned");
    tcase_add_loop_test(tc, unpinned_host_passes, 0, N_PROGRAMS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(programs_suite());
}
