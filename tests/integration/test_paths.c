/*
 * test_paths.c — every way an OpenSSL client can complete a handshake,
 * driven with tls_client / tls_client_dlopen under the preload: each path
 * passes on a matching pin and is blocked on a mismatch inside the handshake
 * call (verify_result 50, an error-queue entry from tlspin, not one byte at
 * the server); the app's own callbacks are still called; sessions whose key
 * fails the policy are not resumed; server handshakes are untouched.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define SEND_TEXT "tlspin-paths-request\\r\\n\\r\\n"
#define SENT_TEXT "tlspin-paths-request"

/* ------------------------------------------------------------------ */
/* Handshake paths × blocking/non-blocking × linked/dlopen             */
/* ------------------------------------------------------------------ */

static const char *const paths[] = {"connect",       "do_handshake", "implicit_write",
                                    "implicit_read", "implicit_peek", "write_ex",
                                    "read_ex",       "peek_ex",      "bio"};
#define N_PATHS ((int)(sizeof paths / sizeof *paths))

/* _i = path + N_PATHS * (nonblock + 2 * dlopen) */
struct combo {
    const char *path;
    int nonblock;
    const char *bin;
};

static struct combo combo(int i)
{
    struct combo c = {paths[i % N_PATHS], (i / N_PATHS) % 2,
                      (i / N_PATHS / 2) ? TLS_CLIENT_DLOPEN : TLS_CLIENT};
    return c;
}

static void run_combo(struct run_result *r, const struct run_opts *o, int port, struct combo c)
{
    const char *extra[8] = {"--path", c.path, "--send", SEND_TEXT, NULL};
    if (c.nonblock)
        extra[4] = "--nonblock";
    tls_client_run(r, o, c.bin, port, "good.test", extra);
}

#define COMBO_FMT "[%s --path %s%s] "
#define COMBO_ARGS(c) strrchr((c).bin, '/') + 1, (c).path, (c).nonblock ? " --nonblock" : ""

START_TEST(path_match_passes)
{
    struct combo c = combo(_i);
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    mark = syslog_mark();
    run_combo(&r, &shim, s.port, c);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                  COMBO_FMT "should pass: " RUN_FMT, COMBO_ARGS(c), RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "verify_result=0 (ok)"), COMBO_FMT RUN_FMT, COMBO_ARGS(c),
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))), COMBO_FMT RUN_FMT,
                  COMBO_ARGS(c), RUN_ARGS(&r));
    /* Non-blocking mode ran (how many WANT_READs a loopback handshake sees
     * is timing: often 1-3, sometimes 0). */
    if (c.nonblock)
        ck_assert_msg(line_number(r.out, "want_read=") >= 0, COMBO_FMT RUN_FMT, COMBO_ARGS(c),
                      RUN_ARGS(&r));
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

START_TEST(path_mismatch_blocked)
{
    struct combo c = combo(_i);
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    /* Without the shim the interceptor is trusted on this very path. */
    server_start(&s, "icpt");
    run_combo(&r, &plain, s.port, c);
    ck_assert_msg(r.exited && r.code == 0, COMBO_FMT "threat not reproduced: " RUN_FMT,
                  COMBO_ARGS(c), RUN_ARGS(&r));
    assert_server_got(&s, SENT_TEXT);
    run_result_free(&r);
    server_stop(&s);

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    run_combo(&r, &shim, s.port, c);
    assert_client_blocked(&r);
    if (c.nonblock)
        ck_assert_msg(line_number(r.out, "want_read=") >= 0, COMBO_FMT RUN_FMT, COMBO_ARGS(c),
                      RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "port", fmt("%d", s.port));
    /* tls_client's socket is its own: the peer address is known (on the
     * bio path too: the connect BIO's fd). */
    ck_assert_field(rec, "peer", fmt("127.0.0.1:%d", s.port));
    ck_assert_field(rec, "program", strrchr(c.bin, '/') + 1);
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Verification settings and the app's callbacks                       */
/* ------------------------------------------------------------------ */

struct vmode {
    const char *name;
    const char *args[6];
    const char *counter;       /* "app-... called " line that must be > 0 */
    const char *trust;         /* expected trust= on a mismatch record; NULL:
                                  not asserted (see the leaf-only tests) */
};

/* All with --cafile trust.pem, which holds both CAs: the app's own chain
 * verification succeeds where it runs, whatever it then does with it. */
static const struct vmode vmodes[] = {
    {"verify none", {"--verify", "none", NULL}, NULL, NULL},
    {"verify-cb", {"--verify-cb", NULL}, "app-verify-cb called ", "app-verified"},
    {"verify-cb-accept-all", {"--verify-cb-accept-all", NULL}, "app-verify-cb called ", NULL},
    {"verify none + verify-cb-accept-all",
     {"--verify", "none", "--verify-cb-accept-all", NULL},
     "app-verify-cb called ",
     NULL},
    /* libssl calls the app's callback instead of X509_verify_cert: nobody
     * verified the chain, the test CAs are not in the system store. */
    {"cert-verify-cb trust-all", {"--cert-verify-cb", "trust-all", NULL},
     "app-cert-verify-cb called ", "leaf-only"},
    {"cert-verify-cb call-x509", {"--cert-verify-cb", "call-x509", NULL},
     "app-cert-verify-cb called ", "app-verified"},
    {"tls1.2 verify-cb", {"--tls1.2", "--verify-cb", NULL}, "app-verify-cb called ",
     "app-verified"},
    {"generic method", {"--method", "generic", NULL}, NULL, "app-verified"},
};
#define N_VMODES ((int)(sizeof vmodes / sizeof *vmodes))

static void run_vmode(struct run_result *r, const struct run_opts *o, int port,
                      const struct vmode *v)
{
    const char *extra[16] = {"--send", SEND_TEXT};
    size_t n = 2;
    for (size_t i = 0; v->args[i]; i++)
        extra[n++] = v->args[i];
    extra[n] = NULL;
    tls_client_run(r, o, TLS_CLIENT, port, "good.test", extra);
}

static void assert_counter(const struct vmode *v, const struct run_result *r)
{
    if (v->counter)
        ck_assert_msg(line_number(r->out, v->counter) > 0,
                      "[%s] the app's callback was not called: " RUN_FMT, v->name, RUN_ARGS(r));
}

START_TEST(vmode_match_passes)
{
    const struct vmode *v = &vmodes[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    mark = syslog_mark();
    run_vmode(&r, &shim, s.port, v);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                  "[%s] should pass: " RUN_FMT, v->name, RUN_ARGS(&r));
    assert_counter(v, &r);
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

START_TEST(vmode_mismatch_blocked)
{
    const struct vmode *v = &vmodes[_i];
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    server_start(&s, "icpt");
    run_vmode(&r, &plain, s.port, v);
    ck_assert_msg(r.exited && r.code == 0, "[%s] threat not reproduced: " RUN_FMT, v->name,
                  RUN_ARGS(&r));
    assert_server_got(&s, SENT_TEXT);
    run_result_free(&r);
    server_stop(&s);

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    run_vmode(&r, &shim, s.port, v);
    assert_client_blocked(&r);
    assert_counter(v, &r);
    assert_server_got_no_data(&s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    if (v->trust)
        ck_assert_field(rec, "trust", v->trust);
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* With verification off and a chain that verifies neither against the
 * app's store (an unrelated CA file) nor against the system store, only the
 * leaf's key is trustworthy: a pin on the intermediate cannot be met, a pin
 * on the leaf can. With verification on (trust.pem) the intermediate pin is
 * met. */
START_TEST(unverified_chain_only_leaf_counts)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char unrelated[PATH_MAX];
    size_t mark;

    snprintf(unrelated, sizeof unrelated, "%s", cert("self.pem"));
    write_file_policy(NULL);
    write_pinsets("int", "pinsets = ( { name = \"int\"; hosts = [ \"good.test\" ];\n"
                         "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_INT"), pin("PIN_BACKUP"));
    server_start(&s, "good");
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_ok(&r);
    run_result_free(&r);

    /* Control: without the shim this unverified connection succeeds. */
    tls_client_run(&r, &plain, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--verify", "none", "--cafile", unrelated, NULL});
    assert_client_ok(&r);
    ck_assert_msg(!has_line(r.out, "verify_result=0 (ok)"), "chain verified?: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--verify", "none", "--cafile", unrelated, NULL});
    assert_client_blocked(&r);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "trust", "leaf-only");
    ck_assert_field(rec, "chain", fmt("%s CN=good.test,O=tlspin tests", pin("PIN_GOOD")));
    ck_assert_field(rec, "expected", fmt("%s,%s", pin("PIN_INT"), pin("PIN_BACKUP")));
    run_result_free(&r);

    /* The leaf pin is met by the same unverified connection. */
    write_good_pinset();
    unlink(fmt("%s/int.conf", H.pinsets));
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--verify", "none", "--cafile", unrelated, NULL});
    assert_client_ok(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* The same for the interceptor: VERIFY_NONE, an app store that does not
 * verify it: blocked, trust=leaf-only, the chain is just its leaf. */
START_TEST(unverified_interceptor_blocked_leaf_only)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char unrelated[PATH_MAX];
    size_t mark;

    snprintf(unrelated, sizeof unrelated, "%s", cert("self.pem"));
    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--verify", "none", "--cafile", unrelated,
                                         "--send", SEND_TEXT, NULL});
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "trust", "leaf-only");
    ck_assert_field(rec, "chain", fmt("%s CN=good.test,O=interception proxy", pin("PIN_ICPT")));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resumption                                                          */
/* ------------------------------------------------------------------ */

/* A session made while good.test was unpinned, against the interceptor, is
 * not resumed in a later process once a pinset for good.test exists. */
START_TEST(session_from_unpinned_time_not_resumed)
{
    struct server s;
    struct run_result r;
    char sess[PATH_MAX], sess2[PATH_MAX];
    size_t mark;

    snprintf(sess, sizeof sess, "%s/sess.pem", H.tmp);
    snprintf(sess2, sizeof sess2, "%s/sess2.pem", H.tmp);
    write_file_policy(NULL); /* no pinset yet */
    server_start(&s, "icpt");
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "first\\r\\n\\r\\n", "--sess-out", sess, NULL});
    assert_client_ok(&r);
    run_result_free(&r);

    /* Control: the server does resume that session (without the shim). */
    tls_client_run(&r, &plain, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "control\\r\\n\\r\\n", "--sess-in", sess, NULL});
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1"), "server does not resume: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    write_good_pinset();
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "second\\r\\n\\r\\n", "--sess-in", sess,
                                         "--sess-out", sess2, NULL});
    ck_assert_msg(!has_line(r.out, "reused=1"), "a session failing the policy was resumed: " RUN_FMT,
                  RUN_ARGS(&r));
    /* Not resumed: the full handshake meets the interceptor and is blocked. */
    assert_client_blocked(&r);
    assert_server_got(&s, "handshake failed: ");
    {
        char *log = server_log(&s);
        ck_assert_msg(strstr(log, "first") && strstr(log, "control") && !strstr(log, "second"),
                      "the blocked connection's request reached the server:\n%s", log);
        free(log);
    }
    ck_assert_msg(syslog_count_since(mark, "event=pin-mismatch action=blocked") >= 1, "%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* A session made with the interceptor's key while the policy only reported
 * (mode=report: logged, allowed) is not resumed once the policy enforces. */
START_TEST(session_from_report_mode_not_resumed_when_enforcing)
{
    struct server s;
    struct run_result r;
    char sess[PATH_MAX];

    snprintf(sess, sizeof sess, "%s/sess.pem", H.tmp);
    /* Made under mode=report: the mismatch is logged, the handshake allowed. */
    write_policy("version = 1; mode = \"report\"; unpinned = \"allow\"; on_error = \"deny\";\n"
                 "log = { rate_limit_seconds = 0; };\n"
                 "stack = ( { module = \"file\"; control = \"required\";\n"
                 "            args = { pinsets = \"%s\"; }; } );\n",
                 H.pinsets);
    write_good_pinset();
    server_start(&s, "icpt");
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "first\\r\\n\\r\\n", "--sess-out", sess, NULL});
    assert_client_ok(&r);
    run_result_free(&r);

    /* Control: the server does resume that session (without the shim). */
    tls_client_run(&r, &plain, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "control\\r\\n\\r\\n", "--sess-in", sess, NULL});
    ck_assert_msg(has_line(r.out, "reused=1"), "server does not resume: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* Enforcing now. */
    write_file_policy(NULL);
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--send", "second\\r\\n\\r\\n", "--sess-in", sess, NULL});
    ck_assert_msg(!has_line(r.out, "reused=1"), "resumed: " RUN_FMT, RUN_ARGS(&r));
    assert_client_blocked(&r);
    assert_server_got(&s, "handshake failed: ");
    {
        char *log = server_log(&s);
        ck_assert_msg(strstr(log, "first") && !strstr(log, "second"), "server log:\n%s", log);
        free(log);
    }
    run_result_free(&r);
}
END_TEST

/* A session whose key matches is resumed, across processes and in one. */
START_TEST(session_with_matching_key_resumed)
{
    struct server s;
    struct run_result r;
    char sess[PATH_MAX];
    size_t mark;

    snprintf(sess, sizeof sess, "%s/sess.pem", H.tmp);
    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--sess-out", sess, "--resume", "2", NULL});
    assert_client_ok(&r);
    {
        /* connection 1 full, connections 2 and 3 resumed */
        const char *c2 = strstr(r.out, "connection 2\n");
        ck_assert_msg(c2 && strstr(r.out, "reused=0") < c2 && strstr(c2, "reused=1") &&
                          strstr(strstr(c2, "reused=1") + 1, "reused=1"),
                      "in-process resumption did not happen: " RUN_FMT, RUN_ARGS(&r));
    }
    run_result_free(&r);

    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test",
                   (const char *const[]){"--sess-in", sess, NULL});
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1"), "not resumed across processes: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))), RUN_FMT, RUN_ARGS(&r));
    {
        /* The server agrees: its last handshake was a resumption. */
        char *ev = server_events(&s);
        ck_assert_msg(strstr(ev, "reused=1"), "server events:\n%s", ev);
        free(ev);
    }
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Server side                                                         */
/* ------------------------------------------------------------------ */

/* tls_server under the preload, with a policy whose pinset its own
 * certificate fails for every name it has, keeps serving. */
START_TEST(server_handshakes_untouched)
{
    struct server s;
    struct run_result r;
    size_t mark = syslog_mark();

    write_file_policy(NULL);
    write_pinsets("srv", "pinsets = ( { name = \"srv\";\n"
                         "  hosts = [ \"good.test\", \"localhost\", \"127.0.0.1\", \"**.test\" ];\n"
                         "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_ICPT"), pin("PIN_BACKUP"));
    server_start_preloaded(&s, "good");
    for (int i = 0; i < 2; i++) {
        tls_client_run(&r, &plain, TLS_CLIENT, s.port, "good.test",
                       (const char *const[]){"--send", SEND_TEXT, NULL});
        assert_client_ok(&r);
        run_result_free(&r);
    }
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "the server logged:\n%s",
                  syslog_dump_since(mark));
    /* Control: the same policy does block a client (so it is a real one). */
    server_start(&s, "good");
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);
}
END_TEST

static Suite *paths_suite(void)
{
    Suite *s = suite_create("paths");
    TCase *tc;

    tc = harness_tcase("handshake paths");
    tcase_add_loop_test(tc, path_match_passes, 0, 4 * N_PATHS);
    tcase_add_loop_test(tc, path_mismatch_blocked, 0, 4 * N_PATHS);
    suite_add_tcase(s, tc);

    tc = harness_tcase("verification settings");
    tcase_add_loop_test(tc, vmode_match_passes, 0, N_VMODES);
    tcase_add_loop_test(tc, vmode_mismatch_blocked, 0, N_VMODES);
    tcase_add_test(tc, unverified_chain_only_leaf_counts);
    tcase_add_test(tc, unverified_interceptor_blocked_leaf_only);
    suite_add_tcase(s, tc);

    tc = harness_tcase("resumption");
    tcase_add_test(tc, session_from_unpinned_time_not_resumed);
    tcase_add_test(tc, session_from_report_mode_not_resumed_when_enforcing);
    tcase_add_test(tc, session_with_matching_key_resumed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("server side");
    tcase_add_test(tc, server_handshakes_untouched);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(paths_suite());
}
