/*
 * proc.c — running clients and servers as real processes.
 *
 * Every child gets its own process group and PR_SET_PDEATHSIG(SIGKILL), so a
 * test that fails (Check's forked test process exits at once) leaves nothing
 * behind; servers are also stopped at teardown.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Variables of the harness's own environment a client must not inherit:
 * anything that would change where it connects or what it trusts. */
static int scrubbed(const char *kv)
{
    static const char *const drop[] = {
        "LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_BIND_NOW=", "TLSPIN_", "SSL_CERT_", "OPENSSL_",
        "CURL_", "REQUESTS_CA_BUNDLE=", "PYTHON", "PERL5", "PERL_", "http_proxy=",
        "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "all_proxy=", "ALL_PROXY=",
        "no_proxy=", "NO_PROXY=", "HOME=", NULL};
    for (size_t i = 0; drop[i]; i++)
        if (strncmp(kv, drop[i], strlen(drop[i])) == 0)
            return 1;
    return 0;
}

/* The child's environment: ours scrubbed, HOME at the test dir (no ~/.curlrc
 * or the like), the shim when asked, then the caller's extras; in a
 * sanitized build, the runtime ahead of the shim (harness.c). */
static char **child_env(const struct run_opts *o, const char *prog)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    for (size_t i = 0; o && o->env && o->env[i]; i++)
        n++;
    env = calloc(n + 4, sizeof *env);
    for (size_t i = 0; environ[i]; i++)
        if (!scrubbed(environ[i]))
            env[k++] = environ[i];
    env[k++] = strdup(fmt("HOME=%s", H.tmp));
    if (o && o->preload) {
        env[k++] = strdup("LD_PRELOAD=" SHIM_PATH);
        env[k++] = strdup(fmt("TLSPIN_CONFIG=%s", o->config ? o->config : H.config));
    }
    for (size_t i = 0; o && o->env && o->env[i]; i++)
        env[k++] = (char *)o->env[i];
    env[k] = NULL;
    harness_sanitizer_env(env, prog);
    return env;
}

static void child_common(void)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_DFL);
    if (chdir(H.tmp[0] ? H.tmp : "/") != 0)
        _exit(126);
}

struct buf {
    char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const char *d, size_t n)
{
    if (b->cap - b->n < n + 1) {
        b->cap = (b->cap + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

int run_argv(const struct run_opts *o, struct run_result *r, const char *const argv[])
{
    int pin[2], pout[2], perr[2];
    struct buf out = {0}, err = {0};
    const char *input = o ? o->input : NULL;
    size_t in_off = 0, in_len = input ? strlen(input) : 0;
    int timeout = o && o->timeout_ms ? o->timeout_ms : 20000;
    long deadline = now_ms() + timeout;
    char **env = child_env(o, argv[0]);
    int status = 0;
    pid_t pid;

    memset(r, 0, sizeof *r);
    buf_add(&out, "", 0);
    buf_add(&err, "", 0);
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        child_common();
        if (input)
            dup2(pin[0], 0);
        else {
            int nul = open("/dev/null", O_RDONLY);
            dup2(nul, 0);
        }
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        execve(argv[0], (char *const *)argv, env);
        fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    if (!input || in_len == 0) {
        close(pin[1]);
        pin[1] = -1;
    }

    int open_out = 1, open_err = 1;
    while (open_out || open_err) {
        struct pollfd p[4] = {
            {.fd = open_out ? pout[0] : -1, .events = POLLIN},
            {.fd = open_err ? perr[0] : -1, .events = POLLIN},
            {.fd = pin[1], .events = POLLOUT},
            {.fd = H.syslog_fd, .events = POLLIN},
        };
        long left = deadline - now_ms();
        char b[8192];

        if (left <= 0) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
            break;
        }
        if (poll(p, 4, (int)left) < 0 && errno != EINTR)
            break;
        if (p[3].revents & POLLIN)
            syslog_drain();
        if (p[0].revents) {
            ssize_t n = read(pout[0], b, sizeof b);
            if (n > 0)
                buf_add(&out, b, (size_t)n);
            else
                open_out = 0;
        }
        if (p[1].revents) {
            ssize_t n = read(perr[0], b, sizeof b);
            if (n > 0)
                buf_add(&err, b, (size_t)n);
            else
                open_err = 0;
        }
        if (pin[1] >= 0 && p[2].revents) {
            ssize_t n = write(pin[1], input + in_off, in_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if (n < 0 || in_off == in_len) {
                close(pin[1]);
                pin[1] = -1;
            }
        }
    }
    /* The pipes are closed (or we gave up): reap, still within the deadline. */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (now_ms() > deadline && !r->timed_out) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
        }
        struct pollfd p = {.fd = H.syslog_fd, .events = POLLIN};
        if (poll(&p, 1, 10) > 0)
            syslog_drain();
    }
    kill(-pid, SIGKILL); /* anything the client left in its group */
    if (pin[1] >= 0)
        close(pin[1]);
    close(pout[0]);
    close(perr[0]);
    syslog_drain();
    free(env); /* the few strdup'ed entries are left to process exit */

    r->pid = pid;
    r->exited = WIFEXITED(status);
    r->code = r->exited ? WEXITSTATUS(status) : -1;
    r->signaled = WIFSIGNALED(status);
    r->sig = r->signaled ? WTERMSIG(status) : 0;
    r->out = out.p;
    r->out_len = out.n;
    r->err = err.p;
    r->err_len = err.n;
    return 0;
}

void run_result_free(struct run_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

const char *run_status(const struct run_result *r)
{
    if (r->timed_out)
        return "timeout (killed by the harness)";
    if (r->signaled)
        return fmt("killed by signal %d", r->sig);
    return fmt("exit %d", r->code);
}

/* ------------------------------ servers ------------------------------ */

/* Process groups of the servers this test started (by value: the tests'
 * struct server usually lives on their stack). */
#define MAX_SERVERS 16
static pid_t server_pids[MAX_SERVERS];

static void track(pid_t pid)
{
    for (size_t i = 0; i < MAX_SERVERS; i++)
        if (!server_pids[i]) {
            server_pids[i] = pid;
            return;
        }
    ck_abort_msg("too many servers in one test");
}

static void stop_pid(pid_t pid)
{
    int st;

    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &st, WNOHANG) != 0)
            break;
        usleep(5000);
    }
    kill(-pid, SIGKILL); /* the group, whatever is left of it */
    waitpid(pid, &st, 0);
    for (size_t i = 0; i < MAX_SERVERS; i++)
        if (server_pids[i] == pid)
            server_pids[i] = 0;
}

static pid_t spawn_to_file(const char *const argv[], const char *outfile, int preload)
{
    struct run_opts o = {.preload = preload};
    char **env = child_env(&o, argv[0]);
    pid_t pid = fork();

    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        int in[2] = {-1, -1};
        /* Standard input: a pipe nobody writes and whose write end lives as
         * long as the server (its own copy): openssl s_server ends at the
         * first end of input unless it serves -www. */
        if (pipe(in) != 0)
            in[0] = open("/dev/null", O_RDONLY);
        child_common();
        dup2(in[0], 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argv[0], (char *const *)argv, env);
        fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    free(env);
    return pid;
}

/* Wait until the server's output has a line starting with `prefix`, then
 * parse the port after the last ':' or the first space of that line. */
static int wait_port(struct server *s, const char *prefix, int after_colon)
{
    long deadline = now_ms() + 10000;

    while (now_ms() < deadline) {
        char *txt = read_file(s->out, NULL);
        char *line = txt;

        while (line && *line) {
            char *nl = strchr(line, '\n');
            if (nl && strncmp(line, prefix, strlen(prefix)) == 0) {
                *nl = '\0';
                char *num = after_colon ? strrchr(line, ':') : line + strlen(prefix);
                int port = num ? atoi(num + (after_colon ? 1 : 0)) : 0;
                free(txt);
                return port;
            }
            line = nl ? nl + 1 : NULL;
        }
        free(txt);
        /* Dead? Look without reaping: the zombie keeps its pid (and group)
         * reserved until stop_pid() reaps it. */
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == s->pid)
            return -1;
        usleep(10000);
    }
    return -1;
}

void server_s_server(struct server *s, const char *cert_file, const char *key_file,
                     const char *chain_file, const char *const extra[])
{
    const char *argv[64] = {OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", cert_file,
                            "-key", key_file, NULL};
    size_t n = 8;
    static unsigned seq;

    if (chain_file) {
        argv[n++] = "-cert_chain";
        argv[n++] = chain_file;
    }
    memset(s, 0, sizeof *s);
    for (size_t i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    snprintf(s->out, sizeof s->out, "%s/s_server.%u.out", H.tmp, ++seq);
    s->pid = spawn_to_file(argv, s->out, 0);
    track(s->pid);
    s->port = wait_port(s, "ACCEPT ", 1);
    if (s->port <= 0) {
        char *o = read_file(s->out, NULL);
        ck_abort_msg("openssl s_server did not start:\n%s", o ? o : "(no output)");
    }
}

void server_s_server_acking(struct server *s, const char *name)
{
    server_s_server(s, cert("icpt.pem"), cert("icpt.key"), cert("icpt-ca.pem"),
                    (const char *const[]){"-servername", name, "-cert2", cert("icpt.pem"),
                                          "-key2", cert("icpt.key"), "-www", NULL});
}

void server_program(struct server *s, const char *const argv[])
{
    static unsigned seq;

    memset(s, 0, sizeof *s);
    snprintf(s->out, sizeof s->out, "%s/program.%u.out", H.tmp, ++seq);
    s->pid = spawn_to_file(argv, s->out, 0);
    track(s->pid);
    s->port = wait_port(s, "ACCEPT ", 1);
    if (s->port <= 0) {
        char *o = read_file(s->out, NULL);
        ck_abort_msg("%s did not start:\n%s", argv[0], o ? o : "(no output)");
    }
}

void server_alert_drop_relay(struct server *s, int target_port)
{
    const char *argv[] = {PYTHON3, "-u", TLSPIN_SOURCE_DIR "/tests/fixtures/alert_drop_relay.py",
                          fmt("%d", target_port), NULL};
    static unsigned seq;

    memset(s, 0, sizeof *s);
    snprintf(s->out, sizeof s->out, "%s/relay.%u.out", H.tmp, ++seq);
    s->pid = spawn_to_file(argv, s->out, 0);
    track(s->pid);
    s->port = wait_port(s, "ACCEPT ", 1);
    if (s->port <= 0) {
        char *o = read_file(s->out, NULL);
        ck_abort_msg("alert_drop_relay did not start:\n%s", o ? o : "(no output)");
    }
}

void server_tls_server(struct server *s, const char *const args[], int preload)
{
    const char *argv[64] = {TLS_SERVER};
    size_t n = 1;
    static unsigned seq;

    memset(s, 0, sizeof *s);
    seq++;
    snprintf(s->out, sizeof s->out, "%s/tls_server.%u.out", H.tmp, seq);
    snprintf(s->log, sizeof s->log, "%s/tls_server.%u.log", H.tmp, seq);
    snprintf(s->events, sizeof s->events, "%s/tls_server.%u.events", H.tmp, seq);
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--log";
    argv[n++] = s->log;
    argv[n++] = "--events";
    argv[n++] = s->events;
    for (size_t i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = spawn_to_file(argv, s->out, preload);
    track(s->pid);
    s->port = wait_port(s, "listening ", 0);
    if (s->port <= 0) {
        char *o = read_file(s->out, NULL);
        ck_abort_msg("tls_server did not start:\n%s", o ? o : "(no output)");
    }
}

char *server_log(const struct server *s)
{
    char *t = s->log[0] ? read_file(s->log, NULL) : NULL;
    return t ? t : strdup("");
}

char *server_events(const struct server *s)
{
    char *t = s->events[0] ? read_file(s->events, NULL) : NULL;
    return t ? t : strdup("");
}

void server_stop(struct server *s)
{
    stop_pid(s->pid);
    s->pid = 0;
}

void servers_stop_all(void)
{
    for (size_t i = 0; i < MAX_SERVERS; i++)
        stop_pid(server_pids[i]);
}
