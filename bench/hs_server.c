/*
 * hs_server — the benchmark's TLS server: TLS 1.3 only, session tickets on
 * (resumption works), N threads accepting on one socket, no per-connection
 * bookkeeping beyond the handshake itself.
 *
 *   hs_server --cert CHAIN --key KEY [--port 0] [--threads 2]
 *
 * Prints "listening <port>" once bound, then serves until killed. Each
 * connection: handshake, read the request up to its blank line (or EOF),
 * answer "HTTP/1.0 200 OK ... ok", close_notify, close.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char response[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
static SSL_CTX *ctx;
static int listen_fd = -1;

static void serve(int fd)
{
    SSL *ssl = SSL_new(ctx);
    char buf[4096];
    size_t have = 0;

    if (ssl == NULL) {
        close(fd);
        return;
    }
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        for (;;) {
            int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
            if (n <= 0)
                break;
            have += (size_t)n;
            buf[have] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL ||
                have >= sizeof(buf) - 1)
                break;
        }
        if (have > 0)
            SSL_write(ssl, response, (int)sizeof(response) - 1);
        SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

static void *run(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        serve(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int port = 0, threads = 2, one = 1;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            cert = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: hs_server --cert CHAIN --key KEY [--port 0] [--threads 2]\n");
            return 2;
        }
    }
    if (cert == NULL || key == NULL || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: hs_server --cert CHAIN --key KEY [--port 0] [--threads 2]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"hsb", 3);

    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listen_fd, 512) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("hs_server: listen");
        return 1;
    }
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (int i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run, NULL) != 0)
            return 1;
        pthread_detach(t);
    }
    run(NULL);
    return 0;
}
