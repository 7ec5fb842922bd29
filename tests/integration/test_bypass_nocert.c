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

/* 127.0.0.1 and pinned.test pinned to the good key: whatever answers without
 * a certificate cannot satisfy them. */
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
    write_pinsets("ip", "pinsets = ( { name = \"ip\"; hosts = [ \"127.0.0.1\", \"pinned.test\" ];\n"
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

/* ------------------------------------------------------------------ */
/* What the adversarial review tried around the guard                   */
/* ------------------------------------------------------------------ */

#define ATTACK BIN_DIR "/bypass_attack_client"

static void attack(struct run_result *r, const struct run_opts *o, int port,
                   const char *const extra[])
{
    const char *argv[24] = {ATTACK, "-p", fmt("%d", port)};
    size_t n = 3;

    for (size_t i = 0; extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* How many times the server printed what the attack client sends once it
 * is connected. */
static int server_data_count(const struct server *s)
{
    char *out = read_file(s->out, NULL);
    int n = 0;

    for (const char *p = out; p != NULL && (p = strstr(p, "DATA-SENT")) != NULL; p++)
        n++;
    free(out);
    return n;
}

static int server_got_data(const struct server *s)
{
    return server_data_count(s) > 0;
}

/* The attack completes without the shim (the threat), and under it fails,
 * sends nothing, and leaves one blocked record. */
static void assert_attack_refused(void (*serve)(struct server *), const char *const extra[],
                                  const char *host)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const struct syslog_rec *rec;

    serve(&s);
    attack(&r, &plain, s.port, extra);
    ck_assert_msg(strstr(r.out, "handshake: COMPLETED") && server_got_data(&s),
                  "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    serve(&s);
    mark = syslog_mark();
    attack(&r, &shim, s.port, extra);
    ck_assert_msg(!strstr(r.out, "COMPLETED") && !server_got_data(&s),
                  "got through under the shim: " RUN_FMT, RUN_ARGS(&r));
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", host);
    run_result_free(&r);
}

/* The program replaces the security callback (or the SSL_CTX) during the
 * handshake, from its info or msg callback: the guard stays in front. */
START_TEST(review_callback_replaced_during_handshake)
{
    static const char *const how[] = {"-secb-info", "-secb-msg", "-setctx-info"};

    pin_the_address("allow");
    assert_attack_refused(anon_server, (const char *const[]){"-ciphers", "ALL:@SECLEVEL=0",
                                                             "-tls12", how[_i], NULL},
                          "127.0.0.1");
}
END_TEST

/* The first handshake call comes before the program set a BIO: the retry
 * goes on past the start, where the guard was already put. */
START_TEST(review_first_call_without_bio)
{
    static const char *const how[] = {"-late-bio", "-nullbio-first"};

    pin_the_address("allow");
    assert_attack_refused(anon_server, (const char *const[]){"-ciphers", "ALL:@SECLEVEL=0",
                                                             "-tls12", how[_i], NULL},
                          "127.0.0.1");
}
END_TEST

static struct server icpt_s_server_with(const char *const extra[])
{
    struct server s;
    server_s_server(&s, cert("icpt.pem"), cert("icpt.key"), cert("icpt-ca.pem"), extra);
    return s;
}

/* A session made for other.test (unpinned) with the interceptor's key,
 * handed over by a psk_use_session_cb for pinned.test: it never passes
 * SSL_set_session, and is decided when the server accepts it. */
static const char *psk_session_file;

static void psk_session_server(struct server *s)
{
    *s = icpt_s_server_with((const char *const[]){"-tls1_3", "-psk_session", psk_session_file,
                                                  "-psk_identity", "Client_identity", NULL});
}

START_TEST(review_psk_use_session_cb_session_for_another_host)
{
    struct server s;
    struct run_result r;
    const char *sess = fmt("%s/other13.pem", H.tmp);

    pin_the_address("allow");
    s = icpt_s_server_with((const char *const[]){"-tls1_3", NULL});
    attack(&r, &shim, s.port,
           (const char *const[]){"-tls13", "-sni", "other.test", "-sess-out", sess, NULL});
    ck_assert_msg(strstr(r.out, "handshake: COMPLETED"), "no session for other.test: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);
    psk_session_file = sess;
    assert_attack_refused(psk_session_server,
                          (const char *const[]){"-tls13", "-sni", "pinned.test", "-psk-sess",
                                                sess, NULL},
                          "pinned.test");
}
END_TEST

/* One process, one connection per session, freed in between: the second
 * SSL and session land at the addresses of the first. The first session
 * (the good server's) is allowed; the second (made for other.test with the
 * interceptor's key) must not ride on that answer to the pinned address. */
START_TEST(review_recycled_addresses)
{
    struct server good, e;
    struct run_result r;
    size_t mark;
    int before;
    const char *a = fmt("%s/a12.pem", H.tmp), *b = fmt("%s/b12.pem", H.tmp);

    pin_the_address("allow");
    server_s_server(&good, cert("good.pem"), cert("good.key"), cert("int.pem"),
                    (const char *const[]){"-tls1_2", NULL});
    attack(&r, &shim, good.port,
           (const char *const[]){"-tls12", "-CAfile", cert("trust.pem"), "-sess-out", a, NULL});
    ck_assert_msg(strstr(r.out, "COMPLETED"), "session A: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    e = icpt_s_server_with((const char *const[]){"-tls1_2", NULL});
    attack(&r, &shim, e.port,
           (const char *const[]){"-tls12", "-sni", "other.test", "-sess-out", b, NULL});
    ck_assert_msg(strstr(r.out, "COMPLETED"), "session B: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    before = server_data_count(&e);   /* session B's own connection sent it */
    attack(&r, &shim, e.port,
           (const char *const[]){"-tls12", "-connect-first", "-loop-sess", a, "-loop-sess", b,
                                 NULL});
    ck_assert_msg(!strstr(r.out, "COMPLETED") && server_data_count(&e) == before,
                  "a session rode on another's answer: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(syslog_count_since(mark, "action=blocked") == 2,
                  "one refusal per connection expected:\n%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* EAP-FAST style: a session_secret_cb secret, an abbreviated handshake the
 * client learns is one only at the server's ChangeCipherSpec. */
static void eap_server(struct server *s)
{
    server_program(s, (const char *const[]){BIN_DIR "/bypass_eap_server", "0", cert("icpt.pem"),
                                           cert("icpt.key"), NULL});
}

static int eap_server_got_data(const struct server *s)
{
    char *out = read_file(s->out, NULL);
    int got = out != NULL && strstr(out, "server got: DATA-SENT") != NULL;

    free(out);
    return got;
}

START_TEST(review_session_secret_cb)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const char *const extra[] = {"-tls12", "-eap", "-sni", "pinned.test", NULL};

    pin_the_address("allow");
    eap_server(&s);
    attack(&r, &plain, s.port, extra);
    ck_assert_msg(strstr(r.out, "handshake: COMPLETED") && strstr(r.out, "reused=1"),
                  "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    eap_server(&s);
    mark = syslog_mark();
    attack(&r, &shim, s.port, extra);
    ck_assert_msg(!strstr(r.out, "COMPLETED") && !eap_server_got_data(&s),
                  "got through under the shim: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_field(the_tlspin_record_since(mark), "host", "pinned.test");
    run_result_free(&r);
}
END_TEST

/* TLS 1.2 renegotiation to an anonymous suite after the program replaced
 * its security callback: renegotiation does not pass SSL_clear, the guard
 * must still be in front. */
START_TEST(review_renegotiation_after_replacing_callback)
{
    struct server s;
    struct run_result r;
    size_t mark;
    const char *const extra[] = {"-tls12", "-CAfile", cert("trust.pem"), "-reneg",
                                 "-reneg-secb", NULL};

    pin_the_address("allow");
    server_s_server(&s, cert("good.pem"), cert("good.key"), cert("int.pem"),
                    (const char *const[]){"-cipher", "ALL:@SECLEVEL=0", "-tls1_2", "-rev",
                                          "-client_renegotiation", NULL});
    attack(&r, &plain, s.port, extra);
    ck_assert_msg(strstr(r.out, "renegotiated: COMPLETED"), "threat not reproduced: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    attack(&r, &shim, s.port, extra);
    ck_assert_msg(strstr(r.out, "handshake: COMPLETED") && !strstr(r.out, "renegotiated: COMPLETED"),
                  "renegotiated under the shim: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_field(the_tlspin_record_since(mark), "trust", "none");
    run_result_free(&r);
}
END_TEST

/* An external PSK handed over by a psk_use_session_cb, with early data:
 * the session is decided as the callback returns, before the ClientHello
 * (and the early data behind it) leaves. */
START_TEST(review_early_data_with_external_psk)
{
    const char *sess = fmt("%s/ext-psk.pem", H.tmp);
    const char *const extra[] = {"-tls13", "-suites", "TLS_AES_128_GCM_SHA256", "-psk-sess", sess,
                                 "-early", "EARLY-SECRET-REQUEST", NULL};
    struct server s;
    struct run_result r;
    size_t mark;
    char *out;

    pin_the_address("allow");
    run_sh(fmt("'%s/bypass_mkpsk' '%s'", BIN_DIR, sess));
    server_s_server(&s, cert("good.pem"), cert("good.key"), NULL,
                    (const char *const[]){"-nocert", "-tls1_3", "-psk_session", sess,
                                          "-early_data", NULL});
    attack(&r, &plain, s.port, extra);
    out = read_file(s.out, NULL);
    ck_assert_msg(out && strstr(out, "EARLY-SECRET-REQUEST"), "threat not reproduced: " RUN_FMT,
                  RUN_ARGS(&r));
    free(out);
    run_result_free(&r);
    server_stop(&s);

    server_s_server(&s, cert("good.pem"), cert("good.key"), NULL,
                    (const char *const[]){"-nocert", "-tls1_3", "-psk_session", sess,
                                          "-early_data", NULL});
    mark = syslog_mark();
    attack(&r, &shim, s.port, extra);
    out = read_file(s.out, NULL);
    ck_assert_msg(!strstr(r.out, "COMPLETED") && out && !strstr(out, "EARLY-SECRET-REQUEST"),
                  "early data left before the decision: " RUN_FMT, RUN_ARGS(&r));
    free(out);
    ck_assert_field(the_tlspin_record_since(mark), "trust", "none");
    run_result_free(&r);
}
END_TEST

/* The shim without its engine (a broken installation) refuses certificate-
 * less suites too, with its one record. */
START_TEST(review_engine_missing)
{
    struct server s;
    struct run_result r;
    size_t mark;
    char preload[PATH_MAX + 16], config[PATH_MAX + 16];
    const char *const env[] = {preload, config, NULL};
    const struct run_opts lonely = {.env = env};
    const char *const extra[] = {"-ciphers", "ALL:@SECLEVEL=0", "-tls12", NULL};

    run_sh(fmt("mkdir -p '%s/lonely' && cp '%s' '%s/lonely/libtlspin.so'", H.tmp, SHIM_PATH,
               H.tmp));
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/lonely/libtlspin.so", H.tmp);
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    pin_the_address("allow");
    anon_server(&s);
    mark = syslog_mark();
    attack(&r, &lonely, s.port, extra);
    ck_assert_msg(!strstr(r.out, "COMPLETED") && !server_got_data(&s),
                  "an engine-less shim let it through: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(syslog_count_since(mark, "event=policy-error") == 1, "records:\n%s",
                  syslog_dump_since(mark));
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

    tc = harness_tcase("review");
    tcase_add_loop_test(tc, review_callback_replaced_during_handshake, 0, 3);
    tcase_add_loop_test(tc, review_first_call_without_bio, 0, 2);
    tcase_add_test(tc, review_psk_use_session_cb_session_for_another_host);
    tcase_add_test(tc, review_recycled_addresses);
    tcase_add_test(tc, review_session_secret_cb);
    tcase_add_test(tc, review_renegotiation_after_replacing_callback);
    tcase_add_test(tc, review_engine_missing);
    tcase_add_test(tc, review_early_data_with_external_psk);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(nocert_suite());
}
