/*
 * tp_suite.h — helpers the system-wide, concurrency and rotation suites
 * share on top of the harness (tests/integration/harness.h): background
 * processes whose output goes to a file while the test keeps working (and
 * keeps draining /dev/log), mt_server instances and their counters, the
 * monotonic clock. Header-only (static inline) so that each suite includes
 * it without touching the harness library.
 *
 * Include after harness.h.
 */
#ifndef TP_SUITE_H
#define TP_SUITE_H

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

#define MT_SERVER       BIN_DIR "/mt_server"
#define THREADED_CLIENT BIN_DIR "/threaded_client"
#define FORK_CLIENT     BIN_DIR "/fork_client"
#define LOOP_CLIENT     BIN_DIR "/loop_client"

static inline long long tp_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms while draining /dev/log (a client that logs must never block on
 * a full queue). */
static inline void tp_sleep_draining(int ms)
{
    long long end = tp_ms() + ms;
    for (;;) {
        long long left = end - tp_ms();
        struct pollfd p = {.fd = H.syslog_fd, .events = POLLIN};
        if (left <= 0)
            break;
        if (poll(&p, 1, (int)(left < 20 ? left : 20)) > 0)
            syslog_drain();
    }
    syslog_drain();
}

/* A process in the background, stdout+stderr into `out`. */
struct tp_proc {
    pid_t pid;
    int reaped, status;
    char out[PATH_MAX];
};

extern char **environ;

/* Like the harness's run_argv environment: ours without what changes where
 * a program connects or what it trusts, HOME at the test directory, the
 * shim with H.config when preload, then the extras ("K=V"). */
static inline char **tp_env(int preload, const char *const extra[])
{
    static const char *const drop[] = {"LD_PRELOAD=", "LD_LIBRARY_PATH=", "TLSPIN_", "SSL_CERT_",
                                       "OPENSSL_", "CURL_", "PYTHON", "http_proxy=",
                                       "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=",
                                       "ALL_PROXY=", "all_proxy=", "HOME=", "ASAN_OPTIONS=",
                                       NULL};
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    for (size_t i = 0; extra && extra[i]; i++)
        n++;
    env = calloc(n + 4, sizeof *env);
    ck_assert_ptr_nonnull(env);
    for (size_t i = 0; environ[i]; i++) {
        int skip = 0;
        for (size_t d = 0; drop[d]; d++)
            skip |= strncmp(environ[i], drop[d], strlen(drop[d])) == 0;
        if (!skip)
            env[k++] = environ[i];
    }
    env[k++] = strdup(fmt("HOME=%s", H.tmp));
    if (preload) {
        env[k++] = strdup("LD_PRELOAD=" SHIM_PATH);
        env[k++] = strdup(fmt("TLSPIN_CONFIG=%s", H.config));
    }
    for (size_t i = 0; extra && extra[i]; i++)
        env[k++] = strdup(extra[i]);
    env[k] = NULL;
    return env;
}

static inline void tp_spawn(struct tp_proc *p, const char *name, const char *const argv[],
                            int preload, const char *const extra_env[])
{
    static unsigned seq;
    char **env = tp_env(preload, extra_env);
    int fd;

    memset(p, 0, sizeof *p);
    /* A name of its own, created before the fork: a reader never sees an
     * earlier process's output. */
    snprintf(p->out, sizeof p->out, "%s/%s.%u.out", H.tmp, name, ++seq);
    fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "%s: %s", p->out, strerror(errno));
    close(fd);
    p->pid = fork();
    ck_assert_msg(p->pid >= 0, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        fd = open(p->out, O_WRONLY | O_APPEND);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_DFL);
        if (fd < 0 || nul < 0 || chdir(H.tmp) != 0)
            _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argv[0], (char *const *)argv, env);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(p->pid, p->pid);
    free(env);
}

/* 1 when the process has exited (reaped now or before). */
static inline int tp_exited(struct tp_proc *p)
{
    if (!p->reaped && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
        p->reaped = 1;
    return p->reaped;
}

/* Wait up to timeout_ms for the process to exit, draining /dev/log.
 * Returns 1 when it exited. */
static inline int tp_wait(struct tp_proc *p, int timeout_ms)
{
    long long end = tp_ms() + timeout_ms;
    while (!tp_exited(p)) {
        if (tp_ms() > end)
            return 0;
        tp_sleep_draining(10);
    }
    syslog_drain();
    return 1;
}

static inline void tp_kill(struct tp_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(-p->pid, SIGKILL);
    if (!p->reaped && waitpid(p->pid, &p->status, 0) == p->pid)
        p->reaped = 1;
    p->pid = 0;
}

/* What the process wrote so far (malloc'ed, never NULL). */
static inline char *tp_output(const struct tp_proc *p)
{
    char *t = read_file(p->out, NULL);
    return t ? t : strdup("");
}

static inline const char *tp_status(const struct tp_proc *p)
{
    if (!p->reaped)
        return "still running";
    if (WIFEXITED(p->status))
        return fmt("exit %d", WEXITSTATUS(p->status));
    if (WIFSIGNALED(p->status))
        return fmt("killed by signal %d", WTERMSIG(p->status));
    return "?";
}

/* ------------------------------ mt_server ------------------------------ */

struct mt_server {
    struct tp_proc proc;
    int port;
    char stats[PATH_MAX];
};

struct mt_stats {
    long connections, handshake_ok, handshake_failed, requests, request_bytes, alerts_received;
};

/* Start mt_server presenting chain/key files of the fixtures ("good",
 * "icpt", "good-rsa" ...: <id>-chain.pem and <id>.key). Fails the test if
 * it does not come up. */
static inline void mt_server_start(struct mt_server *s, const char *id)
{
    static unsigned seq;
    char name[64], chain[PATH_MAX], key[PATH_MAX];
    long long end;

    snprintf(name, sizeof name, "mt_server-%s-%u", id, ++seq);
    snprintf(s->stats, sizeof s->stats, "%s/%s.stats", H.tmp, name);
    snprintf(chain, sizeof chain, "%s", cert(fmt("%s-chain.pem", id)));
    snprintf(key, sizeof key, "%s", cert(fmt("%s.key", id)));
    tp_spawn(&s->proc, name,
             (const char *const[]){MT_SERVER, "--listen", "127.0.0.1:0", "--cert", chain, "--key",
                                   key, "--stats", s->stats, NULL},
             0, NULL);
    s->port = 0;
    end = tp_ms() + 10000;
    while (tp_ms() < end && !tp_exited(&s->proc)) {
        char *o = tp_output(&s->proc);
        const char *l = strstr(o, "listening ");
        if (l && strchr(l, '\n'))
            s->port = atoi(l + 10);
        free(o);
        if (s->port > 0)
            return;
        usleep(5000);
    }
    {
        char *o = tp_output(&s->proc);
        ck_abort_msg("mt_server (%s) did not start (%s):\n%s", id, tp_status(&s->proc), o);
    }
}

static inline void mt_server_stop(struct mt_server *s)
{
    tp_kill(&s->proc);
}

static inline struct mt_stats mt_server_stats(const struct mt_server *s)
{
    struct mt_stats st = {-1, -1, -1, -1, -1, -1};
    char *t = read_file(s->stats, NULL);
    if (t) {
        sscanf(t,
               "connections=%ld handshake_ok=%ld handshake_failed=%ld requests=%ld "
               "request_bytes=%ld alerts_received=%ld",
               &st.connections, &st.handshake_ok, &st.handshake_failed, &st.requests,
               &st.request_bytes, &st.alerts_received);
        free(t);
    }
    return st;
}

/* The counters once `connections` reached n (waits up to 10 s: the server
 * counts a connection after the client may already have moved on). */
static inline struct mt_stats mt_server_wait(const struct mt_server *s, long n)
{
    long long end = tp_ms() + 10000;
    struct mt_stats st = mt_server_stats(s);
    while (st.connections < n && tp_ms() < end) {
        tp_sleep_draining(10);
        st = mt_server_stats(s);
    }
    return st;
}

#define MT_STATS_FMT "connections=%ld handshake_ok=%ld handshake_failed=%ld requests=%ld alerts_received=%ld"
#define MT_STATS_ARGS(st) (st).connections, (st).handshake_ok, (st).handshake_failed, (st).requests, (st).alerts_received

/* "NAME,PORT,SNI[,allow|block]" for a client's --target. */
static inline const char *tp_target(const char *name, const struct mt_server *s, const char *sni,
                                    const char *expect)
{
    return expect ? fmt("%s,%d,%s,%s", name, s->port, sni, expect)
                  : fmt("%s,%d,%s", name, s->port, sni);
}

#endif
