/*
 * bypass_client.c — the two client behaviours of the review's bypasses that
 * tls_client cannot show (tests/integration/test_bypasses.c drives it):
 *
 *   bypass_client clear-errors ADDR:PORT CAFILE SNI
 *       One connection, SSL_VERIFY_PEER with a verify callback that clears
 *       every error it is shown and accepts (`if (!ok)
 *       X509_STORE_CTX_set_error(ctx, X509_V_OK); return 1;`), as programs
 *       that "handle" verification themselves do. A chain with a broken
 *       signature then verifies "ok" (B2).
 *
 *   bypass_client resume ADDR:PORT CAFILE FIRST_SNI SECOND_SNI ORDER
 *       Connection 1 with FIRST_SNI makes a session; connection 2, in the
 *       same process (so tlspin's record of the session is there), offers it
 *       with SECOND_SNI ("-": no SNI at all). ORDER is the order of the two
 *       calls on connection 2: "sni-then-session" or "session-then-sni"
 *       (SSL_set_session before SSL_set_tlsext_host_name) (B4, B5).
 *
 *   bypass_client late ADDR:PORT CAFILE FIRST_SNI SECOND_NAME
 *       Connection 2 calls SSL_set_connect_state, then SSL_set_session, then
 *       sets the SNI and SSL_set1_host to SECOND_NAME, and lets its first
 *       SSL_write start the handshake (B4b).
 *
 *   bypass_client clear ADDR:PORT CAFILE FIRST_SNI
 *       Connection 2 reuses connection 1's SSL after SSL_clear, on a new
 *       socket, without SNI, offering connection 1's session (B4a).
 *
 * All verify the peer against CAFILE. Each connection prints
 * "connection N", then the lines tls_client prints ("handshake ok",
 * "verify_result=...", "peer_pin=...", "reused=N"; or "handshake failed
 * ssl_error=E verify_result=V (text)" and "err: " lines), sends
 * "bypass-request-N" and reads the answer. clear-errors also prints
 * "app-verify-cb cleared N" (how many errors the callback cleared).
 *
 * Exit: 0 every handshake completed, 1 one failed, 2 usage or setup error,
 * 3 timeout (10 s).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bypass_common.h"

static unsigned cleared;

/* The callback of the finding: every error cleared, everything accepted. */
static int clear_errors_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        cleared++;
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
    }
    return 1;
}

static void report_handshake_failure(SSL *ssl, int r)
{
    long v = SSL_get_verify_result(ssl);

    printf("handshake failed ssl_error=%d verify_result=%ld (%s)\n", SSL_get_error(ssl, r), v,
           X509_verify_cert_error_string(v));
    bypass_report_errors("err: ");
}

/* The handshake done, connection n sends its request and reads the answer. */
static void exchange(SSL *ssl, unsigned n)
{
    char req[64], buf[4096];

    printf("handshake ok\n");
    {
        long v = SSL_get_verify_result(ssl);
        printf("verify_result=%ld (%s)\n", v, X509_verify_cert_error_string(v));
    }
    printf("protocol=%s\n", SSL_get_version(ssl));
    bypass_report_peer_pin(ssl);
    printf("reused=%d\n", SSL_session_reused(ssl));
    snprintf(req, sizeof(req), "bypass-request-%u\r\n\r\n", n);
    if (SSL_write(ssl, req, (int)strlen(req)) <= 0) {
        printf("write failed\n");
        bypass_report_errors("io-err: ");
    } else {
        size_t got = 0;
        int k;
        /* The answer, and with TLS 1.3 the session tickets before it. */
        while ((k = SSL_read(ssl, buf, sizeof(buf))) > 0)
            got += (size_t)k;
        printf("received=%zu\n", got);
        ERR_clear_error();
    }
}

/* Connection 2 of "late": the names come after the session, and the first
 * SSL_write starts the handshake (no SSL_connect, SSL_do_handshake or
 * SSL_set_connect_state after the names). */
static int late_names_implicit(SSL_CTX *ctx, const char *hostport, const char *name,
                               SSL_SESSION *session)
{
    static const char req[] = "bypass-request-2\r\n\r\n";
    int fd = bypass_tcp_connect(hostport), r, rc = 0;
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;

    printf("connection 2\n");
    if (ssl == NULL || !SSL_set_fd(ssl, fd)) {
        printf("setup failed\n");
        goto out;
    }
    SSL_set_connect_state(ssl);
    if (!SSL_set_session(ssl, session))
        printf("set_session refused\n");
    printf("offered=1\n");
    if (!SSL_set_tlsext_host_name(ssl, name) || !SSL_set1_host(ssl, name)) {
        printf("setup failed: names\n");
        rc = 2;
        goto out;
    }
    r = SSL_write(ssl, req, (int)strlen(req));
    if (r <= 0) {
        report_handshake_failure(ssl, r);
        rc = 1;
        goto out;
    }
    printf("implicit handshake and request sent\n");
    printf("reused=%d\n", SSL_session_reused(ssl));
    bypass_report_peer_pin(ssl);
    {
        char buf[4096];
        size_t got = 0;
        int k;
        /* The answer: the server has taken the request when it comes. */
        while ((k = SSL_read(ssl, buf, sizeof(buf))) > 0)
            got += (size_t)k;
        printf("received=%zu\n", got);
    }
out:
    ERR_clear_error();
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* "clear": connection 1, then its SSL is cleared and reused on a new socket
 * without SNI, with connection 1's session. */
static int clear_and_reuse(SSL_CTX *ctx, const char *hostport, const char *first_sni)
{
    SSL *ssl = SSL_new(ctx);
    SSL_SESSION *session = NULL;
    int fd = bypass_tcp_connect(hostport), fd2 = -1, r, rc = 2;

    printf("connection 1\n");
    if (ssl == NULL || fd < 0 || !SSL_set_fd(ssl, fd) ||
        !SSL_set_tlsext_host_name(ssl, first_sni)) {
        printf("setup failed\n");
        goto out;
    }
    if ((r = SSL_connect(ssl)) != 1) {
        report_handshake_failure(ssl, r);
        rc = 1;
        goto out;
    }
    exchange(ssl, 1);
    SSL_shutdown(ssl);
    session = SSL_get1_session(ssl);
    if (session == NULL || !SSL_SESSION_is_resumable(session)) {
        printf("setup failed: connection 1 left no resumable session\n");
        goto out;
    }
    printf("connection 2\n");
    /* The old connection is gone; the SSL is cleared, given the session,
     * then the new socket (the order of a program that keeps one SSL). */
    close(fd);
    fd = -1;
    if (!SSL_clear(ssl) || !SSL_set_tlsext_host_name(ssl, NULL)) {
        printf("setup failed: SSL_clear\n");
        goto out;
    }
    if (!SSL_set_session(ssl, session))
        printf("set_session refused\n");
    printf("offered=1\n");
    fd2 = bypass_tcp_connect(hostport);
    if (fd2 < 0 || !SSL_set_fd(ssl, fd2)) {
        printf("setup failed: second socket\n");
        goto out;
    }
    if ((r = SSL_connect(ssl)) != 1) {
        report_handshake_failure(ssl, r);
        rc = 1;
        goto out;
    }
    exchange(ssl, 2);
    rc = 0;
out:
    ERR_clear_error();
    SSL_SESSION_free(session);
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    return rc;
}

/* One connection. *session: offered when non-NULL; replaced by the new one
 * on success. Returns 0 ok, 1 handshake failed, 2 setup error. */
static int one(SSL_CTX *ctx, const char *hostport, unsigned n, const char *sni, int session_first,
               SSL_SESSION **session)
{
    SSL *ssl;
    int fd, r, rc = 0;

    printf("connection %u\n", n);
    ERR_clear_error();
    fd = bypass_tcp_connect(hostport);
    if (fd < 0) {
        printf("setup failed: connect %s\n", hostport);
        return 2;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd)) {
        printf("setup failed: SSL_new\n");
        bypass_report_errors("err: ");
        SSL_free(ssl);
        close(fd);
        return 2;
    }
    /* SSL_set_session refusing a session is no error for a program: it
     * makes a full handshake (reused=0 shows it). */
    if (session_first && *session != NULL && !SSL_set_session(ssl, *session))
        printf("set_session refused\n");
    if (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni)) {
        printf("setup failed: SNI %s\n", sni);
        SSL_free(ssl);
        close(fd);
        return 2;
    }
    if (!session_first && *session != NULL && !SSL_set_session(ssl, *session))
        printf("set_session refused\n");
    if (*session != NULL)
        printf("offered=1\n");

    r = SSL_connect(ssl);
    if (r != 1) {
        report_handshake_failure(ssl, r);
        rc = 1;
        goto out;
    }
    exchange(ssl, n);
    /* close_notify, or SSL_free marks the session not resumable. */
    SSL_shutdown(ssl);
    {
        SSL_SESSION *s = SSL_get1_session(ssl);
        if (s != NULL && SSL_SESSION_is_resumable(s)) {
            SSL_SESSION_free(*session);
            *session = s;
        } else {
            SSL_SESSION_free(s);
        }
    }
out:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return rc;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s clear-errors ADDR:PORT CAFILE SNI\n"
            "       %s resume ADDR:PORT CAFILE FIRST_SNI SECOND_SNI|- "
            "sni-then-session|session-then-sni\n"
            "       %s late ADDR:PORT CAFILE FIRST_SNI SECOND_NAME\n"
            "       %s clear ADDR:PORT CAFILE FIRST_SNI\n",
            prog, prog, prog, prog);
    return 2;
}

int main(int argc, char **argv)
{
    SSL_CTX *ctx;
    SSL_SESSION *session = NULL;
    int rc = 0, r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    bypass_alarm(10);
    if (argc < 5)
        return usage(argv[0]);
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || !SSL_CTX_load_verify_locations(ctx, argv[3], NULL)) {
        printf("setup failed: SSL_CTX\n");
        bypass_report_errors("err: ");
        return 2;
    }
    if (strcmp(argv[1], "clear-errors") == 0 && argc == 5) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, clear_errors_cb);
        rc = one(ctx, argv[2], 1, argv[4], 0, &session);
        printf("app-verify-cb cleared %u\n", cleared);
    } else if (strcmp(argv[1], "resume") == 0 && argc == 7 &&
               (strcmp(argv[6], "sni-then-session") == 0 ||
                strcmp(argv[6], "session-then-sni") == 0)) {
        const char *second = strcmp(argv[5], "-") == 0 ? NULL : argv[5];
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        rc = one(ctx, argv[2], 1, argv[4], 0, &session);
        if (rc == 0 && session == NULL) {
            printf("setup failed: connection 1 left no resumable session\n");
            rc = 2;
        } else if (rc == 0) {
            r = one(ctx, argv[2], 2, second, strcmp(argv[6], "session-then-sni") == 0,
                    &session);
            rc = r;
        }
    } else if (strcmp(argv[1], "late") == 0 && argc == 6) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        rc = one(ctx, argv[2], 1, argv[4], 0, &session);
        if (rc == 0 && session == NULL) {
            printf("setup failed: connection 1 left no resumable session\n");
            rc = 2;
        } else if (rc == 0) {
            rc = late_names_implicit(ctx, argv[2], argv[5], session);
        }
    } else if (strcmp(argv[1], "clear") == 0 && argc == 5) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        rc = clear_and_reuse(ctx, argv[2], argv[4]);
    } else {
        SSL_CTX_free(ctx);
        return usage(argv[0]);
    }
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    return rc;
}
