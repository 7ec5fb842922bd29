/* Identifying the server. The name comes first because it is what the
 * program asked for; the address only speaks for programs that gave none. */
#include "peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/x509v3.h>

static int take_name(struct peer_id *id, const char *name, tlspin_host_source source)
{
    char err[128];
    if (name == NULL || name[0] == '\0' || id->source != TLSPIN_HOST_UNKNOWN)
        return 0;
    if (tlspin_host_normalize(name, id->host, sizeof(id->host), err, sizeof(err)) != 0) {
        id->host[0] = '\0';
        return 0;
    }
    id->source = source;
    return 1;
}

static void describe_peer(const struct sockaddr_storage *ss, struct peer_id *id, char *addr,
                          size_t addrlen)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, addr, (socklen_t)addrlen);
        id->port = ntohs(in->sin_port);
        snprintf(id->peer, sizeof(id->peer), "%s:%u", addr, id->port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        id->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], addr, (socklen_t)addrlen);
            snprintf(id->peer, sizeof(id->peer), "%s:%u", addr, id->port);
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, addr, (socklen_t)addrlen);
            snprintf(id->peer, sizeof(id->peer), "[%s]:%u", addr, id->port);
        }
    }
}

static int tcp_peer(int fd, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);
    int type = 0;
    socklen_t tlen = sizeof(type);

    memset(ss, 0, sizeof(*ss));
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM &&
           getpeername(fd, (struct sockaddr *)ss, &len) == 0 &&
           (ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

/* Programs with their own BIO (curl) give the SSL no socket. If every
 * connected TCP socket of the process has the same peer, that is the server;
 * with several different peers nothing is guessed. */
static int sole_tcp_peer(struct sockaddr_storage *out)
{
    char buf[4096];
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int found = 0, scanned = 0;
    long n;

    if (dir < 0)
        return 0;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0 && found >= 0) {
        for (long off = 0; off < n && found >= 0;) {
            const struct linux_dirent64 { unsigned long long ino; long long off;
                                          unsigned short reclen; unsigned char type;
                                          char name[]; } *d = (const void *)(buf + off);
            struct sockaddr_storage ss;
            char *end;
            long fd = strtol(d->name, &end, 10);
            off += d->reclen;
            if (*end != '\0' || end == d->name || fd == dir || ++scanned > 4096 ||
                !tcp_peer((int)fd, &ss))
                continue;
            if (!found) {
                *out = ss;
                found = 1;
            } else if (memcmp(&ss, out, sizeof(ss)) != 0) {
                found = -1;   /* two different peers: ambiguous */
            }
        }
    }
    close(dir);
    return found == 1;
}

/* Peer address and port of the SSL's socket, or of the process's only peer. */
static void socket_peer(SSL *ssl, struct peer_id *id, char *addr, size_t addrlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int fd = SSL_get_fd(ssl);

    addr[0] = '\0';
    memset(&ss, 0, sizeof(ss));
    if (fd >= 0 ? getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0 : sole_tcp_peer(&ss))
        describe_peer(&ss, id, addr, addrlen);
}

void peer_identify(SSL *ssl, struct peer_id *id)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    char addr[INET6_ADDRSTRLEN];

    memset(id, 0, sizeof(*id));
    socket_peer(ssl, id, addr, sizeof(addr));
    if (take_name(id, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), TLSPIN_HOST_SNI))
        return;
    if (param && take_name(id, X509_VERIFY_PARAM_get0_host(param, 0), TLSPIN_HOST_VERIFY_NAME))
        return;
    if (param) {
        char *ip = X509_VERIFY_PARAM_get1_ip_asc(param);
        int taken = take_name(id, ip, TLSPIN_HOST_VERIFY_IP);
        OPENSSL_free(ip);
        if (taken)
            return;
    }
    take_name(id, addr, TLSPIN_HOST_PEER_ADDRESS);
}
