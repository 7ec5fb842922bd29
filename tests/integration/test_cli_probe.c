/*
 * test_cli_probe.c — `tlspin probe`, the real binary, against real servers
 * on 127.0.0.1 (tls_server, openssl s_server) and policies in the test's
 * directory:
 *   - the decision is the shim's: allowed silently, blocked (and the syslog
 *     record is the very record the shim writes for a real client, field by
 *     field), report-only, mode report, unpinned allow/deny, expired pinset,
 *     a broken module or policy under on_error deny/allow, a stack stopped
 *     by a sufficient pass (the entry below is shown as not consulted);
 *   - verification: --cafile, the system trust store (SSL_CERT_FILE), a
 *     chain that does not verify, a name that does not match;
 *   - expiry: leaves made with `openssl x509 -days N` around the 30/14/7/1
 *     marks, an expired one, an intermediate that ends before the leaf,
 *     --warn-days/--crit-days;
 *   - Nagios exit codes and status line, UNKNOWN for what cannot be probed,
 *     --all over the policy's hosts with the worst code, --json;
 *   - the shim preloaded into the command: one decision, one record.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"

static const struct run_opts plain = {0};
static const struct run_opts shim = {.preload = 1};

/* tlspin probe --config H.config ARGS... */
static void probe_with(struct run_result *r, const struct run_opts *o, const char *const args[])
{
    const char *argv[32] = {TLSPIN_CLI, "probe", "--config", H.config};
    size_t n = 4;
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}
#define PROBE_WITH(r, o, ...) probe_with((r), (o), (const char *const[]){__VA_ARGS__, NULL})
#define PROBE(r, ...) PROBE_WITH((r), &plain, __VA_ARGS__)

/* HOST:PORT reached at 127.0.0.1 (--connect), verified against the test CA:
 * the servers of the tests, under whatever name a test needs. */
#define PROBE_LOCAL(r, o, host, port, ...)                                                  \
    PROBE_WITH((r), (o), fmt("%s:%d", (host), (port)), "--connect", "127.0.0.1", "--cafile", \
               cert("trust.pem"), ##__VA_ARGS__)

/* good.test:PORT, the pinned name, the same way. */
#define PROBE_GOOD(r, port, ...) PROBE_LOCAL((r), &plain, "good.test", (port), ##__VA_ARGS__)

/* One of two texts: a count of days may be a day less than the span
 * (certificates made in the same second as the test, or just before). */
static void expect_text_either(const struct run_result *r, const char *a, const char *b)
{
    ck_assert_msg(strstr(r->out, a) != NULL || strstr(r->out, b) != NULL,
                  "neither '%s' nor '%s': " RUN_FMT, a, b, RUN_ARGS(r));
}

/* What a probe that could not start says (usage errors) is on stderr. */
static void expect_err_text(const struct run_result *r, const char *text)
{
    ck_assert_msg(strstr(r->err, text) != NULL, "stderr lacks '%s': " RUN_FMT, text,
                  RUN_ARGS(r));
}

static void expect_first_line(const struct run_result *r, const char *prefix)
{
    ck_assert_msg(strncmp(r->out, prefix, strlen(prefix)) == 0,
                  "first line does not start '%s': " RUN_FMT, prefix, RUN_ARGS(r));
}

/* The Nagios verdict of a probe: the exit code and the status line that
 * goes with it ("TLSPIN OK - ...", "TLSPIN CRITICAL - ..."). */
static void expect_verdict(const struct run_result *r, int code, const char *status_line)
{
    expect_exit(r, code);
    expect_first_line(r, status_line);
}

static void expect_line_prefix(const struct run_result *r, const char *prefix)
{
    ck_assert_msg(has_line_prefix(r->out, prefix), "no line '%s...': " RUN_FMT, prefix,
                  RUN_ARGS(r));
}

/* The verdict of a --json probe: the exit code and the status it reports. */
static void expect_json_status(const struct run_result *r, int code, const char *status)
{
    expect_exit(r, code);
    assert_json(r->out, "d['status']", status);
}

/* An allowed handshake is a silent one: no tlspin record since mark. */
static void expect_no_record_since(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
}

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
    mkdir(H.pinsets, 0755);
}

static const char *file_entry(const char *control)
{
    return fmt("  { module = \"file\"; control = \"%s\"; args = { pinsets = \"%s\"; }; }",
               control, H.pinsets);
}

/* The policy of most tests: enforce, unpinned hosts allowed, errors deny,
 * the file module required. */
static void usual_policy(void)
{
    policy("enforce", "allow", "deny", file_entry("required"));
}

/* The setup of most tests: a server presenting `identity`, the usual
 * policy, good.test pinned. Returns the syslog mark taken last, so that only
 * the probe's records follow it. */
static size_t serve_pinned(struct server *s, const char *identity)
{
    server_start(s, identity);
    usual_policy();
    write_good_pinset();
    return syslog_mark();
}

/* A pinset entry pinning the good key and its backup for `hosts` (quoted,
 * comma separated), `more` settings (or "") after the pins. */
static const char *good_pins_for(const char *name, const char *hosts, const char *more)
{
    return fmt("  { name = \"%s\"; hosts = [ %s ];\n    pins = [ \"%s\", \"%s\" ]; %s}", name,
               hosts, pin("PIN_GOOD"), pin("PIN_BACKUP"), more);
}

/* "ports = [ port ]; " for good_pins_for(). */
static const char *ports(int port)
{
    return fmt("ports = [ %d ]; ", port);
}

/* pins.d/api.conf holding the entries (NULL-terminated) in their order, in
 * place of what was there. */
static void __attribute__((sentinel)) write_api_pinsets(const char *entry, ...)
{
    const char *body = entry;
    va_list ap;

    va_start(ap, entry);
    for (const char *e = va_arg(ap, const char *); e; e = va_arg(ap, const char *))
        body = fmt("%s,\n%s", body, e);
    va_end(ap);
    write_pinsets("api", "pinsets = (\n%s\n);\n", body);
}

/* A record's fields, copied out of the syslog store. */
struct fields {
    char keys[1024];
    char value[24][2048];
    char name[24][32];
    size_t n;
};

static void copy_fields(const struct syslog_rec *rec, struct fields *f)
{
    char *save = NULL;
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(rec_keys(rec, f->keys, sizeof f->keys), 0);
    char keys[1024];
    snprintf(keys, sizeof keys, "%s", f->keys);
    for (char *k = strtok_r(keys, " ", &save); k && f->n < 24; k = strtok_r(NULL, " ", &save)) {
        snprintf(f->name[f->n], sizeof f->name[0], "%s", k);
        ck_assert_int_eq(rec_field(rec, k, f->value[f->n], sizeof f->value[0]), 0);
        f->n++;
    }
}

/* ------------------------------------------------------------------ */
/* The decision                                                        */
/* ------------------------------------------------------------------ */

START_TEST(pinned_match_allowed_silently)
{
    struct server s;
    struct run_result r;
    size_t mark = serve_pinned(&s, "good");

    /* mkcerts.sh certificates live 30 days: below the 20-day threshold, OK */
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    /* (29 days and some hours; 30 within the second the fixtures were made) */
    expect_verdict(&r, 0, fmt("TLSPIN OK - good.test:%d: allowed; the chain expires in ", s.port));
    expect_text_either(&r, " days | days_left=29;20:;7:\n", " days | days_left=30;20:;7:\n");
    expect_line_prefix(&r, fmt("connection  127.0.0.1:%d, TLSv1.3, ", s.port));
    expect_line_prefix(&r, fmt("identity    host good.test (from SNI), port %d, peer "
                               "127.0.0.1:%d", s.port, s.port));
    expect_line_prefix(&r, "chain       verified against ");
    expect_line_prefix(&r, fmt("  leaf          %s  CN=good.test,O=tlspin tests", pin("PIN_GOOD")));
    expect_line_prefix(&r, fmt("  intermediate  %s  CN=tlspin test intermediate CA", pin("PIN_INT")));
    expect_line_prefix(&r, fmt("  root          %s  CN=tlspin test root CA,O=tlspin tests  "
                               "(from the trust store)", pin("PIN_CA")));
    expect_line_prefix(&r, fmt("policy      %s: mode enforce, unpinned allow, on_error deny",
                               H.config));
    expect_line_prefix(&r, "            1   file    required  pass     -      api ");
    expect_line_prefix(&r, fmt("decision    allowed: host=good.test port=%d pinset=- event=-",
                               s.port));
    expect_line_prefix(&r, "expiry      leaf CN=good.test,O=tlspin tests ends first: ");
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour in a pipe");
    run_result_free(&r);
    expect_no_record_since(mark);

    /* The default 30-day threshold: WARNING for the same chain. */
    PROBE_GOOD(&r, s.port, "--json");
    expect_json_status(&r, 1, "WARNING");
    assert_json(r.out, "d['decision']['action']", "allowed");
    assert_json(r.out, "d['decision']['event']", "null");
    assert_json(r.out, "d['expiry']['mark']", "30");
    assert_json(r.out, "d['expiry']['days_left'] in (29, 30)", "true");
    assert_json(r.out, "d['identity']", fmt("{\"host\": \"good.test\", \"source\": \"sni\", "
                                          "\"port\": %d, \"peer\": \"127.0.0.1:%d\"}",
                                          s.port, s.port));
    assert_json(r.out, "[(e['module'], e['control'], e['verdict'], e['rule']) for e in d['stack']]",
              "[[\"file\", \"required\", \"pass\", \"api\"]]");
    assert_json(r.out, "[c['pin'] for c in d['chain']]",
              fmt("[\"%s\", \"%s\", \"%s\"]", pin("PIN_GOOD"), pin("PIN_INT"), pin("PIN_CA")));
    run_result_free(&r);
}
END_TEST

START_TEST(blocked_with_the_shims_own_record)
{
    struct server s;
    struct run_result r;
    struct fields from_probe, from_client;
    size_t mark = serve_pinned(&s, "icpt");

    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - good.test:%d: BLOCKED by the policy "
                              "(event pin-mismatch) | days_left=", s.port));
    expect_line_prefix(&r, "            1   file    required  fail     pin-mismatch  api   no "
                           "certificate of the verified chain has a pinned key");
    expect_line_prefix(&r, fmt("decision    blocked: host=good.test port=%d pinset=api "
                               "event=pin-mismatch", s.port));
    run_result_free(&r);
    const struct syslog_rec *rec = the_tlspin_record_since(mark);
    ck_assert_str_eq(rec->tag, "tlspin");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "program", "tlspin");
    copy_fields(rec, &from_probe);

    /* A real client under the shim: the same record but for program and pid. */
    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);
    copy_fields(the_tlspin_record_since(mark), &from_client);
    ck_assert_str_eq(from_probe.keys, from_client.keys);
    for (size_t i = 0; i < from_probe.n; i++) {
        if (strcmp(from_probe.name[i], "program") == 0 || strcmp(from_probe.name[i], "pid") == 0)
            continue;
        ck_assert_msg(strcmp(from_probe.value[i], from_client.value[i]) == 0,
                      "%s: probe '%s', shim '%s'", from_probe.name[i], from_probe.value[i],
                      from_client.value[i]);
    }
}
END_TEST

START_TEST(report_only_and_report_mode)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    usual_policy();
    write_api_pinsets(good_pins_for("api", "\"good.test\"", "report_only = true; "), NULL);
    mark = syslog_mark();
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_verdict(&r, 1, fmt("TLSPIN WARNING - good.test:%d: allowed-report-only (event "
                              "pin-mismatch)", s.port));
    expect_line_prefix(&r, "            1   file    required  fail (report-only)  pin-mismatch");
    run_result_free(&r);
    ck_assert_field(the_tlspin_record_since(mark), "action", "allowed-report-only");

    policy("report", "allow", "deny", file_entry("required"));
    write_good_pinset();
    PROBE_GOOD(&r, s.port, "--warn-days", "20", "--json");
    expect_json_status(&r, 1, "WARNING");
    assert_json(r.out, "d['policy']['mode']", "report");
    assert_json(r.out, "(d['decision']['action'], d['decision']['event'])",
              "[\"allowed-report-only\", \"pin-mismatch\"]");
    assert_json(r.out, "d['stack'][0]['verdict']", "fail");
    run_result_free(&r);
}
END_TEST

START_TEST(unpinned_hosts)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "good");
    policy("enforce", "deny", "deny", file_entry("required"));
    write_good_pinset();
    mark = syslog_mark();
    PROBE_LOCAL(&r, &plain, "other.test", s.port, "--warn-days", "20");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - other.test:%d: BLOCKED by the policy (event "
                              "unpinned-host)", s.port));
    expect_line_prefix(&r, "            1   file    required  ignore ");
    run_result_free(&r);
    ck_assert_field(the_tlspin_record_since(mark), "event", "unpinned-host");

    usual_policy();
    mark = syslog_mark();
    PROBE_LOCAL(&r, &plain, "other.test", s.port, "--warn-days", "20");
    expect_verdict(&r, 0, fmt("TLSPIN OK - other.test:%d: allowed", s.port));
    run_result_free(&r);
    expect_no_record_since(mark);
}
END_TEST

START_TEST(expired_pinset_warns)
{
    struct server s;
    struct run_result r;
    time_t t = time(NULL) - 86400;
    struct tm tm;
    char yesterday[32];

    gmtime_r(&t, &tm);
    strftime(yesterday, sizeof yesterday, "%Y-%m-%d", &tm);
    server_start(&s, "icpt");
    usual_policy();
    write_api_pinsets(good_pins_for("api", "\"good.test\"", fmt("expires = \"%s\"; ", yesterday)),
                      NULL);
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_verdict(&r, 1, fmt("TLSPIN WARNING - good.test:%d: allowed (event pinset-expired)",
                              s.port));
    run_result_free(&r);
}
END_TEST

START_TEST(broken_entries_follow_on_error)
{
    struct server s;
    struct run_result r;
    const char *stack = fmt("%s,\n  { module = \"nope\"; control = \"required\"; }",
                            file_entry("required"));

    server_start(&s, "good");
    policy("enforce", "allow", "deny", stack);
    write_good_pinset();
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - good.test:%d: BLOCKED by the policy (event "
                              "module-error)", s.port));
    expect_line_prefix(&r, "            fault: ");
    expect_line_prefix(&r, "            1   file    required  pass ");
    expect_line_prefix(&r, "            2   nope    required  error    module-error ");
    run_result_free(&r);

    policy("enforce", "allow", "allow", stack);
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_verdict(&r, 1, fmt("TLSPIN WARNING - good.test:%d: allowed-policy-error (event "
                              "module-error)", s.port));
    run_result_free(&r);

    /* the policy file itself broken: every handshake refused */
    write_policy("version = 1;\nstack = ( oops );\n");
    PROBE_GOOD(&r, s.port, "--warn-days", "20", "--json");
    expect_exit(&r, 2);
    assert_json(r.out, "d['policy']['loads']", "false");
    assert_json(r.out, fmt("d['policy']['fault'].startswith('%s:2: ')", H.config), "true");
    assert_json(r.out, "(d['decision']['action'], d['decision']['event'])",
              "[\"blocked\", \"policy-error\"]");
    assert_json(r.out, "d['stack']", "[]");
    run_result_free(&r);
}
END_TEST

START_TEST(stack_stopped_by_sufficient)
{
    struct server s;
    struct run_result r;

    server_start(&s, "icpt");
    policy("enforce", "allow", "deny",
           fmt("  { module = \"%s/verdict.so\"; control = \"sufficient\"; args = { verdict = "
               "\"pass\"; }; },\n%s", TESTMODULE_DIR, file_entry("required")));
    write_good_pinset();
    PROBE_GOOD(&r, s.port, "--warn-days", "20");
    expect_exit(&r, 0);
    expect_line_prefix(&r, "            1   verdict  sufficient  pass     -      verdict-test");
    expect_line_prefix(&r, "            2   file     required    -        -      -             "
                           "not consulted: the stack was decided above");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Verification                                                        */
/* ------------------------------------------------------------------ */

START_TEST(verification_is_part_of_the_verdict)
{
    struct server s;
    struct run_result r;
    struct run_opts system_store = {
        .env = (const char *const[]){fmt("SSL_CERT_FILE=%s", cert("trust.pem")), NULL}};

    serve_pinned(&s, "good");

    /* The system trust store does not know the test CA. */
    PROBE(&r, fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--warn-days", "20");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - good.test:%d: allowed; the chain does not "
                              "verify: unable to get local issuer certificate", s.port));
    expect_text(&r, "chain       NOT verified against the system trust store");
    expect_text(&r, "tlspin counts it as leaf-only");
    expect_line_prefix(&r, fmt("  extra         %s  CN=tlspin test intermediate CA",
                               pin("PIN_INT")));
    run_result_free(&r);

    /* A system trust store that does (SSL_CERT_FILE): verified, OK. */
    PROBE_WITH(&r, &system_store, fmt("good.test:%d", s.port), "--connect", "127.0.0.1",
               "--warn-days", "20");
    expect_exit(&r, 0);
    expect_text(&r, "chain       verified against the system trust store; tlspin counts it as "
                    "app-verified");
    run_result_free(&r);

    /* A name the leaf is not valid for: the client would refuse; tlspin
     * verified the chain itself (system-verified) and decides on it. */
    write_api_pinsets(good_pins_for("api", "\"wrong.test\"", ""), NULL);
    PROBE_WITH(&r, &system_store, fmt("wrong.test:%d", s.port), "--connect", "127.0.0.1",
               "--json");
    expect_exit(&r, 2);
    assert_json(r.out, "d['verified']", "false");
    assert_json(r.out, "d['verify_error'].startswith('hostname mismatch')", "true");
    assert_json(r.out, "d['trust']", "system-verified");
    run_result_free(&r);
}
END_TEST

START_TEST(ip_literal_and_sni)
{
    struct server s;
    struct run_result r;

    server_start(&s, "good");
    usual_policy();
    write_api_pinsets(good_pins_for("ip", "\"127.0.0.1\"", ""), NULL);
    PROBE(&r, fmt("127.0.0.1:%d", s.port), "--cafile", cert("trust.pem"), "--json");
    assert_json(r.out, "d['identity']['source']", "verify-ip");
    assert_json(r.out, "d['identity']['host']", "127.0.0.1");
    assert_json(r.out, "d['stack'][0]['verdict']", "pass");
    assert_json(r.out, "d['sni']", "127.0.0.1");
    run_result_free(&r);

    /* --sni names the host the policy sees */
    write_good_pinset();
    PROBE(&r, fmt("127.0.0.1:%d", s.port), "--sni", "good.test", "--cafile", cert("trust.pem"),
          "--json");
    assert_json(r.out, "d['identity']['source']", "sni");
    assert_json(r.out, "d['identity']['host']", "good.test");
    assert_json(r.out, "d['stack'][0]['rule']", "api");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expiry                                                              */
/* ------------------------------------------------------------------ */

/* A good.test leaf signed by the test intermediate, valid for `days` from
 * now (negative: already expired), with the good key. */
static const char *leaf_for_days(int days)
{
    const char *out = fmt("%s/leaf%d.pem", H.tmp, days);
    run_sh(fmt("cd '%s' && openssl req -new -config mkcerts.cnf -key good.key "
           "-subj '/O=tlspin tests/CN=good.test' | "
           "openssl x509 -req -CA int.pem -CAkey int.key -days %d -extfile mkcerts.cnf "
           "-extensions v3_leaf -out '%s' 2>/dev/null",
           H.certs, days, out));
    return out;
}

static void serve_leaf(struct server *s, int days)
{
    server_s_server(s, leaf_for_days(days), cert("good.key"), cert("int.pem"),
                    (const char *const[]){"-www", NULL});
}

START_TEST(expiry_marks_and_thresholds)
{
    static const struct {
        int days, code, mark;
        const char *status;
    } rows[] = {
        { 20, 1, 30, "WARNING" },
        { 10, 1, 14, "WARNING" },
        { 5, 2, 7, "CRITICAL" },
        { 1, 2, 1, "CRITICAL" },
    };
    struct run_result r;

    usual_policy();
    write_good_pinset();
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct server s;
        serve_leaf(&s, rows[i].days);
        PROBE_GOOD(&r, s.port, "--json");
        expect_json_status(&r, rows[i].code, rows[i].status);
        assert_json(r.out, "d['expiry']['position']", "leaf");
        assert_json(r.out, "d['expiry']['mark']", fmt("%d", rows[i].mark));
        /* made this second, the whole span may still be ahead */
        assert_json(r.out, fmt("d['expiry']['days_left'] in (%d, %d)", rows[i].days - 1,
                             rows[i].days), "true");
        assert_json(r.out, "d['decision']['action']", "allowed");
        run_result_free(&r);
        PROBE_GOOD(&r, s.port);
        expect_first_line(&r, fmt("TLSPIN %s - good.test:%d: allowed; leaf CN=good.test,O=tlspin "
                                  "tests expires in ", rows[i].status, s.port));
        expect_text_either(&r,
                           fmt("(%d-day warning) | days_left=%d;30:;7:\n", rows[i].mark,
                               rows[i].days - 1),
                           fmt("(%d-day warning) | days_left=%d;30:;7:\n", rows[i].mark,
                               rows[i].days));
        run_result_free(&r);
        server_stop(&s);
    }

    /* thresholds of one's own */
    struct server s;
    serve_leaf(&s, 20);
    PROBE_GOOD(&r, s.port, "--warn-days", "10");
    expect_exit(&r, 0);
    run_result_free(&r);
    PROBE_GOOD(&r, s.port, "--warn-days", "30", "--crit-days", "25");
    expect_exit(&r, 2);
    run_result_free(&r);
    server_stop(&s);

    /* expired: CRITICAL, and the client's verification fails too */
    serve_leaf(&s, -1);
    PROBE_GOOD(&r, s.port);
    expect_exit(&r, 2);
    expect_text(&r, "the chain does not verify: certificate has expired");
    expect_text(&r, "leaf CN=good.test,O=tlspin tests expired 1 day ago");
    run_result_free(&r);
    server_stop(&s);

    /* a leaf that outlives its intermediate (45 days): the intermediate ends
     * first, inside a 50-day warning */
    serve_leaf(&s, 60);
    PROBE_GOOD(&r, s.port, "--json", "--warn-days", "50");
    expect_exit(&r, 1);
    assert_json(r.out, "d['expiry']['position']", "intermediate");
    assert_json(r.out, "d['expiry']['subject']", "CN=tlspin test intermediate CA,O=tlspin tests");
    assert_json(r.out, "d['chain'][0]['days_left'] in (59, 60)", "true");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* UNKNOWN, usage                                                      */
/* ------------------------------------------------------------------ */

START_TEST(unknown_when_it_cannot_probe)
{
    struct server s;
    struct run_result r;
    int port;

    usual_policy();
    server_start(&s, "good");
    port = s.port;
    server_stop(&s);
    PROBE(&r, fmt("127.0.0.1:%d", port));
    expect_exit(&r, 3);
    ck_assert_msg(has_line(r.out, fmt("TLSPIN UNKNOWN - 127.0.0.1:%d: cannot connect to "
                                      "127.0.0.1:%d: Connection refused", port, port)),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PROBE(&r, "no-such-host.invalid");
    expect_verdict(&r, 3, "TLSPIN UNKNOWN - no-such-host.invalid:443: cannot resolve "
                          "no-such-host.invalid");
    run_result_free(&r);

    /* usage errors are UNKNOWN too */
    static const char *const bad[][4] = {
        { "--warn-days", "soon", "good.test", NULL },
        { "--all", "good.test", NULL },
        { "--all", "--sni", "x.test", NULL },
        { "a.test", "b.test", NULL },
        { "--crit-days", "40", "good.test", NULL },
        { "--cafile", "/nonexistent/ca.pem", "good.test", NULL },
        { "good.test:0", NULL },
        { "--bogus", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        probe_with(&r, &plain, bad[i]);
        expect_exit(&r, 3);
        expect_err_text(&r, "Try 'tlspin probe --help'");
        run_result_free(&r);
    }
    const char *none[] = {TLSPIN_CLI, "probe", NULL};
    ck_assert_int_eq(run_argv(&plain, &r, none), 0);
    expect_exit(&r, 3);
    expect_err_text(&r, "name a HOST[:PORT] to probe, or --all");
    run_result_free(&r);

    PROBE(&r, "--help");
    expect_exit(&r, 0);
    expect_text(&r, "usage: tlspin probe [OPTIONS] HOST[:PORT]");
    expect_text(&r, "writes a syslog record");
    expect_text(&r, "  3 UNKNOWN ");
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* --all                                                               */
/* ------------------------------------------------------------------ */

START_TEST(all_hosts_of_the_policy)
{
    struct server good, icpt, dead;
    struct run_result r;
    int dead_port;

    server_start(&good, "good");
    server_start(&icpt, "icpt");
    server_start(&dead, "good");
    dead_port = dead.port;
    server_stop(&dead);
    usual_policy();
    write_api_pinsets(
        good_pins_for("local", "\"localhost\", \"*.wild.test\"", ports(good.port)),
        good_pins_for("ip", "\"127.0.0.1\"", ports(icpt.port)),
        good_pins_for("down", "\"127.0.0.1\"", ports(dead_port)), NULL);
    PROBE(&r, "--all", "--cafile", cert("trust.pem"), "--warn-days", "20");
    expect_verdict(&r, 2, "TLSPIN CRITICAL - 3 hosts: 1 critical, 1 unknown, 0 warning, 1 ok\n");
    expect_line_prefix(&r, fmt("OK - localhost:%d: allowed", good.port));
    expect_line_prefix(&r, fmt("CRITICAL - 127.0.0.1:%d: BLOCKED by the policy (event "
                               "pin-mismatch)", icpt.port));
    expect_line_prefix(&r, fmt("UNKNOWN - 127.0.0.1:%d: cannot connect", dead_port));
    ck_assert_msg(strstr(r.out, "wild.test") == NULL, "a wildcard was probed: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    PROBE(&r, "--all", "--cafile", cert("trust.pem"), "--warn-days", "20", "--json");
    expect_exit(&r, 2);
    assert_json(r.out, "[(h['target'], h['status']) for h in d['hosts']]",
              fmt("[[\"localhost:%d\", \"OK\"], [\"127.0.0.1:%d\", \"CRITICAL\"], "
                  "[\"127.0.0.1:%d\", \"UNKNOWN\"]]", good.port, icpt.port, dead_port));
    assert_json(r.out, "d['exit']", "2");
    run_result_free(&r);

    /* UNKNOWN outranks WARNING and OK; WARNING outranks OK */
    write_api_pinsets(good_pins_for("local", "\"localhost\"", ports(good.port)),
                      good_pins_for("down", "\"127.0.0.1\"", ports(dead_port)), NULL);
    PROBE(&r, "--all", "--cafile", cert("trust.pem"));
    expect_verdict(&r, 3, "TLSPIN UNKNOWN - 2 hosts: 0 critical, 1 unknown, 1 warning, 0 ok\n");
    run_result_free(&r);
    write_api_pinsets(good_pins_for("local", "\"localhost\", \"127.0.0.1\"", ports(good.port)),
                      NULL);
    PROBE(&r, "--all", "--cafile", cert("trust.pem"));
    expect_verdict(&r, 1, "TLSPIN WARNING - 2 hosts: 0 critical, 0 unknown, 2 warning, 0 ok\n");
    run_result_free(&r);

    /* a pinset without ports is probed on 443 */
    write_api_pinsets(good_pins_for("any", "\"localhost\"", ""), NULL);
    PROBE(&r, "--all", "--cafile", cert("trust.pem"), "--timeout", "3", "--json");
    assert_json(r.out, "[h['target'] for h in d['hosts']]", "[\"localhost:443\"]");
    run_result_free(&r);

    /* nothing to probe */
    write_api_pinsets(good_pins_for("w", "\"*.wild.test\"", ""), NULL);
    PROBE(&r, "--all");
    expect_verdict(&r, 3, fmt("TLSPIN UNKNOWN - the policy %s names no host to probe", H.config));
    run_result_free(&r);
    write_policy("version = 1;\nstack = ( oops );\n");
    PROBE(&r, "--all");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - the policy %s does not load", H.config));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The shim in the command                                             */
/* ------------------------------------------------------------------ */

START_TEST(shim_in_the_command_decides_once)
{
    struct server s;
    struct run_result r;
    size_t mark = serve_pinned(&s, "icpt");

    PROBE_LOCAL(&r, &shim, "good.test", s.port, "--warn-days", "20");
    expect_verdict(&r, 2, fmt("TLSPIN CRITICAL - good.test:%d: BLOCKED by the policy (event "
                              "pin-mismatch) |", s.port));
    expect_line_prefix(&r, fmt("connection  127.0.0.1:%d, TLSv1.3", s.port));
    run_result_free(&r);
    /* one decision, one record: the shim let the command's handshake through */
    ck_assert_field(the_tlspin_record_since(mark), "action", "blocked");
}
END_TEST

static Suite *cli_probe_suite(void)
{
    Suite *s = suite_create("cli_probe");
    TCase *tc;

    tc = harness_tcase("decision");
    tcase_add_test(tc, pinned_match_allowed_silently);
    tcase_add_test(tc, blocked_with_the_shims_own_record);
    tcase_add_test(tc, report_only_and_report_mode);
    tcase_add_test(tc, unpinned_hosts);
    tcase_add_test(tc, expired_pinset_warns);
    tcase_add_test(tc, broken_entries_follow_on_error);
    tcase_add_test(tc, stack_stopped_by_sufficient);
    suite_add_tcase(s, tc);
    tc = harness_tcase("verification");
    tcase_add_test(tc, verification_is_part_of_the_verdict);
    tcase_add_test(tc, ip_literal_and_sni);
    suite_add_tcase(s, tc);
    tc = harness_tcase("expiry");
    tcase_add_test(tc, expiry_marks_and_thresholds);
    suite_add_tcase(s, tc);
    tc = harness_tcase("nagios");
    tcase_add_test(tc, unknown_when_it_cannot_probe);
    tcase_add_test(tc, all_hosts_of_the_policy);
    tcase_add_test(tc, shim_in_the_command_decides_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_probe_suite());
}
