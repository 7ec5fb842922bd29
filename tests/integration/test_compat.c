/*
 * test_compat.c — the compatibility matrix (issue 3, point 2): unmodified
 * Debian 12 programs that use OpenSSL, each run under the preload the way
 * people run it, and the GnuTLS programs that tlspin cannot see.
 *
 * For every covered program (table `programs` below):
 *   match     pinned host, the server presents the pinned key: the program
 *             works, its request reaches the server, no record;
 *   mismatch  pinned host, the server presents the interception proxy's key
 *             (signed by a second CA the program trusts): first WITHOUT the
 *             shim the program succeeds (the threat is real for it), then
 *             with the shim it fails in its own words, the server receives
 *             no application byte, and exactly one pin-mismatch record
 *             arrives on /dev/log;
 *   unpinned  other.test (no pinset), the interceptor's key: works, no
 *             record;
 *   probe     its version, from the program itself, and its handshake path:
 *             the libssl entry point whose call led to the verification of
 *             the server's chain, seen with gdb breakpoints
 *             (compat_path.gdb); from the source when gdb is not installed.
 * Names resolve through a private /etc/hosts (an overlay on /etc in the
 * test's own mount namespace): every program connects to good.test or
 * other.test by name, sets SNI and verifies the name with its own code.
 *
 * stunnel4 runs in client mode from a config in the test directory and a
 * plain TCP client (curl http://) goes through it. nginx proxies to an
 * https upstream; its workers drop the environment, so the policy comes from
 * /etc/tlspin/tlspin.conf (in the overlay) while the master is started with
 * LD_PRELOAD and a TLSPIN_CONFIG naming a policy that would do the opposite
 * (pin the interceptor): what the workers decide shows which one they use.
 *
 * GnuTLS programs (wget, lynx, git's https helper, mutt): ldd shows no
 * libssl.so.3, and /proc/PID/maps of the running program shows the shim
 * loaded beside libgnutls and no libssl: tlspin cannot see them, and indeed
 * they complete a handshake with the interceptor's key under a pinset.
 *
 * Known bugs (an entry's known_crash, known_program) are asserted as they
 * stand, and shown as such in the matrix: the suite fails the day one is
 * fixed, so that its entry goes.
 *
 * Every test appends what it observed to a raw file; main() turns it into
 * the Markdown matrix at $TLSPIN_MATRIX_OUT (default
 * <build>/compat-matrix.md), which script/matrix puts into README.md.
 */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MARKER "tlspin-compat-probe"
#define COMPAT_DIR TLSPIN_SOURCE_DIR "/tests/integration"
#define GDB "/usr/bin/gdb"
#define STUNNEL_BIN "/usr/bin/stunnel4"
#define NGINX_BIN "/usr/sbin/nginx"

extern char **environ;

static char matrix_out[PATH_MAX];
static char matrix_raw[PATH_MAX + 8];

/* ------------------------------------------------------------------ */
/* The raw matrix: "row\tkey\tvalue" lines, appended by the tests        */
/* ------------------------------------------------------------------ */

static void matrix_put(const char *row, const char *key, const char *value)
{
    char line[4096];
    int fd, n;

    n = snprintf(line, sizeof line, "%s\t%s\t%s\n", row, key, value);
    if (n <= 0 || (size_t)n >= sizeof line)
        n = (int)sizeof line - 1, line[n - 1] = '\n';
    for (char *p = line; p < line + n - 1; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fd = open(matrix_raw, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "%s: %s", matrix_raw, strerror(errno));
    ck_assert_msg(write(fd, line, (size_t)n) == n, "write %s", matrix_raw);
    close(fd);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A TCP socket bound to 127.0.0.1 on a port the kernel chooses (*port):
 * free_port() and the silent listener of the GnuTLS test both start so. */
static int loopback_socket(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A port the kernel just gave out and took back, for programs that cannot
 * listen on port 0 and say which port they got (stunnel, nginx). */
static int free_port(void)
{
    int port;

    close(loopback_socket(&port));
    return port;
}

/* Is something listening on 127.0.0.1:port? (/proc/net/tcp, without
 * connecting: a connection to stunnel would start a handshake.) */
static int listening(int port)
{
    char want[32], *txt = read_file("/proc/net/tcp", NULL);
    int found = 0;

    snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", (unsigned)port);
    found = txt && strstr(txt, want) != NULL;
    free(txt);
    return found;
}

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[1024], *p;
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* after "pid (comm)": " S ppid ..." */
    if (!p || strlen(p) < 5)
        return -1;
    return (pid_t)atoi(p + 4);
}

/* The living descendants of root (root first), at most max. */
static size_t descendants(pid_t root, pid_t *out, size_t max)
{
    size_t n = 0;

    out[n++] = root;
    for (size_t i = 0; i < n && n < max; i++) {
        DIR *d = opendir("/proc");
        struct dirent *e;

        while (d && (e = readdir(d)) && n < max) {
            pid_t pid = (pid_t)atoi(e->d_name);
            if (pid > 0 && parent_of(pid) == out[i])
                out[n++] = pid;
        }
        if (d)
            closedir(d);
    }
    return n;
}

/* /proc/PID/maps has a mapping whose path contains `lib`. */
static int maps_has(pid_t pid, const char *lib)
{
    char *maps = read_file(fmt("/proc/%d/maps", (int)pid), NULL);
    int has = maps && strstr(maps, lib) != NULL;
    free(maps);
    return has;
}

/* A copy of line of `text` that contains needle; NULL when none. */
static char *line_with(const char *text, const char *needle)
{
    const char *p = strstr(text, needle), *b, *e;

    if (!p)
        return NULL;
    for (b = p; b > text && b[-1] != '\n'; b--)
        ;
    e = strchr(p, '\n');
    return strndup(b, e ? (size_t)(e - b) : strlen(b));
}

/* Replace each whole-number occurrence of num in s by repl (in place; repl
 * no longer than the number). */
static void replace_number(char *s, long num, const char *repl)
{
    char digits[32];
    size_t dl, rl = strlen(repl);

    if (num <= 0)
        return;
    dl = (size_t)snprintf(digits, sizeof digits, "%ld", num);
    if (rl > dl)
        return;
    for (char *p = strstr(s, digits); p; p = strstr(p, digits)) {
        if ((p > s && isdigit((unsigned char)p[-1])) || isdigit((unsigned char)p[dl])) {
            p += dl;
            continue;
        }
        memcpy(p, repl, rl);
        memmove(p + rl, p + dl, strlen(p + dl) + 1);
        p += rl;
    }
}

/* Replace each occurrence of what in s by repl (in place; repl no longer). */
static void replace_text(char *s, const char *what, const char *repl)
{
    size_t wl = strlen(what), rl = strlen(repl);

    if (!wl || rl > wl)
        return;
    for (char *p = strstr(s, what); p; p = strstr(p + rl, what)) {
        memcpy(p, repl, rl);
        memmove(p + rl, p + wl, strlen(p + wl) + 1);
    }
}

/* What a cell of the matrix shows of a program's message: from `from` (or
 * the line's start) on, with what changes from run to run or checkout to
 * checkout (port, pid, source directory) replaced, cut at 240 characters. */
static char *excerpt(const char *line, const char *from, int port, pid_t pid)
{
    const char *start = from && strstr(line, from) ? strstr(line, from) : line;
    char *s;

    /* the helper scripts' own word, not the program's */
    if (strncmp(start, "FAILED ", 7) == 0)
        start += 7;
    s = strdup(start);

    replace_text(s, TLSPIN_SOURCE_DIR "/", "");
    replace_number(s, port, "PORT");
    replace_number(s, (long)pid, "PID");
    if (strlen(s) > 240)
        strcpy(s + 237, "...");
    return s;
}

/* ------------------------------------------------------------------ */
/* Background processes (daemons, gdb, programs caught mid-handshake)   */
/* ------------------------------------------------------------------ */

static pid_t bg_pids[16];

static void bg_kill_all(void)
{
    for (size_t i = 0; i < 16; i++)
        if (bg_pids[i] > 0) {
            kill(-bg_pids[i], SIGKILL);
            kill(bg_pids[i], SIGKILL);
            waitpid(bg_pids[i], NULL, WNOHANG);
            bg_pids[i] = 0;
        }
}

/* Check's forked test exits on a failed assertion without the teardown:
 * the daemons of the test (their whole process group: nginx workers) must
 * not outlive it. */
static void bg_track(pid_t pid)
{
    static int registered;

    if (!registered) {
        atexit(bg_kill_all);
        registered = 1;
    }
    for (size_t i = 0; i < 16; i++)
        if (bg_pids[i] <= 0) {
            bg_pids[i] = pid;
            return;
        }
    ck_abort_msg("too many background processes");
}

static int env_scrubbed(const char *kv)
{
    static const char *const drop[] = {
        "LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_BIND_NOW=", "TLSPIN_", "SSL_CERT_", "OPENSSL_",
        "CURL_", "REQUESTS_CA_BUNDLE=", "PYTHON", "PERL5", "PERL_", "http_proxy=",
        "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "all_proxy=", "ALL_PROXY=",
        "no_proxy=", "NO_PROXY=", "HOME=", "GIT_", "DEBUGINFOD_", NULL};
    for (size_t i = 0; drop[i]; i++)
        if (strncmp(kv, drop[i], strlen(drop[i])) == 0)
            return 1;
    return 0;
}

struct bg_opts {
    int preload;               /* LD_PRELOAD=shim, TLSPIN_CONFIG=config */
    const char *config;        /* NULL: H.config */
    const char *const *env;    /* extra K=V */
    const char *stdin_path;    /* NULL: /dev/null */
};

/* Start argv in its own process group, stdout+stderr to outfile. */
static pid_t bg_start(const struct bg_opts *o, const char *outfile, const char *const argv[])
{
    char *env[512];
    size_t k = 0;
    pid_t pid;

    for (size_t i = 0; environ[i] && k < 480; i++)
        if (!env_scrubbed(environ[i]))
            env[k++] = environ[i];
    env[k++] = strdup(fmt("HOME=%s", H.tmp));
    if (o && o->preload) {
        env[k++] = strdup("LD_PRELOAD=" SHIM_PATH);
        env[k++] = strdup(fmt("TLSPIN_CONFIG=%s", o->config ? o->config : H.config));
    }
    for (size_t i = 0; o && o->env && o->env[i] && k < 510; i++)
        env[k++] = (char *)o->env[i];
    env[k] = NULL;
    harness_sanitizer_env(env, argv[0]);

    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        int in = open(o && o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_DFL);
        if (chdir(H.tmp) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execve(argv[0], (char *const *)argv, env);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    bg_track(pid);
    return pid;
}

/* Stop a background process group; its exit status into *status (0 when
 * it was already reaped). */
static void bg_stop(pid_t pid, int sig, int *status)
{
    int st = 0;
    pid_t w = 0;

    if (pid <= 0)
        return;
    w = waitpid(pid, &st, WNOHANG);
    if (w == 0) {
        kill(pid, sig);
        for (int i = 0; i < 300 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++)
            usleep(10000);
        if (w == 0) {
            kill(-pid, SIGKILL);
            w = waitpid(pid, &st, 0);
        }
    }
    kill(-pid, SIGKILL); /* what is left of its group (nginx workers) */
    for (size_t i = 0; i < 16; i++)
        if (bg_pids[i] == pid)
            bg_pids[i] = 0;
    if (status)
        *status = w == pid ? st : 0;
}

/* Does file (missing: no) contain needle now? wait_file_has() asks twice:
 * while waiting, and once more after the process has ended. */
static int file_has(const char *file, const char *needle)
{
    char *t = read_file(file, NULL);
    int has = t && strstr(t, needle);

    free(t);
    return has;
}

/* Wait until file contains needle or the process ends (timeout_ms). */
static int wait_file_has(const char *file, const char *needle, pid_t pid, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    for (;;) {
        if (file_has(file, needle))
            return 1;
        if (now_ms() > deadline)
            return 0;
        if (pid > 0) {
            siginfo_t si = {0};
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == pid)
                return file_has(file, needle);
        }
        usleep(20000);
    }
}

/* ------------------------------------------------------------------ */
/* The test machine: /etc/hosts and /etc/tlspin in a private overlay    */
/* ------------------------------------------------------------------ */

static void write_abs(const char *path, const char *text)
{
    FILE *f;
    char dir[PATH_MAX];

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

/* Every test: a mount namespace of its own with an overlay on /etc, whose
 * hosts file maps the test names to 127.0.0.1. Nothing reaches the real
 * /etc. */
static void compat_begin(void)
{
    char *hosts;

    test_private_mounts();
    overlay_over("/etc");
    hosts = read_file("/etc/hosts", NULL);
    write_abs("/etc/hosts", fmt("%s%s127.0.0.1 good.test other.test\n", hosts ? hosts : "",
                                hosts && *hosts && hosts[strlen(hosts) - 1] != '\n' ? "\n" : ""));
    free(hosts);
}

/* ------------------------------------------------------------------ */
/* Servers                                                              */
/* ------------------------------------------------------------------ */

static void start_server(struct server *s, const char *identity, int tls12)
{
    const char *chain = strcmp(identity, "good") == 0 ? "good-chain.pem" : "icpt-chain.pem";
    const char *key = strcmp(identity, "good") == 0 ? "good.key" : "icpt.key";

    server_tls_server(s,
                      (const char *const[]){"--cert", cert(chain), "--key", cert(key),
                                            tls12 ? "--tls1.2" : NULL, NULL},
                      0);
}

/* The server's --log once it mentions needle (it writes after the client
 * may have exited); bounded wait (3 s), then the log as it is. */
static char *server_log_wait(const struct server *s, const char *needle)
{
    wait_file_has(s->log, needle, 0, 3000);
    return server_log(s);
}

/* ------------------------------------------------------------------ */
/* The programs                                                         */
/* ------------------------------------------------------------------ */

enum kind { K_CLIENT, K_STUNNEL, K_NGINX };

struct vspec {
    const char *needle;        /* where the version is in the output */
    const char *label;         /* shown before the words after needle */
    int words;
};

struct program {
    const char *row;           /* matrix row; also the test's name */
    const char *tag;           /* program= of its records */
    enum kind kind;
    /* K_CLIENT: argv for https://host:port/ */
    void (*argv)(const char *host, int port, const char *argv[24]);
    const char *input;         /* K_CLIENT: stdin */
    const char *ok_text;       /* success: exit 0 and this in stdout */
    const char *blocked_text;  /* must be in its own report when blocked */
    const char *excerpt_from;  /* the matrix shows its line from here on */
    int tls12;                 /* servers speak TLS 1.2 only */
    int no_alert;              /* blocked: closes without sending the alert */
    const char *version_argv[8];
    struct vspec version[3];
    const char *source_path;   /* handshake path, from its source */
    /* Non-NULL: pinned-match and unpinned runs are known to crash the
     * program with SIGSEGV, for this reason. The tests assert exactly that
     * (and fail once it is fixed, so the entry gets removed). */
    const char *known_crash;
    /* Non-NULL: the record's program= is known to be this instead of tag
     * (asserted the same way), for the reason in known_program_why. */
    const char *known_program, *known_program_why;
};

/* Fill a program's argv (a[24]) from a NULL-terminated list; returns its
 * length. Each argv_* function is then just its command line. */
static size_t argv_set(const char *a[24], const char *const list[])
{
    size_t n = 0;

    for (; list[n]; n++) {
        ck_assert_msg(n < 20, "argv of %s too long", list[0]);
        a[n] = list[n];
    }
    a[n] = NULL;
    return n;
}

/* The helper scripts (compat_python.py, compat_perl.pl, compat_ruby.rb,
 * compat_php.php) all end their command line with host, port and CA file:
 * head is what comes before. */
static void argv_script(const char *a[24], const char *const head[], const char *host, int port)
{
    size_t n = argv_set(a, head);

    a[n++] = host;
    a[n++] = fmt("%d", port);
    a[n++] = cert("trust.pem");
    a[n] = NULL;
}

static void argv_curl(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){CURL, "-q", "-sS", "--max-time", "10", "--cacert",
                                      cert("trust.pem"), "-H", "X-Probe: " MARKER,
                                      fmt("https://%s:%d/", host, port), NULL});
}

#define PY_ARGV(fn, mode)                                                                  \
    static void fn(const char *host, int port, const char *a[24])                          \
    {                                                                                      \
        argv_script(a, (const char *const[]){PYTHON3, "-I", COMPAT_DIR "/compat_python.py", \
                                             mode, NULL},                                  \
                    host, port);                                                           \
    }
PY_ARGV(argv_py_urllib, "urllib")
PY_ARGV(argv_py_http_client, "http.client")
PY_ARGV(argv_py_requests, "requests")
PY_ARGV(argv_py_asyncio, "asyncio")

static void argv_s_client(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){OPENSSL, "s_client", "-connect", fmt("%s:%d", host, port),
                                      "-servername", host, "-CAfile", cert("trust.pem"), NULL});
}

#define PERL_ARGV(fn, mode)                                                                \
    static void fn(const char *host, int port, const char *a[24])                          \
    {                                                                                      \
        argv_script(a, (const char *const[]){PERL, COMPAT_DIR "/compat_perl.pl", mode, NULL}, \
                    host, port);                                                           \
    }
PERL_ARGV(argv_perl_io_socket_ssl, "io-socket-ssl")
PERL_ARGV(argv_perl_lwp, "lwp")

static void argv_ruby(const char *host, int port, const char *a[24])
{
    argv_script(a, (const char *const[]){"/usr/bin/ruby", COMPAT_DIR "/compat_ruby.rb", NULL},
                host, port);
}

static void argv_php(const char *host, int port, const char *a[24])
{
    /* -n: no php.ini, the defaults (openssl is built in) */
    argv_script(a,
                (const char *const[]){"/usr/bin/php", "-n", COMPAT_DIR "/compat_php.php", NULL},
                host, port);
}

/* socat: connects to the address; openssl-commonname gives the name it
 * verifies and sends as SNI. */
static void argv_socat(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){
                    "/usr/bin/socat", "-T", "10", "-",
                    fmt("OPENSSL:127.0.0.1:%d,cafile=%s,verify=1,openssl-commonname=%s", port,
                        cert("trust.pem"), host),
                    NULL});
}

static void argv_w3m(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){"/usr/bin/w3m", "-o",
                                      fmt("ssl_ca_file=%s", cert("trust.pem")), "-o",
                                      "ssl_verify_server=1", "-header", "X-Probe: " MARKER,
                                      "-dump", fmt("https://%s:%d/", host, port), NULL});
}

#define HTTP_GET(host) "GET / HTTP/1.0\r\nHost: " host "\r\nX-Probe: " MARKER "\r\n\r\n"
#define PY_VERSION                                                                  \
    {PYTHON3, "-I", "-c",                                                           \
     "import ssl, sys; print('Python', sys.version.split()[0], ssl.OPENSSL_VERSION)", \
     NULL}
#define PY_VERSION_SPEC {{"Python ", "Python ", 1}, {"OpenSSL ", "OpenSSL ", 1}}
/* the two stunnel rows differ only in the protocol version (tls12) */
#define STUNNEL_VERSION {STUNNEL_BIN, "-version", NULL}
#define STUNNEL_VERSION_SPEC                                                                 \
    {{"stunnel ", "stunnel ", 1}, {"Running  with OpenSSL ", "running with OpenSSL ", 1}}

static const struct program programs[] = {
    {"curl", "curl", K_CLIENT, argv_curl, NULL, "ok",
     "curl: (60) SSL certificate problem: application verification failure", NULL, 0, 0,
     {CURL, "--version", NULL},
     {{"curl ", "curl ", 1}, {"libcurl/", "libcurl/", 1}, {"OpenSSL/", "OpenSSL/", 1}},
     "SSL_connect", NULL, NULL, NULL},
    {"python3 urllib", "python3", K_CLIENT, argv_py_urllib, NULL, "OK 200",
     "application verification failure", "FAILED", 0, 0, PY_VERSION, PY_VERSION_SPEC,
     "SSL_do_handshake", NULL, NULL, NULL},
    {"python3 http.client", "python3", K_CLIENT, argv_py_http_client, NULL, "OK 200",
     "application verification failure", "FAILED", 0, 0, PY_VERSION, PY_VERSION_SPEC,
     "SSL_do_handshake", NULL, NULL, NULL},
    {"python3 requests", "python3", K_CLIENT, argv_py_requests, NULL, "OK 200",
     "application verification failure", "FAILED", 0, 0,
     {PYTHON3, "-I", "-c",
      "import ssl, sys, requests; print('Python', sys.version.split()[0], "
      "'requests', requests.__version__, ssl.OPENSSL_VERSION)",
      NULL},
     {{"Python ", "Python ", 1}, {"requests ", "requests ", 1}, {"OpenSSL ", "OpenSSL ", 1}},
     "SSL_do_handshake", NULL, NULL, NULL},
    {"python3 asyncio streams (non-blocking)", "python3", K_CLIENT, argv_py_asyncio, NULL,
     "OK 200", "application verification failure", "FAILED", 0, 1, PY_VERSION,
     PY_VERSION_SPEC, "SSL_do_handshake", NULL, NULL, NULL},
    {"openssl s_client", "openssl", K_CLIENT, argv_s_client, HTTP_GET("good.test"),
     "Verify return code: 0 (ok)", "Verify return code: 50 (application verification failure)",
     NULL, 0, 0, {OPENSSL, "version", NULL}, {{"OpenSSL ", "OpenSSL ", 1}},
     "SSL_write (implicit)", NULL, NULL, NULL},
    {"perl IO::Socket::SSL", "perl", K_CLIENT, argv_perl_io_socket_ssl, NULL, "OK 200",
     "certificate verify failed", "FAILED", 0, 0,
     {PERL, "-MIO::Socket::SSL", "-e",
      "print \"perl $^V IO::Socket::SSL $IO::Socket::SSL::VERSION \", "
      "Net::SSLeay::SSLeay_version(0), \"\\n\"",
      NULL},
     {{"perl ", "perl ", 1}, {"IO::Socket::SSL ", "IO::Socket::SSL ", 1},
      {"OpenSSL ", "OpenSSL ", 1}},
     "SSL_connect", NULL, NULL, NULL},
    {"perl LWP::UserAgent", "perl", K_CLIENT, argv_perl_lwp, NULL, "OK 200",
     "certificate verify failed", "FAILED", 0, 0,
     {PERL, "-MLWP::UserAgent", "-MLWP::Protocol::https", "-e",
      "print \"libwww-perl $LWP::UserAgent::VERSION LWP::Protocol::https "
      "$LWP::Protocol::https::VERSION\\n\"",
      NULL},
     {{"libwww-perl ", "libwww-perl ", 1}, {"LWP::Protocol::https ", "LWP::Protocol::https ", 1}},
     "SSL_connect", NULL, NULL, NULL},
    {"ruby net/http", "ruby", K_CLIENT, argv_ruby, NULL, "OK 200", "certificate verify failed",
     "FAILED", 0, 0,
     {"/usr/bin/ruby", "-ropenssl", "-e",
      "puts \"ruby #{RUBY_VERSION} #{OpenSSL::OPENSSL_LIBRARY_VERSION}\"", NULL},
     {{"ruby ", "ruby ", 1}, {"OpenSSL ", "OpenSSL ", 1}}, "SSL_connect", NULL, NULL, NULL},
    {"php-cli file_get_contents", "php", K_CLIENT, argv_php, NULL, "OK 3",
     "certificate verify failed", "FAILED", 0, 0,
     {"/usr/bin/php", "-n", "-i", NULL},
     {{"PHP Version => ", "PHP ", 1}, {"OpenSSL Library Version => OpenSSL ", "OpenSSL ", 1}},
     "SSL_connect", NULL, NULL, NULL},
    {"w3m", "w3m", K_CLIENT, argv_w3m, NULL, "ok", "certificate verify failed", NULL, 0, 0,
     {"/usr/bin/w3m", "-version", NULL}, {{"w3m/", "w3m/", 1}}, "SSL_connect", NULL, NULL, NULL},
    {"socat OPENSSL:", "socat", K_CLIENT, argv_socat, HTTP_GET("good.test"), "HTTP/1.0 200 OK",
     "certificate verify failed", "E SSL_connect", 0, 0, {"/usr/bin/socat", "-V", NULL},
     {{"socat version ", "socat ", 1}}, "SSL_connect", NULL, NULL, NULL},
    {"stunnel4 client mode, TLS 1.3", "stunnel4", K_STUNNEL, NULL, NULL, "ok",
     "SSL_connect: ", "SSL_connect:", 0, 0, STUNNEL_VERSION, STUNNEL_VERSION_SPEC,
     "SSL_connect", NULL, NULL, NULL},
    {"stunnel4 client mode, TLS 1.2", "stunnel4", K_STUNNEL, NULL, NULL, "ok",
     "SSL_connect: ", "SSL_connect:", 1, 0, STUNNEL_VERSION, STUNNEL_VERSION_SPEC,
     "SSL_connect", NULL, NULL, NULL},
    {"nginx proxy_pass https:// (worker, policy from /etc)", "nginx", K_NGINX, NULL, NULL, "ok",
     "SSL_do_handshake() failed", "SSL_do_handshake() failed", 0, 0, {NGINX_BIN, "-V", NULL},
     {{"nginx/", "nginx/", 1}, {"running with OpenSSL ", "running with OpenSSL ", 1}},
     "SSL_do_handshake", NULL, NULL, NULL},
};
#define N_PROGRAMS ((int)(sizeof programs / sizeof *programs))

/* ------------------------------------------------------------------ */
/* Running one program once                                             */
/* ------------------------------------------------------------------ */

struct outcome {
    int ok;                    /* its own success criterion */
    struct run_result r;       /* K_CLIENT: the program; else the plain client */
    char *log;                 /* K_STUNNEL: its output; K_NGINX: error.log */
    int daemon_crashed, daemon_sig;
    pid_t record_pid;          /* the process whose record is expected */
    char text[16384];          /* all it said, for messages and the excerpt */
};

static void outcome_free(struct outcome *o)
{
    run_result_free(&o->r);
    free(o->log);
    o->log = NULL;
}

/* The plain client in front of stunnel and nginx: curl without TLS. */
static void plain_get(struct run_result *r, int port)
{
    struct run_opts o = {.timeout_ms = 20000};
    ck_assert_int_eq(RUN(r, &o, CURL, "-q", "-sS", "--max-time", "10", "-H",
                         "X-Probe: " MARKER, fmt("http://127.0.0.1:%d/", port)),
                     0);
}

static const char *stunnel_conf(const char *host, int accept_port, int server_port)
{
    static unsigned seq;
    return write_file(fmt("stunnel-%u.conf", ++seq),
                      "foreground = yes\n"
                      "pid =\n"
                      "syslog = no\n"
                      "debug = notice\n"
                      "[tlspin-compat]\n"
                      "client = yes\n"
                      "accept = 127.0.0.1:%d\n"
                      "connect = 127.0.0.1:%d\n"
                      "sni = %s\n"
                      "CAfile = %s\n"
                      "verifyChain = yes\n"
                      "checkHost = %s\n",
                      accept_port, server_port, host, cert("trust.pem"), host);
}

/* One round of waiting for a daemon to come up: fail, showing its log,
 * once it has died or the deadline has passed. */
static void assert_still_starting(pid_t pid, long deadline, const char *logfile,
                                  const char *what)
{
    char *t = read_file(logfile, NULL);

    ck_assert_msg(now_ms() < deadline && waitpid(pid, NULL, WNOHANG) == 0, "%s:\n%s", what,
                  t ? t : "");
    free(t);
}

static pid_t stunnel_start(const char *host, int server_port, int preload, int *accept_port,
                           const char **out)
{
    static unsigned seq;
    struct bg_opts bo = {.preload = preload};
    const char *conf;
    pid_t pid;
    long deadline;

    *accept_port = free_port();
    conf = stunnel_conf(host, *accept_port, server_port);
    *out = strdup(fmt("%s/stunnel-%u.out", H.tmp, ++seq));
    pid = bg_start(&bo, *out, (const char *const[]){STUNNEL_BIN, conf, NULL});
    for (deadline = now_ms() + 10000; !listening(*accept_port); usleep(20000))
        assert_still_starting(pid, deadline, *out, "stunnel did not start listening");
    return pid;
}

/* nginx as a reverse proxy to an https upstream, everything but the
 * binary in the test directory. The workers run as nobody, as they do by
 * default under a root master, when that user can reach the build tree
 * (the worker loads the engine and the file module from it); as root when
 * the tree lies under a private directory. */
static const char *nginx_conf(const char *dir, int front, int upstream, const char *ssl_name)
{
    int reachable = 1;
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s", MODULE_DIR);
    while (path[0]) { /* the module directory and every directory above it */
        struct stat st;
        char *slash = strrchr(path, '/');

        if (stat(path, &st) != 0 || !(st.st_mode & S_IXOTH))
            reachable = 0;
        if (!slash)
            break;
        *slash = '\0';
    }
    return write_file(fmt("%s/nginx.conf", dir + strlen(H.tmp) + 1),
                      "daemon off;\n"
                      "master_process on;\n"
                      "worker_processes 1;\n"
                      "user %s;\n"
                      "pid %s/nginx.pid;\n"
                      "error_log %s/error.log info;\n"
                      "events { worker_connections 64; }\n"
                      "http {\n"
                      "  access_log %s/access.log;\n"
                      "  client_body_temp_path %s/body;\n"
                      "  proxy_temp_path %s/proxy;\n"
                      "  fastcgi_temp_path %s/fastcgi;\n"
                      "  uwsgi_temp_path %s/uwsgi;\n"
                      "  scgi_temp_path %s/scgi;\n"
                      "  upstream good_upstream { server 127.0.0.1:%d; }\n"
                      "  server {\n"
                      "    listen 127.0.0.1:%d;\n"
                      "    location / {\n"
                      "      proxy_pass https://good_upstream;\n"
                      "      proxy_ssl_server_name on;\n"
                      "      proxy_ssl_name %s;\n"
                      "      proxy_ssl_verify on;\n"
                      "      proxy_ssl_trusted_certificate %s;\n"
                      "      proxy_set_header X-Probe " MARKER ";\n"
                      "    }\n"
                      "  }\n"
                      "}\n",
                      reachable ? "nobody nogroup" : "root", dir, dir, dir, dir, dir, dir, dir,
                      dir, upstream, front, ssl_name, cert("trust.pem"));
}

/* The nginx master (already listening) and its worker. */
static pid_t nginx_start(const char *ssl_name, int upstream, int preload, int *front,
                         const char **dir_out, pid_t *worker)
{
    static unsigned seq;
    const char *dir = strdup(fmt("%s/nginx-%u", H.tmp, ++seq));
    const char *env_config, *conf;
    struct bg_opts bo = {.preload = preload};
    pid_t pid, kids[8];
    long deadline;

    ck_assert_int_eq(mkdir(dir, 0755), 0);
    /* What TLSPIN_CONFIG names for the master: good.test pinned to the
     * interceptor's key, the opposite of the policy in /etc. */
    write_file(fmt("%s/env-pins.d/lab.conf", dir + strlen(H.tmp) + 1),
               "pinsets = ( { name = \"lab\"; hosts = [ \"good.test\" ];\n"
               "  pins = [ \"%s\", \"%s\" ]; } );\n",
               pin("PIN_ICPT"), pin("PIN_BACKUP"));
    env_config = write_file(fmt("%s/env-tlspin.conf", dir + strlen(H.tmp) + 1),
                            "version = 1; mode = \"enforce\"; unpinned = \"allow\"; "
                            "on_error = \"deny\";\nstack = ( { module = \"file\"; control = "
                            "\"required\"; args = { pinsets = \"%s/env-pins.d\"; }; } );\n",
                            dir);
    bo.config = strdup(env_config);
    *front = free_port();
    conf = nginx_conf(dir, *front, upstream, ssl_name);
    pid = bg_start(&bo, fmt("%s/stderr", dir),
                   (const char *const[]){NGINX_BIN, "-e", fmt("%s/error.log", dir), "-p", dir, "-c",
                                         conf, NULL});
    *worker = 0;
    for (deadline = now_ms() + 10000; !listening(*front) || !*worker; usleep(20000)) {
        assert_still_starting(pid, deadline, fmt("%s/error.log", dir), "nginx did not start");
        if (descendants(pid, kids, 8) > 1)
            *worker = kids[1];
    }
    *dir_out = dir;
    return pid;
}

/* stunnel and nginx, once the plain client has gone through: stop the
 * daemon, and read how it ended (a crash, not the SIGTERM it was stopped
 * with), its log and the plain client's verdict, the same for both. */
static void daemon_outcome(struct outcome *o, pid_t pid, const char *logfile)
{
    int st = 0;

    bg_stop(pid, SIGTERM, &st);
    o->daemon_crashed = WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM;
    o->daemon_sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    o->log = read_file(logfile, NULL);
    o->ok = o->r.exited && o->r.code == 0 && strcmp(o->r.out, "ok\n") == 0;
}

/* Run p once against server_port with host as the name it asks for. */
static void drive(const struct program *p, const char *host, int server_port, int preload,
                  struct outcome *o)
{
    memset(o, 0, sizeof *o);
    if (p->kind == K_CLIENT) {
        const char *argv[24];
        struct run_opts ro = {.preload = preload, .input = p->input, .timeout_ms = 20000};

        p->argv(host, server_port, argv);
        ck_assert_int_eq(run_argv(&ro, &o->r, argv), 0);
        o->ok = o->r.exited && o->r.code == 0 && strstr(o->r.out, p->ok_text) != NULL;
        o->record_pid = o->r.pid;
        snprintf(o->text, sizeof o->text, "%s\n%s", o->r.out, o->r.err);
    } else if (p->kind == K_STUNNEL) {
        int accept_port;
        const char *out;
        pid_t pid = stunnel_start(host, server_port, preload, &accept_port, &out);

        plain_get(&o->r, accept_port);
        usleep(100000); /* let it log the end of the connection */
        daemon_outcome(o, pid, out);
        o->record_pid = pid;
        snprintf(o->text, sizeof o->text, "--- stunnel (%s) ---\n%s\n--- curl ---\n%s%s",
                 o->daemon_sig ? strsignal(o->daemon_sig) : "ran", o->log ? o->log : "",
                 o->r.out, o->r.err);
    } else {
        int front;
        const char *dir;
        pid_t worker, pid = nginx_start(host, server_port, preload, &front, &dir, &worker);

        /* The worker was forked, not exec'ed: the shim is still mapped in
         * it, though nginx has emptied its environment. */
        ck_assert_msg(maps_has(worker, "libssl.so.3"), "nginx worker without libssl?");
        if (preload)
            ck_assert_msg(maps_has(worker, "libtlspin.so"),
                          "the nginx worker %d does not have the shim mapped", (int)worker);
        plain_get(&o->r, front);
        daemon_outcome(o, pid, fmt("%s/error.log", dir));
        o->record_pid = worker;
        snprintf(o->text, sizeof o->text, "--- nginx error.log ---\n%s\n--- curl ---\n%s%s",
                 o->log ? o->log : "", o->r.out, o->r.err);
    }
}

/* nginx: the policy at the shim's default path, in the overlay on /etc
 * (the workers have no TLSPIN_CONFIG); every other program: H.config. */
static void write_policy_for(const struct program *p)
{
    write_file_policy(NULL);
    write_good_pinset();
    if (p->kind == K_NGINX) {
        char *pins = read_file(fmt("%s/api.conf", H.pinsets), NULL);
        ck_assert_ptr_nonnull(pins);
        write_abs(TLSPIN_DEFAULT_CONFIG,
                  "version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
                  "log = { facility = \"authpriv\"; level = \"warning\"; "
                  "rate_limit_seconds = 0; };\n"
                  "stack = ( { module = \"file\"; control = \"required\"; "
                  "args = { pinsets = \"/etc/tlspin/pins.d\"; }; } );\n");
        write_abs("/etc/tlspin/pins.d/api.conf", pins);
        free(pins);
    }
}

static void assert_reached(const struct program *p, const struct server *s)
{
    char *log = server_log_wait(s, MARKER);
    ck_assert_msg(strstr(log, MARKER), "%s: the server did not receive the request; its log:\n%s",
                  p->row, log);
    free(log);
}

/* What the program did, for a cell whose test failed. */
static const char *seen(const struct outcome *o)
{
    if (o->ok)
        return "works";
    return o->daemon_sig ? fmt("fails (%s)", strsignal(o->daemon_sig)) : "fails";
}

/* Pinned-match and unpinned runs of a program with a known crash. */
static int known_crash_seen(const struct program *p, const struct outcome *o, const char *key)
{
    if (!p->known_crash)
        return 0;
    ck_assert_msg(!o->ok, "%s works now: the known crash (%s) is gone; remove known_crash "
                          "from its entry.\n%s",
                  p->row, p->known_crash, o->text);
    ck_assert_msg(o->daemon_crashed && o->daemon_sig == SIGSEGV,
                  "%s failed, but not with the known crash:\n%s", p->row, o->text);
    matrix_put(p->row, key, "**crashes** (SIGSEGV), see below the table");
    return 1;
}

/* The two columns where p must simply work under the shim (pinned host
 * with its pinned key; unpinned host with the interceptor's key) are the
 * same test but for the server's identity, the name asked for and the
 * column (key): the program works, its request reaches the server, and
 * nothing is recorded (quiet says what would have logged), or it shows its
 * known crash. */
static void assert_works_unrecorded(const struct program *p, const char *identity,
                                    const char *host, const char *key, const char *quiet)
{
    struct server s;
    struct outcome o;
    size_t mark;

    compat_begin();
    write_policy_for(p);
    start_server(&s, identity, p->tls12);
    mark = syslog_mark();
    drive(p, host, s.port, 1, &o);
    matrix_put(p->row, fmt("%s-seen", key), seen(&o));
    if (!known_crash_seen(p, &o, key)) {
        ck_assert_msg(o.ok, "%s should have worked:\n%s", p->row, o.text);
        assert_reached(p, &s);
        ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s: %s logged:\n%s", p->row, quiet,
                      syslog_dump_since(mark));
        matrix_put(p->row, key, "works");
    }
    outcome_free(&o);
}

START_TEST(pinned_match_works)
{
    assert_works_unrecorded(&programs[_i], "good", "good.test", "match", "a silent pass");
}
END_TEST

START_TEST(pinned_mismatch_blocked)
{
    const struct program *p = &programs[_i];
    struct server ctl, s;
    struct outcome o;
    const struct syslog_rec *rec;
    char *log, *line;
    size_t mark;
    int alert;

    compat_begin();
    write_policy_for(p);

    /* Without the shim the program trusts the interceptor: the threat is
     * real for it, and what follows is tlspin's doing. */
    start_server(&ctl, "icpt", p->tls12);
    drive(p, "good.test", ctl.port, 0, &o);
    ck_assert_msg(o.ok, "%s without the shim should trust the interceptor:\n%s", p->row, o.text);
    assert_reached(p, &ctl);
    outcome_free(&o);
    server_stop(&ctl);

    start_server(&s, "icpt", p->tls12);
    mark = syslog_mark();
    drive(p, "good.test", s.port, 1, &o);
    matrix_put(p->row, "mismatch-seen", o.ok ? "**works** (not blocked)" : "fails");
    ck_assert_msg(!o.ok, "%s was not blocked:\n%s", p->row, o.text);
    ck_assert_msg(!o.daemon_crashed, "%s crashed:\n%s", p->row, o.text);

    /* In its own words. */
    line = line_with(o.text, p->blocked_text);
    ck_assert_msg(line != NULL, "%s: no '%s' in what it said:\n%s", p->row, p->blocked_text,
                  o.text);
    matrix_put(p->row, "error", excerpt(line, p->excerpt_from, s.port, o.record_pid));
    free(line);

    /* Not one application byte reached the server. */
    log = server_log_wait(&s, "handshake failed: ");
    ck_assert_msg(*log, "%s: the server logged no failed handshake", p->row);
    for (const char *l = log; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "")
        ck_assert_msg(strncmp(l, "handshake failed: ", 18) == 0,
                      "%s: the server received application data:\n%s", p->row, log);
    alert = strstr(log, "alert received: fatal handshake failure (40)") != NULL;
    if (p->no_alert)
        ck_assert_msg(strstr(log, "alert received: none"), "%s: %s", p->row, log);
    else
        ck_assert_msg(alert, "%s: the server did not receive the fatal alert:\n%s", p->row, log);
    free(log);

    /* Exactly one record, from the process that made the handshake. */
    ck_assert_msg(syslog_wait_for_since(mark, "event=pin-mismatch", 3000) != NULL,
                  "%s: no pin-mismatch record:\n%s", p->row, syslog_dump_since(mark));
    rec = the_tlspin_record_since(mark);
    ck_assert_int_eq(rec->facility, LOG_AUTHPRIV);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    if (p->known_program) {
        char prog[256];
        ck_assert_int_eq(rec_field(rec, "program", prog, sizeof prog), 0);
        ck_assert_msg(strcmp(prog, p->tag) != 0,
                      "%s: the record says program=%s now: the known bug (%s) is gone; remove "
                      "known_program from its entry", p->row, prog, p->known_program_why);
        ck_assert_field(rec, "program", p->known_program);
        matrix_put(p->row, "record-note",
                   fmt("the record says `program=\"%s\"` and is tagged `%s` (bug: %s)", prog,
                       rec->tag, p->known_program_why));
    } else {
        ck_assert_field(rec, "program", p->tag);
    }
    ck_assert_field(rec, "pid", fmt("%d", (int)o.record_pid));
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "expected", fmt("%s,%s", pin("PIN_GOOD"), pin("PIN_BACKUP")));
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));

    matrix_put(p->row, "mismatch",
               fmt("%s%s",
                   alert ? "**blocked**: no byte reached the server, which got alert 40; 1 record"
                         : "**blocked**: no byte reached the server (closed without an alert); "
                           "1 record",
                   p->known_program ? "; **wrong `program=`**, see below the table" : ""));
    outcome_free(&o);
}
END_TEST

START_TEST(unpinned_host_works)
{
    assert_works_unrecorded(&programs[_i], "icpt", "other.test", "unpinned", "an unpinned host");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Versions and handshake paths                                         */
/* ------------------------------------------------------------------ */

/* "label word..." for each spec found in the output of argv, joined. */
static const char *version_of(const char *row, const char *const argv[],
                              const struct vspec *specs, size_t nspecs)
{
    struct run_result r;
    struct run_opts o = {.timeout_ms = 20000};
    char text[16384], *res = calloc(1, 1024);
    size_t len = 0;

    ck_assert_int_eq(run_argv(&o, &r, argv), 0);
    snprintf(text, sizeof text, "%s\n%s", r.out, r.err);
    for (size_t i = 0; i < nspecs && specs[i].needle; i++) {
        const char *p = strstr(text, specs[i].needle);
        ck_assert_msg(p != NULL, "%s: no '%s' in the output of %s:\n%s", row, specs[i].needle,
                      argv[0], text);
        p += strlen(specs[i].needle);
        len += (size_t)snprintf(res + len, 1024 - len, "%s%s", len ? ", " : "", specs[i].label);
        for (int w = 0; w < specs[i].words && len < 1000; w++) {
            size_t n;
            while (*p == ' ')
                p++;
            n = strcspn(p, " \t\r\n");
            while (n && strchr(",;()", p[n - 1]))
                n--;
            len += (size_t)snprintf(res + len, 1024 - len, "%s%.*s", w ? " " : "", (int)n, p);
            p += strcspn(p, " \t\r\n");
        }
    }
    run_result_free(&r);
    return res;
}

struct hit {
    char fn[24];
    unsigned long sp, ret;
};

/* The handshake path from compat_path.gdb's lines: the function of the
 * last entry call before the first verification, a SSL_connect ->
 * SSL_do_handshake tail call counted as SSL_connect. (How many calls came
 * first depends on how fast the server answers a program slowed down by
 * breakpoints, so it is not reported.) NULL when the trace has no
 * verification. */
static const char *path_from_trace(const char *trace)
{
    struct hit last = {{0}, 0, 0}, prev = {{0}, 0, 0};
    const char *l, *head = NULL;
    int verified = 0;

    for (l = trace; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        struct hit h = {{0}, 0, 0};

        if (strncmp(l, "TLSPIN-VERIFY", 13) == 0) {
            verified = 1;
            break;
        }
        if (strncmp(l, "TLSPIN-ENTRY ", 13) != 0 ||
            sscanf(l + 13, "%23s %lx %lx", h.fn, &h.sp, &h.ret) != 3)
            continue;
        if (strcmp(h.fn, "SSL_do_handshake") == 0 && strcmp(prev.fn, "SSL_connect") == 0 &&
            prev.sp == h.sp && prev.ret == h.ret) {
            prev = h; /* SSL_connect's own tail call: the entry stays SSL_connect */
            continue;
        }
        prev = last = h;
    }
    if (!verified || !last.fn[0])
        return NULL;
    head = last.fn;
    return fmt("`%s`%s (gdb)", head,
               strncmp(head, "SSL_read", 8) == 0 || strncmp(head, "SSL_write", 9) == 0 ||
                       strncmp(head, "SSL_peek", 8) == 0
                   ? ", implicit"
                   : "");
}

/* gdb attached to a running daemon (pid) while a plain client goes through
 * it; the daemon is stopped afterwards by the caller. */
static char *trace_attached(pid_t pid, int front)
{
    const char *out = fmt("%s/gdb-attach.%d.out", H.tmp, (int)pid);
    char *trace;
    struct run_result r;
    pid_t g = bg_start(NULL, out,
                       (const char *const[]){GDB, "-nx", "-q", "-batch", "-p", fmt("%d", (int)pid),
                                             "-x", COMPAT_DIR "/compat_path.gdb", "-ex",
                                             "printf \"TLSPIN-READY\\n\"", "-ex", "continue",
                                             NULL});

    ck_assert_msg(wait_file_has(out, "TLSPIN-READY", g, 20000), "gdb did not attach to %d:\n%s",
                  (int)pid, read_file(out, NULL));
    plain_get(&r, front);
    run_result_free(&r);
    wait_file_has(out, "TLSPIN-VERIFY", g, 10000);
    bg_stop(g, SIGKILL, NULL);
    trace = read_file(out, NULL);
    return trace ? trace : strdup("");
}

static char *trace_program(const struct program *p, int server_port)
{
    char *trace;

    if (p->kind == K_CLIENT) {
        const char *a[24], *g[40];
        size_t n = 0;
        struct run_result r;
        struct run_opts o = {.input = p->input, .timeout_ms = 60000};

        p->argv("good.test", server_port, a);
        g[n++] = GDB;
        g[n++] = "-nx";
        g[n++] = "-q";
        g[n++] = "-batch";
        g[n++] = "-x";
        g[n++] = COMPAT_DIR "/compat_path.gdb";
        g[n++] = "-ex";
        g[n++] = "run";
        g[n++] = "--args";
        for (size_t i = 0; a[i] && n < 39; i++)
            g[n++] = a[i];
        g[n] = NULL;
        ck_assert_int_eq(run_argv(&o, &r, g), 0);
        trace = malloc(r.out_len + r.err_len + 2);
        sprintf(trace, "%s\n%s", r.out, r.err);
        run_result_free(&r);
    } else if (p->kind == K_STUNNEL) {
        int accept_port;
        const char *out;
        pid_t pid = stunnel_start("good.test", server_port, 0, &accept_port, &out);
        trace = trace_attached(pid, accept_port);
        bg_stop(pid, SIGKILL, NULL);
    } else {
        int front;
        const char *dir;
        pid_t worker, pid = nginx_start("good.test", server_port, 0, &front, &dir, &worker);
        trace = trace_attached(worker, front);
        bg_stop(pid, SIGKILL, NULL);
    }
    return trace;
}

START_TEST(version_and_path)
{
    const struct program *p = &programs[_i];
    struct server s;

    compat_begin();
    matrix_put(p->row, "version",
               version_of(p->row, p->version_argv, p->version,
                          sizeof p->version / sizeof *p->version));
    if (access(GDB, X_OK) != 0) {
        matrix_put(p->row, "path", fmt("`%s` (source)", p->source_path));
        return;
    }
    start_server(&s, "good", p->tls12);
    {
        char *trace = trace_program(p, s.port);
        const char *path = path_from_trace(trace);
        ck_assert_msg(path != NULL, "%s: gdb saw no verification of the server's chain:\n%.6000s",
                      p->row, trace);
        matrix_put(p->row, "path", path);
        free(trace);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* GnuTLS programs: what can be observed is that tlspin cannot see them */
/* ------------------------------------------------------------------ */

struct uncovered {
    const char *row;
    const char *binary;        /* what ldd looks at (git: its https helper) */
    const char *lib;           /* the TLS library it links instead */
    void (*argv)(const char *host, int port, const char *argv[24]);
    const char *env[4];
    const char *stdin_text;
    const char *version_argv[4];
    struct vspec version[3];
};

static void argv_wget(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){"/usr/bin/wget", "-q", "-O-", "--tries=1", "--timeout=10",
                                      fmt("--ca-certificate=%s", cert("trust.pem")),
                                      fmt("https://%s:%d/", host, port), NULL});
}

static void argv_lynx(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){"/usr/bin/lynx", "-dump", fmt("https://%s:%d/", host, port),
                                      NULL});
}

static void argv_git(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){"/usr/bin/git", "ls-remote",
                                      fmt("https://%s:%d/repo.git", host, port), NULL});
}

static void argv_mutt(const char *host, int port, const char *a[24])
{
    argv_set(a, (const char *const[]){"/usr/bin/mutt", "-n", "-F", "/dev/null", "-e",
                                      fmt("set smtp_url=smtps://%s:%d/ ssl_ca_certificates_file=%s",
                                          host, port, cert("trust.pem")),
                                      "-s", "tlspin", "nobody@good.test", NULL});
}

static const struct uncovered uncovered[] = {
    {"wget", "/usr/bin/wget", "libgnutls.so.30", argv_wget, {NULL}, NULL,
     {"/usr/bin/wget", "--version", NULL}, {{"GNU Wget ", "GNU Wget ", 1}, {"+ssl/", "+ssl/", 1}}},
    {"lynx", "/usr/bin/lynx", "libgnutls.so.30", argv_lynx, {"SSL_CERT_FILE", NULL}, NULL,
     {"/usr/bin/lynx", "-version", NULL},
     {{"Lynx Version ", "Lynx ", 1}, {"GNUTLS ", "GnuTLS ", 1}}},
    {"git https (git-remote-https)", "/usr/lib/git-core/git-remote-https", "libgnutls.so.30",
     argv_git, {"GIT_SSL_CAINFO", "GIT_TERMINAL_PROMPT=0", NULL}, NULL,
     {"/usr/bin/git", "--version", NULL}, {{"git version ", "git ", 1}}},
    {"mutt (smtps)", "/usr/bin/mutt", "libgnutls.so.30", argv_mutt, {NULL}, "tlspin\n",
     {"/usr/bin/mutt", "-v", NULL},
     {{"Mutt ", "Mutt ", 1}, {"+USE_SSL_GNUTLS", "+USE_SSL_GNUTLS", 0}}},
};
#define N_UNCOVERED ((int)(sizeof uncovered / sizeof *uncovered))

/* Start u against port with the preload and the good pinset. */
static pid_t uncovered_start(const struct uncovered *u, int port, const char *out)
{
    const char *a[24], *env[4];
    struct bg_opts bo = {.preload = 1, .env = env};
    size_t k = 0;

    u->argv("good.test", port, a);
    for (size_t i = 0; u->env[i]; i++)
        env[k++] = strchr(u->env[i], '=') ? u->env[i]
                                          : strdup(fmt("%s=%s", u->env[i], cert("trust.pem")));
    env[k] = NULL;
    if (u->stdin_text)
        bo.stdin_path = write_file("stdin.txt", "%s", u->stdin_text);
    return bg_start(&bo, out, a);
}

/* Programs the shim cannot see: `tlspin doctor` says so before anyone
 * relies on them, and the suite shows from outside that it is right. */
START_TEST(gnutls_program_not_covered)
{
    const struct uncovered *u = &uncovered[_i];
    struct run_result r;
    struct run_opts ro = {.timeout_ms = 20000};
    struct server s;
    int lfd, lport, cfd, found = 0;
    pid_t pid, tree[32];
    size_t n, mark;
    char *ev;

    compat_begin();
    write_file_policy(NULL);
    write_good_pinset();
    matrix_put(u->row, "version", version_of(u->row, u->version_argv, u->version, 3));

    /* Statically: linked against the other library, not libssl. */
    ck_assert_int_eq(RUN(&r, &ro, "/usr/bin/ldd", u->binary), 0);
    ck_assert_msg(strstr(r.out, u->lib), "%s does not link %s:\n%s", u->binary, u->lib, r.out);
    ck_assert_msg(!strstr(r.out, "libssl.so"), "%s links libssl:\n%s", u->binary, r.out);
    run_result_free(&r);

    /* Detected: `tlspin doctor` names the other library and exits 1. */
    ck_assert_int_eq(RUN(&r, &ro, TLSPIN_BUILD_DIR "/bin/tlspin", "doctor", u->binary), 0);
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.out, "not covered") &&
                      (strstr(r.out, "GnuTLS") || strstr(r.out, "NSS")),
                  "tlspin doctor %s: " RUN_FMT, u->binary, RUN_ARGS(&r));
    matrix_put(u->row, "doctor", "`tlspin doctor`: not covered");
    run_result_free(&r);

    /* At run time, caught in its handshake (a listener that never
     * answers): the process that talks TLS has the shim and the other
     * library mapped, and no libssl. */
    lfd = loopback_socket(&lport);
    ck_assert_int_eq(listen(lfd, 4), 0);
    pid = uncovered_start(u, lport, fmt("%s/silent.out", H.tmp));
    {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        ck_assert_msg(poll(&pf, 1, 10000) == 1, "%s never connected: %s", u->row,
                      read_file(fmt("%s/silent.out", H.tmp), NULL));
        cfd = accept(lfd, NULL, NULL);
        ck_assert_int_ge(cfd, 0);
    }
    usleep(200000); /* it has sent its ClientHello or is about to */
    n = descendants(pid, tree, 32);
    for (size_t i = 0; i < n; i++)
        if (maps_has(tree[i], u->lib)) {
            found = 1;
            ck_assert_msg(maps_has(tree[i], "libtlspin.so"),
                          "%s: the shim is not loaded in %d", u->row, (int)tree[i]);
            ck_assert_msg(!maps_has(tree[i], "libssl.so"), "%s: %d has libssl mapped", u->row,
                          (int)tree[i]);
        }
    ck_assert_msg(found, "%s: no process of its tree maps %s", u->row, u->lib);
    bg_stop(pid, SIGKILL, NULL);
    close(cfd);
    close(lfd);

    /* And so, under a pinset for good.test, it completes a handshake with
     * the interceptor's key, and nothing is recorded. */
    server_start(&s, "icpt");
    mark = syslog_mark();
    pid = uncovered_start(u, s.port, fmt("%s/icpt.out", H.tmp));
    ck_assert_msg(wait_file_has(s.events, "handshake ok", pid, 15000),
                  "%s: no handshake with the interceptor: %s", u->row, server_events(&s));
    bg_stop(pid, SIGKILL, NULL);
    ev = server_events(&s);
    ck_assert_msg(strstr(ev, "sni=good.test"), "%s: %s", u->row, ev);
    free(ev);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s: a record?\n%s", u->row,
                  syslog_dump_since(mark));

    matrix_put(u->row, "ldd", fmt("%s, no libssl", u->lib));
    matrix_put(u->row, "maps", fmt("%s and libtlspin.so, no libssl", u->lib));
    matrix_put(u->row, "icpt", "handshake completed, no record: **not covered**");
}
END_TEST

/* ------------------------------------------------------------------ */
/* The Markdown matrix                                                  */
/* ------------------------------------------------------------------ */

struct kv {
    char *row, *key, *val;
};

static const char *raw_get(const struct kv *kv, size_t n, const char *row, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].row, row) == 0 && strcmp(kv[i].key, key) == 0)
            v = kv[i].val; /* the last one wins */
    return v;
}

/* What a cell shows: the value the tests wrote, or dflt when none did. */
static const char *raw_or(const struct kv *kv, size_t n, const char *row, const char *key,
                          const char *dflt)
{
    const char *v = raw_get(kv, n, row, key);

    return v ? v : dflt;
}

/* A table cell: '|' escaped. */
static void cell(FILE *f, const char *text)
{
    fputs("| ", f);
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputc('\\', f);
        fputc(*p, f);
    }
    fputc(' ', f);
}

/* code span: its text with backticks turned into quotes */
static const char *code(const char *text)
{
    char *s = strdup(fmt("`%s`", text));
    for (char *p = s + 1; p[1]; p++)
        if (*p == '`')
            *p = '\'';
    return s;
}

static const char *verdict(const struct kv *kv, size_t n, const char *row, const char *key)
{
    const char *v = raw_get(kv, n, row, key);
    const char *seen;

    if (v)
        return v;
    seen = raw_get(kv, n, row, fmt("%s-seen", key));
    return seen ? fmt("**test failed** (the program: %s)", seen) : "**test failed or not run**";
}

static void write_matrix(void)
{
    char *raw = read_file(matrix_raw, NULL), *save = NULL;
    struct kv *kv = NULL;
    size_t n = 0;
    FILE *f;

    for (char *line = raw ? strtok_r(raw, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        *t1 = *t2 = '\0';
        kv = realloc(kv, (n + 1) * sizeof *kv);
        kv[n++] = (struct kv){line, t1 + 1, t2 + 1};
    }
    f = fopen(matrix_out, "w");
    if (!f) {
        fprintf(stderr, "compat: cannot write %s: %s\n", matrix_out, strerror(errno));
        return;
    }
    fputs("## Compatibility matrix\n\n"
          "Generated by `script/matrix` from a run of `integration_compat`\n"
          "(`tests/integration/test_compat.c`) on Debian 12: each cell is what the\n"
          "unmodified program did in that run, not a claim; do not edit it by hand.\n"
          "Every program ran under `LD_PRELOAD=libtlspin.so` with a pinset for\n"
          "`good.test` (its key and a backup), the names resolving to 127.0.0.1:\n\n"
          "- **pinned, same key**: the server presents the pinned key. The request\n"
          "  must reach the server, and nothing be recorded.\n"
          "- **pinned, interceptor's key**: the server presents a key certified by a\n"
          "  second CA the program trusts, as a TLS-inspecting proxy does. The same\n"
          "  test first runs the program without tlspin, and it must succeed (the\n"
          "  threat is real for it); with tlspin it must fail in its own words (last\n"
          "  column), the server must receive no application byte, and exactly one\n"
          "  `event=pin-mismatch action=blocked` record from that process must arrive.\n"
          "- **unpinned host**: `other.test`, no pinset, the interceptor's key: must\n"
          "  work, nothing recorded.\n"
          "- **handshake path**: the libssl function whose call led to the\n"
          "  verification of the server's chain, seen with gdb breakpoints (gdb),\n"
          "  or from the program's source (source) where gdb is not installed;\n"
          "  *implicit*: the program never asks for a handshake, its first read\n"
          "  or write makes one.\n\n"
          "nginx's workers empty their environment: its master is started with\n"
          "`LD_PRELOAD` and a `TLSPIN_CONFIG` that pins the interceptor's key, while\n"
          "`/etc/tlspin/tlspin.conf` pins the real one; the worker keeps the shim\n"
          "mapped (`/proc/PID/maps`) and decides by the policy in /etc.\n\n"
          "| program | version | handshake path | pinned, same key | pinned, interceptor's key "
          "| unpinned host | the program's error when blocked |\n"
          "|---|---|---|---|---|---|---|\n",
          f);
    for (int i = 0; i < N_PROGRAMS; i++) {
        const char *row = programs[i].row, *err = raw_get(kv, n, row, "error");
        cell(f, row);
        cell(f, raw_or(kv, n, row, "version", "?"));
        cell(f, raw_or(kv, n, row, "path", "?"));
        cell(f, verdict(kv, n, row, "match"));
        cell(f, verdict(kv, n, row, "mismatch"));
        cell(f, verdict(kv, n, row, "unpinned"));
        cell(f, err ? code(err) : "?");
        fputs("|\n", f);
    }
    for (int i = 0; i < N_PROGRAMS; i++) {
        const char *note = raw_get(kv, n, programs[i].row, "record-note");
        if (note)
            fprintf(f, "\n%s: %s.\n", programs[i].row, note);
    }
    for (int i = 0; i < N_PROGRAMS; i++)
        if (programs[i].known_crash)
            fprintf(f, "\n%s crashes (known bug): %s.\n", programs[i].row,
                    programs[i].known_crash);
    fputs("\nNot covered — they do not use OpenSSL, so the shim, though loaded, never\n"
          "sees their handshakes; `tlspin doctor` says so for each:\n\n"
          "| program | version | links (ldd) | mapped while it runs (/proc/PID/maps) "
          "| pinned host, interceptor's key |\n|---|---|---|---|---|\n",
          f);
    for (int i = 0; i < N_UNCOVERED; i++) {
        const char *row = uncovered[i].row;
        cell(f, row);
        cell(f, raw_or(kv, n, row, "version", "?"));
        cell(f, raw_or(kv, n, row, "ldd", "?"));
        cell(f, raw_or(kv, n, row, "maps", "?"));
        cell(f, raw_or(kv, n, row, "icpt", "**test failed or not run**"));
        fputs("|\n", f);
    }
    fputc('\n', f); /* a blank line: the table ends before the end marker */
    fclose(f);
    free(kv);
    free(raw);
}

/* ------------------------------------------------------------------ */

/* Every test case of the suite is one test looped over a table's rows
 * (0 .. rows-1): a case named name holding it. */
static void add_loop_case(Suite *s, const char *name, const TTest *test, int rows)
{
    TCase *tc = harness_tcase(name);

    tcase_add_loop_test(tc, test, 0, rows);
    suite_add_tcase(s, tc);
}

static Suite *compat_suite(void)
{
    Suite *s = suite_create("compat");

    add_loop_case(s, "match", pinned_match_works, N_PROGRAMS);
    add_loop_case(s, "mismatch", pinned_mismatch_blocked, N_PROGRAMS);
    add_loop_case(s, "unpinned", unpinned_host_works, N_PROGRAMS);
    add_loop_case(s, "probe", version_and_path, N_PROGRAMS);
    add_loop_case(s, "not_covered", gnutls_program_not_covered, N_UNCOVERED);
    return s;
}

int main(void)
{
    const char *out = getenv("TLSPIN_MATRIX_OUT");
    char cwd[PATH_MAX];
    int rc, fd;

    if (out && *out && out[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(matrix_out, sizeof matrix_out, "%.2000s/%.2000s", cwd, out);
    else
        snprintf(matrix_out, sizeof matrix_out, "%s",
                 out && *out ? out : TLSPIN_BUILD_DIR "/compat-matrix.md");
    snprintf(matrix_raw, sizeof matrix_raw, "%s.raw", matrix_out);
    fd = open(matrix_raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "compat: cannot create %s: %s\n", matrix_raw, strerror(errno));
        return 2;
    }
    close(fd);
    rc = harness_main(compat_suite());
    write_matrix();
    fprintf(stderr, "compat: matrix written to %s\n", matrix_out);
    if (!getenv("TLSPIN_TEST_KEEP"))
        unlink(matrix_raw);
    return rc;
}
