/*
 * test_ct.c — the ct module (Certificate Transparency) with real servers
 * (openssl s_server) and real clients (tls_client, curl) under the preload.
 *
 * The suite is its own CT log: ct_tool (tests/integration/ct_tool.c) makes
 * log keys, signs SCTs per RFC 6962 §3.2 and delivers them embedded in the
 * leaf (precertificate entry), in the TLS extension (s_server -serverinfo,
 * SERVERINFOV2 for TLS 1.2 and 1.3) and in a stapled OCSP response
 * (s_server -status_file). Log lists are written per test in Google's v3
 * JSON format (or OpenSSL's ct_log_list.cnf).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#define CT_TOOL BIN_DIR "/ct_tool"
#define CT_MODULE MODULE_DIR "/ct.so"

struct tlog {
    char key_path[PATH_MAX];
    char key[512];
    char id[64];
    char name[32];
};

/* Three logs of two operators plus one nobody lists. */
static struct tlog A1, A2, B1, X;

static void mk_log_kind(struct tlog *l, const char *name, const char *kind)
{
    struct run_result r;
    struct run_opts o = {0};
    const char *k, *i;

    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->key_path, sizeof l->key_path, "%s/%s.key", H.tmp, name);
    ck_assert_int_eq(RUN(&r, &o, CT_TOOL, "log", l->key_path, kind), 0);
    ck_assert_msg(r.exited && r.code == 0, "ct_tool log: " RUN_FMT, RUN_ARGS(&r));
    k = strstr(r.out, "KEY=");
    i = strstr(r.out, "LOGID=");
    ck_assert(k && i);
    sscanf(k + 4, "%511s", l->key);
    sscanf(i + 6, "%63s", l->id);
    run_result_free(&r);
}

static void mk_log(struct tlog *l, const char *name)
{
    mk_log_kind(l, name, "ec");
}

static void mk_logs(void)
{
    mk_log(&A1, "a1");
    mk_log(&A2, "a2");
    mk_log(&B1, "b1");
    mk_log(&X, "x");
}

static const char *iso(time_t t)
{
    struct tm tm;
    static char buf[4][32];
    static int k;
    char *b = buf[k++ % 4];
    gmtime_r(&t, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

struct lentry {
    const struct tlog *log;
    const char *op;
    const char *state;     /* "usable", "retired", ... */
    long state_age;        /* seconds before now */
};

/* A v3 JSON log list at H.tmp/list.json, made list_age seconds ago. */
static const char *write_list(long list_age, const struct lentry *e, size_t n)
{
    char body[16384];
    size_t off = 0;
    const char *ops[8];
    size_t nops = 0;
    time_t now = time(NULL);

    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < nops; j++)
            if (strcmp(ops[j], e[i].op) == 0)
                break;
        if (j == nops)
            ops[nops++] = e[i].op;
    }
    off += (size_t)snprintf(body + off, sizeof body - off,
                            "{\n  \"version\": \"test\",\n  \"log_list_timestamp\": \"%s\",\n"
                            "  \"operators\": [\n", iso(now - list_age));
    for (size_t j = 0; j < nops; j++) {
        int first = 1;
        off += (size_t)snprintf(body + off, sizeof body - off,
                                "    {\"name\": \"%s\", \"email\": [], \"logs\": [\n", ops[j]);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(e[i].op, ops[j]) != 0)
                continue;
            off += (size_t)snprintf(body + off, sizeof body - off,
                                    "%s      {\"description\": \"%s\", \"log_id\": \"%s\",\n"
                                    "       \"key\": \"%s\",\n"
                                    "       \"url\": \"https://ct.invalid/%s/\", \"mmd\": 86400,\n"
                                    "       \"state\": {\"%s\": {\"timestamp\": \"%s\"}}}",
                                    first ? "" : ",\n", e[i].log->name, e[i].log->id,
                                    e[i].log->key, e[i].log->name, e[i].state,
                                    iso(now - e[i].state_age));
            first = 0;
        }
        off += (size_t)snprintf(body + off, sizeof body - off, "]}%s\n",
                                j + 1 < nops ? "," : "");
    }
    snprintf(body + off, sizeof body - off, "  ]\n}\n");
    return write_file("list.json", "%s", body);
}

/* The usual list: a1, a2 of operator A; b1 of operator B; all usable. */
static const char *write_usual_list(void)
{
    const struct lentry e[] = {{&A1, "A", "usable", 86400 * 30},
                               {&A2, "A", "usable", 86400 * 30},
                               {&B1, "B", "usable", 86400 * 30}};
    return write_list(3600, e, 3);
}


/* The policy header every test uses (enforce, on_error deny, every record
 * logged) over the given stack entries (one per line, without the last
 * newline). */
static void stack_policy(const char *entries)
{
    write_policy("version = 1;\nmode = \"enforce\";\nunpinned = \"allow\";\non_error = \"deny\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "stack = (\n%s\n);\n",
                 entries);
}

/* The stack entry of the ct module, required, with args (inside
 * "args = { ... }"). */
static const char *ct_entry(const char *args)
{
    return fmt("  { module = \"%s\"; control = \"required\"; args = { %s }; }", CT_MODULE, args);
}

/* The policy: the ct module alone, with args. */
static void ct_policy(const char *args)
{
    stack_policy(ct_entry(args));
}

static void ct_policy_list(const char *list, const char *extra)
{
    ct_policy(fmt("log_list = \"%s\"; %s", list, extra ? extra : "policy = \"chrome\";"));
}

/* Where most tests start: fresh logs, the usual list, and the ct module over
 * it with `extra` args (NULL: the chrome policy). */
static void ct_start(const char *extra)
{
    mk_logs();
    ct_policy_list(write_usual_list(), extra);
}

/* One SCT from each operator's first log: enough for a 90-day leaf under
 * chrome and apple, whatever the channel. */
static const char *const a1_b1[] = {"a1.key", "b1.key", NULL};

/* A leaf issued by the test intermediate, valid `days` days, with the
 * embedded SCTs of the logs given (specs like "a1.key@-120!bad"). Returns
 * its base name under H.tmp ("<name>.pem", "<name>.key"). */
static const char *mk_leaf(const char *name, int days, const char *const embeds[])
{
    const char *argv[40] = {CT_TOOL, "leaf", "--issuer", cert("int.pem"), "--issuer-key",
                            cert("int.key"), "--days", fmt("%d", days), "--key",
                            fmt("%s/%s.key", H.tmp, name), "--cert", fmt("%s/%s.pem", H.tmp, name)};
    size_t n = 12;
    struct run_result r;
    struct run_opts o = {0};

    for (size_t i = 0; embeds && embeds[i]; i++) {
        argv[n++] = "--embed";
        argv[n++] = fmt("%s/%s", H.tmp, embeds[i]);
    }
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&o, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "ct_tool leaf: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    return fmt("%s/%s", H.tmp, name);
}

/* x509_entry SCTs for leaf (path base) from logs; what = "serverinfo" or
 * "ocsp". Returns the file written. */
static const char *mk_scts(const char *leaf, const char *what, const char *const logs[])
{
    const char *out = fmt("%s.%s", leaf, what);
    const char *argv[40] = {CT_TOOL, "scts", "--cert", fmt("%s.pem", leaf), fmt("--%s", what), out,
                            "--issuer", cert("int.pem"), "--issuer-key", cert("int.key")};
    size_t n = 10;
    struct run_result r;
    struct run_opts o = {0};

    for (size_t i = 0; logs[i]; i++) {
        argv[n++] = "--log";
        argv[n++] = fmt("%s/%s", H.tmp, logs[i]);
    }
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&o, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "ct_tool scts: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    return out;
}

/* s_server for leaf (+ the intermediate), -www, and extra args. */
static void serve(struct server *s, const char *leaf, const char *const extra[])
{
    const char *args[16] = {"-www"};
    size_t n = 1;
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    server_s_server(s, fmt("%s.pem", leaf), fmt("%s.key", leaf), cert("int.pem"), args);
}

/* Most servers present a fresh leaf whose only SCTs are embedded: make it
 * (see mk_leaf) and serve it. */
static void serve_leaf(struct server *s, const char *name, int days, const char *const embeds[])
{
    serve(s, mk_leaf(name, days, embeds), NULL);
}

/* s_server for leaf sending leaf's SCTs from logs outside the certificate:
 * what = "serverinfo" (the TLS extension, -serverinfo) or "ocsp" (a stapled
 * OCSP response, -status_file). extra args (or NULL) come first. */
static void serve_scts(struct server *s, const char *leaf, const char *what,
                       const char *const logs[], const char *const extra[])
{
    const char *args[16];
    size_t n = 0;
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n++] = strcmp(what, "ocsp") == 0 ? "-status_file" : "-serverinfo";
    args[n++] = mk_scts(leaf, what, logs);
    args[n] = NULL;
    serve(s, leaf, args);
}

/* The TLS 1.2 staple pair: one leaf without embedded SCTs, served once
 * stapling a1 + b1 in an OCSP response and once bare; extra (or NULL) are
 * s_server args of both. What passes and what fails differ only there. */
static void serve_staple_pair(struct server *stapled, struct server *bare,
                              const char *const extra[])
{
    const char *leaf = mk_leaf("leaf", 90, NULL);
    serve_scts(stapled, leaf, "ocsp", a1_b1, extra);
    serve(bare, leaf, extra);
}

/* The project's tls_server speaking TLS 1.2 only, for leaf + the
 * intermediate (it waits for the client's whole flight, unlike s_server). */
static void serve_tls12_server(struct server *s, const char *leaf)
{
    server_tls_server(s, (const char *const[]){"--tls1.2", "--cert", fmt("%s.pem", leaf), "--key",
                                               fmt("%s.key", leaf), "--chain", cert("int.pem"),
                                               NULL},
                      0);
}

static void client(struct run_result *r, int port, const char *const extra[])
{
    struct run_opts o = {.preload = 1};
    tls_client_run(r, &o, TLS_CLIENT, port, "good.test", extra);
}

/* The ct record of `event` since mark, waited for: fails the test when none
 * arrives. */
static const struct syslog_rec *assert_ct_event(size_t mark, const char *event)
{
    const struct syslog_rec *rec = syslog_wait_for_since(mark, fmt("event=%s ", event), 2000);
    ck_assert_msg(rec != NULL, "no %s record:\n%s", event, syslog_dump_since(mark));
    return rec;
}

/* The client was refused and the ct record says `event`. */
static const struct syslog_rec *assert_ct_blocked(const struct run_result *r, size_t mark,
                                                  const char *event)
{
    const struct syslog_rec *rec;
    assert_client_blocked(r);
    rec = assert_ct_event(mark, event);
    ck_assert_field(rec, "module", "ct");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "verdict", "fail");
    ck_assert_field(rec, "host", "good.test");
    return rec;
}

static void assert_ct_passed(const struct run_result *r, size_t mark)
{
    assert_client_ok(r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a pass logged:\n%s",
                  syslog_dump_since(mark));
}

/* Run the client under the preload and assert ct let it through without a
 * record; r stays the caller's to inspect further and free. */
static void client_passes(struct run_result *r, int port, const char *const extra[])
{
    size_t mark = syslog_mark();
    client(r, port, extra);
    assert_ct_passed(r, mark);
}

/* The same when nothing more is to be read from the client. */
static void expect_pass(int port, const char *const extra[])
{
    struct run_result r;
    client_passes(&r, port, extra);
    run_result_free(&r);
}

/* Run the client under the preload and assert ct refused it with `event`.
 * Returns the record for checks of its other fields. */
static const struct syslog_rec *expect_blocked(int port, const char *const extra[],
                                               const char *event)
{
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark = syslog_mark();
    client(&r, port, extra);
    rec = assert_ct_blocked(&r, mark, event);
    run_result_free(&r);
    return rec;
}

/* Run the client under the preload and assert it was refused with a record
 * containing `needle`: for errors that are not a ct verdict (a broken list,
 * bad args), which on_error = deny turns into refusals. */
static void expect_blocked_saying(int port, const char *needle)
{
    struct run_result r;
    size_t mark = syslog_mark();
    client(&r, port, NULL);
    assert_client_blocked(&r);
    ck_assert_msg(syslog_wait_for_since(mark, needle, 2000) != NULL, "no record saying '%s':\n%s",
                  needle, syslog_dump_since(mark));
    run_result_free(&r);
}

/* The same client without the shim: what the program does on its own (the
 * threat, or a session made outside tlspin). It must complete. */
static void expect_ok_without_shim(int port, const char *const extra[])
{
    struct run_result r;
    struct run_opts plain = {0};
    tls_client_run(&r, &plain, TLS_CLIENT, port, "good.test", extra);
    assert_client_ok(&r);
    run_result_free(&r);
}

/* Two connections of one process, the second resuming the first's session
 * (`version` is "--tls1.2" or "--tls1.3"): both pass and the session is
 * reused, so the verdict travelled with it. */
static void expect_pass_resumed(int port, const char *version)
{
    struct run_result r;
    client_passes(&r, port, (const char *const[]){version, "--resume", "1", NULL});
    ck_assert_msg(has_line(r.out, "reused=1"), "not resumed: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}

/* A refusal the shim's handshake hooks may not have reported in tlspin's
 * words (an implicit handshake ends in SSL_write, where libssl reports CT's
 * verify result): the client failed and never completed a handshake. */
static void assert_client_refused(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 1 && !has_line(r->out, "handshake ok"),
                  "not refused: " RUN_FMT, RUN_ARGS(r));
}

/* The refused client sent no application byte. */
static void assert_client_sent_nothing(const struct run_result *r)
{
    ck_assert_msg(!strstr(r->out, "sent=") || has_line(r->out, "sent=0"),
                  "data left the client: " RUN_FMT, RUN_ARGS(r));
}

/* ------------------------------------------------------------------ */
/* Real programs and the CLI                                           */
/* ------------------------------------------------------------------ */

/* python3's ssl module to 127.0.0.1:port as good.test, trusting the CA file,
 * at most TLS version max_version (a name of ssl.TLSVersion). Prints
 * "OK <version>", or "FAILED <why>" and exits 1 on a certificate error. */
static const char py_ssl[] =
    "import socket, ssl, sys\n"
    "port, ca, max_version = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "ctx.maximum_version = getattr(ssl.TLSVersion, max_version)\n"
    "s = socket.create_connection(('127.0.0.1', port), timeout=10)\n"
    "try:\n"
    "    t = ctx.wrap_socket(s, server_hostname='good.test')\n"
    "except ssl.SSLCertVerificationError as e:\n"
    "    print('FAILED', e.verify_message); sys.exit(1)\n"
    "print('OK', t.version())\n";

static void run_python(struct run_result *r, const struct run_opts *o, int port,
                       const char *max_version)
{
    ck_assert_int_eq(RUN(r, o, PYTHON3, "-I", "-c", py_ssl, fmt("%d", port), cert("trust.pem"),
                         max_version),
                     0);
}

/* curl -q -sS to https://good.test:port/ with good.test resolved to
 * 127.0.0.1 and a 10 s limit; opts (NULL-terminated) say how to verify and
 * which TLS versions. */
static void run_curl(struct run_result *r, const struct run_opts *o, int port,
                     const char *const opts[])
{
    const char *argv[24] = {CURL, "-q", "-sS"};
    size_t n = 3;
    for (size_t i = 0; opts[i]; i++)
        argv[n++] = opts[i];
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--resolve";
    argv[n++] = fmt("good.test:%d:127.0.0.1", port);
    argv[n++] = fmt("https://good.test:%d/", port);
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* openssl s_client to 127.0.0.1:port as good.test, trusting the test CA
 * (it verifies with SSL_VERIFY_NONE unless extra says otherwise); extra
 * (NULL-terminated) follows. */
static void run_s_client(struct run_result *r, const struct run_opts *o, int port,
                         const char *const extra[])
{
    const char *argv[24] = {OPENSSL, "s_client", "-connect", fmt("127.0.0.1:%d", port),
                            "-servername", "good.test", "-CAfile", cert("trust.pem")};
    size_t n = 8;
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* `tlspin probe` of good.test at 127.0.0.1:port with the test's policy. */
static void run_probe(struct run_result *r, int port)
{
    struct run_opts o = {0};
    ck_assert_int_eq(RUN(r, &o, BIN_DIR "/tlspin", "probe", "--config", H.config, "--cafile",
                         cert("trust.pem"), "--connect", fmt("127.0.0.1:%d", port), "good.test"),
                     0);
}

/* `tlspin check` of the test's policy. */
static void run_check(struct run_result *r)
{
    struct run_opts o = {0};
    ck_assert_int_eq(RUN(r, &o, BIN_DIR "/tlspin", "check", "--config", H.config), 0);
}

/* ------------------------------------------------------------------ */
/* Embedded SCTs, chrome policy                                        */
/* ------------------------------------------------------------------ */

START_TEST(embedded_two_operators_pass)
{
    struct server s;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, a1_b1);
    expect_pass(s.port, NULL);
}
END_TEST

START_TEST(embedded_one_sct_fails)
{
    struct server s;
    const struct syslog_rec *rec;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", NULL});
    rec = expect_blocked(s.port, NULL, "ct-too-few-logs");
    ck_assert_field(rec, "pinset", "chrome");
    ck_assert_field_has(rec, "reason", "1 of 1 SCTs valid: embedded A/a1 ok");
    ck_assert_field_has(rec, "expected", "embedded SCTs from >= 2 logs (lifetime 90 days)");
}
END_TEST

/* Two logs, but both of operator A. */
START_TEST(embedded_one_operator_fails)
{
    struct server s;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", "a2.key", NULL});
    expect_blocked(s.port, NULL, "ct-too-few-operators");
}
END_TEST

START_TEST(unknown_log_fails)
{
    struct server s;
    const struct syslog_rec *rec;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", "x.key", NULL});
    rec = expect_blocked(s.port, NULL, "ct-unknown-log");
    ck_assert_field_has(rec, "reason", "unknown-log");
}
END_TEST

START_TEST(bad_signature_fails)
{
    struct server s;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", "b1.key!bad", NULL});
    expect_blocked(s.port, NULL, "ct-bad-signature");
}
END_TEST

START_TEST(future_sct_fails)
{
    struct server s;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", "b1.key@3600", NULL});
    expect_blocked(s.port, NULL, "ct-future-sct");
}
END_TEST

/* b1 retired a day ago: its SCT counts when stamped before (two days ago),
 * not after (two minutes ago). _i: 0 before, 1 after. */
START_TEST(retired_log_before_after)
{
    struct server s;
    const struct lentry e[] = {{&A1, "A", "usable", 86400 * 30},
                               {&A2, "A", "usable", 86400 * 30},
                               {&B1, "B", "retired", 86400}};

    mk_logs();
    ct_policy_list(write_list(3600, e, 3), NULL);
    serve_leaf(&s, "leaf", 90,
               (const char *const[]){"a1.key", _i ? "b1.key@-120" : "b1.key@-172800", NULL});
    if (_i == 0)
        expect_pass(s.port, NULL);
    else
        expect_blocked(s.port, NULL, "ct-retired-log");
}
END_TEST

/* chrome: 2 logs for a lifetime <= 180 days, 3 above. _i: 0 a 200-day leaf
 * with 2 logs (fails), 1 the same with 3 logs (passes). */
START_TEST(lifetime_200_days)
{
    static const char *const three_logs[] = {"a1.key", "a2.key", "b1.key", NULL};
    struct server s;
    const struct syslog_rec *rec;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 200, _i == 0 ? a1_b1 : three_logs);
    if (_i == 0) {
        rec = expect_blocked(s.port, NULL, "ct-too-few-logs");
        ck_assert_field_has(rec, "expected", ">= 3 logs (lifetime 200 days)");
    } else {
        expect_pass(s.port, NULL);
    }
}
END_TEST

/* apple: 2 embedded SCTs for 90 days pass; 200 days need 3. */
START_TEST(apple_policy)
{
    struct server s, s2;

    ct_start("policy = \"apple\";");
    serve_leaf(&s, "leaf", 90, a1_b1);
    serve_leaf(&s2, "leaf2", 200, a1_b1);
    expect_pass(s.port, NULL);
    expect_blocked(s2.port, NULL, "ct-too-few-logs");
}
END_TEST

/* Apple's per-operator caps: at most 1 embedded SCT per operator counts for
 * a lifetime of 180 days or less, at most 2 above; and its other way in: 2
 * SCTs from logs not retired, one of them delivered in TLS (or OCSP). */
START_TEST(apple_caps_and_delivered)
{
    static const char *const a1_a2[] = {"a1.key", "a2.key", NULL};
    static const char *const a1_a2_b1[] = {"a1.key", "a2.key", "b1.key", NULL};
    static const char *const a1[] = {"a1.key", NULL};
    static const char *const a2[] = {"a2.key", NULL};
    struct server one_op, caps_ok, caps_short, mixed;

    ct_start("policy = \"apple\";");
    serve_leaf(&one_op, "one-op", 90, a1_a2);        /* 2 logs, 1 counts */
    serve_leaf(&caps_ok, "caps-ok", 200, a1_a2_b1);  /* A counts 2, B 1: 3 */
    serve_leaf(&caps_short, "caps-short", 200, a1_a2);
    serve_scts(&mixed, mk_leaf("mixed", 90, a1), "serverinfo", a2, NULL);
    expect_blocked(one_op.port, NULL, "ct-too-few-operators");
    expect_pass(caps_ok.port, NULL);
    expect_blocked(caps_short.port, NULL, "ct-too-few-logs");
    expect_pass(mixed.port, NULL);

    /* chrome asks 2 operators of the TLS-delivered ones: the same mix fails */
    ct_policy_list(fmt("%s/list.json", H.tmp), "policy = \"chrome\";");
    expect_blocked(mixed.port, NULL, "ct-too-few-logs");
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLS extension and OCSP channels                                     */
/* ------------------------------------------------------------------ */

static const char *const tls_versions[] = {"--tls1.2", "--tls1.3"};
static const char *const tls12_only[] = {"--tls1.2", NULL};
static const char *const tls13_only[] = {"--tls1.3", NULL};

/* The leaf carries no SCTs; the server sends a1 + b1 in the TLS extension. */
START_TEST(tls_extension_pass)
{
    struct server s;
    struct run_result r;

    ct_start(NULL);
    serve_scts(&s, mk_leaf("leaf", 90, NULL), "serverinfo", a1_b1, NULL);
    client_passes(&r, s.port, (const char *const[]){tls_versions[_i], NULL});
    ck_assert_msg(has_line(r.out, _i ? "protocol=TLSv1.3" : "protocol=TLSv1.2"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A program that reaches libssl only through dlsym(handle), its handshake
 * started by its first SSL_write: no entry point of the shim is called, yet
 * the module prepares the SSL (asks for SCTs) in the SSL_clear that libssl's
 * state machine calls through its PLT. Without that, the TLS SCTs would
 * never be requested and the leaf would be refused (ct-no-scts). */
START_TEST(tls_extension_dlsym_implicit_client)
{
    struct server s;
    struct run_result r;
    size_t mark;
    struct run_opts o = {.preload = 1};

    ct_start(NULL);
    serve_scts(&s, mk_leaf("leaf", 90, NULL), "serverinfo", a1_b1, NULL);
    mark = syslog_mark();
    tls_client_run(&r, &o, TLS_CLIENT_DLOPEN, s.port, "good.test",
                   (const char *const[]){tls_versions[_i], "--path", "implicit_write", NULL});
    assert_ct_passed(&r, mark);
    run_result_free(&r);
}
END_TEST

/* The same leaf served without the extension: no SCTs anywhere. */
START_TEST(tls_no_scts_fails)
{
    struct server s;
    const struct syslog_rec *rec;

    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, NULL);
    rec = expect_blocked(s.port, (const char *const[]){tls_versions[_i], NULL}, "ct-no-scts");
    ck_assert_field_has(rec, "reason", "0 of 0 SCTs valid");
}
END_TEST

/* Valid SCTs, but for another certificate: the log signed a different
 * x509_entry, so the signature does not verify over this leaf. */
START_TEST(sct_for_other_cert_fails)
{
    struct server s;
    const char *leaf, *other;

    ct_start(NULL);
    leaf = mk_leaf("leaf", 90, NULL);
    other = mk_leaf("other", 90, NULL);
    serve(&s, leaf, (const char *const[]){"-serverinfo", mk_scts(other, "serverinfo", a1_b1), NULL});
    expect_blocked(s.port, (const char *const[]){tls_versions[_i], NULL}, "ct-bad-signature");
}
END_TEST

/* OCSP-stapled SCTs count under apple (not chrome), in TLS 1.3 (the staple
 * travels with the certificate) and in TLS 1.2 (the CertificateStatus
 * message follows the certificate: the decision waits for it). */
START_TEST(ocsp_staple)
{
    struct server s;

    ct_start("policy = \"apple\";");
    serve_scts(&s, mk_leaf("leaf", 90, NULL), "ocsp", a1_b1, NULL);
    expect_pass(s.port, tls13_only);

    /* chrome: stapled-OCSP SCTs do not count */
    ct_policy_list(fmt("%s/list.json", H.tmp), "policy = \"chrome\";");
    expect_blocked(s.port, tls13_only, "ct-too-few-logs");

    /* TLS 1.2: the decision waits for the staple */
    ct_policy_list(fmt("%s/list.json", H.tmp), "policy = \"apple\";");
    expect_pass(s.port, tls12_only);
}
END_TEST

/* What a client sends once its handshake is done: a server that logs it got
 * the request, so a refused client must never send it. */
static const char secret_request[] = "GET /secret-request HTTP/1.0\\r\\n\\r\\n";

/* TLS 1.2, apple: a server that staples SCTs of two operators passes, one
 * that staples nothing is refused after its first flight (the decision
 * waited for the staple), with one record and tlspin's certificate error,
 * before the client sends a byte of data. _i: how the client drives the
 * handshake (SSL_connect, SSL_do_handshake non-blocking, VERIFY_NONE, an
 * implicit handshake in SSL_write). */
static const char *const flight_modes[][4] = {
    {"--tls1.2", NULL},
    {"--tls1.2", "--path", "do_handshake", NULL},
    {"--tls1.2", "--verify", "none", NULL},
    {"--tls1.2", "--nonblock", NULL},
    {"--tls1.2", "--path", "implicit_write", NULL},
};

START_TEST(tls12_staple_waits_for_flight)
{
    struct server stapled, bare;
    struct run_result r;
    const char *extra[8];
    size_t mark, n = 0;

    ct_start("policy = \"apple\";");
    serve_staple_pair(&stapled, &bare, NULL);
    for (size_t i = 0; flight_modes[_i][i]; i++)
        extra[n++] = flight_modes[_i][i];
    extra[n++] = "--send";
    extra[n++] = secret_request;
    extra[n] = NULL;

    client_passes(&r, stapled.port, extra);
    ck_assert_msg(strstr(r.out, "sent=") && !has_line(r.out, "sent=0") &&
                  strstr(r.out, "received=") && !has_line(r.out, "received=0"),
                  "no request and answer: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    client(&r, bare.port, extra);
    if (_i == 4) /* an implicit handshake: refused past the shim's reach */
        assert_client_refused(&r);
    else
        assert_client_blocked(&r);
    assert_ct_event(mark, "ct-no-scts");
    usleep(200 * 1000);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 1, "one refusal, one record:\n%s",
                  syslog_dump_since(mark));
    assert_client_sent_nothing(&r);
    run_result_free(&r);
}
END_TEST

/* A server that ignores the client's alert (a relay drops it) and waits for
 * the rest of the client's flight. A refusal after the TLS 1.2 server flight
 * must stop the client there even with SSL_VERIFY_NONE, where libssl itself
 * would send the alert and go on, and in an implicit handshake (SSL_write
 * first), which the shim's handshake hooks do not wrap. Control: a leaf with
 * embedded SCTs through the same relay, whose request arrives. */
START_TEST(tls12_flight_refusal_survives_ignored_alert)
{
    struct server good, bare, relay_good, relay_bare;
    struct run_result r;
    const char *const extra[] = {"--tls1.2", "--verify", "none", "--path", "implicit_write",
                                 "--send", secret_request, NULL};
    char *log;
    size_t mark;

    ct_start("policy = \"apple\";");
    serve_tls12_server(&bare, mk_leaf("bare", 90, NULL));
    serve_tls12_server(&good, mk_leaf("good", 90, a1_b1));
    server_alert_drop_relay(&relay_bare, bare.port);
    server_alert_drop_relay(&relay_good, good.port);

    expect_pass(relay_good.port, extra);
    assert_server_got(&good, "secret-request");

    mark = syslog_mark();
    client(&r, relay_bare.port, extra);
    assert_client_refused(&r);
    assert_client_sent_nothing(&r);
    assert_ct_event(mark, "ct-no-scts");
    usleep(300 * 1000);
    log = server_log(&bare);
    ck_assert_msg(strstr(log, "secret-request") == NULL, "the server got the request:\n%s", log);
    free(log);
    log = read_file(relay_bare.out, NULL);
    ck_assert_msg(log && strstr(log, "dropped client alert"), "the client sent no alert:\n%s",
                  log ? log : "");
    free(log);
    run_result_free(&r);
}
END_TEST

/* Real programs over TLS 1.2 with apple: curl and python get the usual
 * certificate error when the staple's SCTs are missing, and pass with them;
 * a resumed session carries the verdict decided after the flight. */
START_TEST(tls12_staple_programs)
{
    struct server stapled, bare;
    struct run_result r;
    struct run_opts o = {.preload = 1};
    size_t mark;

    ct_start("policy = \"apple\";");
    serve_staple_pair(&stapled, &bare, NULL);

    for (int bad = 0; bad <= 1; bad++) {
        int port = bad ? bare.port : stapled.port;
        mark = syslog_mark();
        run_curl(&r, &o, port,
                 (const char *const[]){"--tlsv1.2", "--tls-max", "1.2", "--cacert",
                                       cert("trust.pem"), NULL});
        if (bad) {
            ck_assert_msg(r.exited && r.code == 60, "curl: " RUN_FMT, RUN_ARGS(&r));
            ck_assert_msg(strstr(r.err, "application verification failure") != NULL,
                          "curl's message: " RUN_FMT, RUN_ARGS(&r));
            assert_ct_event(mark, "ct-no-scts");
        } else {
            ck_assert_msg(r.exited && r.code == 0, "curl: " RUN_FMT, RUN_ARGS(&r));
        }
        run_result_free(&r);

        run_python(&r, &o, port, "TLSv1_2");
        if (bad)
            ck_assert_msg(r.exited && r.code == 1 && has_line_prefix(r.out, "FAILED"),
                          "python: " RUN_FMT, RUN_ARGS(&r));
        else
            ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "OK TLSv1.2"),
                          "python: " RUN_FMT, RUN_ARGS(&r));
        run_result_free(&r);
    }

    expect_pass_resumed(stapled.port, "--tls1.2");

    /* With a pin on the intermediate too, the session decided after the
     * flight must carry its chain, or its resumption cannot be allowed. */
    write_pinsets("ca", "pinsets = ( { name = \"ca\"; hosts = [ \"good.test\" ];\n"
                        "  pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_INT"), pin("PIN_BACKUP"));
    stack_policy(fmt("%s,\n  { module = \"file\"; control = \"required\"; args = { pinsets = "
                     "\"%s\"; }; }",
                     ct_entry(fmt("log_list = \"%s/list.json\"; policy = \"apple\";", H.tmp)),
                     H.pinsets));
    expect_pass_resumed(stapled.port, "--tls1.2");
}
END_TEST

/* min_scts = 3: one SCT per channel (embedded a1, TLS a2, OCSP b1) passes
 * only together. _i: 0 all three, 1 without the OCSP staple. */
START_TEST(mixed_channels)
{
    struct server s;
    const char *leaf;
    const char *si;

    ct_start("min_scts = 3; min_operators = 2;");
    leaf = mk_leaf("leaf", 90, (const char *const[]){"a1.key", NULL});
    si = mk_scts(leaf, "serverinfo", (const char *const[]){"a2.key", NULL});
    if (_i == 0)
        serve_scts(&s, leaf, "ocsp", (const char *const[]){"b1.key", NULL},
                   (const char *const[]){"-serverinfo", si, NULL});
    else
        serve(&s, leaf, (const char *const[]){"-serverinfo", si, NULL});
    if (_i == 0) {
        expect_pass(s.port, tls13_only);
    } else {
        const struct syslog_rec *rec = expect_blocked(s.port, tls13_only, "ct-too-few-logs");
        ck_assert_field_has(rec, "reason", "2 of 2 SCTs valid");
        ck_assert_field_has(rec, "reason", "tls A/a2 ok");
        ck_assert_field_has(rec, "reason", "embedded A/a1 ok");
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Log lists                                                           */
/* ------------------------------------------------------------------ */

/* 100 days old, max 70: fails closed by default, open with stale_list =
 * "ignore" (and says so in a record). */
START_TEST(stale_list)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *list;
    size_t mark;
    const struct lentry e[] = {{&A1, "A", "usable", 86400 * 300},
                               {&B1, "B", "usable", 86400 * 300}};

    mk_logs();
    list = write_list(86400 * 100, e, 2);
    serve_leaf(&s, "leaf", 90, a1_b1);
    ct_policy(fmt("log_list = \"%s\"; max_list_age_days = 70;", list));
    rec = expect_blocked(s.port, NULL, "ct-list-stale");
    ck_assert_field_has(rec, "reason", "is 100 days old");

    ct_policy(fmt("log_list = \"%s\"; max_list_age_days = 70; stale_list = \"ignore\";", list));
    mark = syslog_mark();
    client(&r, s.port, NULL);
    assert_client_ok(&r);
    assert_ct_event(mark, "ct-list-stale");
    run_result_free(&r);

    ct_policy(fmt("log_list = \"%s\"; max_list_age_days = 120;", list));
    expect_pass(s.port, NULL);

    /* A stale list blocks only the hosts the module covers (issue 12: a
     * fault never widens beyond what it touches), and says why. */
    ct_policy(fmt("log_list = \"%s\"; max_list_age_days = 70; hosts = [ \"good.test\" ];",
                  list));
    rec = expect_blocked(s.port, NULL, "ct-list-stale");
    ck_assert_field_has(rec, "reason", "is 100 days old");
    mark = syslog_mark();
    tls_client_run(&r, &(struct run_opts){.preload = 1}, TLS_CLIENT, s.port, "other.test", NULL);
    assert_ct_passed(&r, mark);
    run_result_free(&r);
}
END_TEST

/* One bad log entry (a key that is not a SubjectPublicKeyInfo) makes the
 * whole list an error naming file:line; on_error = deny then refuses. */
START_TEST(malformed_list)
{
    struct server s;
    const char *list;
    char *text, *p;

    mk_logs();
    list = write_usual_list();
    text = read_file(list, NULL);
    ck_assert_ptr_nonnull(text);
    p = strstr(text, B1.key); /* b1's key: the 2nd operator's only log */
    ck_assert_ptr_nonnull(p);
    memcpy(p, "AAAA", 4);
    list = write_file("list.json", "%s", text);
    free(text);
    ct_policy_list(list, NULL);
    serve_leaf(&s, "leaf", 90, a1_b1);
    expect_blocked_saying(s.port, "list.json:16: log key is not a DER SubjectPublicKeyInfo");

    /* a JSON syntax error: its line */
    write_file("list.json", "{\n \"log_list_timestamp\": \"%s\",\n \"operators\": [\n  {\"name\": "
               "\"A\" \"logs\": []}\n ]\n}\n", iso(time(NULL)));
    expect_blocked_saying(s.port, "list.json:4: expected ',' or '}'");
}
END_TEST

/* ct_log_list.cnf in OpenSSL's format listing a1 (operator A) and b1 (of
 * b1_operator), with the `operator` extension. Returns its path. */
static const char *write_cnf_list(const char *b1_operator)
{
    return write_file("ct_log_list.cnf",
                      "enabled_logs = a1, b1\n\n[a1]\ndescription = a1\nkey = %s\noperator = A\n\n"
                      "[b1]\ndescription = b1\nkey = %s\noperator = %s\n",
                      A1.key, B1.key, b1_operator);
}

/* OpenSSL's ct_log_list.cnf format, with the `operator` extension. */
START_TEST(cnf_list)
{
    struct server s;

    mk_logs();
    ct_policy_list(write_cnf_list("B"), NULL);
    serve_leaf(&s, "leaf", 90, a1_b1);
    expect_pass(s.port, NULL);

    /* both logs of one operator: too few operators */
    write_cnf_list("A");
    expect_blocked(s.port, NULL, "ct-too-few-operators");
}
END_TEST

/* ------------------------------------------------------------------ */
/* What OpenSSL's own CT check skips                                   */
/* ------------------------------------------------------------------ */

/* curl -k (SSL_VERIFY_NONE): OpenSSL would only note a CT failure; tlspin
 * refuses. With valid SCTs, curl -k passes. */
START_TEST(curl_insecure_enforced)
{
    static const char *const insecure[] = {"-k", NULL};
    struct server bad, good;
    struct run_result r;
    struct run_opts o = {.preload = 1};
    size_t mark;

    ct_start(NULL);
    serve_leaf(&bad, "bad", 90, NULL);
    serve_leaf(&good, "good", 90, a1_b1);

    mark = syslog_mark();
    run_curl(&r, &o, bad.port, insecure);
    ck_assert_msg(r.exited && r.code == 60, "curl -k not refused: " RUN_FMT, RUN_ARGS(&r));
    assert_ct_event(mark, "ct-no-scts");
    run_result_free(&r);

    run_curl(&r, &o, good.port, insecure);
    ck_assert_msg(r.exited && r.code == 0, "curl -k refused: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* Resumption within a process carries the verdict of the handshake that
 * made the session; a session from a file (another process: no verdict
 * here) is not resumed and a full handshake decides. */
START_TEST(resumption)
{
    struct server s;
    struct run_result r;
    char sess[PATH_MAX];
    const char *const from_file[] = {"--tls1.2", "--sess-in", sess, NULL};

    snprintf(sess, sizeof sess, "%s/sess.pem", H.tmp);
    ct_start(NULL);
    serve_leaf(&s, "leaf", 90, a1_b1);
    expect_pass_resumed(s.port, tls_versions[_i]);

    expect_ok_without_shim(s.port, (const char *const[]){"--tls1.2", "--sess-out", sess, NULL});
    client(&r, s.port, from_file);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=0"), "a session without a CT verdict was resumed: "
                  RUN_FMT, RUN_ARGS(&r));
    /* (the engine decides resumptions without a record of its own) */
    run_result_free(&r);

    /* Control: where ct has no opinion, the same session file resumes. */
    ct_policy_list(fmt("%s/list.json", H.tmp), "policy = \"chrome\"; hosts = [ \"other.test\" ];");
    client(&r, s.port, from_file);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1"), "control did not resume: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* The interception proxy: its CA is trusted by the client, its minted leaf
 * has no SCTs. Without tlspin the client talks to it; with ct it is
 * blocked; outside `hosts` the module says nothing; a private root listed
 * in private_roots is exempt. */
START_TEST(interception_blocked)
{
    struct server s, s2;
    struct run_result r;
    const char *list;

    mk_logs();
    list = write_usual_list();
    server_start(&s, "icpt");
    expect_ok_without_shim(s.port, NULL); /* the threat is real */

    ct_policy_list(list, "policy = \"chrome\"; hosts = [ \"good.test\" ];");
    server_start(&s2, "icpt"); /* a fresh log: not one byte may reach it */
    expect_blocked(s2.port, NULL, "ct-no-scts");
    assert_server_got_no_data(&s2);

    ct_policy_list(list, "policy = \"chrome\"; hosts = [ \"**.example.com\" ];");
    expect_pass(s.port, NULL);

    ct_policy_list(list, fmt("policy = \"chrome\"; private_roots = [ \"%s\" ];",
                             pin("PIN_ICPT_CA")));
    client(&r, s.port, NULL);
    assert_client_ok(&r);
    run_result_free(&r);
}
END_TEST

/* Bad args are refused at load, naming the policy file and line. */
START_TEST(bad_args)
{
    struct server s;

    mk_logs();
    ct_policy(fmt("log_list = \"%s\"; policy = \"firefox\";", write_usual_list()));
    serve_leaf(&s, "leaf", 90, a1_b1);
    expect_blocked_saying(s.port, "policy of module ct is");
}
END_TEST

/* The module through its ABI alone (ct_unit.c): args and list errors with
 * file:line, each signature verified once under 8 threads, resumption. */
START_TEST(module_abi_unit)
{
    struct run_result r;
    struct run_opts o = {.timeout_ms = 60000};

    ck_assert_int_eq(RUN(&r, &o, BIN_DIR "/ct_unit", CT_MODULE, CT_TOOL, MKCERTS), 0);
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "ct_unit: all checks passed"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Real programs: prepare() makes them ask for the TLS extension         */
/* ------------------------------------------------------------------ */

/* _i = program * 2 + (0: SCTs in the TLS extension, passes; 1: none,
 * blocked). Programs: curl, python3 ssl, openssl s_client (VERIFY_NONE). */
START_TEST(programs_tls_extension)
{
    struct server s;
    struct run_result r;
    struct run_opts o = {.preload = 1, .input = "GET / HTTP/1.0\r\n\r\n"};
    const char *leaf;
    int prog = _i / 2, none = _i % 2;
    size_t mark;

    ct_start(NULL);
    leaf = mk_leaf("leaf", 90, NULL);
    if (none)
        serve(&s, leaf, NULL);
    else
        serve_scts(&s, leaf, "serverinfo", a1_b1, NULL);
    mark = syslog_mark();
    if (prog == 0)
        run_curl(&r, &o, s.port, (const char *const[]){"--cacert", cert("trust.pem"), NULL});
    else if (prog == 1)
        run_python(&r, &o, s.port, "MAXIMUM_SUPPORTED");
    else
        run_s_client(&r, &o, s.port, NULL);
    if (!none) {
        ck_assert_msg(r.exited && r.code == 0, "program %d refused: " RUN_FMT, prog,
                      RUN_ARGS(&r));
        ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    } else {
        ck_assert_msg(r.exited && r.code != 0, "program %d not refused: " RUN_FMT, prog,
                      RUN_ARGS(&r));
        assert_ct_event(mark, "ct-no-scts");
    }
    run_result_free(&r);
}
END_TEST

/* A program that runs OpenSSL's own CT check (s_client -ct) still gets all
 * its SCTs: the module does not take them from it. */
START_TEST(program_own_ct_keeps_scts)
{
    struct server s;
    struct run_result r;
    struct run_opts o = {.preload = 1, .input = ""};
    const char *cnf;
    size_t mark;

    ct_start(NULL);
    cnf = write_file("ossl_ct.cnf", "enabled_logs = a1,b1\n[a1]\ndescription = a1\nkey = %s\n"
                     "[b1]\ndescription = b1\nkey = %s\n", A1.key, B1.key);
    serve_leaf(&s, "leaf", 90, a1_b1);
    mark = syslog_mark();
    run_s_client(&r, &o, s.port,
                 (const char *const[]){"-ct", "-ctlogfile", cnf, "-verify_return_error", NULL});
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "SCTs present (2)"), "s_client lost its SCTs: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The CLI: probe shows the SCTs and the verdict; check validates lists */
/* ------------------------------------------------------------------ */

START_TEST(cli_probe_shows_scts)
{
    struct server ok, bad;
    struct run_result r;

    ct_start(NULL);
    serve_scts(&ok, mk_leaf("leaf", 90, NULL), "serverinfo", a1_b1, NULL);
    serve_leaf(&bad, "one", 90, (const char *const[]){"a1.key", NULL});

    run_probe(&r, ok.port);
    ck_assert_msg(strstr(r.out, "2 of 2 SCTs valid") && strstr(r.out, "tls A/a1 ok") &&
                      strstr(r.out, "tls B/b1 ok") && strstr(r.out, "decision    allowed"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    run_probe(&r, bad.port);
    ck_assert_msg(r.exited && r.code == 2 && strstr(r.out, "ct-too-few-logs") &&
                      strstr(r.out, "1 of 1 SCTs valid: embedded A/a1 ok") &&
                      strstr(r.out, "decision    blocked"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* Over TLS 1.2, `tlspin probe` decides as the shim does: after the server's
 * flight, with the staple's SCTs. */
START_TEST(cli_probe_tls12_staple)
{
    struct server stapled, bare;
    struct run_result r;

    ct_start("policy = \"apple\";");
    serve_staple_pair(&stapled, &bare, (const char *const[]){"-tls1_2", NULL});

    run_probe(&r, stapled.port);
    /* exit 1 at most: a warning for the test CA's short life */
    ck_assert_msg(r.exited && r.code <= 1 && strstr(r.out, "2 of 2 SCTs valid") &&
                      strstr(r.out, "ocsp A/a1 ok") && strstr(r.out, "ocsp B/b1 ok") &&
                      strstr(r.out, "decision    allowed") && strstr(r.out, "TLSv1.2"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    run_probe(&r, bare.port);
    ck_assert_msg(r.exited && r.code == 2 && strstr(r.out, "ct-no-scts") &&
                      strstr(r.out, "decision    blocked"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(cli_check_validates_list)
{
    struct run_result r;
    const char *list;
    char *text, *p;

    mk_logs();
    list = write_usual_list();
    ct_policy_list(list, NULL);
    run_check(&r);
    ck_assert_msg(strstr(r.out, "ct: log list with 3 logs (3 usable/qualified/readonly) of 2 "
                                "operators") || strstr(r.err, "ct: log list with 3 logs"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    text = read_file(list, NULL);
    p = strstr(text, "\"usable\"");
    memcpy(p, "\"usabel\"", 8);
    write_file("list.json", "%s", text);
    free(text);
    run_check(&r);
    ck_assert_msg(r.exited && r.code != 0 &&
                      strstr(r.out, "list.json:9: ") &&
                      strstr(r.out, "unknown log state \"usabel\""),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A list nothing refreshes goes stale and then blocks every in-scope host:
 * tlspin check warns a month ahead (issue 12: a trap that becomes an outage
 * later). _i: days old of a list whose max age is the default 70. */
START_TEST(cli_check_warns_before_list_goes_stale)
{
    static const struct {
        int age_days;
        const char *want;   /* NULL: no warning */
    } rows[] = {{30, NULL},
                {40, "goes stale in 30 days"},
                {56, "goes stale in 14 days"},
                {63, "goes stale in 7 days"},
                {69, "goes stale in 1 day "}};
    const struct lentry e[] = {{&A1, "A", "usable", 86400 * 300},
                               {&B1, "B", "usable", 86400 * 300}};
    struct run_result r;

    mk_logs();
    /* An hour older than whole days: the days left (rounded up) are whole. */
    ct_policy_list(write_list(86400 * rows[_i].age_days + 3600, e, 2), NULL);
    run_check(&r);
    if (rows[_i].want == NULL)
        ck_assert_msg(!strstr(r.out, "goes stale") && !strstr(r.err, "goes stale"),
                      "a warning %d days ahead: " RUN_FMT, 70 - rows[_i].age_days, RUN_ARGS(&r));
    else
        ck_assert_msg(strstr(r.out, rows[_i].want) || strstr(r.err, rows[_i].want),
                      "no '%s': " RUN_FMT, rows[_i].want, RUN_ARGS(&r));
    run_result_free(&r);

    /* tlspin probe (a monitoring check) warns while the host is still fine. */
    {
        struct server ok;
        serve_leaf(&ok, "leaf", 90, a1_b1);
        run_probe(&r, ok.port);
        /* (The fixtures' intermediate itself expires within 30 days: the
         * probe warns of that too, so only the staleness text is asked.) */
        if (rows[_i].want == NULL)
            ck_assert_msg(r.exited && r.code <= 1 && !strstr(r.out, "goes stale"),
                          "probe warns %d days ahead: " RUN_FMT, 70 - rows[_i].age_days,
                          RUN_ARGS(&r));
        else
            ck_assert_msg(r.exited && r.code == 1 && strstr(r.out, "TLSPIN WARNING") &&
                              strstr(r.out, rows[_i].want),
                          "probe does not warn '%s': " RUN_FMT, rows[_i].want, RUN_ARGS(&r));
        run_result_free(&r);
        server_stop(&ok);
    }

    /* tlspin status says it too: it loads the policy as a new process would
     * and shows what the modules warn of. */
    ck_assert_int_eq(RUN(&r, &(struct run_opts){0}, BIN_DIR "/tlspin", "status", "--config",
                         H.config),
                     0);
    if (rows[_i].want == NULL)
        ck_assert_msg(!strstr(r.out, "goes stale"), "status warns %d days ahead: " RUN_FMT,
                      70 - rows[_i].age_days, RUN_ARGS(&r));
    else
        ck_assert_msg(strstr(r.out, "warning") && strstr(r.out, rows[_i].want),
                      "status does not warn '%s': " RUN_FMT, rows[_i].want, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The real interception proxy: mitmproxy                              */
/* ------------------------------------------------------------------ */

#define MITMDUMP "/usr/bin/mitmdump"

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* mitmdump in reverse mode in front of origin_port (as transparent
 * interception makes clients see it), its CA made by itself in confdir. */
static pid_t start_mitmdump(int origin_port, int *port, const char **ca)
{
    const char *confdir = fmt("%s/mitmproxy", H.tmp);
    const char *out = fmt("%s/mitmdump.out", H.tmp);
    pid_t pid;

    mkdir(confdir, 0700);
    *port = free_port();
    *ca = fmt("%s/mitmproxy-ca-cert.pem", confdir);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(MITMDUMP, MITMDUMP, "--listen-host", "127.0.0.1", "--listen-port",
              fmt("%d", *port), "--mode", fmt("reverse:https://127.0.0.1:%d", origin_port),
              "--set", fmt("confdir=%s", confdir), "--set",
              fmt("ssl_verify_upstream_trusted_ca=%s", cert("ca.pem")), (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && !port_open(*port); i++)
        usleep(50000);
    for (int i = 0; i < 200 && access(*ca, R_OK) != 0; i++)
        usleep(50000);
    if (!port_open(*port) || access(*ca, R_OK) != 0) {
        char *o = read_file(out, NULL);
        kill(-pid, SIGKILL);
        ck_abort_msg("mitmdump did not start:\n%s", o ? o : "");
    }
    return pid;
}

START_TEST(interception_through_mitmproxy)
{
    struct server origin;
    const char *ca, *trust;
    char *a, *b;
    int port;
    pid_t proxy;

    ct_start(NULL);
    serve_leaf(&origin, "leaf", 90, a1_b1);
    proxy = start_mitmdump(origin.port, &port, &ca);
    a = read_file(cert("trust.pem"), NULL);
    b = read_file(ca, NULL);
    trust = write_file("trust-with-proxy.pem", "%s%s", a, b); /* the CA the IT dept installed */
    free(a);
    free(b);

    /* The origin itself passes CT. */
    expect_pass(origin.port, (const char *const[]){"--cafile", trust, NULL});

    /* The threat: without tlspin the client trusts the proxy's minted leaf. */
    expect_ok_without_shim(port, (const char *const[]){"--cafile", trust, NULL});

    /* With ct: the minted leaf has no SCTs. */
    expect_blocked(port, (const char *const[]){"--cafile", trust, NULL}, "ct-no-scts");
    kill(-proxy, SIGTERM);
    waitpid(proxy, NULL, 0);
}
END_TEST

/* A self-signed leaf that is its own trust anchor: OpenSSL skips its CT
 * check for one-certificate chains; the module does not. */
START_TEST(self_signed_anchor_fails)
{
    struct server s;

    ct_start(NULL);
    server_start(&s, "self");
    expect_blocked(s.port, (const char *const[]){"--cafile", cert("self.pem"), NULL}, "ct-no-scts");
}
END_TEST

/* The log list is watched: a running program that drops operator B from
 * its list refuses the next connection (the resumption is re-decided by the
 * new policy, whose cache has no verdict; the full handshake then finds
 * b1 unknown). */
START_TEST(list_reload)
{
    struct server s;
    struct run_result r;
    const struct lentry only_a[] = {{&A1, "A", "usable", 86400 * 30},
                                    {&A2, "A", "usable", 86400 * 30}};
    char body[16384];
    const char *list, *tmp;
    char *text;
    pid_t writer;
    size_t mark;

    mk_logs();
    /* the list without B, kept aside, then the usual one in place */
    list = write_list(3600, only_a, 2);
    text = read_file(list, NULL);
    snprintf(body, sizeof body, "%s", text);
    free(text);
    tmp = write_file("list-next.json", "%s", body);
    list = write_usual_list();
    ct_policy_list(list, NULL);
    serve_leaf(&s, "leaf", 90, a1_b1);
    mark = syslog_mark();
    writer = fork();
    ck_assert(writer >= 0);
    if (writer == 0) {
        usleep(1000000);
        _exit(rename(tmp, list) == 0 ? 0 : 1);
    }
    client(&r, s.port, (const char *const[]){"--tls1.2", "--resume", "1", "--pause", "3000",
                                             NULL});
    waitpid(writer, NULL, 0);
    ck_assert_msg(strstr(r.out, "connection 1\nhandshake ok"), "first connection: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "connection 2\nhandshake failed"), "second connection: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_ct_event(mark, "ct-unknown-log");
    run_result_free(&r);
}
END_TEST

/* Log states and shapes: an RSA log; a pending or rejected log's SCT does
 * not count; a sharded log whose temporal_interval does not cover the
 * leaf's expiry does not count. _i: 0 RSA (passes), 1 pending, 2 rejected,
 * 3 outside the interval. */
START_TEST(log_states)
{
    static const char *const events[] = {NULL, "ct-untrusted-log", "ct-untrusted-log",
                                         "ct-outside-interval"};
    struct tlog R;
    struct server s;
    const char *list;

    mk_logs();
    mk_log_kind(&R, "r1", "rsa");
    {
        const struct lentry e[] = {{&A1, "A", "usable", 86400 * 30},
                                   {&R, "B", _i == 1 ? "pending" : _i == 2 ? "rejected" : "usable",
                                    86400 * 30}};
        list = write_list(3600, e, 2);
    }
    if (_i == 3) {
        /* r1 becomes a shard for certificates expiring in 2020 */
        char *text = read_file(list, NULL), *p = strstr(text, "\"r1\""), body[16384];
        size_t pre;
        ck_assert_ptr_nonnull(p);
        p = strstr(p, "\"state\"");
        pre = (size_t)(p - text);
        snprintf(body, sizeof body, "%.*s\"temporal_interval\": {\"start_inclusive\": "
                 "\"2020-01-01T00:00:00Z\", \"end_exclusive\": \"2021-01-01T00:00:00Z\"},\n"
                 "       %s", (int)pre, text, p);
        free(text);
        list = write_file("list.json", "%s", body);
    }
    ct_policy_list(list, NULL);
    serve_leaf(&s, "leaf", 90, (const char *const[]){"a1.key", "r1.key", NULL});
    if (_i == 0)
        expect_pass(s.port, NULL);
    else
        expect_blocked(s.port, NULL, events[_i]);
}
END_TEST

static Suite *ct_suite(void)
{
    Suite *s = suite_create("ct");
    TCase *tc;

    tc = harness_tcase("embedded");
    tcase_add_test(tc, embedded_two_operators_pass);
    tcase_add_test(tc, embedded_one_sct_fails);
    tcase_add_test(tc, embedded_one_operator_fails);
    tcase_add_test(tc, unknown_log_fails);
    tcase_add_test(tc, bad_signature_fails);
    tcase_add_test(tc, future_sct_fails);
    tcase_add_loop_test(tc, retired_log_before_after, 0, 2);
    tcase_add_loop_test(tc, lifetime_200_days, 0, 2);
    tcase_add_test(tc, apple_policy);
    tcase_add_test(tc, apple_caps_and_delivered);
    tcase_add_loop_test(tc, log_states, 0, 4);
    suite_add_tcase(s, tc);

    tc = harness_tcase("channels");
    tcase_add_loop_test(tc, tls_extension_pass, 0, 2);
    tcase_add_loop_test(tc, tls_extension_dlsym_implicit_client, 0, 2);
    tcase_add_loop_test(tc, tls_no_scts_fails, 0, 2);
    tcase_add_loop_test(tc, sct_for_other_cert_fails, 0, 2);
    tcase_add_test(tc, ocsp_staple);
    tcase_add_loop_test(tc, tls12_staple_waits_for_flight, 0,
                        (int)(sizeof(flight_modes) / sizeof(flight_modes[0])));
    tcase_add_test(tc, tls12_staple_programs);
    tcase_add_test(tc, tls12_flight_refusal_survives_ignored_alert);
    tcase_add_loop_test(tc, mixed_channels, 0, 2);
    suite_add_tcase(s, tc);

    tc = harness_tcase("lists");
    tcase_add_test(tc, stale_list);
    tcase_add_test(tc, malformed_list);
    tcase_add_test(tc, cnf_list);
    tcase_add_test(tc, bad_args);
    tcase_add_test(tc, module_abi_unit);
    tcase_add_test(tc, cli_probe_shows_scts);
    tcase_add_test(tc, cli_probe_tls12_staple);
    tcase_add_test(tc, cli_check_validates_list);
    tcase_add_loop_test(tc, cli_check_warns_before_list_goes_stale, 0, 5);
    suite_add_tcase(s, tc);

    tc = harness_tcase("skipped-by-openssl");
    tcase_add_test(tc, curl_insecure_enforced);
    tcase_add_loop_test(tc, resumption, 0, 2);
    tcase_add_test(tc, interception_blocked);
    tcase_add_test(tc, self_signed_anchor_fails);
    tcase_add_test(tc, list_reload);
    tcase_add_test(tc, interception_through_mitmproxy);
    tcase_add_loop_test(tc, programs_tls_extension, 0, 6);
    tcase_add_test(tc, program_own_ct_keeps_scts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(ct_suite());
}
