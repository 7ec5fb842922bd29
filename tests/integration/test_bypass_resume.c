/*
 * test_bypass_resume.c — issue 11, case 4: a session may be resumed only
 * after a decision for every identity in force when the ClientHello is
 * built, whatever the order of the program's calls.
 *
 *   (a) openssl s_client -noservername -sess_in, with a session saved from
 *       an unpinned name, against the pinned address (TLS 1.2 and 1.3); an
 *       SSL reused with SSL_clear on a new socket without SNI;
 *   (b) SSL_set_connect_state, SSL_set_session, then the SNI and
 *       SSL_set1_host, and the first SSL_write starts the handshake.
 *
 * The server is the interceptor's (its certificate is valid for the names,
 * its key is not the pinned one): each test first shows that it resumes the
 * session without the shim, then that under the shim the session is not
 * resumed and the full handshake is refused before the request is sent.
 * Controls: the same calls with the pinned key resume.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define BYPASS_CLIENT BIN_DIR "/bypass_client"

/* good.test and 127.0.0.1 pinned to the good key; other.test unpinned. */
static void pin_name_and_address(void)
{
    write_file_policy(NULL);
    write_good_pinset();
    write_pinsets("ip", "pinsets = ( { name = \"ip\"; hosts = [ \"127.0.0.1\" ];\n"
                        "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

static void bypass_client(struct run_result *r, const struct run_opts *o, int port,
                          const char *mode, const char *second_name)
{
    if (second_name != NULL)
        ck_assert_int_eq(RUN(r, o, BYPASS_CLIENT, mode, fmt("127.0.0.1:%d", port),
                             cert("trust.pem"), "other.test", second_name),
                         0);
    else
        ck_assert_int_eq(RUN(r, o, BYPASS_CLIENT, mode, fmt("127.0.0.1:%d", port),
                             cert("trust.pem"), "other.test"),
                         0);
}

static const char *second_part(const struct run_result *r)
{
    const char *p = strstr(r->out, "connection 2\n");

    ck_assert_msg(p != NULL, "no connection 2: " RUN_FMT, RUN_ARGS(r));
    return p;
}

static int server_got(const struct server *s, const char *text)
{
    char *log = server_log(s);
    int got = strstr(log, text) != NULL;

    free(log);
    return got;
}

/* Without the shim the interceptor resumes connection 1's session on
 * connection 2: the threat is real. */
static void assert_resumes_without_shim(const char *mode, const char *second_name)
{
    struct server s;
    struct run_result r;

    server_start(&s, "icpt");
    bypass_client(&r, &plain, s.port, mode, second_name);
    ck_assert_msg(r.exited && r.code == 0 && strstr(second_part(&r), "reused=1"),
                  "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);
}

/* Under the shim: connection 2 was not resumed, was refused by tlspin, and
 * its request never reached the server; one blocked record for `host`. */
static void assert_second_refused(const struct run_result *r, const struct server *s,
                                  size_t mark, const char *host)
{
    const char *c2 = second_part(r);
    const struct syslog_rec *rec;

    ck_assert_msg(!strstr(c2, "reused=1"), "resumed: " RUN_FMT, RUN_ARGS(r));
    ck_assert_msg(strstr(c2, "verify_result=50") && has_tlspin_error_entry(c2),
                  "connection 2 not refused by tlspin: " RUN_FMT, RUN_ARGS(r));
    ck_assert_msg(r->exited && r->code == 1, RUN_FMT, RUN_ARGS(r));
    ck_assert_msg(server_got(s, "bypass-request-1"), "connection 1 sent nothing");
    ck_assert_msg(!server_got(s, "bypass-request-2"), "connection 2's request got through");
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "host", host);
}

START_TEST(late_names_implicit_handshake_not_resumed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    assert_resumes_without_shim("late", "good.test");
    /* Only the name is pinned: the address the session is first checked
     * for (before the names are set) is not. */
    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    bypass_client(&r, &shim, s.port, "late", "good.test");
    assert_second_refused(&r, &s, mark, "good.test");
    run_result_free(&r);
}
END_TEST

START_TEST(late_names_implicit_handshake_good_key_resumed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    pin_name_and_address();
    server_start(&s, "good");
    mark = syslog_mark();
    bypass_client(&r, &shim, s.port, "late", "good.test");
    ck_assert_msg(r.exited && r.code == 0 && strstr(second_part(&r), "reused=1"),
                  "the pinned key was not resumed: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(server_got(&s, "bypass-request-2"), "connection 2 sent nothing");
    ck_assert_int_eq(syslog_tlspin_count_since(mark), 0);
    run_result_free(&r);
}
END_TEST

START_TEST(ssl_clear_reuse_without_sni_not_resumed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    assert_resumes_without_shim("clear", NULL);
    pin_name_and_address();
    server_start(&s, "icpt");
    mark = syslog_mark();
    bypass_client(&r, &shim, s.port, "clear", NULL);
    assert_second_refused(&r, &s, mark, "127.0.0.1");
    run_result_free(&r);
}
END_TEST

/* openssl s_client carrying the session in a file (the server must
 * acknowledge the SNI for OpenSSL to keep it: server_s_server_acking). Input
 * arrives after a pause so that the TLS 1.3 ticket is read before s_client
 * ends. */
static void s_client_session(struct run_result *r, const struct run_opts *o, int port,
                             const char *version, const char *sess, int save)
{
    const char *script = "{ sleep 1; printf 'GET / HTTP/1.0\\r\\n\\r\\n'; } | "
                         "\"$@\" 2>&1";
    const char *argv[24] = {"/bin/bash", "-c", script, "bash", OPENSSL, "s_client", version,
                            "-connect", fmt("127.0.0.1:%d", port), "-CAfile",
                            cert("trust.pem")};
    size_t n = 11;

    if (save) {
        argv[n++] = "-servername";
        argv[n++] = "other.test";
        argv[n++] = "-sess_out";
    } else {
        argv[n++] = "-noservername";
        argv[n++] = "-sess_in";
    }
    argv[n++] = sess;
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

START_TEST(s_client_sess_in_from_unpinned_name_not_resumed_for_pinned_address)
{
    static const char *const versions[] = {"-tls1_2", "-tls1_3"};
    const char *sess = fmt("%s/sess.pem", H.tmp);
    struct server s;
    struct run_result r;
    size_t mark;

    pin_name_and_address();
    server_s_server_acking(&s, "other.test");
    s_client_session(&r, &shim, s.port, versions[_i], sess, 1);
    ck_assert_msg(strstr(r.out, "New, TLS") && strstr(r.out, "Verify return code: 0"),
                  "saving the session for other.test failed: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    s_client_session(&r, &plain, s.port, versions[_i], sess, 0);
    ck_assert_msg(strstr(r.out, "Reused, TLS"), "threat not reproduced: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    s_client_session(&r, &shim, s.port, versions[_i], sess, 0);
    ck_assert_msg(!strstr(r.out, "Reused, TLS"), "resumed for the pinned address: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "application verification failure") &&
                      !strstr(r.out, "HTTP/1.0 200"),
                  "not refused: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_field(the_tlspin_record_since(mark), "host", "127.0.0.1");
    run_result_free(&r);
}
END_TEST

/* A program that reaches libssl only through dlsym(handle) never calls the
 * shim's SSL_set_session: libssl's own SSL_clear at the start of the
 * handshake is where its session is decided. */
START_TEST(dlsym_client_session_file_not_resumed_for_pinned_address)
{
    const char *sess = fmt("%s/sess.pem", H.tmp);
    struct server s;
    struct run_result r;
    size_t mark;

    pin_name_and_address();
    server_s_server_acking(&s, "other.test");
    tls_client_run(&r, &shim, TLS_CLIENT_DLOPEN, s.port, "other.test",
                   (const char *const[]){"--sess-out", sess, NULL});
    assert_client_ok(&r);
    run_result_free(&r);

    tls_client_run(&r, &plain, TLS_CLIENT_DLOPEN, s.port, NULL,
                   (const char *const[]){"--sess-in", sess, NULL});
    ck_assert_msg(has_line(r.out, "reused=1"), "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT_DLOPEN, s.port, NULL,
                   (const char *const[]){"--sess-in", sess, NULL});
    ck_assert_msg(!has_line(r.out, "reused=1"), "resumed for the pinned address: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_client_blocked(&r);
    ck_assert_field(the_tlspin_record_since(mark), "host", "127.0.0.1");
    run_result_free(&r);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("bypass_resume");
    TCase *tc = harness_tcase("resumption");

    tcase_add_test(tc, late_names_implicit_handshake_not_resumed);
    tcase_add_test(tc, late_names_implicit_handshake_good_key_resumed);
    tcase_add_test(tc, ssl_clear_reuse_without_sni_not_resumed);
    tcase_add_loop_test(tc, s_client_sess_in_from_unpinned_name_not_resumed_for_pinned_address,
                        0, 2);
    tcase_add_test(tc, dlsym_client_session_file_not_resumed_for_pinned_address);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(resume_suite());
}
