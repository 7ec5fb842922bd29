/*
 * test_policy.c — the policy's semantics through real handshakes under the
 * preload (tls_client against tls_server): mode, unpinned, on_error, every
 * way a module can fail to load, a broken policy file, pinset options
 * (expires, report_only, deny, pins on intermediate and root, ports), the
 * appended-chain attack, TLSPIN_CONFIG, rate limiting, and the PAM-style
 * stack with the test verdict module.
 *
 * Assertion order: fields of the decision record first, "exactly one
 * record" last, so that a failure names the most specific problem.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define REQUEST "tlspin-policy-request\\r\\n\\r\\n"
#define REQUEST_SEEN "tlspin-policy-request"

/* version/mode/unpinned/on_error, rate limit off, then the stack entries. */
static void policy(const char *mode, const char *unpinned, const char *on_error,
                   const char *stack)
{
    write_policy("version = 1;\n"
                 "mode = \"%s\";\n"
                 "unpinned = \"%s\";\n"
                 "on_error = \"%s\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "stack = (\n%s\n);\n",
                 mode, unpinned, on_error, stack);
}

/* The file module over H.pinsets, as a stack entry. */
static const char *file_entry(const char *control)
{
    return fmt("  { module = \"file\"; control = \"%s\"; args = { pinsets = \"%s\"; }; }",
               control, H.pinsets);
}

/* A verdict.so entry (tests/modules/verdict.c). */
static const char *verdict_entry(const char *control, const char *verdict)
{
    return fmt("  { module = \"%s/verdict.so\"; control = \"%s\"; args = { verdict = \"%s\"; }; }",
               TESTMODULE_DIR, control, verdict);
}

static void client(struct run_result *r, const struct run_opts *o, int port, const char *sni)
{
    tls_client_run(r, o, TLS_CLIENT, port, sni, (const char *const[]){"--send", REQUEST, NULL});
}

/* The decision record since mark containing `needle`; fails if none. */
static const struct syslog_rec *record_with(size_t mark, const char *needle)
{
    const struct syslog_rec *r = syslog_wait_for_since(mark, needle, 0);
    ck_assert_msg(r != NULL, "no record with '%s':\n%s", needle, syslog_dump_since(mark));
    return r;
}

static void assert_one_record(size_t mark)
{
    (void)the_tlspin_record_since(mark);
}

static void assert_no_record(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected records:\n%s",
                  syslog_dump_since(mark));
}

/* One client connection (options o) that tlspin must let through. Returns
 * the syslog mark taken just before it, so the caller can check the records
 * that this connection, and only it, caused. */
static size_t expect_allowed(const struct run_opts *o, int port, const char *sni)
{
    struct run_result r;
    size_t mark = syslog_mark();

    client(&r, o, port, sni);
    assert_client_ok(&r);
    run_result_free(&r);
    return mark;
}

/* The same for a connection that tlspin must refuse. */
static size_t expect_blocked(const struct run_opts *o, int port, const char *sni)
{
    struct run_result r;
    size_t mark = syslog_mark();

    client(&r, o, port, sni);
    assert_client_blocked(&r);
    run_result_free(&r);
    return mark;
}

/* Start the interceptor's server and connect to it as good.test under the
 * shim, for policies that must let a pin mismatch through (report mode, an
 * expired or report-only pinset): the handshake is allowed and the request
 * reaches the server. Returns the mark before the connection. */
static size_t reach_interceptor(struct server *s)
{
    size_t mark;

    server_start(s, "icpt");
    mark = expect_allowed(&shim, s->port, "good.test");
    assert_server_got(s, REQUEST_SEEN);
    return mark;
}

/* A pinset file's text: one pinset `name` for good.test, limited to `port`
 * unless it is 0, pinning `key` and the backup (which no server presents,
 * so `key` alone decides), then `options` verbatim ("" or e.g.
 * " report_only = true;"). In fmt()'s ring. */
static const char *good_test_pinset_text(const char *name, int port, const char *key,
                                         const char *options)
{
    return fmt("pinsets = ( { name = \"%s\"; hosts = [ \"good.test\" ];%s\n"
               "  pins = [ \"%s\", \"%s\" ];%s } );\n",
               name, port ? fmt(" ports = [ %d ];", port) : "", key, pin("PIN_BACKUP"), options);
}

/* That pinset as H.pinsets/<name>.conf. */
static void good_test_pinset(const char *name, int port, const char *key, const char *options)
{
    write_pinsets(name, "%s", good_test_pinset_text(name, port, key, options));
}

/* A port other than `port`: a pinset listing only it is not one that a
 * connection to `port` selects by its port. */
static int another_port(int port)
{
    return port == 1 ? 2 : port - 1;
}

/* The text of a whole policy, enforcing, with the file module over
 * `pinsets_dir`: for policies that live elsewhere than H.config. */
static const char *file_policy_text(const char *pinsets_dir)
{
    return fmt("version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
               "log = { rate_limit_seconds = 0; };\n"
               "stack = ( { module = \"file\"; control = \"required\";\n"
               "            args = { pinsets = \"%s\"; }; } );\n",
               pinsets_dir);
}

/* A policy other than H.config, in H.tmp/<dir>, pinning good.test to the
 * interceptor's key (say, a lab machine behind the proxy): what a user
 * would point TLSPIN_CONFIG at. Returns its path (in a static ring: copy
 * it to keep it). */
static const char *write_lab_policy(const char *dir)
{
    write_file(fmt("%s/pins.d/lab.conf", dir), "%s",
               good_test_pinset_text("lab", 0, pin("PIN_ICPT"), ""));
    return write_file(fmt("%s/tlspin.conf", dir), "%s",
                      file_policy_text(fmt("%s/%s/pins.d", H.tmp, dir)));
}

/* ------------------------------------------------------------------ */
/* mode, unpinned                                                      */
/* ------------------------------------------------------------------ */

START_TEST(report_mode_allows_and_logs)
{
    struct server s;
    const struct syslog_rec *rec;
    size_t mark;

    policy("report", "allow", "deny", file_entry("required"));
    write_good_pinset();
    mark = reach_interceptor(&s);
    rec = record_with(mark, "event=pin-mismatch");
    ck_assert_field(rec, "action", "allowed-report-only");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "verdict", "fail");
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    assert_one_record(mark);

    /* Control: the same pinset enforced blocks. */
    write_file_policy(NULL);
    expect_blocked(&shim, s.port, "good.test");
}
END_TEST

START_TEST(unpinned_deny_blocks_unknown_hosts)
{
    struct server s;
    const struct syslog_rec *rec;
    size_t mark;

    policy("enforce", "deny", "deny", file_entry("required"));
    write_good_pinset();
    server_start(&s, "good");

    /* The pinned host still passes, silently. */
    assert_no_record(expect_allowed(&shim, s.port, "good.test"));

    /* other.test has no pinset: refused. */
    mark = expect_blocked(&shim, s.port, "other.test");
    rec = record_with(mark, "event=unpinned-host");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "other.test");
    ck_assert_field_has(rec, "chain", pin("PIN_GOOD"));
    assert_one_record(mark);

    /* Control: with unpinned = "allow" the same connection passes. */
    write_file_policy(NULL);
    assert_no_record(expect_allowed(&shim, s.port, "other.test"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Modules that cannot be used, × on_error                             */
/* ------------------------------------------------------------------ */

struct faulty {
    const char *name;
    const char *module;        /* the module = value (fmt'ed at run time) */
    const char *blame;         /* the record's reason or module names this */
};

static const struct faulty faulty[] = {
    {"missing file", TESTMODULE_DIR "/does-not-exist.so", "does-not-exist"},
    {"missing bare name", "nosuchmodule", "nosuchmodule"},
    {"bad_abi.so", TESTMODULE_DIR "/bad_abi.so", "bad_abi"},
    {"no_entry.so", TESTMODULE_DIR "/no_entry.so", "no_entry"},
    {"open_fails.so", TESTMODULE_DIR "/open_fails.so", "test: open failed on purpose"},
};
#define N_FAULTY ((int)(sizeof faulty / sizeof *faulty))

/* _i = module index * 2 + (on_error == allow). The faulty module is
 * `required` after a file module whose pinset the good server matches, so
 * the faulty entry alone decides. */
START_TEST(faulty_module_follows_on_error)
{
    const struct faulty *f = &faulty[_i / 2];
    int allow = _i % 2;
    struct server s;
    const struct syslog_rec *rec;
    char text[4096], ev[64];
    size_t mark;

    policy("enforce", "allow", allow ? "allow" : "deny",
           fmt("%s,\n  { module = \"%s\"; control = \"required\"; }", file_entry("required"),
               f->module));
    write_good_pinset();
    server_start(&s, "good");
    if (allow) {
        mark = expect_allowed(&shim, s.port, "good.test");
        rec = record_with(mark, " action=allowed-policy-error ");
    } else {
        mark = expect_blocked(&shim, s.port, "good.test");
        rec = record_with(mark, " action=blocked ");
    }
    ck_assert_int_eq(rec_field(rec, "event", ev, sizeof ev), 0);
    ck_assert_msg(strcmp(ev, "module-error") == 0 || strcmp(ev, "policy-error") == 0,
                  "[%s] event=%s: %s", f->name, ev, rec->msg);
    ck_assert_msg(strstr(rec->msg, f->blame), "[%s] the record does not name '%s': %s", f->name,
                  f->blame, rec->msg);
    /* The operator can find the line: the record names tlspin.conf. */
    ck_assert_int_eq(rec_field(rec, "reason", text, sizeof text), 0);
    ck_assert_msg(strstr(text, "tlspin.conf:"), "[%s] reason names no file:line: %s", f->name,
                  rec->msg);
    assert_one_record(mark);
}
END_TEST

/* A syntax error in tlspin.conf: the policy cannot be read at all, the
 * built-in on_error (deny) applies, the record points at the line. */
START_TEST(broken_policy_file_named_with_line)
{
    struct server s;
    const struct syslog_rec *rec;
    char reason[2048];
    size_t mark;

    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = ;\n"
                 "stack = ( );\n");
    server_start(&s, "good");
    mark = expect_blocked(&shim, s.port, "good.test");
    rec = record_with(mark, "event=policy-error action=blocked ");
    ck_assert_int_eq(rec_field(rec, "reason", reason, sizeof reason), 0);
    ck_assert_msg(strstr(reason, "tlspin.conf:3"), "reason lacks tlspin.conf:3: %s", rec->msg);
    ck_assert_field(rec, "host", "good.test");
    assert_one_record(mark);
}
END_TEST

/* An unknown key and an unknown control are errors too (not ignored). */
START_TEST(unknown_key_and_control_are_errors)
{
    static const char *const bad[] = {
        "version = 1;\nmode = \"enforce\";\nunpinned = \"allow\";\non_error = \"allow\";\n"
        "colour = \"blue\";\nstack = ( );\n",
        NULL, /* unknown control: built below */
    };
    struct server s;
    size_t mark;

    server_start(&s, "good");
    for (int i = 0; i < 2; i++) {
        if (bad[i])
            write_policy("%s", bad[i]);
        else
            write_policy("version = 1;\nmode = \"enforce\";\nunpinned = \"allow\";\n"
                         "on_error = \"deny\";\nstack = (\n"
                         "  { module = \"file\"; control = \"mandatory\";\n"
                         "    args = { pinsets = \"%s\"; }; }\n);\n",
                         H.pinsets);
        /* Unreadable policy: the built-in on_error (deny) holds, whatever
         * the broken file says. */
        mark = expect_blocked(&shim, s.port, "good.test");
        ck_assert_msg(syslog_count_since(mark, "event=policy-error") >= 1 &&
                          syslog_count_since(mark, bad[i] ? "tlspin.conf:5" : "tlspin.conf:6") >= 1,
                      "case %d:\n%s", i, syslog_dump_since(mark));
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Pinset options                                                      */
/* ------------------------------------------------------------------ */

START_TEST(expired_pinset_allows_and_logs)
{
    struct server s;
    const struct syslog_rec *rec;
    size_t mark;

    write_file_policy(NULL);
    good_test_pinset("old", 0, pin("PIN_GOOD"), " expires = \"2020-01-31\";");
    mark = reach_interceptor(&s);
    rec = record_with(mark, "event=pinset-expired");
    ck_assert_field(rec, "action", "allowed");
    ck_assert_field(rec, "pinset", "old");
    ck_assert_field(rec, "host", "good.test");
    assert_one_record(mark);
}
END_TEST

START_TEST(report_only_pinset_allows_and_logs)
{
    struct server s;
    const struct syslog_rec *rec;
    size_t mark;

    write_file_policy(NULL);
    good_test_pinset("trial", 0, pin("PIN_GOOD"), " report_only = true;");
    mark = reach_interceptor(&s);
    rec = record_with(mark, "event=pin-mismatch");
    ck_assert_field(rec, "action", "allowed-report-only");
    ck_assert_field(rec, "pinset", "trial");
    ck_assert_field(rec, "expected", fmt("%s,%s", pin("PIN_GOOD"), pin("PIN_BACKUP")));
    assert_one_record(mark);
}
END_TEST

/* A deny pin anywhere in the verified chain refuses, even when a pin
 * matches. */
START_TEST(deny_pin_refuses)
{
    struct server s;
    const struct syslog_rec *rec;
    size_t mark;

    write_file_policy(NULL);
    write_good_pinset();
    server_start(&s, "good");
    expect_allowed(&shim, s.port, "good.test"); /* control: passes without the deny pin */

    server_stop(&s);
    server_start(&s, "good"); /* a fresh log */
    good_test_pinset("api", 0, pin("PIN_GOOD"), fmt(" deny = [ \"%s\" ];", pin("PIN_INT")));
    mark = expect_blocked(&shim, s.port, "good.test");
    assert_server_got_no_data(&s);
    rec = record_with(mark, "event=pin-deny");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "pinset", "api");
    assert_one_record(mark);
}
END_TEST

/* Pins on the intermediate or on the root match the verified chain; the
 * interceptor still fails them. _i: 0 intermediate, 1 root. */
START_TEST(pin_on_intermediate_or_root)
{
    const char *which = _i ? "PIN_CA" : "PIN_INT";
    struct server good, icpt;
    size_t mark;

    write_file_policy(NULL);
    good_test_pinset("ca", 0, pin(which), "");
    server_start(&good, "good");
    server_start(&icpt, "icpt");
    assert_no_record(expect_allowed(&shim, good.port, "good.test"));

    mark = expect_blocked(&shim, icpt.port, "good.test");
    ck_assert_field(record_with(mark, "event=pin-mismatch"), "pinset", "ca");
}
END_TEST

/* A module built for ABI 1.0 reads tlspin_conn.leaf_matches_host itself
 * (tests/modules/abi10_leaf.c); tlspin 1.1, which works the answer out only
 * when asked, still fills the member for it: 1 for good.test, whose leaf is
 * valid for it, 0 under a name the leaf does not carry (pinned.test). */
START_TEST(abi10_module_gets_leaf_matches_host)
{
    struct server good;
    struct run_result r;
    size_t mark;

    policy("enforce", "allow", "deny",
           fmt("  { module = \"%s/abi10_leaf.so\"; control = \"required\"; }", TESTMODULE_DIR));
    server_start(&good, "good");
    assert_no_record(expect_allowed(&shim, good.port, "good.test"));

    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, good.port, "pinned.test",
                   (const char *const[]){"--verify", "none", "--send", REQUEST, NULL});
    assert_client_blocked(&r);
    ck_assert_field(record_with(mark, "event=leaf-match-0"), "module", "abi10_leaf");
    run_result_free(&r);
}
END_TEST

/* A decision held for a TLS 1.2 staple whose flight callback never comes
 * (tests/modules/staple_waiter.c: its CT callback does not call tlspin
 * back, as when a program replaces it): the safety net at the end of
 * SSL_connect decides it there. _i = 0: the module refuses then -> the
 * program gets tlspin's certificate error and the request never leaves;
 * _i = 1: it allows -> the request arrives, nothing recorded. */
START_TEST(held_decision_decided_when_the_flight_never_comes)
{
    struct server good;
    struct run_result r;
    size_t mark;
    char *log;

    policy("enforce", "allow", "deny",
           fmt("  { module = \"%s/staple_waiter.so\"; control = \"required\"; "
               "args = { flight = \"%s\"; }; }", TESTMODULE_DIR, _i ? "pass" : "fail"));
    server_start(&good, "good");
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, good.port, "good.test",
                   (const char *const[]){"--tls1.2", "--send", REQUEST, NULL});
    if (_i == 0) {
        assert_client_blocked(&r);
        ck_assert_field(record_with(mark, "event=staple-waiter-fail"), "module",
                        "staple_waiter");
        usleep(200 * 1000);
        log = server_log(&good);
        ck_assert_msg(strstr(log, REQUEST_SEEN) == NULL, "the request arrived:\n%s", log);
        free(log);
    } else {
        assert_client_ok(&r);
        assert_server_got(&good, REQUEST_SEEN);
        assert_no_record(mark);
    }
    run_result_free(&r);
}
END_TEST

/* The Android bypass (CVE-2016-2402): the interceptor appends the pinned
 * good leaf to its own chain. Only the verified chain counts. */
START_TEST(appended_chain_attack_blocked)
{
    struct server s;
    const struct syslog_rec *rec;
    char chain[4096];
    size_t mark;

    server_start(&s, "appended");
    expect_allowed(&plain, s.port, "good.test"); /* the threat: trusted without tlspin */

    write_file_policy(NULL);
    write_good_pinset();
    mark = expect_blocked(&shim, s.port, "good.test");
    rec = record_with(mark, "event=pin-mismatch");
    ck_assert_int_eq(rec_field(rec, "chain", chain, sizeof chain), 0);
    ck_assert_msg(strstr(chain, pin("PIN_ICPT")) && !strstr(chain, pin("PIN_GOOD")),
                  "the record's chain must be the verified one: %s", chain);
    assert_one_record(mark);
}
END_TEST

/* ports = [...]: the pinset applies on its ports only. */
/* A port chooses among a host's pinsets; it never exempts the host (through
 * a CONNECT proxy the socket port is the proxy's). */
/* H.pinsets/api.conf with two pinsets for good.test: "api-port", listing
 * `port` and pinning the interceptor's key, and "api-any", for every port,
 * pinning the good key. */
static void port_and_any_pinsets(int port)
{
    write_pinsets("api", "pinsets = (\n"
                         "  { name = \"api-port\"; hosts = [ \"good.test\" ]; ports = [ %d ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; },\n"
                         "  { name = \"api-any\"; hosts = [ \"good.test\" ];\n"
                         "    pins = [ \"%s\", \"%s\" ]; } );\n",
                  port, pin("PIN_ICPT"), pin("PIN_BACKUP"), pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

START_TEST(ports_limit_a_pinset)
{
    struct server s;
    size_t mark;

    write_file_policy(NULL);
    server_start(&s, "icpt");

    /* The port-listed pinset wins over the any-port one: the interceptor's
     * key is right for this port. */
    port_and_any_pinsets(s.port);
    assert_no_record(expect_allowed(&shim, s.port, "good.test"));

    /* Another port is listed: the any-port pinset decides, and blocks. */
    port_and_any_pinsets(another_port(s.port));
    mark = expect_blocked(&shim, s.port, "good.test");
    ck_assert_field(the_tlspin_record_since(mark), "pinset", "api-any");

    /* Only a pinset for another port: it still applies (never exempted). */
    good_test_pinset("api", another_port(s.port), pin("PIN_GOOD"), "");
    expect_blocked(&shim, s.port, "good.test");

    /* Control: the same pinset with the interceptor's key passes. */
    good_test_pinset("api", another_port(s.port), pin("PIN_ICPT"), "");
    expect_allowed(&shim, s.port, "good.test");
}
END_TEST

/* curl hands OpenSSL a BIO of its own: the socket (and so the port) is not
 * visible on the SSL. A pinset limited to the port curl connects to must
 * still hold — an unknown port must not switch pinning off. */
START_TEST(port_limited_pinset_holds_for_curl)
{
    struct server s;
    struct run_result r;
    const char *argv[20];
    size_t n = 0;

    write_file_policy(NULL);
    server_start(&s, "icpt");
    good_test_pinset("api", s.port, pin("PIN_GOOD"), "");
    argv[n++] = CURL;
    argv[n++] = "-q";
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--cacert";
    argv[n++] = cert("trust.pem");
    argv[n++] = "--resolve";
    argv[n++] = fmt("good.test:%d:127.0.0.1", s.port);
    argv[n++] = fmt("https://good.test:%d/", s.port);
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&shim, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 60, "curl on a port-limited pinset: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLSPIN_CONFIG, rate limiting                                        */
/* ------------------------------------------------------------------ */

START_TEST(tlspin_config_selects_the_policy)
{
    struct server s;
    char other_path[PATH_MAX];
    struct run_opts o = {.preload = 1};

    /* H.config pins good.test to the good key; the other policy pins it to
     * the interceptor's key. */
    write_file_policy(NULL);
    write_good_pinset();
    snprintf(other_path, sizeof other_path, "%s", write_lab_policy("elsewhere"));
    server_start(&s, "icpt");

    expect_blocked(&shim, s.port, "good.test");

    o.config = other_path;
    expect_allowed(&o, s.port, "good.test");
}
END_TEST

/* Write `text` to `path` (absolute), creating its directories, inside an
 * overlay on the nearest directory above it that exists (never "/"). */
static void write_system_file(const char *path, const char *text)
{
    char dir[PATH_MAX], *slash;
    struct stat st;
    FILE *f;

    snprintf(dir, sizeof dir, "%s", path);
    do {
        slash = strrchr(dir, '/');
        ck_assert_msg(slash && slash != dir, "no directory to overlay for %s", path);
        *slash = '\0';
    } while (stat(dir, &st) != 0);
    overlay_over(dir);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A setuid program ignores TLSPIN_CONFIG (secure_getenv): it cannot be
 * pointed at a policy of the invoking user's choosing. Set up as an
 * administrator would: /etc/ld.so.preload (LD_PRELOAD does not reach setuid
 * programs) and the default policy in the build's sysconfdir, both in
 * overlays private to this test. TLSPIN_CONFIG points at a policy that would
 * allow the interceptor; the default policy pins the good key. */
START_TEST(setuid_program_ignores_tlspin_config)
{
    struct server s;
    struct run_result r;
    char suid[PATH_MAX], env_config[PATH_MAX + 32], cmd[3 * PATH_MAX];
    const char *const env[] = {env_config, NULL};
    struct run_opts o = {.env = env};

    test_private_mounts();
    /* The policy TLSPIN_CONFIG names: good.test pinned to the interceptor. */
    snprintf(env_config, sizeof env_config, "TLSPIN_CONFIG=%s", write_lab_policy("user"));
    /* The administrator's default policy: good.test pinned to its key. */
    write_good_pinset();
    write_system_file(TLSPIN_DEFAULT_CONFIG, file_policy_text(H.pinsets));
    write_system_file("/etc/ld.so.preload", SHIM_PATH "\n");

    /* A setuid-root copy of tls_client that nobody may run. */
    snprintf(suid, sizeof suid, "%s/tls_client_suid", H.tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 4755 '%s' && chmod 755 '%s' '%s' '%s'",
             TLS_CLIENT, suid, suid, H.root, H.tmp, H.certs);
    ck_assert_int_eq(system(cmd), 0);

    server_start(&s, "icpt");

    /* Control 1: an ordinary (root) run honours TLSPIN_CONFIG: allowed. */
    tls_client_run(&r, &o, suid, s.port, "good.test", NULL);
    assert_client_ok(&r);
    run_result_free(&r);

    /* Run by nobody, the setuid program is AT_SECURE: TLSPIN_CONFIG is
     * ignored, the default policy applies: blocked. */
    {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", suid, "--connect", fmt("127.0.0.1:%d", s.port),
                              "--sni", "good.test", "--cafile", cert("trust.pem"), NULL};
        ck_assert_int_eq(run_argv(&o, &r, argv), 0);
    }
    assert_client_blocked(&r);
    run_result_free(&r);

    /* Control 2: the same setuid binary without setuid meaning (run by
     * root) under the default policy only: blocked too, so the difference
     * above is TLSPIN_CONFIG being ignored, not the preload missing. */
    tls_client_run(&r, &plain, suid, s.port, "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);
}
END_TEST

/* Identical records within rate_limit_seconds are suppressed; the next one
 * after the window says how many. One python3 process makes three blocked
 * connections at once, waits out the window, makes a fourth. */
START_TEST(identical_records_rate_limited)
{
    static const char script[] =
        "import socket, ssl, sys, time\n"
        "port, ca = int(sys.argv[1]), sys.argv[2]\n"
        "ctx = ssl.create_default_context(cafile=ca)\n"
        "def once():\n"
        "    s = socket.create_connection(('127.0.0.1', port), timeout=10)\n"
        "    try:\n"
        "        ctx.wrap_socket(s, server_hostname='good.test').close()\n"
        "        print('connected')\n"
        "    except ssl.SSLCertVerificationError as e:\n"
        "        print('blocked', e.verify_code)\n"
        "for i in range(3): once()\n"
        "time.sleep(2.5)\n"
        "once()\n";
    struct server s;
    struct run_result r;
    size_t mark, n;
    const struct syslog_rec *recs;
    char keys[512], sup[32];

    write_policy("version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
                 "log = { facility = \"local3\"; level = \"notice\"; rate_limit_seconds = 2; };\n"
                 "stack = ( %s );\n",
                 file_entry("required"));
    write_good_pinset();
    server_start(&s, "icpt");
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, PYTHON3, "-I", "-c", script, fmt("%d", s.port),
                         cert("trust.pem")),
                     0);
    ck_assert_msg(r.exited && r.code == 0 &&
                      strcmp(r.out, "blocked 50\nblocked 50\nblocked 50\nblocked 50\n") == 0,
                  RUN_FMT, RUN_ARGS(&r));
    recs = syslog_since(mark, &n);
    {
        size_t k = 0;
        const struct syslog_rec *t[8];
        for (size_t i = 0; i < n; i++)
            if (strstr(recs[i].msg, "event=pin-mismatch") && k < 8)
                t[k++] = &recs[i];
        ck_assert_msg(k == 2, "expected 2 records (1 + 1 after the window), got %zu:\n%s", k,
                      syslog_dump_since(mark));
        /* The facility and level of the policy. */
        ck_assert_int_eq(t[0]->facility, 19 << 3); /* LOG_LOCAL3 */
        ck_assert_int_eq(t[0]->severity, 5);       /* LOG_NOTICE */
        ck_assert_int_eq(rec_keys(t[0], keys, sizeof keys), 0);
        ck_assert_msg(!strstr(keys, "suppressed"), "first record: %s", t[0]->msg);
        ck_assert_int_eq(rec_keys(t[1], keys, sizeof keys), 0);
        ck_assert_msg(strlen(keys) > 11 && strcmp(keys + strlen(keys) - 11, " suppressed") == 0,
                      "suppressed= must come last: %s", t[1]->msg);
        ck_assert_int_eq(rec_field(t[1], "suppressed", sup, sizeof sup), 0);
        ck_assert_str_eq(sup, "2");
    }
    /* ... and no other tlspin record. */
    ck_assert_msg(syslog_tlspin_count_since(mark) == 2, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The stack (Linux-PAM control flags) with verdict.so                 */
/* ------------------------------------------------------------------ */

struct row {
    const char *name;
    const char *entries[3][2]; /* {control, verdict} */
    const char *unpinned, *on_error;
    int allowed;
    const char *action;        /* record action; NULL: no record */
};

static const struct row rows[] = {
    {"required pass", {{"required", "pass"}}, "allow", "deny", 1, NULL},
    {"required fail", {{"required", "fail"}}, "allow", "deny", 0, "blocked"},
    {"required fail, later sufficient pass", {{"required", "fail"}, {"sufficient", "pass"}},
     "allow", "deny", 0, "blocked"},
    {"sufficient pass, later required fail", {{"sufficient", "pass"}, {"required", "fail"}},
     "allow", "deny", 1, NULL},
    {"requisite fail, later required pass", {{"requisite", "fail"}, {"required", "pass"}},
     "allow", "deny", 0, "blocked"},
    /* Allowed, but an entry failed: recorded, so an overridden mismatch or a
     * broken optional module does not go unnoticed. */
    {"optional fail, required pass", {{"optional", "fail"}, {"required", "pass"}}, "allow", "deny",
     1, "allowed"},
    {"optional error, required pass", {{"optional", "error"}, {"required", "pass"}}, "allow",
     "deny", 1, "allowed"},
    {"optional fail alone", {{"optional", "fail"}}, "allow", "deny", 0, "blocked"},
    {"all ignore, unpinned allow", {{"required", "ignore"}, {"optional", "ignore"}}, "allow",
     "deny", 1, NULL},
    {"all ignore, unpinned deny", {{"required", "ignore"}}, "deny", "deny", 0, "blocked"},
    {"required error, on_error deny", {{"required", "error"}}, "allow", "deny", 0, "blocked"},
    {"required error, on_error allow", {{"required", "error"}}, "allow", "allow", 1,
     "allowed-policy-error"},
    {"empty stack, unpinned allow", {{NULL}}, "allow", "deny", 1, NULL},
    {"empty stack, unpinned deny", {{NULL}}, "deny", "deny", 0, "blocked"},
};
#define N_ROWS ((int)(sizeof rows / sizeof *rows))

START_TEST(stack_row)
{
    const struct row *row = &rows[_i];
    char stack[4096] = "";
    struct server s;
    struct run_result r;
    size_t mark;

    for (size_t i = 0; i < 3 && row->entries[i][0]; i++) {
        const char *e = verdict_entry(row->entries[i][0], row->entries[i][1]);
        strncat(stack, i ? ",\n" : "", sizeof stack - strlen(stack) - 1);
        strncat(stack, e, sizeof stack - strlen(stack) - 1);
    }
    policy("enforce", row->unpinned, row->on_error, stack);
    server_start(&s, "good");
    mark = syslog_mark();
    client(&r, &shim, s.port, "good.test");
    if (row->allowed) {
        ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                      "[%s] should be allowed: " RUN_FMT, row->name, RUN_ARGS(&r));
        assert_server_got(&s, REQUEST_SEEN);
    } else {
        ck_assert_msg(r.exited && r.code == 1, "[%s] should be blocked: " RUN_FMT, row->name,
                      RUN_ARGS(&r));
        assert_client_blocked(&r);
        assert_server_got_no_data(&s);
    }
    if (row->action) {
        const struct syslog_rec *rec = record_with(mark, fmt("action=%s ", row->action));
        ck_assert_field(rec, "host", "good.test");
        assert_one_record(mark);
    } else {
        assert_no_record(mark);
    }
    run_result_free(&r);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc;

    tc = harness_tcase("mode and unpinned");
    tcase_add_test(tc, report_mode_allows_and_logs);
    tcase_add_test(tc, unpinned_deny_blocks_unknown_hosts);
    suite_add_tcase(s, tc);

    tc = harness_tcase("errors");
    tcase_add_loop_test(tc, faulty_module_follows_on_error, 0, 2 * N_FAULTY);
    tcase_add_test(tc, broken_policy_file_named_with_line);
    tcase_add_test(tc, unknown_key_and_control_are_errors);
    suite_add_tcase(s, tc);

    tc = harness_tcase("pinsets");
    tcase_add_test(tc, expired_pinset_allows_and_logs);
    tcase_add_test(tc, report_only_pinset_allows_and_logs);
    tcase_add_test(tc, deny_pin_refuses);
    tcase_add_loop_test(tc, pin_on_intermediate_or_root, 0, 2);
    tcase_add_test(tc, abi10_module_gets_leaf_matches_host);
    tcase_add_loop_test(tc, held_decision_decided_when_the_flight_never_comes, 0, 2);
    tcase_add_test(tc, appended_chain_attack_blocked);
    tcase_add_test(tc, ports_limit_a_pinset);
    tcase_add_test(tc, port_limited_pinset_holds_for_curl);
    suite_add_tcase(s, tc);

    tc = harness_tcase("configuration and records");
    tcase_add_test(tc, tlspin_config_selects_the_policy);
    tcase_add_test(tc, setuid_program_ignores_tlspin_config);
    tcase_add_test(tc, identical_records_rate_limited);
    suite_add_tcase(s, tc);

    tc = harness_tcase("stack");
    tcase_add_loop_test(tc, stack_row, 0, N_ROWS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(policy_suite());
}
