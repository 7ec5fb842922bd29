/*
 * bypass_chain_client.c — programs whose verification is not OpenSSL's own
 * (issue 11, case 5; tests/integration/test_bypass_chain.c drives it):
 *
 *   bypass_chain_client MODE ADDR:PORT CAFILE SNI
 *
 * One connection, SSL_VERIFY_PEER against CAFILE, with one verification
 * hook of the program's own, chosen by MODE:
 *
 *   store-verify     X509_STORE_set_verify on the SSL_CTX's store: a verify
 *                    function that checks validity times and no signature
 *                    (what OpenSSL's internal_verify does, minus signatures)
 *   ctx-verify       the same function set on the X509_STORE_CTX itself,
 *                    from an SSL_CTX_set_cert_verify_callback that then calls
 *                    X509_verify_cert
 *   store-verify-cb  X509_STORE_set_verify_cb on the store (not the SSL): a
 *                    callback that clears every error and accepts
 *   get-issuer-peer  X509_STORE_set_get_issuer on the store: an issuer the
 *                    server sent counts as trusted (then OpenSSL's own lookup)
 *
 * Prints "lax-hook calls N" (how often the program's hook ran) and the lines
 * tls_client prints: "handshake ok", "verify_result=...", "peer_pin=..."; or
 * "handshake failed ssl_error=E verify_result=V (text)" and "err: " lines.
 * After a handshake it sends "bypass-chain-request" and reads the answer.
 *
 * Exit: 0 the handshake completed, 1 it failed, 2 usage or setup error,
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
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static unsigned hook_calls;

/* A verify function that builds nothing and checks only dates: the chain
 * OpenSSL built is accepted whatever its signatures say. */
static int times_only_verify(X509_STORE_CTX *ctx)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

    hook_calls++;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0 ||
            X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
            X509_STORE_CTX_set_error_depth(ctx, i);
            X509_STORE_CTX_set_current_cert(ctx, x);
            X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_HAS_EXPIRED);
            return 0;
        }
    }
    return 1;
}

static int set_verify_then_verify(X509_STORE_CTX *ctx, void *arg)
{
    (void)arg;
    X509_STORE_CTX_set_verify(ctx, times_only_verify);
    return X509_verify_cert(ctx);
}

static int clear_errors_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        hook_calls++;
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
    }
    return 1;
}

/* An issuer among the certificates the server sent counts as trusted. */
static int peer_issuer(X509 **issuer, X509_STORE_CTX *ctx, X509 *x)
{
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(ctx);

    for (int i = 0; i < sk_X509_num(sent); i++) {
        X509 *c = sk_X509_value(sent, i);
        if (c != x && X509_check_issued(c, x) == X509_V_OK && X509_up_ref(c)) {
            hook_calls++;
            *issuer = c;
            return 1;
        }
    }
    return X509_STORE_CTX_get1_issuer(issuer, ctx, x);
}

/* After a handshake: what it gave, a request, the answer. */
static void talk(SSL *ssl)
{
    static const char req[] = "bypass-chain-request\r\n\r\n";
    char buf[4096];
    long v = SSL_get_verify_result(ssl);
    size_t got = 0;
    int k;

    printf("handshake ok\n");
    printf("verify_result=%ld (%s)\n", v, X509_verify_cert_error_string(v));
    bypass_report_peer_pin(ssl);
    if (SSL_write(ssl, req, (int)strlen(req)) <= 0) {
        printf("write failed\n");
        bypass_report_errors("io-err: ");
        return;
    }
    while ((k = SSL_read(ssl, buf, sizeof(buf))) > 0)
        got += (size_t)k;
    printf("received=%zu\n", got);
    ERR_clear_error();
    SSL_shutdown(ssl);
}

/* One connection. Returns 0 ok, 1 handshake failed, 2 setup error. */
static int one(SSL_CTX *ctx, const char *hostport, const char *sni)
{
    SSL *ssl;
    int fd, r, rc = 0;

    fd = bypass_tcp_connect(hostport);
    if (fd < 0) {
        printf("setup failed: connect %s\n", hostport);
        return 2;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd) || !SSL_set_tlsext_host_name(ssl, sni)) {
        printf("setup failed: SSL_new\n");
        bypass_report_errors("err: ");
        SSL_free(ssl);
        close(fd);
        return 2;
    }
    r = SSL_connect(ssl);
    if (r == 1) {
        talk(ssl);
    } else {
        long v = SSL_get_verify_result(ssl);
        printf("handshake failed ssl_error=%d verify_result=%ld (%s)\n", SSL_get_error(ssl, r), v,
               X509_verify_cert_error_string(v));
        bypass_report_errors("err: ");
        rc = 1;
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return rc;
}

/* The program's own hook, by mode; -1 for an unknown mode. */
static int install_hook(SSL_CTX *ctx, const char *mode)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);

    if (strcmp(mode, "store-verify") == 0)
        X509_STORE_set_verify(store, times_only_verify);
    else if (strcmp(mode, "ctx-verify") == 0)
        SSL_CTX_set_cert_verify_callback(ctx, set_verify_then_verify, NULL);
    else if (strcmp(mode, "store-verify-cb") == 0)
        X509_STORE_set_verify_cb(store, clear_errors_cb);
    else if (strcmp(mode, "get-issuer-peer") == 0)
        X509_STORE_set_get_issuer(store, peer_issuer);
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    SSL_CTX *ctx;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    bypass_alarm(10);
    if (argc != 5) {
        fprintf(stderr, "usage: %s store-verify|ctx-verify|store-verify-cb|get-issuer-peer "
                        "ADDR:PORT CAFILE SNI\n", argv[0]);
        return 2;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || !SSL_CTX_load_verify_locations(ctx, argv[3], NULL)) {
        printf("setup failed: SSL_CTX\n");
        bypass_report_errors("err: ");
        return 2;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (install_hook(ctx, argv[1]) != 0) {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        SSL_CTX_free(ctx);
        return 2;
    }
    rc = one(ctx, argv[2], argv[4]);
    printf("lax-hook calls %u\n", hook_calls);
    SSL_CTX_free(ctx);
    return rc;
}
