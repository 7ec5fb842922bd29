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

/* Peer address and port of the SSL's socket, or (may_scan) of the process's
 * only peer. */
static void socket_peer(SSL *ssl, struct peer_id *id, char *addr, size_t addrlen, int may_scan)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int fd = SSL_get_fd(ssl);

    addr[0] = '\0';
    memset(&ss, 0, sizeof(ss));
    if (fd >= 0 ? getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0
                : may_scan && sole_tcp_peer(&ss))
        describe_peer(&ss, id, addr, addrlen);
}

/* The SNI the client sends. Before a TLS 1.2 resumption (and during one),
 * SSL_get_servername() answers with the name stored in the *session* when
 * the program set none, although no SNI is sent then: that pointer is the
 * session's own (SSL_SESSION_get0_hostname), and it is not the program's
 * name for this connection. */
static const char *sent_sni(SSL *ssl)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    SSL_SESSION *session = sni != NULL ? SSL_get_session(ssl) : NULL;

    if (session != NULL && sni == SSL_SESSION_get0_hostname(session))
        return NULL;
    return sni;
}

static int has_name(SSL *ssl, X509_VERIFY_PARAM *param)
{
    char *ip;
    int named = sent_sni(ssl) != NULL ||
                (param != NULL && X509_VERIFY_PARAM_get0_host(param, 0) != NULL);
    if (named || param == NULL)
        return named;
    ip = X509_VERIFY_PARAM_get1_ip_asc(param);
    named = ip != NULL;
    OPENSSL_free(ip);
    return named;
}

/* Adds a normalised name as a new identity unless it is already there. */
static void add_identity(struct peer_id *ids, size_t max, size_t *n, const struct peer_id *base,
                         const char *name, tlspin_host_source source)
{
    struct peer_id id = *base;
    char err[128];

    if (*n >= max || name == NULL || name[0] == '\0' ||
        tlspin_host_normalize(name, id.host, sizeof(id.host), err, sizeof(err)) != 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ids[i].host, id.host) == 0)
            return;
    id.source = source;
    ids[(*n)++] = id;
}

size_t peer_identities_scan(SSL *ssl, struct peer_id *ids, size_t max, int scan)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    struct peer_id base;
    char addr[INET6_ADDRSTRLEN];
    size_t n = 0;

    if (max == 0)
        return 0;
    memset(&base, 0, sizeof(base));
    /* Without a socket on the SSL, the scan for the process's only peer is
     * skipped when the caller can do without a port and a name is given. */
    socket_peer(ssl, &base, addr, sizeof(addr), scan || !has_name(ssl, param));
    add_identity(ids, max, &n, &base, sent_sni(ssl), TLSPIN_HOST_SNI);
    for (int i = 0; param != NULL && i < PEER_MAX_VERIFY_NAMES; i++) {
        const char *name = X509_VERIFY_PARAM_get0_host(param, i);
        if (name == NULL)
            break;
        add_identity(ids, max, &n, &base, name, TLSPIN_HOST_VERIFY_NAME);
    }
    if (param != NULL) {
        char *ip = X509_VERIFY_PARAM_get1_ip_asc(param);
        add_identity(ids, max, &n, &base, ip, TLSPIN_HOST_VERIFY_IP);
        OPENSSL_free(ip);
    }
    if (n == 0)   /* no name given: the address is all there is */
        add_identity(ids, max, &n, &base, addr, TLSPIN_HOST_PEER_ADDRESS);
    if (n == 0) {
        ids[0] = base;
        ids[0].source = TLSPIN_HOST_UNKNOWN;
        n = 1;
    }
    return n;
}

size_t peer_identities(SSL *ssl, struct peer_id *ids, size_t max)
{
    return peer_identities_scan(ssl, ids, max, 1);
}

void peer_identify(SSL *ssl, struct peer_id *id)
{
    struct peer_id ids[PEER_MAX_IDENTITIES];
    peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    *id = ids[0];
}
