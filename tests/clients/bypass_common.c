/* bypass_common.c — helpers of the bypass test clients (bypass_common.h). */
#include "bypass_common.h"

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
#include <openssl/x509.h>

void bypass_report_errors(const char *prefix)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        printf("%s%s\n", prefix, buf);
    }
}

void bypass_report_peer_pin(SSL *ssl)
{
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    unsigned int mdlen = 0;
    int len;

    if (leaf == NULL) {
        printf("peer_pin=none\n");
        return;
    }
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
    if (len <= 0 || !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
        printf("peer_pin=error\n");
        ERR_clear_error();
    } else {
        EVP_EncodeBlock(b64, md, (int)mdlen);
        printf("peer_pin=sha256/%s\n", (const char *)b64);
    }
    OPENSSL_free(der);
}

int bypass_tcp_connect(const char *hostport)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in a;
    int fd;

    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
        return -1;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void on_alarm(int sig)
{
    static const char msg[] = "timeout\n";

    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to do */
    }
    _exit(3);
}

void bypass_alarm(unsigned seconds)
{
    signal(SIGALRM, on_alarm);
    alarm(seconds);
}
