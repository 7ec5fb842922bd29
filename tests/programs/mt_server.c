/*
 * mt_server — a multi-threaded TLS server for the concurrency and rotation
 * suites: tls_server serves one client at a time, which would serialise
 * every decision a multi-threaded client makes.
 *
 *   mt_server --listen 127.0.0.1:0 --cert CHAIN --key KEY --stats FILE
 *             [--threads N]
 *
 * Prints "listening <port>" once bound. N threads (default 8) accept on the
 * same socket; each connection: handshake, read the request up to its blank
 * line, answer "HTTP/1.0 200 OK ... ok\n", close. After every connection,
 * FILE is rewritten with one line of counters:
 *
 *   connections=N handshake_ok=N handshake_failed=N requests=N
 *   request_bytes=N alerts_received=N
 *
 * requests counts connections on which at least one application byte
 * arrived: a refused client must never add to it. alerts_received counts
 * failed handshakes on which the client sent a fatal alert.
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
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char response[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

static SSL_CTX *ctx;
static int listen_fd = -1, stats_fd = -1;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long n_conn, n_ok, n_failed, n_requests, n_bytes, n_alerts;

static void usage(void)
{
    fprintf(stderr, "usage: mt_server --listen 127.0.0.1:0 --cert CHAIN --key KEY "
                    "--stats FILE [--threads N]\n");
    exit(2);
}

static void write_stats(void)
{
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "connections=%lu handshake_ok=%lu handshake_failed=%lu requests=%lu "
                     "request_bytes=%lu alerts_received=%lu\n",
                     n_conn, n_ok, n_failed, n_requests, n_bytes, n_alerts);
    if (pwrite(stats_fd, line, (size_t)n, 0) != n || ftruncate(stats_fd, n) != 0)
        perror("mt_server: stats");
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    int *alert = SSL_get_app_data(ssl);
    if (alert && (where & SSL_CB_ALERT) && (where & SSL_CB_READ) && (ret >> 8) == 2)
        *alert = 1;
}

/* Only a guard against a client that hangs for good: a client under
 * valgrind on a loaded machine may pause longer than a few seconds between
 * two handshake messages and is still making progress. A shorter limit
 * made the server close on it, and the client's next write died of
 * SIGPIPE (the valgrind test under load); the tests' own deadlines bound
 * the run. */
#define IO_TIMEOUT_S 60

static void serve(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    SSL *ssl = SSL_new(ctx);
    char buf[4096];
    size_t got = 0;
    int alert = 0, ok;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (ssl == NULL) {
        close(fd);
        return;
    }
    SSL_set_app_data(ssl, &alert);
    SSL_set_fd(ssl, fd);
    ok = SSL_accept(ssl) == 1;
    if (ok) {
        for (;;) {
            int n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));
            if (n <= 0)
                break;
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") || got + 1 >= sizeof(buf))
                break;
        }
        if (got > 0)
            SSL_write(ssl, response, (int)sizeof(response) - 1);
        SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);

    pthread_mutex_lock(&stats_lock);
    n_conn++;
    if (ok)
        n_ok++;
    else
        n_failed++;
    if (got > 0)
        n_requests++;
    n_bytes += got;
    if (!ok && alert)
        n_alerts++;
    write_stats();
    pthread_mutex_unlock(&stats_lock);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("mt_server: accept");
            exit(1);
        }
        serve(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *listen_at = NULL, *cert = NULL, *key = NULL, *stats = NULL;
    int threads = 8, one = 1;
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);

    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--listen") == 0)
            listen_at = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0)
            cert = argv[++i];
        else if (strcmp(argv[i], "--key") == 0)
            key = argv[++i];
        else if (strcmp(argv[i], "--stats") == 0)
            stats = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else
            usage();
    }
    if (!listen_at || !cert || !key || !stats || threads < 1 || threads > 64 ||
        strcmp(listen_at, "127.0.0.1:0") != 0)
        usage();

    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "mt_server: cannot set up TLS:\n");
        ERR_print_errors_fp(stderr);
        return 2;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_info_callback(ctx, info_cb);
    /* Every connection a full handshake, whatever the client keeps. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);

    stats_fd = open(stats, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (stats_fd < 0) {
        perror(stats);
        return 2;
    }
    write_stats();

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listen_fd, 1024) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&sa, &salen) != 0) {
        perror("mt_server: listen");
        return 2;
    }
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    for (int i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) {
            fprintf(stderr, "mt_server: pthread_create failed\n");
            return 2;
        }
        pthread_detach(t);
    }
    worker(NULL);
    return 0;
}
