/*
 * test_protocols.c — protocol variety (issue 3, point 3), every positive
 * paired with its negative control, real servers on 127.0.0.1 / ::1:
 *   - TLS 1.2 and TLS 1.3 with RSA-2048, ECDSA P-256 and Ed25519 server keys;
 *   - a chain with an intermediate: a pin on the leaf, on the intermediate,
 *     on the root (which the server never sends) each holds; a certificate
 *     the server merely appended never satisfies a pin (CVE-2016-2402);
 *   - IPv4 and IPv6 servers, IP-literal hosts without SNI (the host is the
 *     peer address, or the address the client verifies), curl on
 *     https://127.0.0.1:P/ and https://[::1]:P/;
 *   - port-specific pinsets for one host;
 *   - TLS 1.2 renegotiation to another certificate is decided again;
 *   - session resumption with session IDs and tickets, TLS 1.2 and 1.3: a
 *     session the policy allows is resumed; a session made before the
 *     pinset changed is not resumed against a key the new pinset rejects,
 *     neither in the same process (live reload) nor in a later one, nor
 *     for another host whose pinset rejects its key.
 * tls_client's --pause holds a process between its connections while the
 * test rewrites the pinset.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define REQUEST "tlspin-protocols-request"
#define SEND_REQUEST REQUEST "\\r\\n\\r\\n"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* tls_server presenting chain_file with key_file, plus extra arguments
 * (a later --listen overrides the harness's 127.0.0.1:0). */
static void start(struct server *s, const char *chain_file, const char *key_file,
                  const char *const extra[])
{
    const char *args[32];
    size_t n = 0;

    args[n++] = "--cert";
    args[n++] = cert(chain_file);
    args[n++] = "--key";
    args[n++] = cert(key_file);
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    server_tls_server(s, args, 0);
}

#define V6_LISTEN (const char *const[]){"--listen", "[::1]:0", NULL}

/* tls_client --connect addr --cafile trust.pem [--sni sni] --send REQUEST
 * extra... */
static void client(struct run_result *r, const struct run_opts *o, const char *addr,
                   const char *sni, const char *const extra[])
{
    const char *argv[48];
    size_t n = 0;

    argv[n++] = TLS_CLIENT;
    argv[n++] = "--connect";
    argv[n++] = addr;
    argv[n++] = "--cafile";
    argv[n++] = cert("trust.pem");
    argv[n++] = "--send";
    argv[n++] = SEND_REQUEST;
    if (sni) {
        argv[n++] = "--sni";
        argv[n++] = sni;
    }
    for (size_t i = 0; extra && extra[i] && n < 47; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

static const char *v4(int port)
{
    return fmt("127.0.0.1:%d", port);
}

static const char *v6(int port)
{
    return fmt("[::1]:%d", port);
}

/* A pinset file holding one pinset. ports: "" or e.g. "ports = [ 443 ];". */
static void pinset(const char *name, const char *host, const char *ports, const char *pin1,
                   const char *pin2)
{
    write_pinsets(name,
                  "pinsets = (\n"
                  "  { name = \"%s\"; hosts = [ \"%s\" ]; %s\n"
                  "    pins = [ \"%s\", \"%s\" ]; }\n"
                  ");\n",
                  name, host, ports, pin1, pin2);
}

/* The usual policy, with pinset "api" pinning good.test to `key` and the
 * backup (which no server presents, so `key` alone decides). */
static void pin_good_test(const char *key)
{
    write_file_policy(NULL);
    pinset("api", "good.test", "", key, pin("PIN_BACKUP"));
}

/* How many times needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The server's --events, waiting (bounded) until `needle` occurs `times`. */
static char *events_wait(const struct server *s, const char *needle, int times)
{
    for (int i = 0; i < 300; i++) {
        char *ev = server_events(s);
        if (count(ev, needle) >= times)
            return ev;
        free(ev);
        usleep(10000);
    }
    return server_events(s);
}

/* What tls_client printed for its connection n (1-based): the lines after
 * "connection n" up to the next connection ("" if absent). In fmt()'s ring. */
static const char *connection_output(const char *out, int n)
{
    const char *p = strstr(out, fmt("connection %d\n", n));
    const char *end;

    if (!p)
        return "";
    p = strchr(p, '\n') + 1;
    end = strstr(p, fmt("connection %d\n", n + 1));
    return fmt("%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
}

static void assert_no_record(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected tlspin records:\n%s",
                  syslog_dump_since(mark));
}

/* The one record of a pin mismatch that blocked host:port. */
static const struct syslog_rec *blocked_record(size_t mark, const char *host, int port)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", host);
    ck_assert_field(rec, "port", fmt("%d", port));
    return rec;
}

static void assert_field_lacks(const struct syslog_rec *r, const char *key, const char *what)
{
    char f[4096];
    ck_assert_msg(rec_field(r, key, f, sizeof f) == 0, "record has no %s: %s", key, r->msg);
    ck_assert_msg(strstr(f, what) == NULL, "record field %s names %s: %s", key, what, r->msg);
}

/* r's handshake with s went through: the client finished with "handshake
 * ok" and no failed handshake, its request reached s, and tlspin wrote no
 * record since mark. label (e.g. "[leaf] ") prefixes the failure message. */
static void assert_passed(const struct run_result *r, const struct server *s, size_t mark,
                          const char *label)
{
    ck_assert_msg(r->exited && r->code == 0 && has_line(r->out, "handshake ok") &&
                      !has_line_prefix(r->out, "handshake failed"),
                  "%sshould pass: " RUN_FMT, label, RUN_ARGS(r));
    assert_server_got(s, REQUEST);
    assert_no_record(mark);
}

/* tlspin refused r's handshake with s: the client failed with tlspin's
 * error, s received no application data, and the one record since mark is
 * the pin mismatch that blocked host at s's port. Returns that record for
 * the test's own field checks. */
static const struct syslog_rec *assert_refused(const struct run_result *r,
                                               const struct server *s, size_t mark,
                                               const char *host)
{
    assert_client_blocked(r);
    assert_server_got_no_data(s);
    return blocked_record(mark, host, s->port);
}

/* Once s has logged `after` (bounded wait), its --events contain `want`.
 * label prefixes the failure message. */
static void assert_server_event(const struct server *s, const char *after, const char *want,
                                const char *label)
{
    char *ev = events_wait(s, after, 1);

    ck_assert_msg(strstr(ev, want), "%sserver events lack '%s':\n%s", label, want, ev);
    free(ev);
}

/* The chain= field of a record for the interceptor's chain as the
 * application verifies it: its leaf, then its CA. */
static const char *icpt_chain_field(void)
{
    return fmt("%s CN=good.test,O=interception proxy | %s "
               "CN=interception proxy CA,O=tlspin tests",
               pin("PIN_ICPT"), pin("PIN_ICPT_CA"));
}

/* The expected= field of a record for a pinset of `key` and the backup. */
static const char *expected_with_backup(const char *key)
{
    return fmt("%s,%s", key, pin("PIN_BACKUP"));
}

/* ------------------------------------------------------------------ */
/* TLS 1.2 / 1.3 x RSA / ECDSA / Ed25519                               */
/* ------------------------------------------------------------------ */

struct keytype {
    const char *name, *chain, *key, *pin;
};
static const struct keytype keytypes[] = {
    {"RSA-2048", "good-rsa-chain.pem", "good-rsa.key", "PIN_RSA"},
    {"ECDSA P-256", "good-chain.pem", "good.key", "PIN_GOOD"},
    {"Ed25519", "good-ed25519-chain.pem", "good-ed25519.key", "PIN_ED25519"},
};
#define N_KEYTYPES 3

struct version {
    const char *flag, *name;
};
static const struct version versions[] = {{"--tls1.2", "TLSv1.2"}, {"--tls1.3", "TLSv1.3"}};

/* _i = key type + 3 * version */
#define KV_FMT "[%s %s] "
#define KV_ARGS(k, v) (k)->name, (v)->name

START_TEST(key_version_match_passes)
{
    const struct keytype *k = &keytypes[_i % N_KEYTYPES];
    const struct version *v = &versions[_i / N_KEYTYPES];
    const char *const flags[] = {v->flag, NULL};
    char label[64];
    struct server s;
    struct run_result r;
    size_t mark;

    snprintf(label, sizeof label, KV_FMT, KV_ARGS(k, v));
    pin_good_test(pin(k->pin));
    start(&s, k->chain, k->key, flags);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", flags);
    assert_passed(&r, &s, mark, label);
    ck_assert_msg(has_line(r.out, "verify_result=0 (ok)"), "%s" RUN_FMT, label, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("protocol=%s", v->name)), "%s" RUN_FMT, label,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin(k->pin))), "%s" RUN_FMT, label,
                  RUN_ARGS(&r));
    assert_server_event(&s, "handshake ok", fmt("handshake ok protocol=%s reused=0", v->name),
                        label);
    run_result_free(&r);
}
END_TEST

START_TEST(key_version_mismatch_blocked)
{
    const struct keytype *k = &keytypes[_i % N_KEYTYPES];
    const struct version *v = &versions[_i / N_KEYTYPES];
    const char *other1 = pin(keytypes[(_i + 1) % N_KEYTYPES].pin);
    const char *other2 = pin(keytypes[(_i + 2) % N_KEYTYPES].pin);
    const char *const flags[] = {v->flag, NULL};
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    /* The pinset names the other two leaf keys, not this server's. */
    write_file_policy(NULL);
    pinset("api", "good.test", "", other1, other2);
    start(&s, k->chain, k->key, flags);

    /* Control: the application alone accepts this server. */
    client(&r, &plain, v4(s.port), "good.test", flags);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, fmt("protocol=%s", v->name)),
                  KV_FMT "control failed: " RUN_FMT, KV_ARGS(k, v), RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    start(&s, k->chain, k->key, flags);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", flags);
    rec = assert_refused(&r, &s, mark, "good.test");
    ck_assert_field(rec, "trust", "app-verified");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "expected", fmt("%s,%s", other1, other2));
    /* Leaf first, then the intermediate and the root of the verified chain. */
    ck_assert_field_has(rec, "chain", fmt("%s CN=good.test", pin(k->pin)));
    ck_assert_field_has(rec, "chain", pin("PIN_INT"));
    ck_assert_field_has(rec, "chain", pin("PIN_CA"));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Chains                                                              */
/* ------------------------------------------------------------------ */

struct position {
    const char *name, *pin;
};
static const struct position positions[] = {
    {"leaf", "PIN_GOOD"},
    {"intermediate", "PIN_INT"},
    {"root (never sent by the server)", "PIN_CA"},
};

/* A pin on one position of the good chain (plus a backup key no
 * certificate carries) is met by the good server and not by the
 * interceptor. */
START_TEST(chain_position_pin)
{
    const struct position *p = &positions[_i];
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test(pin(p->pin));
    start(&s, "good-chain.pem", "good.key", NULL);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", NULL);
    assert_passed(&r, &s, mark, fmt("[pin on the %s] ", p->name));
    run_result_free(&r);

    /* Negative control: the interceptor's chain (also trusted by the
     * application) has no certificate with that key. */
    start(&s, "icpt-chain.pem", "icpt.key", NULL);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", NULL);
    rec = assert_refused(&r, &s, mark, "good.test");
    ck_assert_field(rec, "chain", icpt_chain_field());
    ck_assert_field(rec, "expected", expected_with_backup(pin(p->pin)));
    run_result_free(&r);
}
END_TEST

/* The interceptor's server appends the genuine leaf (which carries the
 * pinned key) after its own chain: the pin must not be met, whether the
 * application verifies (_i 0: the verified chain ends at the interceptor's
 * CA) or verifies nothing against a store that knows none of these CAs
 * (_i 1: nobody can verify the chain, so only the leaf counts). */
START_TEST(appended_certificate_does_not_satisfy_pin)
{
    const char *unverified[] = {"--verify", "none", "--cafile", cert("self.pem"), NULL};
    const char *const *mode = _i ? unverified : NULL;
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test(pin("PIN_GOOD"));
    start(&s, "appended-chain.pem", "icpt.key", NULL);

    /* Control: the application accepts this server... */
    client(&r, &plain, v4(s.port), "good.test", mode);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, fmt("peer_pin=%s", pin("PIN_ICPT"))),
                  "control failed: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    /* ...which really sends three certificates, the last one the good
     * leaf with the pinned key (s_client -showcerts lists what arrived). */
    RUN(&r, &plain, OPENSSL, "s_client", "-connect", v4(s.port), "-servername", "good.test",
        "-CAfile", cert("trust.pem"), "-showcerts");
    ck_assert_msg(count(r.out, "-----BEGIN CERTIFICATE-----") == 3 &&
                      strstr(r.out, " 2 s:O = tlspin tests, CN = good.test\n"),
                  "the server does not append the good leaf: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    start(&s, "appended-chain.pem", "icpt.key", NULL);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", mode);
    rec = assert_refused(&r, &s, mark, "good.test");
    assert_field_lacks(rec, "chain", pin("PIN_GOOD"));
    if (_i == 0) {
        ck_assert_field(rec, "trust", "app-verified");
        ck_assert_field(rec, "chain", icpt_chain_field());
    } else {
        ck_assert_field(rec, "trust", "leaf-only");
        ck_assert_field(rec, "chain", fmt("%s CN=good.test,O=interception proxy",
                                          pin("PIN_ICPT")));
    }
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* IPv4, IPv6, IP-literal hosts without SNI                            */
/* ------------------------------------------------------------------ */

/* _i: bit 0 IPv6, bit 1 --ip-check (else the host is the peer address). */
struct literal {
    int ipv6, ip_check;
    const char *host, *other_host, *name, *other_name;
};

static struct literal literal(int i)
{
    struct literal l = {i & 1, (i >> 1) & 1, "127.0.0.1", "::1", "v4", "v6"};
    if (l.ipv6) {
        l.host = "::1";
        l.other_host = "127.0.0.1";
        l.name = "v6";
        l.other_name = "v4";
    }
    return l;
}

/* The server's address on this family: "127.0.0.1:P" or "[::1]:P". */
static const char *literal_addr(const struct literal *l, int port)
{
    return l->ipv6 ? v6(port) : v4(port);
}

static void literal_client(struct run_result *r, const struct run_opts *o, const struct literal *l,
                           int port)
{
    client(r, o, literal_addr(l, port), NULL,
           l->ip_check ? (const char *const[]){"--ip-check", l->host, NULL} : NULL);
}

static void literal_server(struct server *s, const struct literal *l, const char *chain,
                           const char *key)
{
    start(s, chain, key, l->ipv6 ? V6_LISTEN : NULL);
}

#define LIT_FMT "[%s%s] "
#define LIT_ARGS(l) (l)->host, (l)->ip_check ? " --ip-check" : " peer address"

/* This family's pinset pins the good key; the other family's pins the
 * interceptor's key, so the test also shows which pinset was applied. */
static void literal_pinsets(const struct literal *l)
{
    write_file_policy(NULL);
    pinset(l->name, l->host, "", pin("PIN_GOOD"), pin("PIN_BACKUP"));
    pinset(l->other_name, l->other_host, "", pin("PIN_ICPT"), pin("PIN_BACKUP"));
}

START_TEST(ip_literal_match_passes)
{
    struct literal l = literal(_i);
    struct server s;
    struct run_result r;
    char label[64];
    size_t mark;

    snprintf(label, sizeof label, LIT_FMT, LIT_ARGS(&l));
    literal_pinsets(&l);
    literal_server(&s, &l, "good-chain.pem", "good.key");
    mark = syslog_mark();
    literal_client(&r, &shim, &l, s.port);
    assert_passed(&r, &s, mark, label);
    /* The client sent no SNI. */
    assert_server_event(&s, "handshake ok", "sni=-", label);
    run_result_free(&r);
}
END_TEST

START_TEST(ip_literal_mismatch_blocked)
{
    struct literal l = literal(_i);
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    literal_pinsets(&l);
    literal_server(&s, &l, "icpt-chain.pem", "icpt.key");
    /* Control: the application accepts the interceptor at this address. */
    literal_client(&r, &plain, &l, s.port);
    ck_assert_msg(r.exited && r.code == 0, LIT_FMT "control failed: " RUN_FMT, LIT_ARGS(&l),
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    literal_server(&s, &l, "icpt-chain.pem", "icpt.key");
    mark = syslog_mark();
    literal_client(&r, &shim, &l, s.port);
    rec = assert_refused(&r, &s, mark, l.host);
    ck_assert_field(rec, "peer", literal_addr(&l, s.port));
    ck_assert_field(rec, "pinset", l.name);
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    run_result_free(&r);
}
END_TEST

/* A name (SNI) over IPv6: the name decides, the v6 peer is recorded. */
START_TEST(ipv6_with_sni)
{
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test(pin("PIN_GOOD"));
    /* would allow the interceptor if the address were taken as the host */
    pinset("v6", "::1", "", pin("PIN_ICPT"), pin("PIN_BACKUP"));
    start(&s, "good-chain.pem", "good.key", V6_LISTEN);
    mark = syslog_mark();
    client(&r, &shim, v6(s.port), "good.test", NULL);
    assert_passed(&r, &s, mark, "[good.test over IPv6] ");
    run_result_free(&r);

    start(&s, "icpt-chain.pem", "icpt.key", V6_LISTEN);
    mark = syslog_mark();
    client(&r, &shim, v6(s.port), "good.test", NULL);
    rec = assert_refused(&r, &s, mark, "good.test");
    ck_assert_field(rec, "peer", v6(s.port));
    ck_assert_field(rec, "pinset", "api");
    run_result_free(&r);
}
END_TEST

/* curl https://127.0.0.1:P/ and https://[::1]:P/: curl sends no SNI for an
 * IP literal and gives the SSL its own BIO (no socket); the host and port
 * come from the process's only TCP peer. _i: 0 IPv4, 1 IPv6. */
static void curl_literal(struct run_result *r, const struct run_opts *o, const struct literal *l,
                         int port)
{
    RUN(r, o, CURL, "-q", "-sS", "--max-time", "10", "--cacert", cert("trust.pem"), "-H",
        "X-Probe: " REQUEST, fmt("https://%s/", literal_addr(l, port)));
}

START_TEST(curl_ip_literal)
{
    struct literal l = literal(_i);
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    size_t mark;

    literal_pinsets(&l);
    literal_server(&s, &l, "good-chain.pem", "good.key");
    mark = syslog_mark();
    curl_literal(&r, &shim, &l, s.port);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0,
                  LIT_FMT "curl should pass: " RUN_FMT, LIT_ARGS(&l), RUN_ARGS(&r));
    /* curl sent no SNI. */
    assert_server_event(&s, "handshake ok", "sni=-", "curl: ");
    assert_server_got(&s, REQUEST);
    assert_no_record(mark);
    run_result_free(&r);

    literal_server(&s, &l, "icpt-chain.pem", "icpt.key");
    /* Control: curl alone accepts the interceptor. */
    curl_literal(&r, &plain, &l, s.port);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0,
                  LIT_FMT "control failed: " RUN_FMT, LIT_ARGS(&l), RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    literal_server(&s, &l, "icpt-chain.pem", "icpt.key");
    mark = syslog_mark();
    curl_literal(&r, &shim, &l, s.port);
    ck_assert_msg(r.exited && r.code == 60 &&
                      strstr(r.err, "SSL certificate problem: application verification failure"),
                  LIT_FMT "curl should be blocked: " RUN_FMT, LIT_ARGS(&l), RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    rec = blocked_record(mark, l.host, s.port);
    ck_assert_field(rec, "program", "curl");
    ck_assert_field(rec, "peer", literal_addr(&l, s.port));
    ck_assert_field(rec, "pinset", l.name);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Ports                                                               */
/* ------------------------------------------------------------------ */

static void port_pinsets(int p1, const char *pin1, int p2, const char *pin2)
{
    pinset("p1", "good.test", fmt("ports = [ %d ];", p1), pin1, pin("PIN_BACKUP"));
    pinset("p2", "good.test", fmt("ports = [ %d ];", p2), pin2, pin("PIN_BACKUP"));
}

/* good.test on s's port is blocked under the shim by pinset `name`, which
 * expects `expected` (and the backup) while s presents `presented`. */
static void assert_port_blocked(const struct server *s, const char *name, const char *presented,
                                const char *expected)
{
    const struct syslog_rec *rec;
    struct run_result r;
    size_t mark = syslog_mark();

    client(&r, &shim, v4(s->port), "good.test", NULL);
    assert_client_blocked(&r);
    rec = blocked_record(mark, "good.test", s->port);
    ck_assert_field(rec, "pinset", name);
    ck_assert_field_has(rec, "chain", presented);
    ck_assert_field(rec, "expected", expected_with_backup(expected));
    run_result_free(&r);
}

/* curl https://good.test:P/ with good.test resolved to 127.0.0.1. */
static void curl_good_test(struct run_result *r, const struct run_opts *o, int port)
{
    RUN(r, o, CURL, "-q", "-sS", "--max-time", "10", "--cacert", cert("trust.pem"), "--resolve",
        fmt("good.test:%d:127.0.0.1", port), fmt("https://good.test:%d/", port));
}

/* One host, two servers (good on P1, the interceptor on P2), one pinset per
 * port: each port is held to its own pinset, then with the pins swapped
 * each is blocked by its own. */
START_TEST(per_port_pinsets)
{
    const struct syslog_rec *rec;
    struct server s1, s2, s3;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    start(&s1, "good-chain.pem", "good.key", NULL);
    start(&s2, "icpt-chain.pem", "icpt.key", NULL);
    start(&s3, "icpt-chain.pem", "icpt.key", NULL);

    port_pinsets(s1.port, pin("PIN_GOOD"), s2.port, pin("PIN_ICPT"));
    mark = syslog_mark();
    client(&r, &shim, v4(s1.port), "good.test", NULL);
    assert_client_ok(&r);
    run_result_free(&r);
    client(&r, &shim, v4(s2.port), "good.test", NULL);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin("PIN_ICPT"))), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    /* A third port is listed by neither pinset: a port never exempts a host,
     * so both pinsets apply and the interceptor's key satisfies p2. */
    client(&r, &shim, v4(s3.port), "good.test", NULL);
    assert_client_ok(&r);
    run_result_free(&r);
    assert_no_record(mark);
    /* ... and with neither pinset holding its key, it is blocked there. */
    port_pinsets(s1.port, pin("PIN_GOOD"), s2.port, pin("PIN_GOOD"));
    mark = syslog_mark();
    client(&r, &shim, v4(s3.port), "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);

    port_pinsets(s1.port, pin("PIN_ICPT"), s2.port, pin("PIN_GOOD"));
    assert_port_blocked(&s1, "p1", pin("PIN_GOOD"), pin("PIN_ICPT"));
    assert_port_blocked(&s2, "p2", pin("PIN_ICPT"), pin("PIN_GOOD"));

    /* curl (own BIO, port from the process's only TCP peer) obeys the
     * per-port pinsets too. */
    mark = syslog_mark();
    curl_good_test(&r, &shim, s2.port);
    ck_assert_msg(r.exited && r.code == 60, "curl should be blocked: " RUN_FMT, RUN_ARGS(&r));
    rec = blocked_record(mark, "good.test", s2.port);
    ck_assert_field(rec, "pinset", "p2");
    run_result_free(&r);
    curl_good_test(&r, &shim, s3.port);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0,
                  "curl on the unpinned port: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLS 1.2 renegotiation                                               */
/* ------------------------------------------------------------------ */

/* The server starts with the good chain, reads the request, then
 * renegotiates presenting the interceptor's chain: the first handshake is
 * allowed, the renegotiation is decided again and refused inside SSL_read. */
START_TEST(renegotiation_to_other_certificate_blocked)
{
    const char *const reneg_icpt[] = {"--tls1.2", "--reneg-cert", cert("icpt-chain.pem"),
                                      "--reneg-key", cert("icpt.key"), NULL};
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    char *log, *ev;
    size_t mark;

    pin_good_test(pin("PIN_GOOD"));

    /* Control: without the shim the client follows the server to the
     * interceptor's certificate (it trusts that CA). */
    start(&s, "good-chain.pem", "good.key", reneg_icpt);
    client(&r, &plain, v4(s.port), "good.test", NULL);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "renegotiations=1") &&
                      has_line(r.out, fmt("reneg_peer_pin=%s", pin("PIN_ICPT"))),
                  "control: no renegotiation to the interceptor: " RUN_FMT, RUN_ARGS(&r));
    assert_server_event(&s, "reneg ok", "reneg ok", "control: ");
    run_result_free(&r);
    server_stop(&s);

    start(&s, "good-chain.pem", "good.key", reneg_icpt);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", NULL);
    ck_assert_msg(r.exited && r.code == 1, "client should fail: " RUN_FMT, RUN_ARGS(&r));
    /* The first handshake: allowed, with the good key, request sent. */
    ck_assert_msg(has_line(r.out, "handshake ok") &&
                      has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))) &&
                      has_line(r.out, "protocol=TLSv1.2"),
                  RUN_FMT, RUN_ARGS(&r));
    /* The renegotiation: refused by tlspin inside SSL_read. */
    ck_assert_msg(has_line(r.out, "renegotiations=1") &&
                      has_line(r.out, "handshake failed ssl_error=1 verify_result=50 "
                                      "(application verification failure)") &&
                      has_tlspin_error_entry(r.out),
                  "renegotiation not refused by tlspin: " RUN_FMT, RUN_ARGS(&r));
    /* No certificate of the renegotiation was accepted, no answer read. */
    ck_assert_msg(!has_line_prefix(r.out, "reneg_peer_pin=") && has_line(r.out, "received=0"),
                  RUN_FMT, RUN_ARGS(&r));
    rec = blocked_record(mark, "good.test", s.port);
    ck_assert_field(rec, "chain", icpt_chain_field());
    ck_assert_field(rec, "peer", v4(s.port));
    /* The server got the request, then the client's fatal alert in the
     * renegotiation, and never answered. */
    assert_server_got(&s, "handshake failed: renegotiation: ");
    log = server_log(&s);
    ck_assert_msg(strstr(log, REQUEST) &&
                      strstr(log, "alert received: fatal handshake failure (40)"),
                  "server log:\n%s", log);
    free(log);
    ev = server_events(&s);
    ck_assert_msg(!strstr(ev, "reneg ok"), "server events:\n%s", ev);
    free(ev);
    run_result_free(&r);
}
END_TEST

/* Renegotiating to the same good certificate (a full handshake, the
 * certificate verified and decided again) stays allowed. _i: 0 --reneg,
 * 1 --reneg-cert with the good chain again. */
START_TEST(renegotiation_same_certificate_allowed)
{
    const char *const same[][6] = {
        {"--tls1.2", "--reneg", NULL},
        {"--tls1.2", "--reneg-cert", cert("good-chain.pem"), "--reneg-key", cert("good.key"), NULL},
    };
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test(pin("PIN_GOOD"));
    start(&s, "good-chain.pem", "good.key", same[_i]);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", NULL);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "renegotiations=1") &&
                      has_line(r.out, fmt("reneg_peer_pin=%s", pin("PIN_GOOD"))) &&
                      line_number(r.out, "received=") > 0,
                  "renegotiation: " RUN_FMT, RUN_ARGS(&r));
    assert_server_event(&s, "reneg ok", "reneg ok", "");
    assert_no_record(mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Session resumption                                                  */
/* ------------------------------------------------------------------ */

/* _i = version + 2 * tickets */
struct resumption {
    const struct version *v;
    int tickets;
    char sess[PATH_MAX];       /* the session file clients save and offer */
};

static struct resumption resumption(int i)
{
    struct resumption x = {&versions[i % 2], i / 2, ""};
    snprintf(x.sess, sizeof x.sess, "%s/sess.pem", H.tmp);
    return x;
}

#define RES_FMT "[%s %s] "
#define RES_ARGS(x) (x)->v->name, (x)->tickets ? "tickets" : "session IDs (--no-tickets)"

static void resumption_server(struct server *s, const struct resumption *x, const char *chain,
                              const char *key)
{
    start(s, chain, key,
          x->tickets ? (const char *const[]){x->v->flag, NULL}
                     : (const char *const[]){x->v->flag, "--no-tickets", NULL});
}

/* TLS 1.2: the saved session does (tickets) or does not (IDs) carry a
 * ticket, so the variant tested is the one named. */
static void assert_session_kind(const struct resumption *x)
{
    struct run_result r;

    if (strcmp(x->v->name, "TLSv1.2") != 0)
        return;
    RUN(&r, &plain, OPENSSL, "sess_id", "-in", x->sess, "-noout", "-text");
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "Protocol  : TLSv1.2"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(!!strstr(r.out, "TLS session ticket:") == x->tickets,
                  RES_FMT "session file: " RUN_FMT, RES_ARGS(x), RUN_ARGS(&r));
    run_result_free(&r);
}

/* A client for good.test under the shim that the policy allows, silently,
 * and that saves its session to x->sess. */
static void save_allowed_session(const struct resumption *x, const struct server *s)
{
    struct run_result r;
    size_t mark = syslog_mark();

    client(&r, &shim, v4(s->port), "good.test",
           (const char *const[]){x->v->flag, "--sess-out", x->sess, NULL});
    assert_client_ok(&r);
    run_result_free(&r);
    assert_no_record(mark);
}

/* A client (options o) for host offering the session saved in x->sess. */
static void offer_session(struct run_result *r, const struct run_opts *o,
                          const struct resumption *x, const struct server *s, const char *host)
{
    client(r, o, v4(s->port), host, (const char *const[]){x->v->flag, "--sess-in", x->sess, NULL});
}

/* Under the shim, the saved session offered for host is not resumed and
 * the full handshake is blocked. Returns the one record, of the pin
 * mismatch. */
static const struct syslog_rec *assert_session_refused(const struct resumption *x,
                                                       const struct server *s, const char *host)
{
    const struct syslog_rec *rec;
    struct run_result r;
    size_t mark = syslog_mark();

    offer_session(&r, &shim, x, s, host);
    ck_assert_msg(!has_line(r.out, "reused=1"), RES_FMT "resumed: " RUN_FMT, RES_ARGS(x),
                  RUN_ARGS(&r));
    assert_client_blocked(&r);
    rec = blocked_record(mark, host, s->port);
    run_result_free(&r);
    return rec;
}

/* Control: without the shim, the server does resume the saved session
 * offered for host (so the shim, not the server, declined it). */
static void assert_server_resumes(const struct resumption *x, const struct server *s,
                                  const char *host)
{
    struct run_result r;

    offer_session(&r, &plain, x, s, host);
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1"),
                  RES_FMT "control: the server does not resume the session: " RUN_FMT,
                  RES_ARGS(x), RUN_ARGS(&r));
    run_result_free(&r);
}

/* Made while the pinset allowed it, resumed under the same policy: in the
 * same process (across a pause long enough for a reload check) and in a
 * later process. */
START_TEST(resumption_allowed)
{
    struct resumption x = resumption(_i);
    struct server s;
    struct run_result r;
    char *ev;
    size_t mark;

    pin_good_test(pin("PIN_GOOD"));
    resumption_server(&s, &x, "good-chain.pem", "good.key");
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test",
           (const char *const[]){x.v->flag, "--resume", "1", "--pause", "1200", "--sess-out",
                                 x.sess, NULL});
    assert_client_ok(&r);
    ck_assert_msg(has_line(connection_output(r.out, 1), "reused=0") &&
                      has_line(connection_output(r.out, 2), "reused=1"),
                  RES_FMT "not resumed in the same process: " RUN_FMT, RES_ARGS(&x),
                  RUN_ARGS(&r));
    run_result_free(&r);
    ev = events_wait(&s, "handshake ok", 2);
    ck_assert_msg(strstr(ev, fmt("handshake ok protocol=%s reused=0", x.v->name)) &&
                      strstr(ev, fmt("handshake ok protocol=%s reused=1", x.v->name)),
                  RES_FMT "server events:\n%s", RES_ARGS(&x), ev);
    free(ev);
    assert_session_kind(&x);

    offer_session(&r, &shim, &x, &s, "good.test");
    assert_client_ok(&r);
    ck_assert_msg(has_line(r.out, "reused=1") &&
                      has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))),
                  RES_FMT "not resumed in a later process: " RUN_FMT, RES_ARGS(&x),
                  RUN_ARGS(&r));
    ev = events_wait(&s, "reused=1", 2);
    ck_assert_msg(count(ev, "reused=1") == 2, RES_FMT "server events:\n%s", RES_ARGS(&x), ev);
    free(ev);
    assert_no_record(mark);
    run_result_free(&r);
}
END_TEST

/* Write H.pinsets/api.conf for good.test with `p` and the backup, by a
 * rename (a process that is running sees either file, never half of one).
 * Safe in a forked child: no Check assertion. Returns 0 or -1. */
static int rewrite_api_pinset(const char *p)
{
    char tmp[PATH_MAX + 32], dst[PATH_MAX + 32];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%.*s/api.conf.new", PATH_MAX, H.pinsets);
    snprintf(dst, sizeof dst, "%.*s/api.conf", PATH_MAX, H.pinsets);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f,
            "pinsets = (\n"
            "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
            "    pins = [ \"%s\", \"%s\" ]; }\n"
            ");\n",
            p, pin_opt("PIN_BACKUP"));
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, dst);
}

/* A child that waits for the server's first completed handshake, then
 * rewrites the pinset to the good key. Exits 0 when it did. */
static pid_t rewrite_after_first_handshake(const struct server *s)
{
    pid_t pid = fork();

    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        for (int i = 0; i < 1000; i++) {
            char *ev = read_file(s->events, NULL);
            int seen = ev && strstr(ev, "handshake ok");
            free(ev);
            if (seen)
                _exit(rewrite_api_pinset(pin_opt("PIN_GOOD")) == 0 ? 0 : 2);
            usleep(5000);
        }
        _exit(3);
    }
    return pid;
}

/* The policy pins the interceptor's key for good.test; the client makes a
 * session with the interceptor, then (same process, 2 s later, the pinset
 * now pinning the good key and reloaded live) offers it again: it must not
 * be resumed; the full handshake meets the interceptor's key and is
 * blocked. */
START_TEST(resumption_after_pinset_change_same_process)
{
    struct resumption x = resumption(_i);
    const char *const args[] = {x.v->flag, "--resume", "1", "--pause", "2000", NULL};
    const struct syslog_rec *rec;
    struct server s;
    struct run_result r;
    const char *c1, *c2;
    char *ev, *log;
    pid_t writer;
    int st;
    size_t mark;

    pin_good_test(pin("PIN_ICPT"));

    /* Control: without the shim the server resumes the second connection. */
    resumption_server(&s, &x, "icpt-chain.pem", "icpt.key");
    client(&r, &plain, v4(s.port), "good.test",
           (const char *const[]){x.v->flag, "--resume", "1", NULL});
    assert_client_ok(&r);
    ck_assert_msg(has_line(connection_output(r.out, 2), "reused=1"),
                  RES_FMT "control: the server does not resume: " RUN_FMT, RES_ARGS(&x),
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    resumption_server(&s, &x, "icpt-chain.pem", "icpt.key");
    writer = rewrite_after_first_handshake(&s);
    mark = syslog_mark();
    client(&r, &shim, v4(s.port), "good.test", args);
    ck_assert_int_eq(waitpid(writer, &st, 0), writer);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the pinset was not rewritten (%d)", st);

    c1 = connection_output(r.out, 1);
    c2 = connection_output(r.out, 2);
    ck_assert_msg(r.exited && r.code == 1, RES_FMT RUN_FMT, RES_ARGS(&x), RUN_ARGS(&r));
    /* Connection 1: the interceptor's key, pinned at the time. */
    ck_assert_msg(has_line(c1, "handshake ok") && has_line(c1, "reused=0") &&
                      has_line(c1, fmt("peer_pin=%s", pin("PIN_ICPT"))),
                  RES_FMT "connection 1 should pass: " RUN_FMT, RES_ARGS(&x), RUN_ARGS(&r));
    /* Connection 2: not resumed, a full handshake, refused. */
    ck_assert_msg(!strstr(r.out, "reused=1") && !has_line(c2, "handshake ok") &&
                      has_line(c2, "handshake failed ssl_error=1 verify_result=50 "
                                   "(application verification failure)") &&
                      has_tlspin_error_entry(c2),
                  RES_FMT "a session made before the pinset changed was resumed or not "
                          "refused: " RUN_FMT,
                  RES_ARGS(&x), RUN_ARGS(&r));
    rec = blocked_record(mark, "good.test", s.port);
    ck_assert_field(rec, "expected", expected_with_backup(pin("PIN_GOOD")));
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    /* The server: one handshake, one request, then a refused handshake. */
    assert_server_got(&s, "handshake failed: ");
    log = server_log(&s);
    ck_assert_msg(count(log, REQUEST) == 1 &&
                      strstr(log, "alert received: fatal handshake failure (40)"),
                  "server log:\n%s", log);
    free(log);
    ev = server_events(&s);
    ck_assert_msg(count(ev, "handshake ok") == 1 && !strstr(ev, "reused=1"),
                  "server events:\n%s", ev);
    free(ev);
    run_result_free(&r);
}
END_TEST

/* The same across processes: the session saved to a file while the pinset
 * pinned the interceptor's key is not resumed by a later process once the
 * pinset pins the good key; afterwards, without the shim, the server does
 * resume that very session (the shim never offered it). */
START_TEST(resumption_after_pinset_change_across_processes)
{
    struct resumption x = resumption(_i);
    struct server s;
    char *log, *ev;

    pin_good_test(pin("PIN_ICPT"));
    resumption_server(&s, &x, "icpt-chain.pem", "icpt.key");
    save_allowed_session(&x, &s);
    assert_session_kind(&x);

    ck_assert_int_eq(rewrite_api_pinset(pin("PIN_GOOD")), 0);
    assert_session_refused(&x, &s, "good.test");

    /* Control: the server would have resumed it. */
    assert_server_resumes(&x, &s, "good.test");

    log = server_log(&s);
    ck_assert_msg(count(log, REQUEST) == 2 &&
                      count(log, "alert received: fatal handshake failure (40)") == 1,
                  "server log:\n%s", log);
    free(log);
    ev = events_wait(&s, "reused=1", 1);
    ck_assert_msg(count(ev, "handshake ok") == 2 && count(ev, "reused=1") == 1,
                  "server events:\n%s", ev);
    free(ev);
}
END_TEST

/* A session made for good.test (allowed: its pinset pins the good key) is
 * offered for other.test, whose pinset pins only the interceptor's key: it
 * is decided for the host asked for now, not resumed, and the full
 * handshake is blocked; without the shim the server resumes it. */
START_TEST(resumption_for_another_host)
{
    struct resumption x = resumption(_i);
    const struct syslog_rec *rec;
    struct server s;

    pin_good_test(pin("PIN_GOOD"));
    pinset("other", "other.test", "", pin("PIN_ICPT"), pin("PIN_BACKUP"));
    resumption_server(&s, &x, "good-chain.pem", "good.key");
    save_allowed_session(&x, &s);

    rec = assert_session_refused(&x, &s, "other.test");
    ck_assert_field(rec, "pinset", "other");

    assert_server_resumes(&x, &s, "other.test");
}
END_TEST

static Suite *protocols_suite(void)
{
    Suite *s = suite_create("protocols");
    TCase *tc;

    tc = harness_tcase("versions and key types");
    tcase_add_loop_test(tc, key_version_match_passes, 0, 2 * N_KEYTYPES);
    tcase_add_loop_test(tc, key_version_mismatch_blocked, 0, 2 * N_KEYTYPES);
    suite_add_tcase(s, tc);

    tc = harness_tcase("chains");
    tcase_add_loop_test(tc, chain_position_pin, 0, 3);
    tcase_add_loop_test(tc, appended_certificate_does_not_satisfy_pin, 0, 2);
    suite_add_tcase(s, tc);

    tc = harness_tcase("addresses");
    tcase_add_loop_test(tc, ip_literal_match_passes, 0, 4);
    tcase_add_loop_test(tc, ip_literal_mismatch_blocked, 0, 4);
    tcase_add_test(tc, ipv6_with_sni);
    tcase_add_loop_test(tc, curl_ip_literal, 0, 2);
    suite_add_tcase(s, tc);

    tc = harness_tcase("ports");
    tcase_add_test(tc, per_port_pinsets);
    suite_add_tcase(s, tc);

    tc = harness_tcase("renegotiation");
    tcase_add_test(tc, renegotiation_to_other_certificate_blocked);
    tcase_add_loop_test(tc, renegotiation_same_certificate_allowed, 0, 2);
    suite_add_tcase(s, tc);

    tc = harness_tcase("resumption");
    tcase_add_loop_test(tc, resumption_allowed, 0, 4);
    tcase_add_loop_test(tc, resumption_after_pinset_change_same_process, 0, 4);
    tcase_add_loop_test(tc, resumption_after_pinset_change_across_processes, 0, 4);
    tcase_add_loop_test(tc, resumption_for_another_host, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(protocols_suite());
}
