/*
 * test_bypasses.c — one regression test per bypass the security review
 * found, each through real handshakes under the preload. Every test first
 * shows the threat without the shim (the program really talks to the wrong
 * key), then shows that tlspin refuses it; where a near miss must still
 * pass, a control test says so.
 *
 *   B1  a pinset with `ports = [P]` still applies when curl reaches P
 *       through an HTTP CONNECT proxy (the socket's port is the proxy's)
 *   B2  a verify callback that clears every error cannot make a forged
 *       chain (a fake CA copying the real intermediate's name and key id,
 *       the real intermediate appended) satisfy a pin on the intermediate
 *   B4  a session made under an unpinned SNI is not resumed on a connection
 *       without SNI to a pinned IP literal
 *   B5  a session set before the SNI names a pinned host is decided again
 *       for that host before the handshake starts
 *   B6  an SNI differing from the verified name (or IP) cannot pick a laxer
 *       pinset: every name the program gives must satisfy the policy
 *   B7  a pin on the intermediate counts only when the leaf is valid for
 *       the host (the intermediate vouches for everything it issued)
 *   B8  an expired pinset for the exact name does not hide a live pinset of
 *       a wider pattern
 *
 * B1, B7 and B8 are the file module's to fix; the others the engine's.
 *
 * The forged PKI (B2) and the leaf for pinned.test (B7) are made at test
 * time with the openssl CLI from the suite's fixtures (no binary blobs).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define BYPASS_CLIENT BIN_DIR "/bypass_client"
#define CONNECT_PROXY TLSPIN_SOURCE_DIR "/tests/integration/bypass_connect_proxy.py"

#define SEND_TEXT "tlspin-bypass-request\\r\\n\\r\\n"
#define SENT_TEXT "tlspin-bypass-request"
#define MARKER "tlspin-bypass-probe"

#define BLOCKED_LINE \
    "handshake failed ssl_error=1 verify_result=50 (application verification failure)"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A pinset file `name`.conf holding one pinset `name` for one host. */
static void pinset_for(const char *name, const char *host, const char *pin1, const char *pin2)
{
    write_pinsets(name,
                  "pinsets = ( { name = \"%s\"; hosts = [ \"%s\" ];\n"
                  "              pins = [ \"%s\", \"%s\" ]; } );\n",
                  name, host, pin1, pin2);
}

/* The pinset "ip": the IP literal 127.0.0.1 pinned to the good key (B4, B6
 * reach the interceptor by address). */
static void ip_pinset(void)
{
    pinset_for("ip", "127.0.0.1", pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* The enforcing half of most tests: the usual policy, the pinsets that
 * write_pinsets_fn writes, and a server presenting `identity`. Returns the
 * syslog mark taken last, so that only the client's records follow it. */
static size_t enforce_and_serve(void (*write_pinsets_fn)(void), struct server *s,
                                const char *identity)
{
    write_file_policy(NULL);
    write_pinsets_fn();
    server_start(s, identity);
    return syslog_mark();
}

/* Certificates B2 and B7 need are made at test time: `script` ($1 openssl,
 * $2 the fixtures, $3 the output directory) runs into H.tmp/<name> and
 * leaves <name>-chain.pem and <name>.key there for server_start_made(). */
static void make_pki(const char *what, const char *script, const char *name)
{
    const char *dir = fmt("%s/%s", H.tmp, name);

    run_script(what, script, (const char *const[]){OPENSSL, H.certs, dir, NULL});
}

/* tls_server (not preloaded) presenting what make_pki(..., name) made. */
static void server_start_made(struct server *s, const char *name)
{
    const char *args[] = {"--cert", fmt("%s/%s/%s-chain.pem", H.tmp, name, name),
                          "--key", fmt("%s/%s/%s.key", H.tmp, name, name), NULL};

    server_tls_server(s, args, 0);
}

/* What a multi-connection client printed for connection n alone (fmt()'s
 * ring buffer). */
static const char *connection_part(const struct run_result *r, unsigned n)
{
    const char *p = strstr(r->out, fmt("connection %u\n", n));
    const char *end;

    ck_assert_msg(p != NULL, "no 'connection %u' in the output: " RUN_FMT, n, RUN_ARGS(r));
    end = strstr(p, fmt("connection %u\n", n + 1));
    return fmt("%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
}

/* The server log has the request of connection n of bypass_client. */
static int server_got_request(const struct server *s, unsigned n)
{
    char *log = server_log(s);
    int got = strstr(log, fmt("bypass-request-%u", n)) != NULL;

    free(log);
    return got;
}

/* `out` (a client's output, or one connection's part of it) shows the
 * refusal tlspin causes inside the handshake: the application verification
 * failure and an error entry of library tlspin. r is shown on failure. */
static void assert_tlspin_refusal_in(const char *out, const struct run_result *r,
                                     const char *what)
{
    ck_assert_msg(has_line(out, BLOCKED_LINE), "%s: not the failure tlspin causes: " RUN_FMT, what,
                  RUN_ARGS(r));
    ck_assert_msg(has_tlspin_error_entry(out), "%s: no error entry of library tlspin: " RUN_FMT,
                  what, RUN_ARGS(r));
}

/* tls_client was refused by tlspin before it sent a byte: the client's side
 * of the refusal and the server's. */
static void assert_blocked_before_data(const struct run_result *r, const struct server *s)
{
    assert_client_blocked(r);
    assert_server_got_no_data(s);
}

/* tlspin logged nothing since mark: an allowed handshake is a silent one. */
static void assert_no_tlspin_record(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected tlspin records:\n%s",
                  syslog_dump_since(mark));
}

/* The control of a blocked case: tls_client completed, its SEND_TEXT reached
 * the server, and tlspin said nothing. */
static void assert_allowed_quietly(const struct run_result *r, const struct server *s,
                                   size_t mark)
{
    assert_client_ok(r);
    assert_server_got(s, SENT_TEXT);
    assert_no_tlspin_record(mark);
}

/* The record since mark that says action=blocked (waiting a little for it),
 * fails the test when there is none. */
static const struct syslog_rec *blocked_record(size_t mark)
{
    const struct syslog_rec *rec = syslog_wait_for_since(mark, "action=blocked", 2000);

    ck_assert_msg(rec != NULL, "no action=blocked record; records:\n%s", syslog_dump_since(mark));
    return rec;
}

/* A refusal's record is enough to fix the policy: it names the host and the
 * pinset that decided, and its chain holds the key that was presented. */
static void assert_record_blames(const struct syslog_rec *rec, const char *host,
                                 const char *pinset, const char *presented_pin)
{
    ck_assert_field(rec, "host", host);
    ck_assert_field(rec, "pinset", pinset);
    ck_assert_field_has(rec, "chain", presented_pin);
}

/* ------------------------------------------------------------------ */
/* B1: a port-restricted pinset through an HTTP CONNECT proxy           */
/* ------------------------------------------------------------------ */

struct proxy {
    pid_t pid;
    int port;
    char out[PATH_MAX];
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* bypass_connect_proxy.py on 127.0.0.1, kernel-chosen port. It dies with the
 * test process (PR_SET_PDEATHSIG) if the test fails before proxy_stop. */
static void proxy_start(struct proxy *p)
{
    static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    long deadline = now_ms() + 10000;

    memset(p, 0, sizeof *p);
    snprintf(p->out, sizeof p->out, "%s/proxy.out", H.tmp);
    p->pid = fork();
    ck_assert_msg(p->pid >= 0, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        int fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execle(PYTHON3, PYTHON3, "-I", CONNECT_PROXY, (char *)NULL, env);
        _exit(127);
    }
    setpgid(p->pid, p->pid);
    while (now_ms() < deadline) {
        char *txt = read_file(p->out, NULL);
        const char *l = txt ? strstr(txt, "listening ") : NULL;

        if (l != NULL && strchr(l, '\n') != NULL)
            p->port = atoi(l + 10);
        free(txt);
        if (p->port > 0)
            return;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            break;
        }
        usleep(10000);
    }
    {
        char *txt = read_file(p->out, NULL);
        ck_abort_msg("the CONNECT proxy did not start:\n%s", txt ? txt : "(no output)");
    }
}

static void proxy_stop(struct proxy *p)
{
    if (p->pid > 0) {
        kill(-p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    p->pid = 0;
}

/* The proxy was asked to CONNECT to good.test:port: curl really went
 * through it (what B1 is about), not straight to the server. */
static void assert_through_proxy(const struct proxy *p, int port)
{
    char *txt = read_file(p->out, NULL);
    int saw = txt && has_line(txt, fmt("connect good.test:%d", port));

    free(txt);
    ck_assert_msg(saw, "curl did not go through the proxy");
}

/* curl to https://good.test:port/ trusting the test CAs, either through
 * the proxy (proxy_port > 0) or straight (--resolve to 127.0.0.1). */
static void curl_run(struct run_result *r, const struct run_opts *o, int port, int proxy_port)
{
    const char *argv[24];
    size_t n = 0;

    argv[n++] = CURL;
    argv[n++] = "-q"; /* no ~/.curlrc */
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--cacert";
    argv[n++] = cert("trust.pem");
    if (proxy_port > 0) {
        argv[n++] = "--proxy";
        argv[n++] = fmt("http://127.0.0.1:%d", proxy_port);
    } else {
        argv[n++] = "--resolve";
        argv[n++] = fmt("good.test:%d:127.0.0.1", port);
    }
    argv[n++] = "-H";
    argv[n++] = "X-Probe: " MARKER;
    argv[n++] = fmt("https://good.test:%d/", port);
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

static void assert_curl_blocked(const struct run_result *r, const char *what)
{
    ck_assert_msg(r->exited && r->code == 60, "%s: curl was not blocked: " RUN_FMT, what,
                  RUN_ARGS(r));
    ck_assert_msg(strstr(r->err, "application verification failure"),
                  "%s: not the failure tlspin causes: " RUN_FMT, what, RUN_ARGS(r));
}

static void port_pinset(int port)
{
    write_pinsets("api",
                  "pinsets = ( { name = \"api\"; hosts = [ \"good.test\" ]; ports = [ %d ];\n"
                  "              pins = [ \"%s\", \"%s\" ]; } );\n",
                  port, pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

START_TEST(b1_port_pinset_applies_through_connect_proxy)
{
    struct server s;
    struct proxy px;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    server_start(&s, "icpt");
    proxy_start(&px);

    /* The threat: through the proxy, curl trusts the interceptor. */
    curl_run(&r, &plain, s.port, px.port);
    ck_assert_msg(r.exited && r.code == 0, "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    assert_through_proxy(&px, s.port);
    assert_server_got(&s, MARKER);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    write_file_policy(NULL);
    port_pinset(s.port);

    /* The pinset is right: straight to the port it names, blocked. */
    mark = syslog_mark();
    curl_run(&r, &shim, s.port, 0);
    assert_curl_blocked(&r, "straight");
    ck_assert_field(blocked_record(mark), "pinset", "api");
    run_result_free(&r);

    /* Through the proxy the socket's port is the proxy's: the host's
     * pinset must still apply. */
    mark = syslog_mark();
    curl_run(&r, &shim, s.port, px.port);
    assert_through_proxy(&px, s.port);
    assert_curl_blocked(&r, "through the CONNECT proxy");
    assert_server_got_no_data(&s);
    rec = blocked_record(mark);
    assert_record_blames(rec, "good.test", "api", pin("PIN_ICPT"));
    run_result_free(&r);
    proxy_stop(&px);
}
END_TEST

/* Control: the good key passes through the proxy. */
START_TEST(b1_good_key_through_connect_proxy_allowed)
{
    struct server s;
    struct proxy px;
    struct run_result r;
    size_t mark;

    server_start(&s, "good");
    proxy_start(&px);
    write_file_policy(NULL);
    port_pinset(s.port);
    mark = syslog_mark();
    curl_run(&r, &shim, s.port, px.port);
    ck_assert_msg(r.exited && r.code == 0, "the good key was refused: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "ok"), "no answer: " RUN_FMT, RUN_ARGS(&r));
    assert_through_proxy(&px, s.port);
    assert_server_got(&s, MARKER);
    assert_no_tlspin_record(mark);
    run_result_free(&r);
    proxy_stop(&px);
}
END_TEST

/* ------------------------------------------------------------------ */
/* B2: a verify callback that clears errors, and a forged chain         */
/* ------------------------------------------------------------------ */

/* $1 openssl, $2 the fixtures, $3 the output directory. A fake CA with the
 * real intermediate's subject and subject key id (self-signed, trusted by
 * nobody), a good.test leaf it signs (authority key id: the real
 * intermediate's), and what the attacker's server sends: that leaf with the
 * real intermediate appended. Checks that the forgery is one: the names and
 * key ids match, and only the signature is wrong. */
static const char forge_script[] =
    "set -euo pipefail\n"
    "ossl=$1 certs=$2 out=$3\n"
    "mkdir -p \"$out\" && cd \"$out\"\n"
    "subj=$(\"$ossl\" x509 -in \"$certs/int.pem\" -noout -subject -nameopt compat)\n"
    "subj=${subj#subject=}\n"
    "ski=$(\"$ossl\" x509 -in \"$certs/int.pem\" -noout -ext subjectKeyIdentifier |"
    " sed -n '2{s/ //g;p}')\n"
    "[[ -n $subj && -n $ski ]]\n"
    "cat > forge.cnf <<EOF\n"
    "[ req ]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[ dn ]\n"
    "CN = unused\n"
    "[ v3_fake ]\n"
    "basicConstraints = critical, CA:TRUE\n"
    "keyUsage = critical, keyCertSign, cRLSign\n"
    "subjectKeyIdentifier = $ski\n"
    "[ v3_leaf ]\n"
    "basicConstraints = critical, CA:FALSE\n"
    "keyUsage = critical, digitalSignature\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid:always\n"
    "subjectAltName = DNS:good.test\n"
    "EOF\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256"
    " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout fake-int.key -out fake-int.pem"
    " -subj \"$subj\" -extensions v3_fake 2>/dev/null\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256"
    " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout forged.key -out forged.pem"
    " -subj '/O=tlspin tests/CN=good.test' -extensions v3_leaf"
    " -CA fake-int.pem -CAkey fake-int.key 2>/dev/null\n"
    "cat forged.pem \"$certs/int.pem\" > forged-chain.pem\n"
    /* The forgery copies what chain building matches on. */
    "[[ $(\"$ossl\" x509 -in fake-int.pem -noout -subject -nameopt compat) =="
    " \"subject=$subj\" ]]\n"
    "[[ $(\"$ossl\" x509 -in forged.pem -noout -issuer -nameopt compat) =="
    " \"issuer=$subj\" ]]\n"
    "aki=$(\"$ossl\" x509 -in forged.pem -noout -ext authorityKeyIdentifier |"
    " sed -n '2{s/ //g;s/^keyid://;p}')\n"
    "[[ $aki == \"$ski\" ]] || { echo \"AKI $aki != SKI $ski\"; exit 1; }\n"
    /* ... and only the signature is wrong. */
    "if v=$(\"$ossl\" verify -CAfile \"$certs/trust.pem\" -untrusted \"$certs/int.pem\""
    " forged.pem 2>&1); then echo \"forged leaf verifies: $v\"; exit 1; fi\n"
    "grep -q 'signature failure' <<<\"$v\" || { echo \"unexpected: $v\"; exit 1; }\n";

static void clear_errors_client(struct run_result *r, const struct run_opts *o, int port)
{
    ck_assert_int_eq(RUN(r, o, BYPASS_CLIENT, "clear-errors", fmt("127.0.0.1:%d", port),
                         cert("trust.pem"), "good.test"),
                     0);
}

static void int_pinset(void)
{
    pinset_for("int", "good.test", pin("PIN_INT"), pin("PIN_BACKUP"));
}

START_TEST(b2_cleared_verify_errors_forged_chain_blocked)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    make_pki("forging the PKI", forge_script, "forged");

    /* The threat: the program's callback clears the signature failure, its
     * verification says ok, and the chain it built holds the real
     * intermediate. */
    server_start_made(&s, "forged");
    clear_errors_client(&r, &plain, s.port);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok") &&
                      has_line(r.out, "verify_result=0 (ok)"),
                  "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(line_number(r.out, "app-verify-cb cleared ") > 0,
                  "the callback cleared nothing: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(server_got_request(&s, 1), "the forged server got no request");
    run_result_free(&r);
    server_stop(&s);

    write_file_policy(NULL);
    int_pinset();
    server_start_made(&s, "forged");
    mark = syslog_mark();
    clear_errors_client(&r, &shim, s.port);
    ck_assert_msg(r.exited && r.code == 1 && !has_line(r.out, "handshake ok"),
                  "the forged chain satisfied the intermediate's pin: " RUN_FMT, RUN_ARGS(&r));
    assert_tlspin_refusal_in(r.out, &r, "the forged chain");
    assert_server_got_no_data(&s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "int");
    /* The program's "verified" chain did not count: only the leaf, whose
     * key the server proved it holds. */
    ck_assert_field(rec, "trust", "leaf-only");
    {
        char chain[4096];
        ck_assert_int_eq(rec_field(rec, "chain", chain, sizeof chain), 0);
        ck_assert_msg(!strstr(chain, pin("PIN_INT")), "the intermediate counted: %s", chain);
    }
    run_result_free(&r);
}
END_TEST

/* Control: the same program, the real chain: its callback clears nothing,
 * tlspin verifies the chain again without it, and the intermediate's pin is
 * met. */
START_TEST(b2_cleared_verify_errors_real_chain_allowed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    mark = enforce_and_serve(int_pinset, &s, "good");
    clear_errors_client(&r, &shim, s.port);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                  "the real chain was refused: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "app-verify-cb cleared 0"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(server_got_request(&s, 1), "the server got no request");
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* B4, B5: the host a session is decided for                            */
/* ------------------------------------------------------------------ */

static void resume_client(struct run_result *r, const struct run_opts *o, int port,
                          const char *first_sni, const char *second_sni, const char *order)
{
    ck_assert_int_eq(RUN(r, o, BYPASS_CLIENT, "resume", fmt("127.0.0.1:%d", port),
                         cert("trust.pem"), first_sni, second_sni, order),
                     0);
}

/* The threat: without the shim, an interceptor's server (its own, stopped
 * again) does resume this way, so a refusal under the shim is tlspin's
 * doing. */
static void assert_icpt_resumes_without_shim(const char *first_sni, const char *second_sni,
                                             const char *order)
{
    struct server s;
    struct run_result r;

    server_start(&s, "icpt");
    resume_client(&r, &plain, s.port, first_sni, second_sni, order);
    ck_assert_msg(r.exited && r.code == 0 && has_line(connection_part(&r, 2), "reused=1"),
                  "threat not reproduced (no resumption without the shim): " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);
}

/* resume_client under the shim: connection 1 (named for an unpinned host)
 * completed and sent its request; connection 2 offered its session, was not
 * resumed, and was refused by tlspin inside the handshake before it sent
 * its own. */
static void assert_only_second_refused(const struct run_result *r, const struct server *s,
                                       const char *what)
{
    const char *c2;

    ck_assert_msg(has_line(connection_part(r, 1), "handshake ok"),
                  "%s: the unpinned name was refused: " RUN_FMT, what, RUN_ARGS(r));
    c2 = connection_part(r, 2);
    ck_assert_msg(has_line(c2, "offered=1"), "%s: no session was offered: " RUN_FMT, what,
                  RUN_ARGS(r));
    ck_assert_msg(!has_line(c2, "reused=1"), "%s: the session was resumed: " RUN_FMT, what,
                  RUN_ARGS(r));
    ck_assert_msg(!has_line(c2, "handshake ok"), "%s: connection 2 completed: " RUN_FMT, what,
                  RUN_ARGS(r));
    assert_tlspin_refusal_in(c2, r, what);
    ck_assert_msg(r->exited && r->code == 1, "%s: " RUN_FMT, what, RUN_ARGS(r));
    ck_assert_msg(server_got_request(s, 1) && !server_got_request(s, 2),
                  "%s: connection 1 sent nothing, or connection 2 sent its request", what);
}

START_TEST(b4_session_from_unpinned_sni_not_resumed_for_pinned_ip)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    assert_icpt_resumes_without_shim("other.test", "-", "sni-then-session");
    mark = enforce_and_serve(ip_pinset, &s, "icpt");
    resume_client(&r, &shim, s.port, "other.test", "-", "sni-then-session");
    /* Connection 1 named other.test, which is unpinned: a full handshake.
     * Connection 2 names nothing: the pinned address speaks. */
    ck_assert_msg(!has_line(connection_part(&r, 1), "reused=1"), RUN_FMT, RUN_ARGS(&r));
    assert_only_second_refused(&r, &s, "session made for other.test, offered to 127.0.0.1");
    rec = blocked_record(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    assert_record_blames(rec, "127.0.0.1", "ip", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

START_TEST(b4_session_file_from_unpinned_sni_not_resumed_for_pinned_ip)
{
    struct server s;
    struct run_result r;
    char sess[PATH_MAX];
    size_t mark;

    snprintf(sess, sizeof sess, "%s/sess.pem", H.tmp);
    write_file_policy(NULL);
    ip_pinset();
    server_s_server_acking(&s, "other.test");
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "other.test",
                   (const char *const[]){"--sess-out", sess, NULL});
    assert_client_ok(&r);
    run_result_free(&r);

    /* Control: without the shim the server resumes it without SNI. */
    tls_client_run(&r, &plain, TLS_CLIENT, s.port, NULL,
                   (const char *const[]){"--sess-in", sess, NULL});
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1"), "server does not resume: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    mark = syslog_mark();
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, NULL,
                   (const char *const[]){"--sess-in", sess, NULL});
    ck_assert_msg(!has_line(r.out, "reused=1"), "resumed for the pinned address: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_client_blocked(&r);
    ck_assert_field(blocked_record(mark), "host", "127.0.0.1");
    run_result_free(&r);
}
END_TEST

START_TEST(b5_session_set_before_pinned_sni_not_resumed)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    assert_icpt_resumes_without_shim("other.test", "good.test", "session-then-sni");
    mark = enforce_and_serve(write_good_pinset, &s, "icpt");
    resume_client(&r, &shim, s.port, "other.test", "good.test", "session-then-sni");
    assert_only_second_refused(&r, &s, "session set, then SNI good.test");
    rec = blocked_record(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    assert_record_blames(rec, "good.test", "api", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* Control: the same order of calls with the good key resumes. */
START_TEST(b5_session_set_before_sni_good_key_resumed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    mark = enforce_and_serve(write_good_pinset, &s, "good");
    resume_client(&r, &shim, s.port, "good.test", "good.test", "session-then-sni");
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(connection_part(&r, 2), "reused=1"),
                  "a session satisfying the policy was not resumed: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(server_got_request(&s, 2), "connection 2 sent nothing");
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* B6: SNI versus the verified name                                     */
/* ------------------------------------------------------------------ */

static void names_client(struct run_result *r, const struct run_opts *o, int port,
                         const char *check_opt, const char *check_name)
{
    tls_client_run(r, o, TLS_CLIENT, port, "other.test",
                   (const char *const[]){check_opt, check_name, "--send", SEND_TEXT, NULL});
}

/* The threat: the interceptor's certificate is valid for good.test and
 * 127.0.0.1 (and other.test), so without the shim the program verifies the
 * name it checks and talks to the interceptor. Its own server, stopped
 * again. */
static void assert_icpt_verified_without_shim(const char *check_opt, const char *check_name)
{
    struct server s;
    struct run_result r;

    server_start(&s, "icpt");
    names_client(&r, &plain, s.port, check_opt, check_name);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "verify_result=0 (ok)"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);
}

START_TEST(b6_sni_other_than_verified_name_blocked)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    assert_icpt_verified_without_shim("--host-check", "good.test");
    mark = enforce_and_serve(write_good_pinset, &s, "icpt");
    names_client(&r, &shim, s.port, "--host-check", "good.test");
    assert_blocked_before_data(&r, &s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    assert_record_blames(rec, "good.test", "api", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* The same with the IP address the program verifies. */
START_TEST(b6_sni_other_than_verified_ip_blocked)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    assert_icpt_verified_without_shim("--ip-check", "127.0.0.1");
    mark = enforce_and_serve(ip_pinset, &s, "icpt");
    names_client(&r, &shim, s.port, "--ip-check", "127.0.0.1");
    assert_blocked_before_data(&r, &s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "127.0.0.1");
    ck_assert_field(rec, "pinset", "ip");
    run_result_free(&r);
}
END_TEST

/* Control: the good key satisfies the verified name's pinset, and the
 * unpinned SNI has nothing to say. */
START_TEST(b6_sni_other_than_verified_name_good_key_allowed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    mark = enforce_and_serve(write_good_pinset, &s, "good");
    names_client(&r, &shim, s.port, "--host-check", "good.test");
    assert_allowed_quietly(&r, &s, mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* B7: a non-leaf pin needs a leaf valid for the host                   */
/* ------------------------------------------------------------------ */

/* $1 openssl, $2 the fixtures, $3 the output directory: a leaf for
 * pinned.test only, signed by the fixtures' intermediate. */
static const char pinned_leaf_script[] =
    "set -euo pipefail\n"
    "ossl=$1 certs=$2 out=$3\n"
    "mkdir -p \"$out\" && cd \"$out\"\n"
    "cat > pinned.cnf <<'EOF'\n"
    "[ req ]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[ dn ]\n"
    "CN = unused\n"
    "[ v3_leaf ]\n"
    "basicConstraints = critical, CA:FALSE\n"
    "keyUsage = critical, digitalSignature\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid:always\n"
    "subjectAltName = DNS:pinned.test\n"
    "EOF\n"
    "\"$ossl\" req -config pinned.cnf -x509 -noenc -days 30 -sha256"
    " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout pinned.key -out pinned.pem"
    " -subj '/O=tlspin tests/CN=pinned.test' -extensions v3_leaf"
    " -CA \"$certs/int.pem\" -CAkey \"$certs/int.key\" 2>/dev/null\n"
    "cat pinned.pem \"$certs/int.pem\" > pinned-chain.pem\n"
    "\"$ossl\" verify -CAfile \"$certs/trust.pem\" -untrusted \"$certs/int.pem\""
    " -verify_hostname pinned.test pinned.pem >/dev/null\n";

static void pinned_int_pinset(void)
{
    pinset_for("pinned", "pinned.test", pin("PIN_INT"), pin("PIN_BACKUP"));
}

static void pinned_client(struct run_result *r, int port)
{
    tls_client_run(r, &shim, TLS_CLIENT, port, "pinned.test",
                   (const char *const[]){"--verify", "none", "--send", SEND_TEXT, NULL});
}

START_TEST(b7_int_pin_with_leaf_for_another_host_blocked)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    /* good.test's leaf, issued by the pinned intermediate, chains fine; it
     * is not valid for pinned.test. */
    mark = enforce_and_serve(pinned_int_pinset, &s, "good");
    pinned_client(&r, s.port);
    assert_blocked_before_data(&r, &s);
    rec = blocked_record(mark);
    assert_record_blames(rec, "pinned.test", "pinned", pin("PIN_GOOD"));
    run_result_free(&r);
}
END_TEST

/* Control: a leaf for pinned.test from the same intermediate passes. */
START_TEST(b7_int_pin_with_leaf_for_the_host_allowed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    make_pki("making the pinned.test leaf", pinned_leaf_script, "pinned");
    write_file_policy(NULL);
    pinned_int_pinset();
    server_start_made(&s, "pinned");
    mark = syslog_mark();
    pinned_client(&r, s.port);
    assert_allowed_quietly(&r, &s, mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* B8: an expired exact pinset and a live wider one                     */
/* ------------------------------------------------------------------ */

static void expired_and_live_pinsets(void)
{
    write_pinsets("good",
                  "pinsets = (\n"
                  "  { name = \"old\"; hosts = [ \"good.test\" ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; expires = \"2020-01-01\"; },\n"
                  "  { name = \"zone\"; hosts = [ \"**.good.test\" ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; }\n"
                  ");\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"), pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

static void good_test_client(struct run_result *r, int port)
{
    tls_client_run(r, &shim, TLS_CLIENT, port, "good.test",
                   (const char *const[]){"--send", SEND_TEXT, NULL});
}

START_TEST(b8_expired_exact_pinset_does_not_hide_live_one)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    mark = enforce_and_serve(expired_and_live_pinsets, &s, "icpt");
    good_test_client(&r, s.port);
    assert_blocked_before_data(&r, &s);
    rec = blocked_record(mark);
    assert_record_blames(rec, "good.test", "zone", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* Control: the live pinset's key passes. Not assert_allowed_quietly: only a
 * refusal is ruled out, since tlspin may log event=pinset-expired for the
 * expired pinset. */
START_TEST(b8_expired_exact_pinset_live_one_good_key_allowed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    mark = enforce_and_serve(expired_and_live_pinsets, &s, "good");
    good_test_client(&r, s.port);
    assert_client_ok(&r);
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_count_since(mark, "action=blocked") == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

static Suite *bypasses_suite(void)
{
    Suite *s = suite_create("bypasses");
    TCase *tc;

    tc = harness_tcase("B1 port through a CONNECT proxy");
    tcase_add_test(tc, b1_port_pinset_applies_through_connect_proxy);
    tcase_add_test(tc, b1_good_key_through_connect_proxy_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("B2 verify callback clearing errors");
    tcase_add_test(tc, b2_cleared_verify_errors_forged_chain_blocked);
    tcase_add_test(tc, b2_cleared_verify_errors_real_chain_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("B4 B5 session host");
    tcase_add_test(tc, b4_session_from_unpinned_sni_not_resumed_for_pinned_ip);
    tcase_add_test(tc, b4_session_file_from_unpinned_sni_not_resumed_for_pinned_ip);
    tcase_add_test(tc, b5_session_set_before_pinned_sni_not_resumed);
    tcase_add_test(tc, b5_session_set_before_sni_good_key_resumed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("B6 SNI versus verified name");
    tcase_add_test(tc, b6_sni_other_than_verified_name_blocked);
    tcase_add_test(tc, b6_sni_other_than_verified_ip_blocked);
    tcase_add_test(tc, b6_sni_other_than_verified_name_good_key_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("B7 non-leaf pin and the leaf's name");
    tcase_add_test(tc, b7_int_pin_with_leaf_for_another_host_blocked);
    tcase_add_test(tc, b7_int_pin_with_leaf_for_the_host_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("B8 expired pinset hiding a live one");
    tcase_add_test(tc, b8_expired_exact_pinset_does_not_hide_live_one);
    tcase_add_test(tc, b8_expired_exact_pinset_live_one_good_key_allowed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(bypasses_suite());
}
