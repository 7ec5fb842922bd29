/*
 * test_bypass_identity.c — issue 11, the identity of the server: which host
 * and port a handshake is decided under when the program does not say.
 * Real programs (curl, python3's asyncio, socat, perl) under the preload
 * against real servers on 127.0.0.1 (or 127.0.0.2 in a network namespace
 * of the test's own).
 *
 *   I2  curl to a pinned IP literal sends no SNI and its SSL has no socket:
 *       tlspin looks for the server among the process's TCP peers. With a
 *       second peer open (curl's connection pool, a socket of the program's
 *       own) every peer address is decided and all must pass; with no peer
 *       to be found (no /proc, a unix socket) the server is unknown, and the
 *       file module answers ERROR (event host-unknown) when it pins any IP
 *       address: on_error decides, never "no opinion".
 *   I6  through an HTTP CONNECT proxy the port tlspin sees is the proxy's:
 *       when a pinset of the host lists that port, it decides (documented in
 *       README "What cannot be covered"), and `tlspin check` warns about
 *       port-restricted pinsets of one host that pin different keys.
 *   I7  socat's `commonname=…,no-sni=1` (and IO::Socket::SSL's
 *       SSL_verifycn_name without SNI) check the name in their own code: the
 *       name never reaches OpenSSL, so the connection is decided by its
 *       address (documented; a pin on 127.0.0.1 holds, a pin on the name is
 *       not seen).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define TLSPIN_CLI BIN_DIR "/tlspin"
#define CONNECT_PROXY TLSPIN_SOURCE_DIR "/tests/integration/bypass_connect_proxy.py"
#define SOCAT "/usr/bin/socat"

#define MARKER "tlspin-identity-probe"
#define CURL_BLOCKED "application verification failure"

/* ------------------------------------------------------------------ */
/* Helper processes                                                    */
/* ------------------------------------------------------------------ */

struct helper {
    pid_t pid;
    int port;                  /* from its "listening <port>" line, or 0 */
    char out[PATH_MAX];        /* its stdout+stderr */
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Start argv (not preloaded) in its own process group; it dies with the
 * test process (PR_SET_PDEATHSIG). Waits until `ready(h)` says it is up,
 * for at most 10 s. */
static void helper_start(struct helper *h, const char *name, const char *const argv[],
                         int (*ready)(struct helper *h))
{
    static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    long deadline = now_ms() + 10000;

    memset(h, 0, sizeof *h);
    snprintf(h->out, sizeof h->out, "%s/%s.out", H.tmp, name);
    unlink(h->out); /* a restarted helper must not be read as the one before */
    h->pid = fork();
    ck_assert_msg(h->pid >= 0, "fork: %s", strerror(errno));
    if (h->pid == 0) {
        int fd = open(h->out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    setpgid(h->pid, h->pid);
    while (now_ms() < deadline) {
        if (ready(h))
            return;
        if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
            h->pid = 0;
            break;
        }
        usleep(10000);
    }
    {
        char *txt = read_file(h->out, NULL);
        ck_abort_msg("%s did not start:\n%s", name, txt ? txt : "(no output)");
    }
}

/* Ready when it printed "listening <port>". */
static int printed_port(struct helper *h)
{
    char *txt = read_file(h->out, NULL);
    const char *l = txt ? strstr(txt, "listening ") : NULL;

    if (l != NULL && strchr(l, '\n') != NULL)
        h->port = atoi(l + 10);
    free(txt);
    return h->port > 0;
}

static void helper_stop(struct helper *h)
{
    if (h->pid > 0) {
        kill(-h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
    }
    h->pid = 0;
}

/* A plain HTTP/1.1 server that keeps connections open (keep-alive): curl
 * keeps its connection in the pool while it fetches the next URL. */
static const char keepalive_py[] =
    "import http.server, sys\n"
    "class Handler(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        body = b'kept\\n'\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "srv = http.server.ThreadingHTTPServer((sys.argv[1], 0), Handler)\n"
    "print('listening %d' % srv.server_address[1], flush=True)\n"
    "srv.serve_forever()\n";

static void keepalive_start(struct helper *h, const char *addr)
{
    const char *script = write_file("keepalive.py", "%s", keepalive_py);

    helper_start(h, "keepalive", (const char *const[]){PYTHON3, "-I", script, addr, NULL},
                 printed_port);
}

/* ------------------------------------------------------------------ */
/* Policy and assertions                                               */
/* ------------------------------------------------------------------ */

/* A pinset file `name`.conf holding one pinset `name` for one host. */
static void pinset_for(const char *name, const char *host, const char *pin1, const char *pin2)
{
    write_pinsets(name,
                  "pinsets = ( { name = \"%s\"; hosts = [ \"%s\" ];\n"
                  "              pins = [ \"%s\", \"%s\" ]; } );\n",
                  name, host, pin1, pin2);
}

/* The usual policy (on_error deny) and 127.0.0.1 pinned to the good key. */
static void pin_loopback_ip(void)
{
    write_file_policy(NULL);
    pinset_for("ip", "127.0.0.1", pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* The same policy with on_error = "allow". */
static void pin_loopback_ip_on_error_allow(void)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"allow\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\";\n"
                 "        rate_limit_seconds = 0; };\n"
                 "stack = (\n"
                 "  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }\n"
                 ");\n",
                 H.pinsets);
    mkdir(H.pinsets, 0755);
    pinset_for("ip", "127.0.0.1", pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* curl refused by tlspin inside the handshake (exit 60). */
static void assert_curl_blocked(const struct run_result *r, const char *what)
{
    ck_assert_msg(r->exited && r->code == 60, "%s: curl was not blocked: " RUN_FMT, what,
                  RUN_ARGS(r));
    ck_assert_msg(strstr(r->err, CURL_BLOCKED), "%s: not the failure tlspin causes: " RUN_FMT,
                  what, RUN_ARGS(r));
}

static void assert_curl_ok(const struct run_result *r, const char *what)
{
    ck_assert_msg(r->exited && r->code == 0, "%s: curl failed: " RUN_FMT, what, RUN_ARGS(r));
}

/* The server's handshake failed and no request reached it. (asyncio closes
 * its transport without flushing the alert that libssl wrote into its
 * memory BIO: the server sees an EOF, not alert 40.) */
static void assert_server_never_got_request(const struct server *s)
{
    char *log = server_log(s);
    int failed = strstr(log, "handshake failed") != NULL, got = strstr(log, MARKER) != NULL;

    free(log);
    ck_assert_msg(failed && !got, "the server's handshake did not fail, or it got the request");
}

/* tlspin logged nothing since mark: an allowed handshake is a silent one. */
static void assert_no_tlspin_record(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected tlspin records:\n%s",
                  syslog_dump_since(mark));
}

/* The one record since mark: a pin mismatch on `host` under pinset "ip",
 * whose chain holds the interceptor's key. */
static const struct syslog_rec *assert_ip_mismatch_record(size_t mark, const char *host)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);

    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", host);
    ck_assert_field(rec, "pinset", "ip");
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
    return rec;
}

/* The one record since mark: the server could not be identified, and the
 * file module (which pins an IP address) said so; `action` is what
 * on_error made of it. */
static void assert_host_unknown_record(size_t mark, const char *action)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);

    ck_assert_field(rec, "event", "host-unknown");
    ck_assert_field(rec, "action", action);
    ck_assert_field(rec, "host", "-");
    ck_assert_field(rec, "module", "file");
    ck_assert_field(rec, "verdict", "error");
    ck_assert_field_has(rec, "reason", "no name");
}

/* ------------------------------------------------------------------ */
/* curl                                                                */
/* ------------------------------------------------------------------ */

/* curl -v (verbose: the pool's "left intact" line) over the URLs, trusting
 * the test CAs; extra options come first (NULL-terminated). */
static void curl_urls(struct run_result *r, const struct run_opts *o, const char *const extra[],
                      const char *const urls[])
{
    const char *argv[32] = {CURL, "-q", "-sS", "-v", "--max-time", "10", "--cacert",
                            cert("trust.pem"), "-H", "X-Probe: " MARKER};
    size_t n = 10;

    for (size_t i = 0; extra && extra[i] && n < 20; i++)
        argv[n++] = extra[i];
    for (size_t i = 0; urls[i] && n < 31; i++)
        argv[n++] = urls[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* curl fetches http://<addr>:<keepalive port>/ first and keeps that
 * connection in its pool (the "left intact" line proves it), then
 * https://127.0.0.1:<port>/: its second handshake runs while the process
 * has two TCP peers. */
static void curl_after_pooled(struct run_result *r, const struct run_opts *o,
                              const struct helper *kept, const char *kept_addr, int port)
{
    curl_urls(r, o, NULL,
              (const char *const[]){fmt("http://%s:%d/", kept_addr, kept->port),
                                    fmt("https://127.0.0.1:%d/", port), NULL});
    ck_assert_msg(strstr(r->out, "kept"), "the first URL was not fetched: " RUN_FMT, RUN_ARGS(r));
    ck_assert_msg(strstr(r->err, "Connection #0 to host") && strstr(r->err, "left intact"),
                  "curl did not keep the first connection: " RUN_FMT, RUN_ARGS(r));
}

/* ------------------------------------------------------------------ */
/* I2: a second TCP peer                                               */
/* ------------------------------------------------------------------ */

START_TEST(i2_pooled_second_peer_pinned_ip_blocked)
{
    struct server s;
    struct helper kept;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    keepalive_start(&kept, "127.0.0.1");

    /* The threat: curl trusts the interceptor's chain. */
    curl_after_pooled(&r, &plain, &kept, "127.0.0.1", s.port);
    assert_curl_ok(&r, "without the shim");
    assert_server_got(&s, MARKER);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    pin_loopback_ip();
    mark = syslog_mark();
    curl_after_pooled(&r, &shim, &kept, "127.0.0.1", s.port);
    assert_curl_blocked(&r, "second connection, first one pooled");
    assert_server_got_no_data(&s);
    /* Both peers are 127.0.0.1: the host is certain, the port is not. */
    ck_assert_field(assert_ip_mismatch_record(mark, "127.0.0.1"), "port", "-");
    run_result_free(&r);
    helper_stop(&kept);
}
END_TEST

/* Control: the good key passes with a second peer open, silently. */
START_TEST(i2_pooled_second_peer_good_key_allowed)
{
    struct server s;
    struct helper kept;
    struct run_result r;
    size_t mark;

    server_start(&s, "good");
    keepalive_start(&kept, "127.0.0.1");
    pin_loopback_ip();
    mark = syslog_mark();
    curl_after_pooled(&r, &shim, &kept, "127.0.0.1", s.port);
    assert_curl_ok(&r, "good key, first connection pooled");
    assert_server_got(&s, MARKER);
    assert_no_tlspin_record(mark);
    run_result_free(&r);
    helper_stop(&kept);
}
END_TEST

/* A network namespace of this test process with lo up: 127.0.0.2 is a
 * second local address, reachable only from here. */
static void private_network(void)
{
    struct ifreq ifr;
    int fd;

    ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    ck_assert_msg(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS: %s", strerror(errno));
    ifr.ifr_flags |= IFF_UP;
    ck_assert_msg(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS: %s", strerror(errno));
    close(fd);
}

/* tls_server presenting the interceptor's chain on addr (a later --listen
 * overrides the harness's 127.0.0.1). */
static void icpt_server_on(struct server *s, const char *addr)
{
    server_tls_server(s, (const char *const[]){"--cert", cert("icpt-chain.pem"), "--key",
                                               cert("icpt.key"), "--listen", fmt("%s:0", addr),
                                               NULL},
                      0);
}

/* The other peer has another address: each address is decided, the pinned
 * one refuses. */
START_TEST(i2_other_address_peer_pinned_ip_blocked)
{
    struct server s;
    struct helper kept;
    struct run_result r;
    size_t mark;

    private_network();
    server_start(&s, "icpt");
    keepalive_start(&kept, "127.0.0.2");
    pin_loopback_ip();
    mark = syslog_mark();
    curl_after_pooled(&r, &shim, &kept, "127.0.0.2", s.port);
    assert_curl_blocked(&r, "second connection, a peer on 127.0.0.2 pooled");
    assert_server_got_no_data(&s);
    ck_assert_field(assert_ip_mismatch_record(mark, "127.0.0.1"), "port", fmt("%d", s.port));
    run_result_free(&r);
    helper_stop(&kept);
}
END_TEST

/* The price, documented: an unpinned address is refused while a peer at a
 * pinned address is open, because tlspin cannot tell which of the two the
 * handshake belongs to; the record names the pinned candidate. */
START_TEST(i2_unpinned_address_refused_while_pinned_peer_open)
{
    static const char *const insecure[] = {"-k", NULL};
    struct server s;
    struct helper kept;
    struct run_result r;
    size_t mark;

    private_network();
    icpt_server_on(&s, "127.0.0.2");
    keepalive_start(&kept, "127.0.0.1");
    pin_loopback_ip();

    /* Alone, 127.0.0.2 is nobody's: allowed. (-k: the fixtures' leaves
     * name 127.0.0.1 only.) */
    mark = syslog_mark();
    curl_urls(&r, &shim, insecure, (const char *const[]){fmt("https://127.0.0.2:%d/", s.port),
                                                          NULL});
    assert_curl_ok(&r, "127.0.0.2 alone");
    assert_no_tlspin_record(mark);
    run_result_free(&r);

    mark = syslog_mark();
    curl_urls(&r, &shim, insecure,
              (const char *const[]){fmt("http://127.0.0.1:%d/", kept.port),
                                    fmt("https://127.0.0.2:%d/", s.port), NULL});
    assert_curl_blocked(&r, "127.0.0.2 with a peer on pinned 127.0.0.1 open");
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
    helper_stop(&kept);
}
END_TEST

/* python3's asyncio speaks TLS through memory BIOs (no socket on the SSL),
 * like curl; the program holds another TCP connection of its own. */
static const char asyncio_client_py[] =
    "import asyncio, socket, ssl, sys\n"
    "async def main():\n"
    "    port, other_port, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
    "    other = socket.create_connection(('127.0.0.1', other_port))\n"
    "    ctx = ssl.create_default_context(cafile=cafile)\n"
    "    ctx.check_hostname = False\n"
    "    try:\n"
    "        r, w = await asyncio.open_connection('127.0.0.1', port, ssl=ctx)\n"
    "    except (ssl.SSLError, OSError) as e:\n"
    "        print('handshake failed:', e)\n"
    "        return 1\n"
    "    print('handshake ok')\n"
    "    w.write(b'GET / HTTP/1.0\\r\\nX-Probe: " MARKER "\\r\\n\\r\\n')\n"
    "    print((await r.read()).decode(errors='replace'))\n"
    "    w.close()\n"
    "    other.close()\n"
    "    return 0\n"
    "sys.exit(asyncio.run(main()))\n";

START_TEST(i2_asyncio_memory_bio_second_peer_blocked)
{
    struct server s;
    struct helper kept;
    struct run_result r;
    const char *script = write_file("asyncio_client.py", "%s", asyncio_client_py);
    size_t mark;

    server_start(&s, "icpt");
    keepalive_start(&kept, "127.0.0.1");
    pin_loopback_ip();
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, PYTHON3, "-I", script, fmt("%d", s.port),
                         fmt("%d", kept.port), cert("trust.pem")),
                     0);
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.out, CURL_BLOCKED),
                  "asyncio was not blocked: " RUN_FMT, RUN_ARGS(&r));
    assert_server_never_got_request(&s);
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
    helper_stop(&kept);
}
END_TEST

/* ------------------------------------------------------------------ */
/* I2: no peer to be found                                             */
/* ------------------------------------------------------------------ */

/* /proc of this test process (and what it runs) is an empty tmpfs: the
 * process's sockets cannot be listed. */
static void hide_proc(void)
{
    test_private_mounts();
    ck_assert_msg(mount("tlspin-noproc", "/proc", "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0,
                  "tmpfs over /proc: %s", strerror(errno));
}

static void curl_one(struct run_result *r, int port)
{
    curl_urls(r, &shim, NULL, (const char *const[]){fmt("https://127.0.0.1:%d/", port), NULL});
}

START_TEST(i2_no_proc_pinned_ip_blocked)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    pin_loopback_ip();
    hide_proc();
    mark = syslog_mark();
    curl_one(&r, s.port);
    assert_curl_blocked(&r, "no /proc");
    assert_server_got_no_data(&s);
    assert_host_unknown_record(mark, "blocked");
    run_result_free(&r);
}
END_TEST

/* The price, documented: without /proc the good key is refused too (the
 * server cannot be told from any other), unless on_error = "allow", which
 * lets it through with a record. */
START_TEST(i2_no_proc_good_key_follows_on_error)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "good");
    pin_loopback_ip();
    hide_proc();
    mark = syslog_mark();
    curl_one(&r, s.port);
    assert_curl_blocked(&r, "no /proc, on_error deny");
    assert_host_unknown_record(mark, "blocked");
    run_result_free(&r);

    pin_loopback_ip_on_error_allow();
    mark = syslog_mark();
    curl_one(&r, s.port);
    assert_curl_ok(&r, "no /proc, on_error allow");
    assert_server_got(&s, MARKER);
    assert_host_unknown_record(mark, "allowed-policy-error");
    run_result_free(&r);
}
END_TEST

/* Only pinsets on names: an unknown server cannot be one of them (a program
 * that names its server is decided by that name), so no opinion, no record. */
START_TEST(i2_no_proc_names_only_allowed_quietly)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    write_file_policy(NULL);
    pinset_for("name", "good.test", pin("PIN_GOOD"), pin("PIN_BACKUP"));
    hide_proc();
    mark = syslog_mark();
    curl_one(&r, s.port);
    assert_curl_ok(&r, "no /proc, only name pinsets");
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}
END_TEST

/* Ready when the unix socket exists. */
static int socket_exists(struct helper *h)
{
    struct stat st;
    const char *path = fmt("%s/relay.sock", H.tmp);

    (void)h;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* curl --unix-socket through a relay to the server: the process has no TCP
 * peer at all, and https://127.0.0.1/ names no host tlspin can see. */
START_TEST(i2_unix_socket_no_tcp_peer_blocked)
{
    struct server s;
    struct helper relay;
    struct run_result r;
    const char *sock = fmt("%s/relay.sock", H.tmp);
    size_t mark;

    server_start(&s, "icpt");
    helper_start(&relay, "relay",
                 (const char *const[]){SOCAT, fmt("UNIX-LISTEN:%s,fork", sock),
                                       fmt("TCP:127.0.0.1:%d", s.port), NULL},
                 socket_exists);
    pin_loopback_ip();
    mark = syslog_mark();
    curl_urls(&r, &shim, (const char *const[]){"--unix-socket", sock, NULL},
              (const char *const[]){fmt("https://127.0.0.1:%d/", s.port), NULL});
    assert_curl_blocked(&r, "through a unix socket");
    assert_server_got_no_data(&s);
    assert_host_unknown_record(mark, "blocked");
    run_result_free(&r);
    helper_stop(&relay);
}
END_TEST

/* openssl s_client -unix: the SSL has a socket, but not a TCP one; no
 * name given: the server is unknown. */
START_TEST(i2_s_client_unix_socket_blocked)
{
    struct server s;
    struct helper relay;
    struct run_result r;
    struct run_opts o = shim;
    const char *sock = fmt("%s/relay.sock", H.tmp);
    size_t mark;

    server_start(&s, "icpt");
    helper_start(&relay, "relay",
                 (const char *const[]){SOCAT, fmt("UNIX-LISTEN:%s,fork", sock),
                                       fmt("TCP:127.0.0.1:%d", s.port), NULL},
                 socket_exists);
    pin_loopback_ip();
    o.input = "GET / HTTP/1.0\r\nX-Probe: " MARKER "\r\n\r\n";
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &o, OPENSSL, "s_client", "-unix", sock, "-noservername",
                         "-CAfile", cert("trust.pem"), "-quiet"),
                     0);
    ck_assert_msg(!(r.exited && r.code == 0) && strstr(r.err, "event=host-unknown") &&
                      has_tlspin_error_entry(r.err),
                  "s_client -unix was not refused: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    assert_host_unknown_record(mark, "blocked");
    run_result_free(&r);
    helper_stop(&relay);
}
END_TEST

/* Documented ("What cannot be covered"): when the handshake goes through
 * something that is not one of the process's TCP connections (a unix
 * socket relay) and the process has TCP peers of its own, they are the
 * candidates: the server is decided under the address of the open peer. */
START_TEST(i2_unix_socket_with_other_tcp_peer_decided_by_it)
{
    struct server s;
    struct helper relay, kept;
    struct run_result r;
    const char *sock = fmt("%s/relay.sock", H.tmp);
    const char *script = "exec 3<>/dev/tcp/$1/$2 && exec " CURL " -q -sS --max-time 10 "
                         "--cacert \"$3\" --unix-socket \"$4\" https://127.0.0.1:$5/";
    size_t mark;

    private_network();
    server_start(&s, "icpt");
    helper_start(&relay, "relay",
                 (const char *const[]){SOCAT, fmt("UNIX-LISTEN:%s,fork", sock),
                                       fmt("TCP:127.0.0.1:%d", s.port), NULL},
                 socket_exists);
    pin_loopback_ip();

    /* an open connection to 127.0.0.2, unpinned: the pin on 127.0.0.1 is
     * not applied */
    keepalive_start(&kept, "127.0.0.2");
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, "/bin/bash", "-c", script, "bash", "127.0.0.2",
                         fmt("%d", kept.port), cert("trust.pem"), sock, fmt("%d", s.port)),
                     0);
    assert_curl_ok(&r, "unix socket, a peer on 127.0.0.2 open");
    assert_no_tlspin_record(mark);
    run_result_free(&r);
    helper_stop(&kept);

    /* an open connection to 127.0.0.1: decided under it, refused */
    keepalive_start(&kept, "127.0.0.1");
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, "/bin/bash", "-c", script, "bash", "127.0.0.1",
                         fmt("%d", kept.port), cert("trust.pem"), sock, fmt("%d", s.port)),
                     0);
    assert_curl_blocked(&r, "unix socket, a peer on 127.0.0.1 open");
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
    helper_stop(&kept);
    helper_stop(&relay);
}
END_TEST

/* ------------------------------------------------------------------ */
/* I6: the port of a CONNECT proxy                                     */
/* ------------------------------------------------------------------ */

/* good.test pinned per port: "web" on web_port to the good key, "admin" on
 * admin_port to admin_pin. */
static void per_port_pinsets(int web_port, int admin_port, const char *admin_pin)
{
    write_file_policy(NULL);
    write_pinsets("ports",
                  "pinsets = (\n"
                  "  { name = \"web\"; hosts = [ \"good.test\" ]; ports = [ %d ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; },\n"
                  "  { name = \"admin\"; hosts = [ \"good.test\" ]; ports = [ %d ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; }\n"
                  ");\n",
                  web_port, pin("PIN_GOOD"), pin("PIN_BACKUP"), admin_port, admin_pin,
                  pin("PIN_BACKUP"));
}

static void tlspin_check(struct run_result *r)
{
    ck_assert_int_eq(RUN(r, &plain, TLSPIN_CLI, "check", "--config", H.config), 0);
}

START_TEST(i6_check_warns_port_pinsets_with_different_keys)
{
    struct run_result r;

    per_port_pinsets(443, 8443, pin("PIN_ICPT"));
    tlspin_check(&r);
    expect_exit(&r, 1);
    expect_text(&r, "ports.conf:4: warning: pinsets \"web\" (port 443) and \"admin\" "
                    "(port 8443) of \"good.test\" pin different keys");
    expect_text(&r, "proxy");
    run_result_free(&r);
}
END_TEST

/* Control: per-port pinsets with the same keys are nothing to warn about. */
START_TEST(i6_check_quiet_for_port_pinsets_with_same_keys)
{
    struct run_result r;

    per_port_pinsets(443, 8443, pin("PIN_GOOD"));
    tlspin_check(&r);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "pin different keys") == NULL, "unexpected warning: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* Ready when bypass_connect_proxy.py printed its port. */
static void proxy_start(struct helper *p)
{
    helper_start(p, "proxy", (const char *const[]){PYTHON3, "-I", CONNECT_PROXY, NULL},
                 printed_port);
}

static void curl_good_test(struct run_result *r, int port, int proxy_port)
{
    const char *const direct[] = {"--resolve", fmt("good.test:%d:127.0.0.1", port), NULL};
    const char *const proxied[] = {"--proxy", fmt("http://127.0.0.1:%d", proxy_port), NULL};

    curl_urls(r, &shim, proxy_port > 0 ? proxied : direct,
              (const char *const[]){fmt("https://good.test:%d/", port), NULL});
}

/* Documented ("What cannot be covered"): through a CONNECT proxy listening
 * on a port that one of the host's pinsets lists, that pinset decides, so
 * its key is accepted for the host's other port. `tlspin check` warns. */
START_TEST(i6_proxy_port_pinset_decides)
{
    struct server s;
    struct helper px;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    proxy_start(&px);
    per_port_pinsets(s.port, px.port, pin("PIN_ICPT"));

    /* Straight to the server's port: "web" decides and refuses. */
    mark = syslog_mark();
    curl_good_test(&r, s.port, 0);
    assert_curl_blocked(&r, "straight");
    ck_assert_field(the_tlspin_record_since(mark), "pinset", "web");
    run_result_free(&r);

    /* Through the proxy tlspin sees the proxy's port: "admin" decides. */
    mark = syslog_mark();
    curl_good_test(&r, s.port, px.port);
    assert_curl_ok(&r, "through the proxy");
    assert_server_got(&s, MARKER);
    assert_no_tlspin_record(mark);
    run_result_free(&r);

    tlspin_check(&r);
    expect_exit(&r, 1);
    expect_text(&r, "pin different keys");
    run_result_free(&r);
    helper_stop(&px);
}
END_TEST

/* ------------------------------------------------------------------ */
/* I7: programs that check the name themselves                         */
/* ------------------------------------------------------------------ */

/* socat to 127.0.0.1:port checking commonname=good.test (after the
 * handshake, in its own code); `sni` 0 adds no-sni=1. */
static void socat_run(struct run_result *r, int port, int sni)
{
    const char *addr = fmt("OPENSSL:127.0.0.1:%d,commonname=good.test,%scafile=%s", port,
                           sni ? "" : "no-sni=1,", cert("trust.pem"));
    struct run_opts o = shim;

    o.input = "GET / HTTP/1.0\r\nX-Probe: " MARKER "\r\n\r\n";
    ck_assert_int_eq(RUN(r, &o, SOCAT, "-", addr), 0);
}

START_TEST(i7_socat_no_sni_decided_by_ip)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    pin_loopback_ip();
    mark = syslog_mark();
    socat_run(&r, s.port, 0);
    ck_assert_msg(r.exited && r.code != 0 && strstr(r.err, "certificate verify failed"),
                  "socat was not blocked: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
}
END_TEST

/* Documented: with no SNI the name socat checks never reaches OpenSSL, so
 * a pinset on the name does not apply; with SNI (socat sends commonname)
 * it does. */
START_TEST(i7_socat_no_sni_name_pinset_not_seen)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "icpt");
    write_file_policy(NULL);
    pinset_for("name", "good.test", pin("PIN_GOOD"), pin("PIN_BACKUP"));

    mark = syslog_mark();
    socat_run(&r, s.port, 1);
    ck_assert_msg(r.exited && r.code != 0, "socat with SNI was not blocked: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_field(the_tlspin_record_since(mark), "host", "good.test");
    run_result_free(&r);

    mark = syslog_mark();
    socat_run(&r, s.port, 0);
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "ok"),
                  "socat no-sni: not the documented pass: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got(&s, MARKER);
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}
END_TEST

/* IO::Socket::SSL checks SSL_verifycn_name in its own verify callback (perl
 * code); with SSL_hostname '' it sends no SNI: decided by the address. */
static const char perl_client[] =
    "use IO::Socket::SSL;\n"
    "my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $ARGV[0],\n"
    "    SSL_hostname => '', SSL_verifycn_name => 'good.test', SSL_verifycn_scheme => 'http',\n"
    "    SSL_ca_file => $ARGV[1], SSL_verify_mode => SSL_VERIFY_PEER)\n"
    "    or do { print \"handshake failed: $SSL_ERROR\\n\"; exit 1 };\n"
    "print $s \"GET / HTTP/1.0\\r\\nX-Probe: " MARKER "\\r\\n\\r\\n\";\n"
    "print while <$s>;\n";

START_TEST(i7_perl_verifycn_name_no_sni_decided_by_ip)
{
    struct server s;
    struct run_result r;
    const char *script = write_file("client.pl", "%s", perl_client);
    size_t mark;

    server_start(&s, "icpt");
    write_file_policy(NULL);
    pinset_for("name", "good.test", pin("PIN_GOOD"), pin("PIN_BACKUP"));
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, PERL, script, fmt("%d", s.port), cert("trust.pem")), 0);
    ck_assert_msg(r.exited && r.code == 0, "documented pass under a name pinset: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_no_tlspin_record(mark);
    run_result_free(&r);

    pin_loopback_ip();
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, PERL, script, fmt("%d", s.port), cert("trust.pem")), 0);
    ck_assert_msg(r.exited && r.code == 1, "perl was not blocked by the IP pin: " RUN_FMT,
                  RUN_ARGS(&r));
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
}
END_TEST

/* OpenSSL verifies the names on the parameters of the certificate store
 * (or of the SSL's separate verification store) when the SSL's own have
 * none: they are names the program gives the server, and each is an
 * identity like SSL_set1_host's. bypass_identity_client sends no SNI. */
#define IDENTITY_CLIENT BIN_DIR "/bypass_identity_client"

static void identity_client(struct run_result *r, const struct run_opts *o, const char *addr,
                            int port, const char *where, const char *name)
{
    ck_assert_int_eq(RUN(r, o, IDENTITY_CLIENT, addr, fmt("%d", port), cert("trust.pem"), where,
                         name),
                     0);
}

static void assert_identity_client_blocked(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 1 && strstr(r->out, "verify_result=50") &&
                      has_tlspin_error_entry(r->out),
                  "not refused by tlspin: " RUN_FMT, RUN_ARGS(r));
}

static const char *const store_places[] = {"store-host", "verify-store-host"};

START_TEST(i7_store_param_host_is_an_identity)
{
    const char *where = store_places[_i];
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    server_start(&s, "icpt");
    /* OpenSSL checks the name put there: a wrong one fails, the right one
     * passes (and the interceptor's chain with it). */
    identity_client(&r, &plain, "127.0.0.1", s.port, where, "wrong.test");
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.out, "verify_result=62"),
                  "%s: the name is not checked there: " RUN_FMT, where, RUN_ARGS(&r));
    run_result_free(&r);
    identity_client(&r, &plain, "127.0.0.1", s.port, where, "good.test");
    ck_assert_msg(r.exited && r.code == 0, "%s: threat not reproduced: " RUN_FMT, where,
                  RUN_ARGS(&r));
    run_result_free(&r);

    write_file_policy(NULL);
    pinset_for("name", "good.test", pin("PIN_GOOD"), pin("PIN_BACKUP"));
    mark = syslog_mark();
    identity_client(&r, &shim, "127.0.0.1", s.port, where, "good.test");
    assert_identity_client_blocked(&r);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "name");
    ck_assert_field(rec, "port", fmt("%d", s.port));
    run_result_free(&r);
}
END_TEST

/* The same for the IP address on the store's parameters: the server is
 * on 127.0.0.2, the program verifies 127.0.0.1 (the leaf's address), and
 * the pin on 127.0.0.1 applies. */
START_TEST(i7_store_param_ip_is_an_identity)
{
    struct server s;
    struct run_result r;
    size_t mark;

    private_network();
    icpt_server_on(&s, "127.0.0.2");
    identity_client(&r, &plain, "127.0.0.2", s.port, "store-ip", "127.0.0.1");
    ck_assert_msg(r.exited && r.code == 0, "threat not reproduced: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    pin_loopback_ip();
    mark = syslog_mark();
    identity_client(&r, &shim, "127.0.0.2", s.port, "store-ip", "127.0.0.1");
    assert_identity_client_blocked(&r);
    assert_ip_mismatch_record(mark, "127.0.0.1");
    run_result_free(&r);
}
END_TEST

/* Control: a name on the SSL's own parameters wins over the store's, as
 * in OpenSSL: only it is checked, and only it is an identity. */
START_TEST(i7_ssl_param_host_overrides_store)
{
    struct server s;
    struct run_result r;
    size_t mark;

    server_start(&s, "good");
    write_file_policy(NULL);
    /* the store's name would be refused: its pinset pins another key */
    pinset_for("other", "other.test", pin("PIN_ICPT"), pin("PIN_BACKUP"));
    pinset_for("name", "good.test", pin("PIN_GOOD"), pin("PIN_BACKUP"));
    mark = syslog_mark();
    identity_client(&r, &shim, "127.0.0.1", s.port, "both-hosts", "good.test/other.test");
    ck_assert_msg(r.exited && r.code == 0, "refused: " RUN_FMT, RUN_ARGS(&r));
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}
END_TEST

static Suite *identity_suite(void)
{
    Suite *s = suite_create("bypass_identity");
    TCase *tc = harness_tcase("second_peer");

    tcase_add_test(tc, i2_pooled_second_peer_pinned_ip_blocked);
    tcase_add_test(tc, i2_pooled_second_peer_good_key_allowed);
    tcase_add_test(tc, i2_other_address_peer_pinned_ip_blocked);
    tcase_add_test(tc, i2_unpinned_address_refused_while_pinned_peer_open);
    tcase_add_test(tc, i2_asyncio_memory_bio_second_peer_blocked);
    suite_add_tcase(s, tc);
    tc = harness_tcase("no_peer");
    tcase_add_test(tc, i2_no_proc_pinned_ip_blocked);
    tcase_add_test(tc, i2_no_proc_good_key_follows_on_error);
    tcase_add_test(tc, i2_no_proc_names_only_allowed_quietly);
    tcase_add_test(tc, i2_unix_socket_no_tcp_peer_blocked);
    tcase_add_test(tc, i2_s_client_unix_socket_blocked);
    tcase_add_test(tc, i2_unix_socket_with_other_tcp_peer_decided_by_it);
    suite_add_tcase(s, tc);
    tc = harness_tcase("proxy_port");
    tcase_add_test(tc, i6_check_warns_port_pinsets_with_different_keys);
    tcase_add_test(tc, i6_check_quiet_for_port_pinsets_with_same_keys);
    tcase_add_test(tc, i6_proxy_port_pinset_decides);
    suite_add_tcase(s, tc);
    tc = harness_tcase("own_name_check");
    tcase_add_test(tc, i7_socat_no_sni_decided_by_ip);
    tcase_add_test(tc, i7_socat_no_sni_name_pinset_not_seen);
    tcase_add_test(tc, i7_perl_verifycn_name_no_sni_decided_by_ip);
    tcase_add_loop_test(tc, i7_store_param_host_is_an_identity, 0,
                        (int)(sizeof store_places / sizeof *store_places));
    tcase_add_test(tc, i7_store_param_ip_is_an_identity);
    tcase_add_test(tc, i7_ssl_param_host_overrides_store);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(identity_suite());
}
