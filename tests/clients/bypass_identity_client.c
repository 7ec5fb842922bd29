/*
 * bypass_identity_client.c — a client that gives OpenSSL the name to verify
 * somewhere else than on the SSL (tests/integration/test_bypass_identity.c):
 *
 *   bypass_identity_client ADDR PORT CAFILE WHERE NAME
 *
 * connects to ADDR:PORT (IPv4), sends no SNI, verifies the server against
 * CAFILE and NAME, where WHERE is
 *   store-host         X509_VERIFY_PARAM_set1_host on the parameters of the
 *                      SSL_CTX's certificate store
 *   store-ip           X509_VERIFY_PARAM_set1_ip_asc on them
 *   verify-store-host  the host on the parameters of a separate
 *                      verification store (SSL_CTX_set1_verify_cert_store)
 *   ssl-host           SSL_set1_host (the usual place)
 *   both-hosts         NAME is "SSL_NAME/STORE_NAME": SSL_set1_host and the
 *                      store's parameters, each its own name
 * OpenSSL checks a store's names when the SSL's own parameters have none
 * (X509_STORE_CTX_init inherits them, ssl_verify_cert_chain then copies
 * only what the SSL's parameters set).
 *
 * Prints "handshake ok", or "handshake failed verify_result=N (text)" and
 * the error queue as "err: " lines; sends "GET / HTTP/1.0" with
 * "X-Probe: identity-client" and prints the answer.
 * Exit: 0 handshake completed, 1 it failed, 2 usage or setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

static int connect_to(const char *addr, int port)
{
    struct sockaddr_in sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A store trusting cafile whose parameters verify name: the separate
 * verification store of verify-store-host. */
static X509_STORE *store_for(const char *cafile, const char *name)
{
    X509_STORE *st = X509_STORE_new();

    if (st == NULL || !X509_STORE_load_file(st, cafile) ||
        !X509_VERIFY_PARAM_set1_host(X509_STORE_get0_param(st), name, 0)) {
        X509_STORE_free(st);
        return NULL;
    }
    return st;
}

/* Puts name where `where` says; 0 on success. */
static int place_name(SSL_CTX *ctx, SSL *ssl, const char *cafile, const char *where,
                      const char *name)
{
    X509_VERIFY_PARAM *store_param = X509_STORE_get0_param(SSL_CTX_get_cert_store(ctx));

    if (strcmp(where, "store-host") == 0)
        return X509_VERIFY_PARAM_set1_host(store_param, name, 0) ? 0 : -1;
    if (strcmp(where, "store-ip") == 0)
        return X509_VERIFY_PARAM_set1_ip_asc(store_param, name) ? 0 : -1;
    if (strcmp(where, "ssl-host") == 0)
        return SSL_set1_host(ssl, name) ? 0 : -1;
    if (strcmp(where, "both-hosts") == 0) {
        const char *slash = strchr(name, '/');
        char ssl_name[256];
        if (slash == NULL || (size_t)(slash - name) >= sizeof(ssl_name))
            return -1;
        memcpy(ssl_name, name, (size_t)(slash - name));
        ssl_name[slash - name] = '\0';
        return SSL_set1_host(ssl, ssl_name) &&
               X509_VERIFY_PARAM_set1_host(store_param, slash + 1, 0) ? 0 : -1;
    }
    if (strcmp(where, "verify-store-host") == 0) {
        X509_STORE *st = store_for(cafile, name);
        int ok = st != NULL && SSL_set1_verify_cert_store(ssl, st);
        X509_STORE_free(st);
        return ok ? 0 : -1;
    }
    return -1;
}

static void print_errors(void)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        printf("err: %s\n", buf);
    }
}

static int talk(SSL *ssl)
{
    static const char request[] = "GET / HTTP/1.0\r\nX-Probe: identity-client\r\n\r\n";
    char buf[4096];
    int n;

    if (SSL_connect(ssl) != 1) {
        long v = SSL_get_verify_result(ssl);
        printf("handshake failed verify_result=%ld (%s)\n", v,
               X509_verify_cert_error_string(v));
        print_errors();
        return 1;
    }
    printf("handshake ok\n");
    SSL_write(ssl, request, (int)strlen(request));
    while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    SSL_CTX *ctx;
    SSL *ssl;
    int fd, rc;

    if (argc != 6) {
        fprintf(stderr, "usage: %s ADDR PORT CAFILE store-host|store-ip|verify-store-host|"
                        "ssl-host|both-hosts NAME\n", argv[0]);
        return 2;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || !SSL_CTX_load_verify_locations(ctx, argv[3], NULL))
        return 2;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ssl = SSL_new(ctx);
    fd = connect_to(argv[1], atoi(argv[2]));
    if (ssl == NULL || fd < 0 || !SSL_set_fd(ssl, fd) ||
        place_name(ctx, ssl, argv[3], argv[4], argv[5]) != 0) {
        fprintf(stderr, "setup failed\n");
        return 2;
    }
    rc = talk(ssl);
    fflush(stdout);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return rc;
}
