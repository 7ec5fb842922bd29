/*
 * test_scenario.c — the seed scenario of issue 3, end to end: a real
 * TLS-inspecting proxy from Debian with its own root CA, that CA installed in
 * the *system* trust store the way an IT department does it, and an origin
 * server with the real key behind the proxy. Plain programs, given no CA
 * option at all, trust the proxy; tlspin stops them.
 *
 * One test case per proxy, each with its own world, built once in the suite
 * process by an unchecked fixture (Check runs those in the parent, so every
 * forked test inherits the world) and torn down after the case:
 *   - a network namespace of its own (nothing else can take or see its
 *     ports), with lo up;
 *   - a mount namespace of its own, with overlays over /etc/ssl/certs and
 *     /usr/local/share/ca-certificates (upper layers in the suite directory)
 *     in which the proxy's CA, and the test root CA that issued the origin's
 *     certificate (playing the public CA), are installed by Debian's own
 *     update-ca-certificates (hooks off: the Java hook would touch dpkg's
 *     state); the machine's real trust store is never written;
 *   - the origin: nginx with the good key (mkcerts.sh), its access log in the
 *     suite directory recording each request's X-Probe marker;
 *   - the proxy, listening on 127.0.0.1, forwarding to the origin:
 *       mitmproxy: mitmdump in reverse mode (clients connect to it as to the
 *         server, as transparent interception makes them), its CA generated
 *         by itself in its confdir, the origin verified against the test root
 *         CA;
 *       mitmproxy-explicit: mitmdump in regular mode, an explicit proxy that
 *         clients use through https_proxy (curl, urllib) or -proxy
 *         (s_client) with HTTP CONNECT; good.test and other.test resolve to
 *         127.0.0.1 through /etc/hosts, bind-mounted in this namespace;
 *       sslsplit: "https" proxyspec with a fixed upstream, signing with a CA
 *         made here ("Example Corp TLS Inspection CA"), TLS 1.2 upstream.
 * The pin of the leaf the proxy presents is computed with the openssl CLI
 * (scenario_pin.sh), independently of tlspin, and compared with the records.
 *
 * Clients, each with the system defaults for trust (no CA option): curl,
 * python3 urllib.request, python3 ssl, openssl s_client -verify_return_error,
 * perl IO::Socket::SSL (the explicit proxy: those with proxy support, curl,
 * urllib and s_client). For each, through each proxy:
 *   threat    without tlspin the client succeeds through the proxy, the proxy
 *             reads the request in clear and the origin logs it; control: in
 *             a namespace that sees the machine's own trust store (the CA not
 *             installed) the same client refuses the proxy;
 *   blocked   with tlspin and a pinset for good.test (the origin's key and a
 *             backup) the client fails with its own error text, one syslog
 *             record names the host, the proxy's leaf key and the expected
 *             pins; control: the same client without tlspin gets through, and
 *             only once its request is in the origin's access log is the
 *             blocked request checked to be in neither the origin's log nor
 *             the proxy's;
 *   unpinned  other.test through the same proxy under tlspin works, no
 *             record; control: good.test in the same setting is blocked;
 *   direct    good.test straight to the origin under tlspin works, no record
 *             (the pin is right); control: through the proxy it is blocked;
 *   port      (explicit proxy) a pinset listing the origin's port still
 *             applies although the client's socket is the proxy's; control:
 *             straight to that port it passes.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define NGINX      "/usr/sbin/nginx"
#define MITMDUMP   "/usr/bin/mitmdump"
#define SSLSPLIT   "/usr/bin/sslsplit"
#define IP_CMD     "/sbin/ip"
#define BASH       "/bin/bash"
#define UPDATE_CA  "/usr/sbin/update-ca-certificates"
#define PIN_SCRIPT TLSPIN_SOURCE_DIR "/tests/integration/scenario_pin.sh"

/* The system trust store as Debian lays it out: update-ca-certificates
 * links /usr/local/share/ca-certificates/<name>.crt into /etc/ssl/certs and
 * rebuilds the bundle /etc/ssl/certs/ca-certificates.crt, which OpenSSL's
 * default file (/usr/lib/ssl/cert.pem, a symlink), curl, python's ssl and
 * IO::Socket::SSL all read. */
#define SYS_CERTS  "/etc/ssl/certs"
#define LOCAL_CAS  "/usr/local/share/ca-certificates"

/* The origin's answer: seeing it proves the response came from nginx. */
#define ORIGIN_BODY "origin says hello"

/* ------------------------------------------------------------------ */
/* The world of one test case (built in the suite process)             */
/* ------------------------------------------------------------------ */

enum proxy_kind { PROXY_MITMPROXY, PROXY_MITMPROXY_EXPLICIT, PROXY_SSLSPLIT };

/* The clients of each world, as indices into clients[] below. */
static const int all_clients[] = {0, 1, 2, 3, 4};
static const int proxy_aware_clients[] = {0, 1, 3}; /* curl, urllib, s_client */
#define N_ALL_CLIENTS   ((int)(sizeof all_clients / sizeof *all_clients))
#define N_PROXY_CLIENTS ((int)(sizeof proxy_aware_clients / sizeof *proxy_aware_clients))

struct world {
    enum proxy_kind kind;
    const char *proxy;         /* "mitmproxy", "mitmproxy-explicit", "sslsplit" */
    int explicit_proxy;        /* clients ask the proxy (CONNECT) */
    const int *clients;        /* this world's clients */
    const char *other_sni;     /* the SNI the origin sees for other.test via the proxy */
    char dir[1024];            /* <H.root>/scenario-<proxy> */
    pid_t origin_pid, proxy_pid;
    int origin_port, proxy_port;
    char origin_out[PATH_MAX];
    char access_log[PATH_MAX]; /* nginx's: one line per request, with its marker */
    char proxy_out[PATH_MAX];  /* the proxy's stdout+stderr */
    char proxy_read[PATH_MAX]; /* where the proxy shows the requests it read */
    char proxy_ca[PATH_MAX];   /* the proxy's root CA certificate */
    const char *proxy_ca_cn;   /* its subject CN as the record shows it */
    char installed[PATH_MAX];  /* the CA file under LOCAL_CAS */
    char leaf_pin[128];        /* the proxy's leaf for good.test (openssl CLI) */
    int hosts_mounted;         /* /etc/hosts bound over */
    int overlays;              /* overlays mounted (LOCAL_CAS, SYS_CERTS) */
};
static struct world W;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void put_file(const char *path, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void put_file(const char *path, const char *f, ...)
{
    FILE *fp = fopen(path, "w");
    va_list ap;

    ck_assert_msg(fp != NULL, "cannot write %s: %s", path, strerror(errno));
    va_start(ap, f);
    vfprintf(fp, f, ap);
    va_end(ap);
    ck_assert_msg(fclose(fp) == 0, "cannot write %s", path);
}

static void copy_file(const char *from, const char *to)
{
    char *t = read_file(from, NULL);

    ck_assert_msg(t != NULL, "cannot read %s: %s", from, strerror(errno));
    put_file(to, "%s", t);
    free(t);
}

/* A daemon of the world: own process group, killed if the suite process
 * dies, output to a file, a small fixed environment (nothing of ours leaks:
 * no LD_PRELOAD, no TLSPIN_*, no proxy variables). */
static pid_t spawn_daemon(const char *const argv[], const char *outfile)
{
    const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                         "PYTHONUNBUFFERED=1", fmt("HOME=%s", W.dir), NULL};
    pid_t pid = fork();

    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_DFL);
        if (fd < 0 || nul < 0 || chdir(W.dir) != 0)
            _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argv[0], (char *const *)argv, (char *const *)env);
        fprintf(stderr, "scenario: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static void stop_daemon(pid_t *pid)
{
    int st;

    if (*pid <= 0)
        return;
    kill(-*pid, SIGTERM);
    for (int i = 0; i < 200 && waitpid(*pid, &st, WNOHANG) == 0; i++)
        usleep(10000);
    kill(-*pid, SIGKILL); /* the group: sslsplit's privilege-separated child */
    waitpid(*pid, &st, 0);
    *pid = 0;
}

/* A port nobody uses in this network namespace (ours alone). */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                      getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                  "bind: %s", strerror(errno));
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* 1 once 127.0.0.1:port accepts a connection; 0 if pid died or time ran out. */
static int wait_listening(pid_t pid, int port, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
        siginfo_t si = {0};

        ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 1;
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            return 0;
        usleep(20000);
    }
    return 0;
}

/* Run a helper program of the setup; fails the case unless it exits 0. */
static void setup_run(struct run_result *r, const char *const argv[], const char *const env[])
{
    struct run_opts o = {.env = env, .timeout_ms = 30000};

    ck_assert_msg(run_argv(&o, r, argv) == 0, "cannot run %s", argv[0]);
    ck_assert_msg(r->exited && r->code == 0, "%s failed: " RUN_FMT, argv[0], RUN_ARGS(r));
}
#define SETUP_RUN(env, ...)                                                    \
    do {                                                                       \
        struct run_result r_;                                                  \
        setup_run(&r_, (const char *const[]){__VA_ARGS__, NULL}, (env));       \
        run_result_free(&r_);                                                  \
    } while (0)

static void overlay(const char *dir)
{
    char upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];
    const char *tag = strrchr(dir, '/') + 1;

    snprintf(upper, sizeof upper, "%s/overlay-%s-upper", W.dir, tag);
    snprintf(work, sizeof work, "%s/overlay-%s-work", W.dir, tag);
    ck_assert_msg(mkdir(upper, 0755) == 0 && mkdir(work, 0755) == 0, "mkdir: %s",
                  strerror(errno));
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", dir, upper, work);
    ck_assert_msg(mount("overlay", dir, "overlay", 0, opts) == 0, "overlay on %s: %s", dir,
                  strerror(errno));
    W.overlays++;
}

/* The pin that scenario_pin.sh computes (argv after the script). */
static void pin_of(char *out, size_t outlen, const char *const args[])
{
    const char *argv[8] = {BASH, PIN_SCRIPT};
    struct run_result r;
    size_t n = 2;

    for (size_t i = 0; args[i] && n < 7; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    setup_run(&r, argv, NULL);
    r.out[strcspn(r.out, "\r\n")] = '\0';
    ck_assert_msg(strncmp(r.out, "sha256/", 7) == 0 && strlen(r.out) < outlen,
                  "scenario_pin.sh: '%s'", r.out);
    snprintf(out, outlen, "%s", r.out);
    run_result_free(&r);
}

static void start_origin(void)
{
    char conf[PATH_MAX], prefix[1200];

    snprintf(prefix, sizeof prefix, "%s/origin", W.dir);
    ck_assert_msg(mkdir(prefix, 0755) == 0, "mkdir %s: %s", prefix, strerror(errno));
    snprintf(conf, sizeof conf, "%s/nginx.conf", prefix);
    snprintf(W.access_log, sizeof W.access_log, "%s/access.log", prefix);
    snprintf(W.origin_out, sizeof W.origin_out, "%s/nginx.out", prefix);
    W.origin_port = free_port();
    /* One process, in the foreground, everything it writes under prefix. */
    put_file(conf,
             "daemon off;\n"
             "master_process off;\n"
             "worker_processes 1;\n"
             "pid %1$s/nginx.pid;\n"
             "error_log %1$s/error.log info;\n"
             "events { worker_connections 64; }\n"
             "http {\n"
             "  client_body_temp_path %1$s/body;\n"
             "  proxy_temp_path %1$s/proxy;\n"
             "  fastcgi_temp_path %1$s/fastcgi;\n"
             "  uwsgi_temp_path %1$s/uwsgi;\n"
             "  scgi_temp_path %1$s/scgi;\n"
             "  log_format probe 'origin host=$host sni=$ssl_server_name "
             "probe=\"$http_x_probe\" \"$request\" $status';\n"
             "  access_log %1$s/access.log probe;\n"
             "  server {\n"
             "    listen 127.0.0.1:%2$d ssl;\n"
             "    server_name good.test other.test;\n"
             "    ssl_certificate %3$s;\n"
             "    ssl_certificate_key %4$s;\n"
             "    location / { default_type text/plain; return 200 \"" ORIGIN_BODY "\\n\"; }\n"
             "  }\n"
             "}\n",
             prefix, W.origin_port, cert("good-chain.pem"), cert("good.key"));
    W.origin_pid = spawn_daemon((const char *const[]){NGINX, "-e", fmt("%s/error.log", prefix),
                                                      "-p", prefix, "-c", conf, NULL},
                                W.origin_out);
    if (!wait_listening(W.origin_pid, W.origin_port, 10000)) {
        char *o = read_file(W.origin_out, NULL);
        ck_abort_msg("nginx did not start:\n%s", o ? o : "");
    }
}

static void start_mitmproxy(void)
{
    char confdir[1200];

    snprintf(confdir, sizeof confdir, "%s/mitmproxy", W.dir);
    ck_assert_msg(mkdir(confdir, 0700) == 0, "mkdir %s: %s", confdir, strerror(errno));
    snprintf(W.proxy_out, sizeof W.proxy_out, "%s/mitmdump.out", W.dir);
    snprintf(W.proxy_read, sizeof W.proxy_read, "%s", W.proxy_out);
    W.proxy_port = free_port();
    /* Reverse mode: whoever connects is served by the origin, as a
     * transparently intercepted connection would be. Regular mode: an
     * explicit proxy, the origin named by the client's CONNECT. The proxy
     * verifies the origin against the CA that issued it; flow_detail=2
     * prints the request headers it read (and so the marker). */
    W.proxy_pid = spawn_daemon(
        (const char *const[]){MITMDUMP, "--listen-host", "127.0.0.1", "--listen-port",
                              fmt("%d", W.proxy_port), "--mode",
                              W.explicit_proxy
                                  ? "regular"
                                  : fmt("reverse:https://127.0.0.1:%d", W.origin_port),
                              "--set",
                              fmt("confdir=%s", confdir), "--set",
                              fmt("ssl_verify_upstream_trusted_ca=%s", cert("ca.pem")), "--set",
                              "keep_host_header=true", "--set", "flow_detail=2", NULL},
        W.proxy_out);
    if (!wait_listening(W.proxy_pid, W.proxy_port, 30000)) {
        char *o = read_file(W.proxy_out, NULL);
        ck_abort_msg("mitmdump did not start:\n%s", o ? o : "");
    }
    /* The CA mitmproxy generated for itself at its first start (written
     * out by then; waited for all the same). */
    snprintf(W.proxy_ca, sizeof W.proxy_ca, "%s/mitmproxy-ca-cert.pem", confdir);
    for (int i = 0; i < 500 && access(W.proxy_ca, R_OK) != 0; i++)
        usleep(20000);
    W.proxy_ca_cn = "CN=mitmproxy";
}

static void start_sslsplit(void)
{
    char d[1200], key[PATH_MAX], conn[PATH_MAX];

    snprintf(d, sizeof d, "%s/sslsplit", W.dir);
    ck_assert_msg(mkdir(d, 0700) == 0, "mkdir %s: %s", d, strerror(errno));
    snprintf(key, sizeof key, "%s/ca.key", d);
    snprintf(conn, sizeof conn, "%s/connect.log", d);
    snprintf(W.proxy_ca, sizeof W.proxy_ca, "%s/ca.pem", d);
    snprintf(W.proxy_out, sizeof W.proxy_out, "%s/sslsplit.out", d);
    snprintf(W.proxy_read, sizeof W.proxy_read, "%s/content.log", d);
    W.proxy_ca_cn = "CN=Example Corp TLS Inspection CA";
    SETUP_RUN(NULL, OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-noenc", "-days", "30", "-subj",
              "/O=Example Corp/CN=Example Corp TLS Inspection CA", "-addext",
              "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign", "-keyout", key, "-out", W.proxy_ca);
    W.proxy_port = free_port();
    /* "https": TLS interception with HTTP decoding, a fixed upstream (the
     * origin); forged leaves get a fresh RSA key of sslsplit's own; -L logs
     * the cleartext it relays. */
    W.proxy_pid = spawn_daemon(
        (const char *const[]){SSLSPLIT, "-k", key, "-c", W.proxy_ca, "-l", conn, "-L",
                              W.proxy_read, "https", "127.0.0.1", fmt("%d", W.proxy_port),
                              "127.0.0.1", fmt("%d", W.origin_port), NULL},
        W.proxy_out);
    if (!wait_listening(W.proxy_pid, W.proxy_port, 10000)) {
        char *o = read_file(W.proxy_out, NULL);
        ck_abort_msg("sslsplit did not start:\n%s", o ? o : "");
    }
}

/* The IT department's way: the CA file under /usr/local/share/ca-certificates,
 * then update-ca-certificates — here over overlays of this namespace only. */
static void install_in_system_store(void)
{
    char nohooks[PATH_MAX], host_view[PATH_MAX + 32], *bundle, *ca;
    struct run_result r;

    overlay(LOCAL_CAS);
    overlay(SYS_CERTS);
    snprintf(W.installed, sizeof W.installed, "%s/corp-inspection-%s.crt", LOCAL_CAS, W.proxy);
    copy_file(W.proxy_ca, W.installed);
    /* The origin's issuer plays the public CA that legitimately issued
     * good.test's certificate. */
    copy_file(cert("ca.pem"), LOCAL_CAS "/tlspin-test-root.crt");
    /* No hooks: Debian's Java hook would write dpkg's trigger state. */
    snprintf(nohooks, sizeof nohooks, "%s/no-hooks", W.dir);
    SETUP_RUN(((const char *const[]){fmt("TMPDIR=%s", W.dir), NULL}), UPDATE_CA, "--hooksdir",
              nohooks);

    /* The bundle every client reads now holds the proxy's CA, and OpenSSL's
     * default paths trust it (no -CAfile). */
    bundle = read_file(SYS_CERTS "/ca-certificates.crt", NULL);
    ca = read_file(W.proxy_ca, NULL);
    ck_assert_msg(bundle && ca && strstr(bundle, ca), "the proxy's CA is not in the bundle");
    free(bundle);
    free(ca);
    setup_run(&r, (const char *const[]){OPENSSL, "verify", W.proxy_ca, NULL}, NULL);
    run_result_free(&r);

    /* And the machine's own store, seen from pid 1's mount namespace, does
     * not (when this process may look there at all). */
    snprintf(host_view, sizeof host_view, "/proc/1/root%s/corp-inspection-%s.pem", SYS_CERTS,
             W.proxy);
    if (access("/proc/1/root" SYS_CERTS, F_OK) == 0)
        ck_assert_msg(access(host_view, F_OK) != 0 && errno == ENOENT,
                      "%s exists: the real trust store was changed", host_view);
}

/* The explicit proxy resolves the names its clients CONNECT to: good.test
 * and other.test are 127.0.0.1 in this namespace's /etc/hosts. */
static void hosts_for_explicit_proxy(void)
{
    char path[PATH_MAX], *orig = read_file("/etc/hosts", NULL);

    snprintf(path, sizeof path, "%s/hosts", W.dir);
    put_file(path, "%s\n127.0.0.1 good.test other.test\n", orig ? orig : "");
    free(orig);
    ck_assert_msg(mount(path, "/etc/hosts", NULL, MS_BIND, NULL) == 0, "bind /etc/hosts: %s",
                  strerror(errno));
    W.hosts_mounted = 1;
}

static void world_teardown(void)
{
    stop_daemon(&W.proxy_pid);
    stop_daemon(&W.origin_pid);
    if (W.hosts_mounted)
        umount2("/etc/hosts", MNT_DETACH);
    W.hosts_mounted = 0;
    if (W.overlays > 1)
        umount2(SYS_CERTS, MNT_DETACH);
    if (W.overlays > 0)
        umount2(LOCAL_CAS, MNT_DETACH);
    W.overlays = 0;
}

static void world_setup(enum proxy_kind kind)
{
    memset(&W, 0, sizeof W);
    W.kind = kind;
    W.explicit_proxy = kind == PROXY_MITMPROXY_EXPLICIT;
    W.proxy = kind == PROXY_MITMPROXY ? "mitmproxy"
              : W.explicit_proxy      ? "mitmproxy-explicit"
                                      : "sslsplit";
    W.clients = W.explicit_proxy ? proxy_aware_clients : all_clients;
    /* mitmproxy's reverse mode names the origin by address: no SNI. */
    W.other_sni = kind == PROXY_MITMPROXY ? "-" : "other.test";
    snprintf(W.dir, sizeof W.dir, "%s/scenario-%s", H.root, W.proxy);
    ck_assert_msg(mkdir(W.dir, 0755) == 0, "mkdir %s: %s", W.dir, strerror(errno));

    /* Namespaces of this case: the suite process is already in a private
     * mount namespace (harness); these are new ones on top. */
    ck_assert_msg(unshare(CLONE_NEWNS | CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
    ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private /: %s",
                  strerror(errno));
    SETUP_RUN(NULL, IP_CMD, "link", "set", "lo", "up");
    /* glibc's AI_ADDRCONFIG (sslsplit resolves "127.0.0.1" with it) finds no
     * IPv4 address when 127.0.0.1 is the only one: give lo a second. */
    SETUP_RUN(NULL, IP_CMD, "addr", "add", "127.0.0.2/32", "dev", "lo");

    if (W.explicit_proxy)
        hosts_for_explicit_proxy();
    start_origin();
    if (kind != PROXY_SSLSPLIT)
        start_mitmproxy();
    else
        start_sslsplit();
    install_in_system_store();

    /* The key the proxy presents for good.test, by the openssl CLI; the
     * same computation gives the origin's pin as mkcerts.sh did. */
    {
        char origin_pin[128];
        pin_of(origin_pin, sizeof origin_pin,
               (const char *const[]){"presented", fmt("%d", W.origin_port), "good.test", NULL});
        ck_assert_msg(strcmp(origin_pin, pin("PIN_GOOD")) == 0,
                      "the origin presents %s, mkcerts.sh says %s", origin_pin, pin("PIN_GOOD"));
    }
    if (W.explicit_proxy)
        pin_of(W.leaf_pin, sizeof W.leaf_pin,
               (const char *const[]){"presented", fmt("%d", W.origin_port), "good.test",
                                     fmt("%d", W.proxy_port), NULL});
    else
        pin_of(W.leaf_pin, sizeof W.leaf_pin,
               (const char *const[]){"presented", fmt("%d", W.proxy_port), "good.test", NULL});
    ck_assert_msg(strcmp(W.leaf_pin, pin("PIN_GOOD")) != 0 &&
                      strcmp(W.leaf_pin, pin("PIN_BACKUP")) != 0,
                  "the proxy presents a pinned key?");
    fprintf(stderr, "scenario: %s on 127.0.0.1:%d, origin on 127.0.0.1:%d, proxy leaf %s\n",
            W.proxy, W.proxy_port, W.origin_port, W.leaf_pin);
}

/* Unchecked fixtures run in the suite process, in Check's no-fork mode: a
 * failed assertion there longjmps out of world_setup(), and Check then skips
 * the case's tests and its teardown. What was started by then dies with the
 * suite process (PR_SET_PDEATHSIG) or is taken down by the next case's setup;
 * the namespaces die with the suite process. */
static void setup_world(enum proxy_kind kind)
{
    world_teardown(); /* a previous case's world, if its setup failed */
    world_setup(kind);
}
static void mitmproxy_setup(void) { setup_world(PROXY_MITMPROXY); }
static void mitmproxy_explicit_setup(void) { setup_world(PROXY_MITMPROXY_EXPLICIT); }
static void sslsplit_setup(void) { setup_world(PROXY_SSLSPLIT); }

/* ------------------------------------------------------------------ */
/* The clients: system defaults for trust, no CA option                */
/* ------------------------------------------------------------------ */

/* How one run reaches the server. */
struct route {
    const char *host;          /* the name the client asks for */
    int port;                  /* the port it connects to (127.0.0.1), or asks
                                  the explicit proxy for */
    const char *proxy;         /* "127.0.0.1:<port>" of the explicit proxy, or NULL */
};

struct client {
    const char *name;          /* test name */
    const char *tag;           /* syslog tag and program= */
    /* argv (and stdin, environment) for route sending marker. */
    void (*argv)(const struct route *rt, const char *marker, const char *argv[24],
                 const char **input, const char *env[4]);
    const char *blocked_text[3];
    int blocked_code;          /* -1: any non-zero */
};

/* curl takes an explicit proxy from https_proxy, as IT departments set it
 * (/etc/environment); without one, --resolve points the name at 127.0.0.1. */
static void curl_argv(const struct route *rt, const char *marker, const char *argv[24],
                      const char **input, const char *env[4])
{
    size_t n = 0;
    (void)input;
    argv[n++] = CURL;
    argv[n++] = "-q"; /* no ~/.curlrc */
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    if (rt->proxy) {
        env[0] = fmt("https_proxy=http://%s", rt->proxy);
    } else {
        argv[n++] = "--resolve";
        argv[n++] = fmt("%s:%d:127.0.0.1", rt->host, rt->port);
    }
    argv[n++] = "-H";
    argv[n++] = fmt("X-Probe: %s", marker);
    argv[n++] = fmt("https://%s:%d/", rt->host, rt->port);
    argv[n] = NULL;
}

/* urllib with its default context (and its default proxy handling, which
 * reads https_proxy): the URL names the host; getaddrinfo is pointed at
 * 127.0.0.1 for it so that urllib's own code sets SNI and the name. */
static const char py_urllib[] =
    "import socket, sys, urllib.request\n"
    "host, port, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "real = socket.getaddrinfo\n"
    "def gai(h, *a, **k):\n"
    "    return real('127.0.0.1' if h == host else h, *a, **k)\n"
    "socket.getaddrinfo = gai\n"
    "req = urllib.request.Request('https://%s:%d/' % (host, port), headers={'X-Probe': marker})\n"
    "try:\n"
    "    with urllib.request.urlopen(req, timeout=10) as r:\n"
    "        print('OK', r.status, r.read().decode(errors='replace'), end='')\n"
    "except Exception as e:\n"
    "    reason = getattr(e, 'reason', e)\n"
    "    print('FAILED', type(e).__name__, type(reason).__name__,\n"
    "          getattr(reason, 'verify_message', '-'), repr(e))\n"
    "    sys.exit(1)\n";

static void python_urllib(const struct route *rt, const char *marker, const char *argv[24],
                          const char **input, const char *env[4])
{
    size_t n = 0;
    (void)input;
    argv[n++] = PYTHON3;
    argv[n++] = "-I"; /* isolated: ignores PYTHON* variables, not https_proxy */
    argv[n++] = "-c";
    argv[n++] = py_urllib;
    argv[n++] = rt->host;
    argv[n++] = fmt("%d", rt->port);
    argv[n++] = marker;
    argv[n] = NULL;
    if (rt->proxy)
        env[0] = fmt("https_proxy=http://%s", rt->proxy);
}

/* The raw ssl module with ssl.create_default_context(). */
static const char py_ssl[] =
    "import socket, ssl, sys\n"
    "host, port, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "ctx = ssl.create_default_context()\n"
    "s = socket.create_connection(('127.0.0.1', port), timeout=10)\n"
    "try:\n"
    "    t = ctx.wrap_socket(s, server_hostname=host)\n"
    "except ssl.SSLCertVerificationError as e:\n"
    "    print('FAILED SSLCertVerificationError', e.verify_code, e.verify_message, repr(e))\n"
    "    sys.exit(1)\n"
    "except Exception as e:\n"
    "    print('FAILED', type(e).__name__, repr(e))\n"
    "    sys.exit(2)\n"
    "t.sendall(('GET / HTTP/1.0\\r\\nHost: %s\\r\\nX-Probe: %s\\r\\n\\r\\n' % (host, marker))"
    ".encode())\n"
    "data = b''\n"
    "while True:\n"
    "    try:\n"
    "        b = t.recv(4096)\n"
    "    except ssl.SSLEOFError:\n"
    "        break\n"
    "    if not b: break\n"
    "    data += b\n"
    "print('OK', t.version(), data.decode(errors='replace'))\n";

static void python_ssl(const struct route *rt, const char *marker, const char *argv[24],
                       const char **input, const char *env[4])
{
    size_t n = 0;
    (void)input;
    (void)env;
    argv[n++] = PYTHON3;
    argv[n++] = "-I";
    argv[n++] = "-c";
    argv[n++] = py_ssl;
    argv[n++] = rt->host;
    argv[n++] = fmt("%d", rt->port);
    argv[n++] = marker;
    argv[n] = NULL;
}

/* s_client verifying (default paths, host name, abort on failure); it sends
 * the request from stdin and reads until the server closes. */
static void s_client(const struct route *rt, const char *marker, const char *argv[24],
                     const char **input, const char *env[4])
{
    size_t n = 0;
    (void)env;
    argv[n++] = OPENSSL;
    argv[n++] = "s_client";
    if (rt->proxy) {
        argv[n++] = "-proxy";
        argv[n++] = rt->proxy;
        argv[n++] = "-connect";
        argv[n++] = fmt("%s:%d", rt->host, rt->port);
    } else {
        argv[n++] = "-connect";
        argv[n++] = fmt("127.0.0.1:%d", rt->port);
    }
    argv[n++] = "-servername";
    argv[n++] = rt->host;
    argv[n++] = "-verify_return_error";
    argv[n++] = "-verify_hostname";
    argv[n++] = rt->host;
    argv[n++] = "-ign_eof";
    argv[n++] = "-ignore_unexpected_eof"; /* mitmproxy closes without close_notify */
    argv[n] = NULL;
    *input = fmt("GET / HTTP/1.0\r\nHost: %s\r\nX-Probe: %s\r\n\r\n", rt->host, marker);
}

static const char perl_ssl[] =
    "use strict; use warnings; use IO::Socket::SSL;\n"
    "my ($host, $port, $marker) = @ARGV;\n"
    "my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port,\n"
    "    SSL_hostname => $host, SSL_verifycn_name => $host, SSL_verifycn_scheme => 'http',\n"
    "    Timeout => 10)\n"
    "  or do { print \"FAILED $SSL_ERROR\\n\"; exit 1; };\n"
    "print $s \"GET / HTTP/1.0\\r\\nHost: $host\\r\\nX-Probe: $marker\\r\\n\\r\\n\";\n"
    "my $body = ''; while (my $l = <$s>) { $body .= $l; }\n"
    "print \"OK \", $s->get_sslversion, \" $body\";\n";

static void perl_io_socket_ssl(const struct route *rt, const char *marker, const char *argv[24],
                               const char **input, const char *env[4])
{
    size_t n = 0;
    (void)input;
    (void)env;
    argv[n++] = PERL;
    argv[n++] = "-e";
    argv[n++] = perl_ssl;
    argv[n++] = rt->host;
    argv[n++] = fmt("%d", rt->port);
    argv[n++] = marker;
    argv[n] = NULL;
}

static const struct client clients[] = {
    {"curl", "curl", curl_argv,
     {"SSL certificate problem: application verification failure", NULL}, 60},
    {"python3 urllib", "python3", python_urllib,
     {"FAILED URLError SSLCertVerificationError application verification failure", NULL}, 1},
    {"python3 ssl", "python3", python_ssl,
     {"FAILED SSLCertVerificationError 50 application verification failure", NULL}, 1},
    {"openssl s_client", "openssl", s_client,
     {"certificate verify failed", "public key pin mismatch", NULL}, -1},
    {"perl IO::Socket::SSL", "perl", perl_io_socket_ssl,
     {"FAILED SSL connect attempt failed", "certificate verify failed", NULL}, 1},
};

/* ------------------------------------------------------------------ */
/* Running and judging                                                 */
/* ------------------------------------------------------------------ */

static const struct client *world_client(int i)
{
    return &clients[W.clients[i]];
}

/* A marker no other request of the run carries. */
static const char *new_marker(const char *what, int i)
{
    static unsigned seq;
    return fmt("scn-%s-%s-%d-%ld-%u", W.proxy, what, i, (long)getpid(), ++seq);
}

enum via { VIA_PROXY, DIRECT };

static void run_client(const struct client *c, const char *host, enum via via,
                       const char *marker, int preload, struct run_result *r)
{
    const char *argv[24], *env[4] = {NULL};
    struct run_opts o = {.preload = preload, .env = env, .timeout_ms = 20000};
    struct route rt = {.host = host, .port = W.origin_port};

    if (via == VIA_PROXY && W.explicit_proxy)
        rt.proxy = fmt("127.0.0.1:%d", W.proxy_port);
    else if (via == VIA_PROXY)
        rt.port = W.proxy_port;
    c->argv(&rt, marker, argv, &o.input, env);
    ck_assert_int_eq(run_argv(&o, r, argv), 0);
}

static void assert_client_succeeded(const struct client *c, const struct run_result *r,
                                    const char *what)
{
    ck_assert_msg(r->exited && r->code == 0 && strstr(r->out, ORIGIN_BODY),
                  "%s (%s) should have got the origin's answer: " RUN_FMT, c->name, what,
                  RUN_ARGS(r));
    if (c->argv == s_client)
        ck_assert_msg(strstr(r->out, "Verify return code: 0 (ok)"), "%s (%s): " RUN_FMT,
                      c->name, what, RUN_ARGS(r));
    else if (c->argv != curl_argv)
        ck_assert_msg(strncmp(r->out, "OK ", 3) == 0, "%s (%s): " RUN_FMT, c->name, what,
                      RUN_ARGS(r));
}

static void assert_client_blocked_here(const struct client *c, const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code != 0, "%s was not blocked: " RUN_FMT, c->name,
                  RUN_ARGS(r));
    if (c->blocked_code >= 0)
        ck_assert_msg(r->code == c->blocked_code, "%s: expected exit %d: " RUN_FMT, c->name,
                      c->blocked_code, RUN_ARGS(r));
    for (size_t i = 0; c->blocked_text[i]; i++)
        ck_assert_msg(strstr(r->out, c->blocked_text[i]) || strstr(r->err, c->blocked_text[i]),
                      "%s: no '%s' in its output: " RUN_FMT, c->name, c->blocked_text[i],
                      RUN_ARGS(r));
    if (c->argv == s_client)
        ck_assert_msg(has_tlspin_error_entry(r->err) || has_tlspin_error_entry(r->out),
                      "%s: no error entry of library tlspin: " RUN_FMT, c->name, RUN_ARGS(r));
    ck_assert_msg(!strstr(r->out, ORIGIN_BODY), "%s: blocked, yet the origin answered: " RUN_FMT,
                  c->name, RUN_ARGS(r));
}

/* Occurrences of needle in file. */
static int count_in(const char *file, const char *needle)
{
    char *t = read_file(file, NULL), *p;
    int n = 0;

    for (p = t; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(t);
    return n;
}

/* Wait up to timeout_ms for at least `want` occurrences; the count. */
static int wait_count(const char *file, const char *needle, int want, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    int n;

    while ((n = count_in(file, needle)) < want && now_ms() < deadline)
        usleep(20000);
    return n;
}

/* Lines of the origin's access log with this marker (nginx logs when it
 * has answered; a proxy may still be relaying as the client exits). */
static int origin_got(const char *marker, int timeout_ms)
{
    return wait_count(W.access_log, fmt("probe=\"%s\"", marker), 1, timeout_ms);
}

/* The proxy shows the cleartext request with this marker. */
static int proxy_read(const char *marker, int timeout_ms)
{
    return wait_count(W.proxy_read, marker, 1, timeout_ms);
}

static const char *access_log_text(void)
{
    char *t = read_file(W.access_log, NULL);
    const char *s = fmt("%.7000s", t ? t : "(none)");
    free(t);
    return s;
}

/* What mitmdump logs when a client aborts the handshake with a fatal
 * handshake_failure alert, as tlspin's refusal makes it do. */
#define MITM_CLIENT_ALERT "sslv3 alert handshake failure"

/* The policy of every test: the file module, good.test pinned to the
 * origin's key and a backup key; other.test unpinned. */
static void pin_good_test(void)
{
    write_file_policy(NULL);
    write_good_pinset();
}

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

/* (a) The threat: without tlspin, plain programs trust the proxy. */
START_TEST(threat_without_tlspin)
{
    const struct client *c = world_client(_i);
    const char *m = new_marker("threat", _i), *m2;
    struct run_result r;
    size_t mark = syslog_mark();

    run_client(c, "good.test", VIA_PROXY, m, 0, &r);
    assert_client_succeeded(c, &r, "through the proxy, no tlspin");
    ck_assert_msg(proxy_read(m, 3000) > 0, "%s: the proxy did not read the request in clear",
                  c->name);
    ck_assert_msg(origin_got(m, 3000) == 1, "%s: the origin did not log the request once:\n%s",
                  c->name, access_log_text());
    ck_assert_uint_eq(syslog_tlspin_count_since(mark), 0);
    run_result_free(&r);

    /* Control: that success rests on the installed CA. This test process
     * alone drops the overlays and sees the machine's own trust store, in
     * which the proxy's CA is not: the same client refuses the proxy. */
    test_private_mounts();
    ck_assert_msg(umount2(SYS_CERTS, MNT_DETACH) == 0 && umount2(LOCAL_CAS, MNT_DETACH) == 0,
                  "umount: %s", strerror(errno));
    m2 = new_marker("untrusted", _i);
    run_client(c, "good.test", VIA_PROXY, m2, 0, &r);
    ck_assert_msg(r.exited && r.code != 0 && !strstr(r.out, ORIGIN_BODY),
                  "%s trusted the proxy without its CA installed: " RUN_FMT, c->name,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "certif") || strstr(r.err, "certif"),
                  "%s: not a certificate error: " RUN_FMT, c->name, RUN_ARGS(&r));
    ck_assert_int_eq(origin_got(m2, 0), 0);
    run_result_free(&r);
}
END_TEST

/* (b) With tlspin and good.test pinned: blocked, in the client's words,
 * recorded, and nothing reaches the origin. */
START_TEST(pinned_blocked)
{
    const struct client *c = world_client(_i);
    const char *m = new_marker("blocked", _i), *m2;
    const struct syslog_rec *rec;
    struct run_result r;
    char chain[4096], field[256];
    int alerts = count_in(W.proxy_out, MITM_CLIENT_ALERT);
    size_t mark;

    pin_good_test();
    mark = syslog_mark();
    run_client(c, "good.test", VIA_PROXY, m, 1, &r);
    assert_client_blocked_here(c, &r);

    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "%s: no pin-mismatch record:\n%s", c->name,
                  syslog_dump_since(mark));
    ck_assert_int_eq(rec->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(rec->severity, LOG_WARNING);
    ck_assert_msg(strcmp(rec->tag, c->tag) == 0, "tag '%s', expected '%s': %s", rec->tag, c->tag,
                  rec->raw);
    ck_assert_msg(rec_keys(rec, field, sizeof field) == 0, "unparsable record: %s", rec->msg);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "program", c->tag);
    ck_assert_field(rec, "pid", fmt("%d", (int)r.pid));
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "module", "file");
    ck_assert_field(rec, "verdict", "fail");
    /* The client verified the proxy's chain against the system store. */
    ck_assert_field(rec, "trust", "app-verified");
    ck_assert_field(rec, "expected", fmt("%s,%s", pin("PIN_GOOD"), pin("PIN_BACKUP")));
    /* The proxy's leaf key first, then its CA as installed. */
    ck_assert_int_eq(rec_field(rec, "chain", chain, sizeof chain), 0);
    ck_assert_msg(strncmp(chain, fmt("%s ", W.leaf_pin), strlen(W.leaf_pin) + 1) == 0,
                  "chain does not start with the proxy's leaf %s: %s", W.leaf_pin, chain);
    ck_assert_msg(strstr(chain, "CN=good.test"), "no leaf subject in chain: %s", chain);
    ck_assert_msg(strstr(chain, W.proxy_ca_cn), "no %s in chain: %s", W.proxy_ca_cn, chain);
    ck_assert_msg(!strstr(chain, pin("PIN_GOOD")), "chain has the good pin?: %s", chain);
    /* The port: what the client's socket is connected to, the proxy's (curl's
     * SSL has no socket of its own: "-" allowed). Through an explicit proxy
     * the origin's port, from the CONNECT, would be right too. */
    ck_assert_int_eq(rec_field(rec, "port", field, sizeof field), 0);
    ck_assert_msg(strcmp(field, fmt("%d", W.proxy_port)) == 0 ||
                      ((c->argv == curl_argv || W.explicit_proxy) && strcmp(field, "-") == 0) ||
                      (W.explicit_proxy && strcmp(field, fmt("%d", W.origin_port)) == 0),
                  "%s: port=%s, the proxy is on %d", c->name, field, W.proxy_port);
    run_result_free(&r);

    /* The proxy saw the client abort the handshake (mitmdump says so). */
    if (W.kind != PROXY_SSLSPLIT)
        ck_assert_msg(wait_count(W.proxy_out, MITM_CLIENT_ALERT, alerts + 1, 3000) == alerts + 1,
                      "%s: mitmdump did not report one handshake_failure alert", c->name);

    /* Control: the same client, same proxy, without tlspin, gets through
     * and its request is in the origin's log: the log is live and the path
     * works. Only then: no line of the blocked request, at the origin or at
     * the proxy. */
    m2 = new_marker("control", _i);
    run_client(c, "good.test", VIA_PROXY, m2, 0, &r);
    assert_client_succeeded(c, &r, "control, no tlspin");
    ck_assert_msg(origin_got(m2, 3000) == 1, "%s: control request not at the origin:\n%s",
                  c->name, access_log_text());
    ck_assert_msg(proxy_read(m2, 3000) > 0, "%s: the proxy did not show the control request",
                  c->name);
    ck_assert_msg(origin_got(m, 0) == 0, "%s: the blocked request reached the origin:\n%s",
                  c->name, access_log_text());
    ck_assert_msg(proxy_read(m, 0) == 0, "%s: the proxy read the blocked request", c->name);
    run_result_free(&r);

    /* One record, the blocked handshake's. */
    (void)the_tlspin_record_since(mark);
}
END_TEST

/* A blocked run through the proxy, in tests whose point is a pass: the
 * shim was active in this very setting. */
static void assert_blocked_via_proxy(const struct client *c)
{
    struct run_result r;
    size_t mark = syslog_mark();
    const struct syslog_rec *rec;

    run_client(c, "good.test", VIA_PROXY, new_marker("pair", 0), 1, &r);
    assert_client_blocked_here(c, &r);
    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "%s: no record:\n%s", c->name, syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    run_result_free(&r);
}

/* (c) An unpinned host through the same proxy still works under tlspin. */
START_TEST(unpinned_through_proxy)
{
    const struct client *c = world_client(_i);
    const char *m = new_marker("unpinned", _i);
    struct run_result r;
    size_t mark;

    pin_good_test();
    mark = syslog_mark();
    run_client(c, "other.test", VIA_PROXY, m, 1, &r);
    assert_client_succeeded(c, &r, "other.test through the proxy, tlspin");
    ck_assert_msg(proxy_read(m, 3000) > 0, "%s: the proxy did not read the request", c->name);
    ck_assert_msg(origin_got(m, 3000) == 1, "%s: the origin did not log the request:\n%s",
                  c->name, access_log_text());
    ck_assert_msg(count_in(W.access_log,
                           fmt("host=other.test sni=%s probe=\"%s\"", W.other_sni, m)) == 1,
                  "%s: not logged for other.test:\n%s", c->name, access_log_text());
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "an unpinned host logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);

    assert_blocked_via_proxy(c);
}
END_TEST

/* (d) Straight to the origin under tlspin: the pin is right. */
START_TEST(direct_to_origin)
{
    const struct client *c = world_client(_i);
    const char *m = new_marker("direct", _i);
    struct run_result r;
    size_t mark;

    pin_good_test();
    mark = syslog_mark();
    run_client(c, "good.test", DIRECT, m, 1, &r);
    assert_client_succeeded(c, &r, "direct, tlspin");
    ck_assert_msg(wait_count(W.access_log, fmt("host=good.test sni=good.test probe=\"%s\"", m),
                             1, 3000) == 1,
                  "%s: the origin did not log the direct request:\n%s", c->name,
                  access_log_text());
    ck_assert_int_eq(proxy_read(m, 0), 0);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a silent pass logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);

    assert_blocked_via_proxy(c);
}
END_TEST

/* Through an explicit proxy the client's socket is the proxy's: a pinset
 * that lists the origin's port must still apply (a port only chooses among a
 * host's pinsets, never exempts it). Control: the same policy, straight to
 * the origin's port, passes. */
START_TEST(port_pinset_through_explicit_proxy)
{
    const struct client *c = world_client(_i);
    const char *m = new_marker("portpin", _i);
    const struct syslog_rec *rec;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    write_pinsets("api",
                  "pinsets = (\n"
                  "  { name = \"api-port\"; hosts = [ \"good.test\" ]; ports = [ %d ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; }\n"
                  ");\n",
                  W.origin_port, pin("PIN_GOOD"), pin("PIN_BACKUP"));

    mark = syslog_mark();
    run_client(c, "good.test", DIRECT, m, 1, &r);
    assert_client_succeeded(c, &r, "direct, port-restricted pinset");
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a silent pass logged:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);

    m = new_marker("portpin-proxy", _i);
    mark = syslog_mark();
    run_client(c, "good.test", VIA_PROXY, m, 1, &r);
    assert_client_blocked_here(c, &r);
    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "%s: no record:\n%s", c->name, syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api-port");
    run_result_free(&r);
    ck_assert_msg(origin_got(m, 500) == 0, "%s: the blocked request reached the origin:\n%s",
                  c->name, access_log_text());
}
END_TEST

static TCase *proxy_tcase(const char *name, void (*setup)(void), int n_clients)
{
    TCase *tc = harness_tcase(name);

    tcase_add_unchecked_fixture(tc, setup, world_teardown);
    tcase_add_loop_test(tc, threat_without_tlspin, 0, n_clients);
    tcase_add_loop_test(tc, pinned_blocked, 0, n_clients);
    tcase_add_loop_test(tc, unpinned_through_proxy, 0, n_clients);
    tcase_add_loop_test(tc, direct_to_origin, 0, n_clients);
    return tc;
}

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc;

    suite_add_tcase(s, proxy_tcase("mitmproxy", mitmproxy_setup, N_ALL_CLIENTS));
    tc = proxy_tcase("mitmproxy-explicit", mitmproxy_explicit_setup, N_PROXY_CLIENTS);
    tcase_add_loop_test(tc, port_pinset_through_explicit_proxy, 0, N_PROXY_CLIENTS);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, proxy_tcase("sslsplit", sslsplit_setup, N_ALL_CLIENTS));
    return s;
}

int main(void)
{
    return harness_main(scenario_suite());
}
