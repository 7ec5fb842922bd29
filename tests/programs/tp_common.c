/*
 * tp_common.c — one classified client handshake (see tp_common.h).
 */
#include "tp_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

/* A guard against a server that hangs for good, not a deadline: under
 * valgrind on a loaded machine one read may wait for many seconds (see
 * mt_server.c); the tests' own deadlines bound the run. */
#define IO_TIMEOUT_S 60

const char *tp_result_name(enum tp_result r)
{
    switch (r) {
    case TP_OK: return "ok";
    case TP_BLOCKED: return "blocked";
    case TP_OTHER: break;
    }
    return "other";
}

long long tp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tp_parse_target(const char *spec, struct tp_target *t)
{
    char buf[512], *save = NULL, *name, *port, *sni, *expect, *end;

    memset(t, 0, sizeof(*t));
    t->expect = TP_EXPECT_ANY;
    if (strlen(spec) >= sizeof(buf))
        goto bad;
    strcpy(buf, spec);
    name = strtok_r(buf, ",", &save);
    port = strtok_r(NULL, ",", &save);
    sni = strtok_r(NULL, ",", &save);
    expect = strtok_r(NULL, ",", &save);
    if (!name || !port || !sni || strtok_r(NULL, ",", &save))
        goto bad;
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->sni, sizeof(t->sni), "%s", sni);
    t->port = (int)strtol(port, &end, 10);
    if (*end || t->port <= 0 || t->port > 65535)
        goto bad;
    if (expect && strcmp(expect, "allow") == 0)
        t->expect = TP_EXPECT_ALLOW;
    else if (expect && strcmp(expect, "block") == 0)
        t->expect = TP_EXPECT_BLOCK;
    else if (expect)
        goto bad;
    return 0;
bad:
    fprintf(stderr, "bad target '%s' (NAME,PORT,SNI[,allow|block])\n", spec);
    return -1;
}

SSL_CTX *tp_ctx_new(const char *cafile)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
        fprintf(stderr, "cannot set up a client context with CA file %s:\n", cafile);
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

int tp_conn_open(struct tp_conn *c, SSL_CTX *ctx, int port, const char *sni, char *detail,
                 size_t dlen)
{
    struct sockaddr_in sa;
    struct timeval tv = {IO_TIMEOUT_S, 0};

    memset(c, 0, sizeof(*c));
    snprintf(c->sni, sizeof(c->sni), "%s", sni);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(detail, dlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(detail, dlen, "connect 127.0.0.1:%d: %s", port, strerror(errno));
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->ssl = SSL_new(ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
        SSL_set_tlsext_host_name(c->ssl, sni) != 1 || SSL_set1_host(c->ssl, sni) != 1) {
        snprintf(detail, dlen, "SSL setup failed");
        ERR_clear_error();
        tp_conn_close(c);
        return -1;
    }
    return 0;
}

/* Every entry of the error queue, joined; 1 when one is of library tlspin. */
static int drain_errors(char *out, size_t outlen)
{
    unsigned long e;
    char buf[256];
    size_t used = 0;
    int tlspin = 0;

    if (outlen)
        out[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        if (strstr(buf, ":tlspin:"))
            tlspin = 1;
        if (used + 3 < outlen) {
            int n = snprintf(out + used, outlen - used, "%s%s", used ? " | " : "", buf);
            if (n > 0)
                used += (size_t)n < outlen - used ? (size_t)n : outlen - used - 1;
        }
    }
    return tlspin;
}

enum tp_result tp_conn_run(struct tp_conn *c, char *detail, size_t dlen)
{
    char req[512], resp[512], errs[768];
    size_t got = 0;
    int rc, n;

    ERR_clear_error();
    rc = SSL_connect(c->ssl);
    if (rc != 1) {
        int ssl_error = SSL_get_error(c->ssl, rc);
        long vr = SSL_get_verify_result(c->ssl);
        int tlspin = drain_errors(errs, sizeof(errs));

        snprintf(detail, dlen, "ssl_error=%d verify_result=%ld errors=[%s]", ssl_error, vr, errs);
        return vr == X509_V_ERR_APPLICATION_VERIFICATION && tlspin ? TP_BLOCKED : TP_OTHER;
    }
    n = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", c->sni);
    if (SSL_write(c->ssl, req, n) != n) {
        drain_errors(errs, sizeof(errs));
        snprintf(detail, dlen, "handshake ok, request not sent: [%s]", errs);
        return TP_OTHER;
    }
    while (got + 1 < sizeof(resp)) {
        n = SSL_read(c->ssl, resp + got, (int)(sizeof(resp) - 1 - got));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = '\0';
    ERR_clear_error();
    if (!strstr(resp, "\r\n\r\nok\n")) {
        snprintf(detail, dlen, "handshake ok, no answer (got %zu bytes)", got);
        return TP_OTHER;
    }
    snprintf(detail, dlen, "%s", SSL_get_version(c->ssl));
    return TP_OK;
}

void tp_conn_close(struct tp_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    ERR_clear_error();
}

enum tp_result tp_handshake(SSL_CTX *ctx, int port, const char *sni, char *detail, size_t dlen)
{
    struct tp_conn c;
    enum tp_result r;

    if (tp_conn_open(&c, ctx, port, sni, detail, dlen) != 0)
        return TP_OTHER;
    r = tp_conn_run(&c, detail, dlen);
    tp_conn_close(&c);
    return r;
}

enum tp_result tp_handshake_from_env(const char *who)
{
    const char *port = getenv("TP_PORT"), *sni = getenv("TP_SNI"), *ca = getenv("TP_CAFILE");
    char detail[1024] = "";
    enum tp_result r = TP_OTHER;
    SSL_CTX *ctx;

    if (!port || !sni || !ca) {
        printf("%s: other TP_PORT, TP_SNI and TP_CAFILE must be set\n", who);
        fflush(stdout);
        return TP_OTHER;
    }
    ctx = tp_ctx_new(ca);
    if (ctx) {
        r = tp_handshake(ctx, atoi(port), sni, detail, sizeof(detail));
        SSL_CTX_free(ctx);
    } else {
        snprintf(detail, sizeof(detail), "no client context");
    }
    printf("%s: %s %s\n", who, tp_result_name(r), detail);
    fflush(stdout);
    return r;
}
