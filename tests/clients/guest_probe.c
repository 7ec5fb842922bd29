/*
 * guest_probe — checks that libtlspin.so behaves as a polite guest inside a
 * program (tests/integration/test_guest.c drives it):
 *
 *   - it calls openlog("guestprobe", LOG_PID, LOG_LOCAL1) first, so that a
 *     shim calling openlog/closelog would change the tag or facility of the
 *     probe's own closing syslog line (and of tlspin's records);
 *   - it sets errno to a sentinel immediately before each hooked call that
 *     does no I/O and prints what errno is right after it:
 *       SSL_CTX_set_cert_verify_callback   (the first hook: the shim resolves
 *                                           OpenSSL and loads its engine here)
 *       SSL_set_connect_state              (the policy and modules load here)
 *       SSL_set_session with NULL
 *       SSL_set_session with a real session (--sess-in, a PEM session file
 *                                           as tls_client --sess-out writes)
 *   - it makes one handshake (SSL_do_handshake) and, whatever its result,
 *     logs "probe-after-handshake" with syslog(LOG_INFO) and exits 0: any
 *     other exit status or a signal means something in the process ended it.
 *
 * Usage: guest_probe --connect HOST:PORT [--sni NAME] [--cafile FILE]
 *                    [--sess-in FILE]
 *
 * Output lines (stdout):
 *   errno-sentinel=<n>
 *   errno-after-<call>=<n>          one per call above
 *   sess-in=loaded                  when --sess-in was read
 *   handshake ok | handshake failed ssl_error=<n> verify_result=<n> (<text>)
 *   err: <OpenSSL error>            the error queue after a failure
 *   app-cert-verify-calls=<n>       how often the app's callback ran
 *   probe-end
 * Exit: 0 when the end was reached; 2 on a usage or setup error (bad
 * arguments, no connection, unreadable session file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "hostport.h"
#include "net.h"

#define SENTINEL EDOM

static int app_cert_verify_calls;

/* A well-behaved application callback: counts, then verifies as usual. */
static int app_cert_verify(X509_STORE_CTX *ctx, void *arg)
{
    (void)arg;
    app_cert_verify_calls++;
    return X509_verify_cert(ctx);
}

static void report_errno(const char *call, int value)
{
    printf("errno-after-%s=%d\n", call, value);
}

static int usage(void)
{
    fprintf(stderr, "usage: guest_probe --connect HOST:PORT [--sni NAME] [--cafile FILE] "
                    "[--sess-in FILE]\n");
    return 2;
}

static SSL_SESSION *load_session(const char *path)
{
    FILE *f = fopen(path, "r");
    SSL_SESSION *s;

    if (f == NULL) {
        fprintf(stderr, "sess-in %s: %s\n", path, strerror(errno));
        return NULL;
    }
    s = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
    fclose(f);
    if (s == NULL)
        fprintf(stderr, "sess-in %s: not a PEM SSL session\n", path);
    return s;
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *sni = NULL, *cafile = NULL, *sess_in = NULL;
    char host[256], port[8], err[256];
    struct timeval tv = {.tv_sec = 10};
    SSL_SESSION *session = NULL;
    SSL_CTX *ctx;
    SSL *ssl;
    int fd, rc, e;

    setvbuf(stdout, NULL, _IOLBF, 0);
    openlog("guestprobe", LOG_PID, LOG_LOCAL1);

    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--connect") == 0  ? &connect_to
                            : strcmp(argv[i], "--sni") == 0    ? &sni
                            : strcmp(argv[i], "--cafile") == 0 ? &cafile
                            : strcmp(argv[i], "--sess-in") == 0 ? &sess_in
                                                               : NULL;
        if (slot == NULL || i + 1 >= argc)
            return usage();
        *slot = argv[++i];
    }
    if (connect_to == NULL ||
        hostport_split(connect_to, host, sizeof(host), port, sizeof(port)) != 0)
        return usage();

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL ||
        (cafile ? !SSL_CTX_load_verify_locations(ctx, cafile, NULL)
                : !SSL_CTX_set_default_verify_paths(ctx))) {
        fprintf(stderr, "guest_probe: cannot set up the SSL_CTX\n");
        ERR_print_errors_fp(stderr);
        return 2;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (sess_in != NULL) {
        if ((session = load_session(sess_in)) == NULL)
            return 2;
        printf("sess-in=loaded\n");
    }

    fd = net_connect(host, port, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "guest_probe: %s\n", err);
        return 2;
    }
    /* Never hang on a server that says nothing. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    printf("errno-sentinel=%d\n", SENTINEL);

    /* The first hooked call of the process. */
    errno = SENTINEL;
    SSL_CTX_set_cert_verify_callback(ctx, app_cert_verify, NULL);
    e = errno;
    report_errno("SSL_CTX_set_cert_verify_callback", e);

    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
        (sni && (!SSL_set_tlsext_host_name(ssl, sni) || !SSL_set1_host(ssl, sni)))) {
        fprintf(stderr, "guest_probe: cannot set up the SSL\n");
        ERR_print_errors_fp(stderr);
        return 2;
    }

    errno = SENTINEL;
    SSL_set_connect_state(ssl);
    e = errno;
    report_errno("SSL_set_connect_state", e);

    errno = SENTINEL;
    SSL_set_session(ssl, NULL);
    e = errno;
    report_errno("SSL_set_session-NULL", e);

    if (session != NULL) {
        errno = SENTINEL;
        SSL_set_session(ssl, session);
        e = errno;
        report_errno("SSL_set_session", e);
    }

    ERR_clear_error();
    rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        static const char request[] = "GET / HTTP/1.0\r\n\r\n";
        char buf[512];
        size_t n;

        printf("handshake ok\n");
        if (SSL_write_ex(ssl, request, sizeof(request) - 1, &n))
            while (SSL_read_ex(ssl, buf, sizeof(buf), &n))
                ;
        ERR_clear_error();
    } else {
        long v = SSL_get_verify_result(ssl);
        unsigned long code;
        char text[256];

        printf("handshake failed ssl_error=%d verify_result=%ld (%s)\n",
               SSL_get_error(ssl, rc), v, X509_verify_cert_error_string(v));
        while ((code = ERR_get_error()) != 0) {
            ERR_error_string_n(code, text, sizeof(text));
            printf("err: %s\n", text);
        }
    }
    printf("app-cert-verify-calls=%d\n", app_cert_verify_calls);

    /* The program's own line: still its ident, [pid] and facility. */
    syslog(LOG_INFO, "probe-after-handshake");

    SSL_free(ssl);
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    close(fd);
    printf("probe-end\n");
    return 0;
}
