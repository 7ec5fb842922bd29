/*
 * test_bypass_nocert.c — issue 11, case 1: a client handshake that completes
 * without a server certificate (anonymous, PSK suites; TLS 1.3 external PSK)
 * is decided like any other: it satisfies no pin.
 *
 * The server is openssl s_server with -nocert and only certificate-less
 * suites. Every test first shows the threat without the shim (the client
 * completes the handshake and its request reaches the server), then shows
 * that under the shim the handshake to the pinned address is refused before
 * the request is sent, with exactly one record (trust=none). Controls: an
 * unpinned name still completes (unpinned = "allow"), and is refused under
 * unpinned = "deny".
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define MARKER "tlspin-nocert-request"
#define PSK_HEX "1a2b3c4d5e6f708192a3b4c5d6e7f801"

/* 127.0.0.1 pinned to the good key: whatever answers without a certificate
 * cannot satisfy it. */
static void pin_the_address(const char *unpinned)
{
    char extra[256];

    snprintf(extra, sizeof extra,
             "unpinned = \"%s\";\n"
             "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };",
             unpinned);
    /* write_file_policy sets unpinned itself; a later setting of the same
     * name would be a duplicate, so the policy is written in full here. */
    write_policy("version = 1;\nmode = \"enforce\";\non_error = \"deny\";\n%s\n"
                 "stack = ( { module = \"file\"; control = \"required\"; "
                 "args = { pinsets = \"%s\"; }; } );\n",
                 extra, H.pinsets);
    run_sh(fmt("mkdir -p '%s'", H.pinsets));
    write_pinsets("ip", "pinsets = ( { name = \"ip\"; hosts = [ \"127.0.0.1\" ];\n"
                        "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* s_server with no certificate at all, TLS 1.2 anonymous suites only. It
 * prints what it receives: the marker shows a request got through. */
static void anon_server(struct server *s)
{
    server_s_server(s, cert("good.pem"), cert("good.key"), NULL,
                    (const char *const[]){"-nocert", "-tls1_2", "-cipher", "aNULL:@SECLEVEL=0",
                                          NULL});
}

/* The same answering HTTP (its status page), for clients that wait for an
 * answer: what they print shows the request got through. */
static void anon_web_server(struct server *s)
{
    server_s_server(s, cert("good.pem"), cert("good.key"), NULL,
                    (const char *const[]){"-nocert", "-tls1_2", "-cipher", "aNULL:@SECLEVEL=0",
                                          "-www", NULL});
}

static void psk_server(struct server *s, const char *version)
{
    server_s_server(s, cert("good.pem"), cert("good.key"), NULL,
                    (const char *const[]){"-nocert", version, "-psk", PSK_HEX, "-cipher",
                                          "PSK:@SECLEVEL=0", NULL});
}

static int server_got_marker(const struct server *s)
{
    char *out = read_file(s->out, NULL);
    int got = out != NULL && strstr(out, MARKER) != NULL;

    free(out);
    return got;
}

static void assert_nocert_record(size_t mark, const char *host, const char *event)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);

    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "event", event);
    ck_assert_field(rec, "host", host);
    ck_assert_field(rec, "trust", "none");
}

/* openssl s_client: its handshake is implicit (first SSL_write/SSL_read). */
static void s_client(struct run_result *r, const struct run_opts *o, int port,
                     const char *const extra[])
{
    const char *argv[32] = {OPENSSL, "s_client", "-connect", fmt("127.0.0.1:%d", port),
                            "-noservername", "-quiet", "-no_ign_eof"};
    size_t n = 7;
    struct run_opts oi = *o;

    for (size_t i = 0; extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    oi.input = MARKER "\n";
    ck_assert_int_eq(run_argv(&oi, r, argv), 0);
}

START_TEST(s_client_anonymous_suite_to_pinned_address_blocked)
{
    static const char *const anon[] = {"-tls1_2", "-cipher", "ALL:@SECLEVEL=0", NULL};
    struct server s;
    struct run_result r;
    size_t mark;

    pin_the_address("allow");
    anon_server(&s);
    s_client(&r, &plain, s.port, anon);
    ck_assert_msg(server_got_marker(&s), "control: no request without the shim: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    anon_server(&s);
    mark = syslog_mark();
    s_client(&r, &shim, s.port, anon);
    ck_assert_msg(!server_got_marker(&s), "the request reached the anonymous server: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, "application verification failure") ||
                      strstr(r.err, "tlspin"),
                  "s_client does not say why: " RUN_FMT, RUN_ARGS(&r));
    assert_nocert_record(mark, "127.0.0.1", "pin-mismatch");
    run_result_free(&r);
}
END_TEST

START_TEST(curl_insecure_anonymous_suite_blocked)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const char *url;

    pin_the_address("allow");
    anon_web_server(&s);
    url = fmt("https://127.0.0.1:%d/", s.port);
    RUN(&r, &plain, CURL, "-sSk", "--ciphers", "ALL:@SECLEVEL=0", url);
    expect_exit(&r, 0);
    expect_text(&r, "<HTML>");   /* the request was answered */
    run_result_free(&r);

    mark = syslog_mark();
    RUN(&r, &shim, CURL, "-sSk", "--ciphers", "ALL:@SECLEVEL=0", url);
    expect_exit(&r, 60);
    ck_assert_msg(strstr(r.err, "application verification failure"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(!strstr(r.out, "<HTML>"), "curl's request was answered: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_nocert_record(mark, "127.0.0.1", "pin-mismatch");
    run_result_free(&r);
}
END_TEST

static const char python_anon[] =
    "import socket, ssl, sys\n"
    "c = ssl.create_default_context(cafile=sys.argv[2])\n"
    "c.check_hostname = False\n"
    "c.verify_mode = ssl.CERT_REQUIRED\n"
    "c.maximum_version = ssl.TLSVersion.TLSv1_2\n"
    "c.set_ciphers('ALL:@SECLEVEL=0')\n"
    "try:\n"
    "    s = c.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))\n"
    "except ssl.SSLCertVerificationError as e:\n"
    "    print('verify-error', e); sys.exit(1)\n"
    "except ssl.SSLError as e:\n"
    "    print('ssl-error', e); sys.exit(2)\n"
    "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
    "print('sent', s.cipher()[0])\n"
    "print(s.recv(65536).decode(errors='replace'))\n";

START_TEST(python_cert_required_anonymous_suite_blocked)
{
    struct server s;
    struct run_result r;
    size_t mark;

    pin_the_address("allow");
    anon_web_server(&s);
    RUN(&r, &plain, PYTHON3, "-c", python_anon, fmt("%d", s.port), cert("trust.pem"));
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "<HTML>"),
                  "control: python with CERT_REQUIRED did not complete: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    RUN(&r, &shim, PYTHON3, "-c", python_anon, fmt("%d", s.port), cert("trust.pem"));
    expect_exit(&r, 1);
    expect_text(&r, "application verification failure");
    ck_assert_msg(!strstr(r.out, "<HTML>"), "python's request was answered");
    assert_nocert_record(mark, "127.0.0.1", "pin-mismatch");
    run_result_free(&r);
}
END_TEST

/* Every handshake path of the test client, and the client that reaches
 * libssl only through dlsym(handle). */
static const struct {
    const char *bin, *path;
} paths[] = {
    {TLS_CLIENT, "connect"},        {TLS_CLIENT, "do_handshake"},
    {TLS_CLIENT, "implicit_write"}, {TLS_CLIENT, "implicit_read"},
    {TLS_CLIENT, "bio"},            {TLS_CLIENT_DLOPEN, "implicit_write"},
    {TLS_CLIENT_DLOPEN, "connect"},
};

START_TEST(every_path_anonymous_suite_blocked)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const char *const extra[] = {"--path", paths[_i].path, "--verify", "none", "--ciphers",
                                 "ALL:@SECLEVEL=0", "--tls1.2", "--send", MARKER "\\n", NULL};

    pin_the_address("allow");
    anon_server(&s);
    tls_client_run(&r, &plain, paths[_i].bin, s.port, NULL, extra);
    ck_assert_msg(server_got_marker(&s), "control (%s %s): " RUN_FMT, paths[_i].bin,
                  paths[_i].path, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    anon_server(&s);
    mark = syslog_mark();
    tls_client_run(&r, &shim, paths[_i].bin, s.port, NULL, extra);
    ck_assert_msg(r.exited && r.code == 1 && has_tlspin_error_entry(r.out),
                  "%s %s not refused by tlspin: " RUN_FMT, paths[_i].bin, paths[_i].path,
                  RUN_ARGS(&r));
    ck_assert_msg(!server_got_marker(&s), "%s %s: the request reached the server",
                  paths[_i].bin, paths[_i].path);
    assert_nocert_record(mark, "127.0.0.1", "pin-mismatch");
    run_result_free(&r);
}
END_TEST

/* Control: a name nobody pinned may still use an anonymous suite, unless
 * the policy denies unpinned hosts. */
START_TEST(unpinned_name_anonymous_suite_follows_unpinned_setting)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const char *const extra[] = {"--verify", "none", "--ciphers", "ALL:@SECLEVEL=0",
                                 "--tls1.2", "--send", MARKER "\\n", NULL};

    pin_the_address("allow");
    anon_server(&s);
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "other.test", extra);
    ck_assert_msg(r.exited && r.code == 0 && server_got_marker(&s),
                  "unpinned name refused: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_int_eq(syslog_tlspin_count_since(mark), 0);
    run_result_free(&r);
    server_stop(&s);

    pin_the_address("deny");
    anon_server(&s);
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "other.test", extra);
    ck_assert_msg(r.exited && r.code == 1 && !server_got_marker(&s),
                  "unpinned = deny let it through: " RUN_FMT, RUN_ARGS(&r));
    assert_nocert_record(mark, "other.test", "unpinned-host");
    run_result_free(&r);
}
END_TEST

/* TLS 1.2 PSK suites and a TLS 1.3 external PSK authenticate the server by
 * a shared key, not a certificate: decided the same way. */
START_TEST(psk_to_pinned_address_blocked)
{
    static const char *const versions[] = {"-tls1_2", "-tls1_3"};
    const char *const extra[] = {versions[_i], "-psk", PSK_HEX, "-cipher", "PSK:@SECLEVEL=0",
                                 NULL};
    struct server s;
    struct run_result r;
    size_t mark;

    pin_the_address("allow");
    psk_server(&s, versions[_i]);
    s_client(&r, &plain, s.port, extra);
    ck_assert_msg(server_got_marker(&s), "control %s: " RUN_FMT, versions[_i], RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    psk_server(&s, versions[_i]);
    mark = syslog_mark();
    s_client(&r, &shim, s.port, extra);
    ck_assert_msg(!server_got_marker(&s), "%s PSK request reached the server: " RUN_FMT,
                  versions[_i], RUN_ARGS(&r));
    assert_nocert_record(mark, "127.0.0.1", "pin-mismatch");
    run_result_free(&r);
}
END_TEST

static Suite *nocert_suite(void)
{
    Suite *s = suite_create("bypass_nocert");
    TCase *tc = harness_tcase("no_certificate");

    tcase_add_test(tc, s_client_anonymous_suite_to_pinned_address_blocked);
    tcase_add_test(tc, curl_insecure_anonymous_suite_blocked);
    tcase_add_test(tc, python_cert_required_anonymous_suite_blocked);
    tcase_add_loop_test(tc, every_path_anonymous_suite_blocked, 0,
                        (int)(sizeof paths / sizeof paths[0]));
    tcase_add_test(tc, unpinned_name_anonymous_suite_follows_unpinned_setting);
    tcase_add_loop_test(tc, psk_to_pinned_address_blocked, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(nocert_suite());
}
