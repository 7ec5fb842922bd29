/*
 * test_systemwide.c — system-wide mode (issue 3, point 4): libtlspin.so
 * listed in /etc/ld.so.preload and the policy at the default path
 * (/etc/tlspin/tlspin.conf), both written into an overlay on /etc that
 * exists only in this test process's private mount namespace: the real
 * /etc never changes. No program here gets LD_PRELOAD or TLSPIN_CONFIG
 * (the harness scrubs both from every child's environment).
 *
 *   - curl and python3 started plainly are covered: the interceptor's key
 *     is refused for the pinned host (and was accepted before the preload
 *     was listed: the threat is real), the pinned key passes;
 *   - a setuid-root copy of tls_client run by nobody (setpriv) is covered,
 *     where LD_PRELOAD in its environment did nothing (AT_SECURE);
 *   - a shell, coreutils, programs that load OpenSSL without a handshake,
 *     and two non-TLS daemons (python3 -m http.server, socat) behave exactly
 *     as without the preload: same stdout, stderr and exit status, byte for
 *     byte, and not one record; the shim is really mapped in them;
 *   - with a broken policy (syntax error in tlspin.conf, a broken pinset
 *     file with on_error deny or allow, no policy file at all) TLS clients
 *     do what on_error says, and the non-TLS programs still never crash nor
 *     print anything extra.
 */
#include "harness.h"

#include "../programs/tp_suite.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define SYSTEM_POLICY TLSPIN_DEFAULT_CONFIG
#define SOCAT "/usr/bin/socat"

static const struct run_opts plain = {0};

/* ------------------------------------------------------------------ */
/* The system-wide setup                                               */
/* ------------------------------------------------------------------ */

static void write_abs(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A policy at the default path, in the usual shape. */
static const char *system_policy(const char *on_error)
{
    return fmt("version = 1;\n"
               "mode = \"enforce\";\n"
               "unpinned = \"allow\";\n"
               "on_error = \"%s\";\n"
               "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
               "stack = (\n"
               "  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }\n"
               ");\n",
               on_error, H.pinsets);
}

/* Private mounts for this test, an overlay on /etc, the shim listed in
 * /etc/ld.so.preload and `policy` (NULL: none) as the system policy. From
 * here on every program this test starts runs with the shim. */
static void go_systemwide(const char *policy)
{
    char dir[PATH_MAX];
    char *check;

    overlay_over("/etc");
    snprintf(dir, sizeof dir, "%s", SYSTEM_POLICY);
    *strrchr(dir, '/') = '\0';
    ck_assert_msg(mkdir(dir, 0755) == 0 || errno == EEXIST, "%s: %s", dir, strerror(errno));
    if (policy)
        write_abs(SYSTEM_POLICY, policy);
    else /* none, even where tlspin is installed on the real machine */
        ck_assert_msg(unlink(SYSTEM_POLICY) == 0 || errno == ENOENT, "%s: %s", SYSTEM_POLICY,
                      strerror(errno));
    write_abs("/etc/ld.so.preload", SHIM_PATH "\n");
    check = read_file("/etc/ld.so.preload", NULL);
    ck_assert_msg(check && strcmp(check, SHIM_PATH "\n") == 0, "overlay not in effect");
    free(check);
}

/* The pinset: good.test pinned to its key and the backup. */
static void pins_good(void)
{
    write_good_pinset();
}

/* ------------------------------------------------------------------ */
/* TLS clients, started plainly                                        */
/* ------------------------------------------------------------------ */

static void curl_run(struct run_result *r, const struct mt_server *s, const char *host)
{
    ck_assert_int_eq(RUN(r, &plain, CURL, "-q", "-sS", "--max-time", "10", "--cacert",
                         cert("trust.pem"), "--resolve", fmt("%s:%d:127.0.0.1", host, s->port),
                         fmt("https://%s:%d/", host, s->port)),
                     0);
}

static void assert_curl_ok(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 0 && strcmp(r->out, "ok\n") == 0, "curl: " RUN_FMT,
                  RUN_ARGS(r));
}

static void assert_curl_blocked(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 60 &&
                      strstr(r->err, "SSL certificate problem: application verification failure"),
                  "curl should have been blocked: " RUN_FMT, RUN_ARGS(r));
}

/* urllib with the URL's host resolved to 127.0.0.1; also says whether it
 * had LD_PRELOAD and whether the shim is mapped in it. */
static const char py_client[] =
    "import os, socket, ssl, sys, urllib.request\n"
    "host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "real = socket.getaddrinfo\n"
    "socket.getaddrinfo = lambda h, *a, **k: real('127.0.0.1' if h == host else h, *a, **k)\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "def env_and_maps():\n"
    "    maps = open('/proc/self/maps').read()\n"
    "    return 'LD_PRELOAD' in os.environ, 'TLSPIN_CONFIG' in os.environ, 'libtlspin.so' in maps\n"
    "try:\n"
    "    with urllib.request.urlopen('https://%s:%d/' % (host, port), context=ctx, timeout=10) as r:\n"
    "        print('OK', r.read().decode().strip(), *env_and_maps())\n"
    "except Exception as e:\n"
    "    reason = getattr(e, 'reason', e)\n"
    "    print('FAILED', type(reason).__name__, getattr(reason, 'verify_code', '-'),\n"
    "          getattr(reason, 'verify_message', '-'), *env_and_maps())\n"
    "    sys.exit(1)\n";

static void python_run(struct run_result *r, const struct mt_server *s, const char *host)
{
    ck_assert_int_eq(RUN(r, &plain, PYTHON3, "-I", "-c", py_client, host, fmt("%d", s->port),
                         cert("trust.pem")),
                     0);
}

/* `mapped`: the shim must (1) or must not (0) be in the process. */
static void assert_python_ok(const struct run_result *r, int mapped)
{
    ck_assert_msg(r->exited && r->code == 0 &&
                      has_line(r->out, fmt("OK ok False False %s", mapped ? "True" : "False")),
                  "python3: " RUN_FMT, RUN_ARGS(r));
}

static void assert_python_blocked(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 1 &&
                      has_line(r->out, "FAILED SSLCertVerificationError 50 application "
                                       "verification failure False False True"),
                  "python3 should have been blocked: " RUN_FMT, RUN_ARGS(r));
}

/* The one record since mark: a refusal (or allowance) of good.test by
 * the program `tag` with pid. */
static const struct syslog_rec *assert_record(size_t mark, const char *tag, pid_t pid,
                                              const char *event, const char *action)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);
    ck_assert_str_eq(rec->tag, tag);
    ck_assert_field(rec, "event", event);
    ck_assert_field(rec, "action", action);
    ck_assert_field(rec, "program", tag);
    ck_assert_field(rec, "pid", fmt("%ld", (long)pid));
    ck_assert_field(rec, "host", "good.test");
    return rec;
}

/* ------------------------------------------------------------------ */
/* Programs without TLS                                                */
/* ------------------------------------------------------------------ */

/* Files the non-TLS programs read (created once per test, before the
 * first run, never changed afterwards). */
static const char *data_dir(void)
{
    static char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/data", H.tmp);
    if (access(dir, F_OK) != 0) {
        write_file("data/notes.txt", "pear\napple\nfig\nbanana\n");
        write_file("data/index.html", "<p>tlspin system-wide test page</p>\n");
        write_file("data/sub/deep.txt", "deep\n");
    }
    return dir;
}

struct capture {
    char *out, *err;
    int exited, code, signaled;
};

#define N_PLAIN 11

/* Run the non-TLS programs; each result into caps[]. */
static void run_plain_programs(struct capture caps[N_PLAIN])
{
    const char *d = data_dir();
    const char *notes = fmt("%s/notes.txt", d);
    const char *sh = fmt("echo hello from sh; x=$((6 * 7)); echo \"$x\";"
                         " printf '%%s\\n' pear apple fig | sort;"
                         " cd '%s' && ls -l --time-style=+ . && cat notes.txt | sort -r | head -n 2;"
                         " ls /nonexistent-tlspin-path; echo \"status $?\"; exit 3",
                         d);
    struct {
        const char *argv[12];
        const char *input;
    } progs[N_PLAIN] = {
        {{"/bin/sh", "-c", sh}, NULL},
        {{"/bin/ls", "-l", "--time-style=+", d}, NULL},
        {{"/bin/ls", "-R", d}, NULL},
        {{"/bin/cat", notes}, NULL},
        {{"/usr/bin/sort"}, "zeta\nalpha\nmu\n"},
        {{"/usr/bin/sort", "-r", notes}, NULL},
        {{"/bin/ls", "/nonexistent-tlspin-path"}, NULL},
        {{"/usr/bin/env"}, NULL},
        /* Programs that load OpenSSL (and so meet the shim's hooks' world)
         * but make no handshake. */
        {{PYTHON3, "-I", "-c",
          "import ssl, hashlib; c = ssl.create_default_context(); "
          "print('ssl', ssl.OPENSSL_VERSION.split()[0], c.verify_mode, "
          "hashlib.sha256(b'tlspin').hexdigest())"},
         NULL},
        {{OPENSSL, "dgst", "-sha256", notes}, NULL},
        {{OPENSSL, "version"}, NULL},
    };

    for (int i = 0; i < N_PLAIN; i++) {
        struct run_result r;
        struct run_opts o = {.input = progs[i].input};
        ck_assert_int_eq(run_argv(&o, &r, progs[i].argv), 0);
        caps[i].out = strdup(r.out);
        caps[i].err = strdup(r.err);
        caps[i].exited = r.exited;
        caps[i].code = r.code;
        caps[i].signaled = r.signaled;
        ck_assert_msg(!r.signaled && !r.timed_out, "%s: %s", progs[i].argv[0], run_status(&r));
        run_result_free(&r);
    }
    /* Sanity: the commands did what they say. */
    ck_assert_msg(strstr(caps[0].out, "hello from sh\n42\napple\nfig\npear\n") && caps[0].code == 3 &&
                      strstr(caps[0].out, "status 2\n"),
                  "sh: %s", caps[0].out);
    ck_assert_str_eq(caps[4].out, "alpha\nmu\nzeta\n");
    ck_assert_int_eq(caps[6].code, 2);
}

static void capture_free(struct capture caps[N_PLAIN])
{
    for (int i = 0; i < N_PLAIN; i++) {
        free(caps[i].out);
        free(caps[i].err);
    }
}

/* Byte for byte the same as without the preload; nothing recorded. */
static void assert_plain_unchanged(const struct capture base[N_PLAIN], const char *when)
{
    struct capture now[N_PLAIN];
    size_t mark = syslog_mark();

    run_plain_programs(now);
    for (int i = 0; i < N_PLAIN; i++) {
        ck_assert_msg(strcmp(base[i].out, now[i].out) == 0,
                      "[%s] program %d: stdout differs\n--- without ---\n%s\n--- with ---\n%s", when,
                      i, base[i].out, now[i].out);
        ck_assert_msg(strcmp(base[i].err, now[i].err) == 0,
                      "[%s] program %d: stderr differs\n--- without ---\n%s\n--- with ---\n%s", when,
                      i, base[i].err, now[i].err);
        ck_assert_msg(base[i].exited == now[i].exited && base[i].code == now[i].code,
                      "[%s] program %d: exit %d, was %d", when, i, now[i].code, base[i].code);
    }
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "[%s] records from non-TLS programs:\n%s",
                  when, syslog_dump_since(mark));
    capture_free(now);
}

/* 1 when /proc/<pid>/maps lists `needle`. */
static int maps_have(pid_t pid, const char *needle)
{
    char *maps = read_file(fmt("/proc/%ld/maps", (long)pid), NULL);
    int found = maps && strstr(maps, needle);
    free(maps);
    return found;
}

/* The shim is in the processes the preload reaches: checked on cat
 * reading its own maps. */
static void assert_shim_mapped_in_plain_programs(int expected)
{
    struct run_result r;
    ck_assert_int_eq(RUN(&r, &plain, "/bin/cat", "/proc/self/maps"), 0);
    ck_assert_msg(!!strstr(r.out, SHIM_PATH) == expected, "shim %s in cat's maps", expected ? "not" : "");
    run_result_free(&r);
}

/* A plain TCP exchange with 127.0.0.1:port: send, half-close, read all. */
static char *tcp_exchange(int port, const char *send_text, struct tp_proc *daemon)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    char *buf = calloc(1, 65536);
    size_t got = 0;
    int fd = -1;
    long long end = tp_ms() + 60000; /* a guard against a hang, not a deadline */

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The daemon may still be starting: retry the connection briefly. */
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        close(fd);
        if (tp_ms() >= end) {
            char *o = tp_output(daemon);
            ck_abort_msg("cannot connect to 127.0.0.1:%d: %s; the daemon (%s) said:\n%s", port,
                         strerror(errno), tp_status(daemon), o);
        }
        usleep(20000);
    }
    ck_assert_msg(write(fd, send_text, strlen(send_text)) == (ssize_t)strlen(send_text), "send");
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;
        ck_assert_msg(poll(&p, 1, 5000) == 1, "no answer from 127.0.0.1:%d", port);
        n = read(fd, buf + got, 65535 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return buf;
}

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                      getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
                  "bind: %s", strerror(errno));
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

struct daemon_result {
    char *http_body;           /* what python3 -m http.server served */
    char *socat_reply;         /* what socat ... EXEC:sort answered */
    char *http_status, *socat_status;
    int http_shim, socat_shim; /* the shim was mapped in the daemon */
    int http_libssl;           /* libssl was mapped in http.server */
};

/* Both daemons: start, one exchange each, stop; their logs must hold no
 * trace of tlspin nor a Python traceback. */
static void run_daemons(struct daemon_result *dr)
{
    struct tp_proc http, socat;
    char *o, *resp;
    int port = 0;
    long long end = tp_ms() + 60000; /* a guard against a hang, not a deadline */

    memset(dr, 0, sizeof *dr);
    tp_spawn(&http, "httpd",
             (const char *const[]){PYTHON3, "-I", "-u", "-m", "http.server", "--bind", "127.0.0.1",
                                   "--directory", data_dir(), "0", NULL},
             0, NULL);
    while (!port && tp_ms() < end && !tp_exited(&http)) {
        const char *p;
        o = tp_output(&http);
        if ((p = strstr(o, " port ")) != NULL)
            port = atoi(p + 6);
        free(o);
        if (!port)
            usleep(10000);
    }
    o = tp_output(&http);
    ck_assert_msg(port > 0, "http.server did not start (%s):\n%s", tp_status(&http), o);
    free(o);
    resp = tcp_exchange(port, "GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n", &http);
    dr->http_body = strdup(strstr(resp, "\r\n\r\n") ? strstr(resp, "\r\n\r\n") + 4 : resp);
    ck_assert_msg(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0, "http.server answered:\n%s", resp);
    free(resp);
    dr->http_shim = maps_have(http.pid, SHIM_PATH);
    dr->http_libssl = maps_have(http.pid, "libssl.so.3");
    kill(http.pid, SIGINT); /* python's KeyboardInterrupt: "exiting", exit 0 */
    ck_assert_msg(tp_wait(&http, 60000), "http.server did not stop");
    dr->http_status = strdup(tp_status(&http));
    o = tp_output(&http);
    ck_assert_msg(!strstr(o, "tlspin") && !strstr(o, "Traceback") && strstr(o, "GET /index.html"),
                  "http.server's output:\n%s", o);
    free(o);

    port = free_port();
    tp_spawn(&socat, "socat",
             (const char *const[]){SOCAT, fmt("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", port),
                                   "EXEC:/usr/bin/sort", NULL},
             0, NULL);
    dr->socat_reply = tcp_exchange(port, "pear\napple\nfig\n", &socat);
    dr->socat_shim = maps_have(socat.pid, SHIM_PATH);
    kill(socat.pid, SIGTERM);
    ck_assert_msg(tp_wait(&socat, 60000), "socat did not stop");
    dr->socat_status = strdup(tp_status(&socat));
    o = tp_output(&socat);
    ck_assert_msg(!strstr(o, "tlspin") && !strstr(o, " E "), "socat's output:\n%s", o);
    free(o);
}

static void daemon_result_free(struct daemon_result *dr)
{
    free(dr->http_body);
    free(dr->socat_reply);
    free(dr->http_status);
    free(dr->socat_status);
}

static void assert_daemons_unchanged(const struct daemon_result *base, const char *when)
{
    struct daemon_result now;
    size_t mark = syslog_mark();

    run_daemons(&now);
    ck_assert_msg(strcmp(base->http_body, now.http_body) == 0, "[%s] http.server served:\n%s",
                  when, now.http_body);
    ck_assert_msg(strcmp(base->socat_reply, now.socat_reply) == 0, "[%s] socat answered:\n%s",
                  when, now.socat_reply);
    ck_assert_msg(strcmp(base->http_status, now.http_status) == 0 &&
                      strcmp(base->socat_status, now.socat_status) == 0,
                  "[%s] daemons ended %s / %s, were %s / %s", when, now.http_status,
                  now.socat_status, base->http_status, base->socat_status);
    /* They really ran with the shim (and http.server with libssl loaded). */
    ck_assert_msg(now.http_shim && now.socat_shim && now.http_libssl,
                  "[%s] shim mapped: http.server %d, socat %d; libssl in http.server %d", when,
                  now.http_shim, now.socat_shim, now.http_libssl);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "[%s] records from daemons:\n%s", when,
                  syslog_dump_since(mark));
    daemon_result_free(&now);
}

/* The baselines, taken before the preload is listed. */
static void baseline(struct capture caps[N_PLAIN], struct daemon_result *dr)
{
    run_plain_programs(caps);
    run_daemons(dr);
    ck_assert_str_eq(dr->http_body, "<p>tlspin system-wide test page</p>\n");
    ck_assert_str_eq(dr->socat_reply, "apple\nfig\npear\n");
    ck_assert_msg(!dr->http_shim && !dr->socat_shim, "the shim is mapped without the preload?");
    assert_shim_mapped_in_plain_programs(0);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

START_TEST(curl_and_python_covered_without_ld_preload)
{
    struct mt_server good, icpt;
    struct run_result r;
    size_t mark;

    test_private_mounts();
    pins_good();
    mt_server_start(&good, "good");
    mt_server_start(&icpt, "icpt");

    /* Before: the interceptor's key is accepted by both. */
    curl_run(&r, &icpt, "good.test");
    assert_curl_ok(&r);
    run_result_free(&r);
    python_run(&r, &icpt, "good.test");
    assert_python_ok(&r, 0);
    run_result_free(&r);

    go_systemwide(system_policy("deny"));

    mark = syslog_mark();
    curl_run(&r, &icpt, "good.test");
    assert_curl_blocked(&r);
    assert_record(mark, "curl", r.pid, "pin-mismatch", "blocked");
    run_result_free(&r);

    mark = syslog_mark();
    python_run(&r, &icpt, "good.test");
    assert_python_blocked(&r);
    {
        const struct syslog_rec *rec = assert_record(mark, "python3", r.pid, "pin-mismatch",
                                                     "blocked");
        ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
        ck_assert_field_has(rec, "expected", pin("PIN_GOOD"));
    }
    run_result_free(&r);

    /* The pinned key, and an unpinned host through the interceptor, pass
     * silently. */
    mark = syslog_mark();
    curl_run(&r, &good, "good.test");
    assert_curl_ok(&r);
    run_result_free(&r);
    python_run(&r, &good, "good.test");
    assert_python_ok(&r, 1);
    run_result_free(&r);
    curl_run(&r, &icpt, "other.test");
    assert_curl_ok(&r);
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));

    {
        struct mt_stats st = mt_server_wait(&icpt, 5);
        /* 2 before + other.test: answered; the 2 refusals: not one byte. */
        ck_assert_msg(st.requests == 3 && st.alerts_received == 2, "interceptor: " MT_STATS_FMT,
                      MT_STATS_ARGS(st));
    }
    mt_server_stop(&good);
    mt_server_stop(&icpt);
}
END_TEST

START_TEST(setuid_client_run_by_nobody_covered)
{
    struct mt_server good, icpt;
    struct run_result r;
    char suid[PATH_MAX], cmd[4 * PATH_MAX], preload_env[PATH_MAX + 16];
    const char *const env[] = {preload_env, NULL};
    /* A cold setuid process loads the shim, the engine and the policy in
     * its first verification: on a loaded machine that is slow, and no limit
     * here may turn slow into failed. The client's own limit (--timeout)
     * and the harness's are guards against a hang, well above any run. */
    const struct run_opts with_ld_preload = {.env = env, .timeout_ms = 90000};
    const struct run_opts plain_slow_ok = {.timeout_ms = 90000};
    size_t mark;

    test_private_mounts();
    pins_good();
    snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", SHIM_PATH);
    snprintf(suid, sizeof suid, "%s/tls_client_suid", H.tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 4755 '%s' && chmod 755 '%s' '%s' '%s'",
             TLS_CLIENT, suid, suid, H.root, H.tmp, H.certs);
    ck_assert_int_eq(system(cmd), 0);
    mt_server_start(&good, "good");
    mt_server_start(&icpt, "icpt");

    const char *as_nobody[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", suid, "--connect",
                               fmt("127.0.0.1:%d", icpt.port), "--sni", "good.test", "--cafile",
                               cert("trust.pem"), "--timeout", "60", NULL};

    /* Before: LD_PRELOAD (with a path) does not reach a setuid program run
     * by an ordinary user: the interceptor's key is accepted. */
    ck_assert_int_eq(run_argv(&with_ld_preload, &r, as_nobody), 0);
    assert_client_ok(&r);
    run_result_free(&r);

    go_systemwide(system_policy("deny"));

    mark = syslog_mark();
    ck_assert_int_eq(run_argv(&plain_slow_ok, &r, as_nobody), 0);
    assert_client_blocked(&r);
    assert_record(mark, "tls_client_suid", r.pid, "pin-mismatch", "blocked");
    run_result_free(&r);

    /* The pinned key passes, as nobody too. */
    as_nobody[6] = fmt("127.0.0.1:%d", good.port);
    mark = syslog_mark();
    ck_assert_int_eq(run_argv(&plain_slow_ok, &r, as_nobody), 0);
    assert_client_ok(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);
    mt_server_stop(&good);
    mt_server_stop(&icpt);
}
END_TEST

START_TEST(shell_coreutils_and_daemons_unchanged)
{
    struct capture base[N_PLAIN];
    struct daemon_result dbase;

    test_private_mounts();
    pins_good();
    baseline(base, &dbase);

    go_systemwide(system_policy("deny"));
    assert_shim_mapped_in_plain_programs(1);
    assert_plain_unchanged(base, "system-wide");
    assert_daemons_unchanged(&dbase, "system-wide");
    capture_free(base);
    daemon_result_free(&dbase);
}
END_TEST

/* A broken policy in system-wide mode. */
struct broken_case {
    const char *name;
    const char *on_error;      /* of the policy file written (NULL: see below) */
    int policy_syntax_error;   /* tlspin.conf itself unreadable */
    int no_policy;             /* no tlspin.conf at all */
    int pinset_syntax_error;   /* pins.d/api.conf unreadable */
    int tls_allowed;           /* what on_error makes of a TLS client */
    const char *event, *action;
    const char *reason_has;    /* file:line (relative to the dirs) */
};

static const struct broken_case broken_cases[] = {
    /* An unreadable policy cannot say on_error = "allow": the built-in
     * deny holds (README, "The policy"). */
    {"tlspin.conf syntax error", "allow", 1, 0, 0, 0, "policy-error", "blocked", "tlspin.conf:3"},
    {"no tlspin.conf", NULL, 0, 1, 0, 0, "policy-error", "blocked", "tlspin.conf"},
    {"pinset syntax error, on_error deny", "deny", 0, 0, 1, 0, NULL, "blocked", "api.conf:3"},
    {"pinset syntax error, on_error allow", "allow", 0, 0, 1, 1, NULL, "allowed-policy-error",
     "api.conf:3"},
};
#define N_BROKEN ((int)(sizeof broken_cases / sizeof *broken_cases))

START_TEST(broken_policy_follows_on_error)
{
    const struct broken_case *c = &broken_cases[_i];
    struct capture base[N_PLAIN];
    struct daemon_result dbase;
    struct mt_server icpt;
    struct run_result r;
    const struct syslog_rec *rec;
    char reason[2048];
    size_t mark;

    test_private_mounts();
    pins_good();
    baseline(base, &dbase);
    mt_server_start(&icpt, "icpt");

    if (c->pinset_syntax_error)
        write_pinsets("api", "pinsets = (\n"
                             "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                             "    pins = [ \"%s\", \"%s\" ); }\n" /* ) for ] */
                             ");\n",
                      pin("PIN_GOOD"), pin("PIN_BACKUP"));
    if (c->no_policy)
        go_systemwide(NULL);
    else if (c->policy_syntax_error)
        go_systemwide(fmt("version = 1;\n"
                          "on_error = \"%s\";\n"
                          "mode = ;\n"
                          "stack = ( );\n",
                          c->on_error));
    else
        go_systemwide(system_policy(c->on_error));

    /* TLS clients: what on_error says, with a record naming the file. */
    mark = syslog_mark();
    curl_run(&r, &icpt, "good.test");
    if (c->tls_allowed)
        assert_curl_ok(&r);
    else
        assert_curl_blocked(&r);
    rec = syslog_wait_for_since(mark, "tlspin: ", 0);
    ck_assert_msg(rec != NULL, "[%s] no record from curl", c->name);
    ck_assert_str_eq(rec->tag, "curl");
    if (c->event)
        ck_assert_field(rec, "event", c->event);
    ck_assert_field(rec, "action", c->action);
    ck_assert_int_eq(rec_field(rec, "reason", reason, sizeof reason), 0);
    ck_assert_msg(strstr(reason, c->reason_has), "[%s] reason lacks %s: %s", c->name,
                  c->reason_has, rec->msg);
    /* One connection, one decision, one record. (curl calls
     * SSL_set_connect_state on the finished SSL when it closes the
     * connection: that is not a new handshake.) */
    ck_assert_msg(syslog_tlspin_count_since(mark) == 1,
                  "[%s] curl made one connection and left %zu records:\n%s", c->name,
                  syslog_tlspin_count_since(mark), syslog_dump_since(mark));
    run_result_free(&r);

    mark = syslog_mark();
    python_run(&r, &icpt, "good.test");
    if (c->tls_allowed)
        assert_python_ok(&r, 1);
    else
        assert_python_blocked(&r);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "action", c->action);
    run_result_free(&r);

    /* Everything else: exactly as without tlspin. */
    assert_plain_unchanged(base, c->name);
    assert_daemons_unchanged(&dbase, c->name);
    capture_free(base);
    daemon_result_free(&dbase);
    mt_server_stop(&icpt);
}
END_TEST

static Suite *systemwide_suite(void)
{
    Suite *s = suite_create("systemwide");
    TCase *tc;

    tc = harness_tcase("ld.so.preload");
    tcase_add_test(tc, curl_and_python_covered_without_ld_preload);
    tcase_add_test(tc, setuid_client_run_by_nobody_covered);
    tcase_add_test(tc, shell_coreutils_and_daemons_unchanged);
    tcase_add_loop_test(tc, broken_policy_follows_on_error, 0, N_BROKEN);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(systemwide_suite());
}
