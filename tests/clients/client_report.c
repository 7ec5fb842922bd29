/* client_report.c — the output lines the integration tests parse. */
#include "client_report.h"

#include <stdio.h>

void tlsc_report_errors(const char *prefix)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        printf("%s%s\n", prefix, buf);
    }
}

static void print_verify_result(const char *prefix, SSL *ssl)
{
    long v = SSL_get_verify_result(ssl);

    printf("%sverify_result=%ld (%s)\n", prefix, v, X509_verify_cert_error_string(v));
}

void tlsc_report_failure(SSL *ssl, int ssl_error)
{
    printf("handshake failed ssl_error=%d ", ssl_error);
    print_verify_result("", ssl);
    tlsc_report_errors("err: ");
}

/* The pin of the leaf the program saw: lets a test tell which server (or
 * which resumed session) it talked to. */
void tlsc_report_peer_pin(const char *key, SSL *ssl)
{
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    unsigned char der[8192], *p = der, md[EVP_MAX_MD_SIZE];
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    unsigned int mdlen = 0;
    int len;

    if (!leaf) {
        printf("%s=none\n", key);
        return;
    }
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), NULL);
    if (len <= 0 || (size_t)len > sizeof(der) ||
        i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &p) != len ||
        !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
        printf("%s=error\n", key);
        ERR_clear_error();
        return;
    }
    EVP_EncodeBlock(b64, md, (int)mdlen);
    printf("%s=sha256/%s\n", key, (const char *)b64);
}

void tlsc_report_success(SSL *ssl)
{
    printf("handshake ok\n");
    print_verify_result("", ssl);
    printf("protocol=%s\n", SSL_get_version(ssl));
    tlsc_report_peer_pin("peer_pin", ssl);
    printf("reused=%d\n", SSL_session_reused(ssl));
}
