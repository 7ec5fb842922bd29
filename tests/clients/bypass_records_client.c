/*
 * bypass_records_client — a program that does to its own syslog state what
 * real programs do, between handshakes that tlspin refuses
 * (tests/integration/test_bypass_records.c drives it):
 *
 *   bypass_records_client PORT CAFILE SNI ACTION...
 *
 * The actions run in order:
 *   mask-err     setlogmask(LOG_UPTO(LOG_ERR)): the program's warnings and
 *                notices are dropped by its own syslog(3)
 *   mask-crit    setlogmask(LOG_UPTO(LOG_CRIT))
 *   openlog      openlog("recprobe", LOG_PID | LOG_PERROR, LOG_LOCAL2)
 *   closelog     closelog()
 *   say          syslog(LOG_WARNING, "own-warning-<n>") and
 *                syslog(LOG_ERR, "own-err-<n>"), n counting the says
 *   hs           one handshake to 127.0.0.1:PORT (SNI and host check SNI,
 *                peer verified against CAFILE); prints "hs <n> ok" or
 *                "hs <n> refused verify_result=<v>"
 *   hs=N         N handshakes one after the other
 *   threads=N    N threads make one handshake each at the same time
 *   fork         the rest of the actions run in a child (which prints
 *                "child pid=<pid>"); the parent waits for it
 *   closefds     close every descriptor from 3 to 1023, as a daemon does
 *                after fork
 *   squat=FILE   open FILE (append) on every free descriptor from 3 to 63:
 *                whatever number a library kept is now the program's file
 *   squat-check  print "squatters-open=<open> of <opened>": a number that
 *                no longer holds FILE was closed by a library that thought
 *                it still owned it (and maybe reopened for itself)
 *
 * Prints "pid=<pid>" first and "end" last. Exit: 0 when every action ran
 * (refusals included), 2 on a usage or setup error, 3 on timeout (15 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define SQUAT_LAST 63

static int port;
static const char *cafile, *sni;
static unsigned handshakes, says;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int squatted[SQUAT_LAST + 1];
static struct stat squat_file;    /* what the squatters hold */

static void on_alarm(int sig)
{
    static const char msg[] = "timeout\n";

    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to say */
    }
    _exit(3);
}

static int tcp_connect(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One handshake, verified against cafile for sni. */
static void handshake(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    unsigned n;
    int fd = -1, ok = 0;
    long v = -1;

    pthread_mutex_lock(&out_lock);
    n = ++handshakes;
    pthread_mutex_unlock(&out_lock);
    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
        goto out;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if ((ssl = SSL_new(ctx)) == NULL || (fd = tcp_connect()) < 0)
        goto out;
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, sni);
    SSL_set1_host(ssl, sni);
    ok = SSL_connect(ssl) == 1;
    v = SSL_get_verify_result(ssl);
    if (ok)
        SSL_shutdown(ssl);
out:
    pthread_mutex_lock(&out_lock);
    if (ok)
        printf("hs %u ok\n", n);
    else
        printf("hs %u refused verify_result=%ld\n", n, v);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
}

static void *handshake_thread(void *arg)
{
    (void)arg;
    handshake();
    return NULL;
}

static int threads(unsigned count)
{
    pthread_t t[32];
    unsigned i;

    if (count == 0 || count > 32)
        return -1;
    for (i = 0; i < count; i++)
        if (pthread_create(&t[i], NULL, handshake_thread, NULL) != 0)
            return -1;
    for (i = 0; i < count; i++)
        pthread_join(t[i], NULL);
    return 0;
}

static void squat(const char *file)
{
    for (int fd = 3; fd <= SQUAT_LAST; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        int got = open(file, O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (got < 0)
            return;
        if (got != fd) {        /* numbers are handed out lowest first */
            close(got);
            return;
        }
        squatted[fd] = 1;
        fstat(got, &squat_file);
    }
}

/* A squatter is still open when its number still holds the same file. */
static void squat_check(void)
{
    int opened = 0, open_now = 0;

    for (int fd = 3; fd <= SQUAT_LAST; fd++) {
        struct stat st;
        if (!squatted[fd])
            continue;
        opened++;
        open_now += fstat(fd, &st) == 0 && st.st_dev == squat_file.st_dev &&
                    st.st_ino == squat_file.st_ino;
    }
    printf("squatters-open=%d of %d\n", open_now, opened);
}

/* Runs one action; a fork makes the child go on and the parent stop (1). */
static int action(const char *a)
{
    if (strcmp(a, "mask-err") == 0)
        setlogmask(LOG_UPTO(LOG_ERR));
    else if (strcmp(a, "mask-crit") == 0)
        setlogmask(LOG_UPTO(LOG_CRIT));
    else if (strcmp(a, "openlog") == 0)
        openlog("recprobe", LOG_PID | LOG_PERROR, LOG_LOCAL2);
    else if (strcmp(a, "closelog") == 0)
        closelog();
    else if (strcmp(a, "say") == 0) {
        says++;
        syslog(LOG_WARNING, "own-warning-%u", says);
        syslog(LOG_ERR, "own-err-%u", says);
    } else if (strcmp(a, "hs") == 0)
        handshake();
    else if (strncmp(a, "hs=", 3) == 0) {
        for (long i = strtol(a + 3, NULL, 10); i > 0; i--)
            handshake();
    } else if (strncmp(a, "threads=", 8) == 0) {
        if (threads((unsigned)strtoul(a + 8, NULL, 10)) != 0)
            return -1;
    } else if (strcmp(a, "fork") == 0) {
        int status;
        pid_t child;
        fflush(stdout);
        child = fork();
        if (child < 0)
            return -1;
        if (child == 0) {
            printf("child pid=%ld\n", (long)getpid());
            return 0;
        }
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
            return -1;
        return 1;
    } else if (strcmp(a, "closefds") == 0) {
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    } else if (strncmp(a, "squat=", 6) == 0)
        squat(a + 6);
    else if (strcmp(a, "squat-check") == 0)
        squat_check();
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s PORT CAFILE SNI ACTION...\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    cafile = argv[2];
    sni = argv[3];
    signal(SIGALRM, on_alarm);
    alarm(15);
    printf("pid=%ld\n", (long)getpid());
    for (int i = 4; i < argc; i++) {
        int r = action(argv[i]);
        if (r < 0) {
            fprintf(stderr, "action %s failed\n", argv[i]);
            return 2;
        }
        if (r == 1)
            return 0;           /* the child ran the rest */
    }
    printf("end\n");
    fflush(stdout);
    return 0;
}
