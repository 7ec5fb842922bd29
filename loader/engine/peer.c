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

/* The TCP peers of the process, one entry per address. They are all tlspin
 * has when the SSL has no socket (curl's own BIO, python's memory BIOs): the
 * server is one of them, and which one cannot be told. */
struct tcp_peers {
    struct {
        char addr[INET6_ADDRSTRLEN];
        unsigned port;           /* 0: several ports of this address */
    } peer[PEER_MAX_CANDIDATES];
    size_t n;
    int complete;                /* every descriptor was looked at, and no
                                    address was left out for want of room */
};

static void add_tcp_peer(struct tcp_peers *tp, const struct sockaddr_storage *ss)
{
    struct peer_id id;
    char addr[INET6_ADDRSTRLEN];

    memset(&id, 0, sizeof(id));
    addr[0] = '\0';
    describe_peer(ss, &id, addr, sizeof(addr));
    for (size_t i = 0; i < tp->n; i++) {
        if (strcmp(tp->peer[i].addr, addr) != 0)
            continue;
        if (tp->peer[i].port != id.port)
            tp->peer[i].port = 0;
        return;
    }
    if (tp->n == PEER_MAX_CANDIDATES) {
        tp->complete = 0;   /* deciding under some of them would be a guess */
        return;
    }
    memcpy(tp->peer[tp->n].addr, addr, sizeof(addr));
    tp->peer[tp->n++].port = id.port;
}

/* The calling thread's descriptor table: a thread that unshared it
 * (CLONE_FILES) does not use the process's. */
static int open_fd_dir(void)
{
    int dir = open("/proc/thread-self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    return dir >= 0 ? dir : open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Every connected TCP socket of the process, by peer address. Without /proc,
 * after a read error, past PEER_SCAN_MAX_FDS descriptors or
 * PEER_MAX_CANDIDATES addresses, the list is incomplete: a server missing
 * from it could be any address, so none of it may speak for the server. */
static void list_tcp_peers(struct tcp_peers *tp)
{
    /* The directory buffer on the heap: 4 KB is what the whole decision may
     * take from the program's stack. Without it the list is incomplete. */
    enum { DIRBUF = 4096 };
    char *buf;
    int dir;
    size_t scanned = 0;
    long n = 0;

    tp->n = 0;
    tp->complete = 0;
    if ((buf = malloc(DIRBUF)) == NULL)
        return;
    dir = open_fd_dir();
    tp->complete = dir >= 0;
    if (dir < 0) {
        free(buf);
        return;
    }
    while (tp->complete && (n = syscall(SYS_getdents64, dir, buf, DIRBUF)) > 0) {
        for (long off = 0; off < n && tp->complete;) {
            const struct linux_dirent64 { unsigned long long ino; long long off;
                                          unsigned short reclen; unsigned char type;
                                          char name[]; } *d = (const void *)(buf + off);
            struct sockaddr_storage ss;
            char *end;
            long fd = strtol(d->name, &end, 10);
            off += d->reclen;
            if (*end != '\0' || end == d->name || fd == dir)
                continue;
            if (++scanned > PEER_SCAN_MAX_FDS)
                tp->complete = 0;
            else if (tcp_peer((int)fd, &ss))
                add_tcp_peer(tp, &ss);
        }
    }
    if (n < 0)
        tp->complete = 0;
    close(dir);
    free(buf);
}

/* Port and "addr:port" / "[v6]:port" of peer i of tp, when it has one port. */
static void set_tcp_peer(const struct tcp_peers *tp, size_t i, struct peer_id *id)
{
    id->port = tp->peer[i].port;
    if (id->port != 0)
        snprintf(id->peer, sizeof(id->peer), strchr(tp->peer[i].addr, ':') ? "[%s]:%u" : "%s:%u",
                 tp->peer[i].addr, id->port);
}

/* The port and peer of the process's only TCP peer address, for a program
 * that names the server but gives the SSL no socket; with several addresses,
 * or several ports of one, the port stays unknown. */
static void sole_tcp_peer(const struct tcp_peers *tp, struct peer_id *base)
{
    if (tp->complete && tp->n == 1)
        set_tcp_peer(tp, 0, base);
}

/* Peer address and port of the SSL's socket; 0 when it has none. */
static int socket_peer(SSL *ssl, struct peer_id *id, char *addr, size_t addrlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int fd = SSL_get_fd(ssl);

    addr[0] = '\0';
    if (fd < 0)
        return 0;
    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0)
        describe_peer(&ss, id, addr, addrlen);
    return 1;
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

/* Whose names OpenSSL verifies. The SSL's own parameters win; the
 * verification store's (SSL_set1_verify_cert_store, else the SSL_CTX's
 * certificate store) apply where the SSL's set none: X509_STORE_CTX_init
 * inherits the store's parameters, and ssl_verify_cert_chain then copies
 * over them only what the SSL's set, host list and IP address each on its
 * own. A name a program puts there is checked by OpenSSL, so it is a name
 * the program gives the server. */
struct verify_names {
    X509_VERIFY_PARAM *hosts;    /* whose host list is checked, or NULL */
    X509_VERIFY_PARAM *ip;       /* whose IP address is checked, or NULL */
};

static X509_VERIFY_PARAM *store_param(SSL *ssl)
{
    X509_STORE *st = NULL;
    SSL_CTX *ctx;

    SSL_get0_verify_cert_store(ssl, &st);
    if (st == NULL && (ctx = SSL_get_SSL_CTX(ssl)) != NULL)
        st = SSL_CTX_get_cert_store(ctx);
    return st != NULL ? X509_STORE_get0_param(st) : NULL;
}

static int has_ip(X509_VERIFY_PARAM *param)
{
    char *ip = param != NULL ? X509_VERIFY_PARAM_get1_ip_asc(param) : NULL;
    int has = ip != NULL;

    OPENSSL_free(ip);
    return has;
}

static void verify_names_of(SSL *ssl, struct verify_names *vn)
{
    X509_VERIFY_PARAM *own = SSL_get0_param(ssl);
    int own_hosts = own != NULL && X509_VERIFY_PARAM_get0_host(own, 0) != NULL;
    int own_ip = has_ip(own);
    X509_VERIFY_PARAM *store = own_hosts && own_ip ? NULL : store_param(ssl);

    vn->hosts = own_hosts ? own : store;
    vn->ip = own_ip ? own : store;
}

static int has_name(SSL *ssl, const struct verify_names *vn)
{
    return sent_sni(ssl) != NULL ||
           (vn->hosts != NULL && X509_VERIFY_PARAM_get0_host(vn->hosts, 0) != NULL) ||
           has_ip(vn->ip);
}

/* Adds a normalised name as a new identity unless it is already there. */
static void add_identity(struct peer_id *ids, size_t max, size_t *n, const struct peer_id *base,
                         const char *name, tlspin_host_source source)
{
    /* Built in the next free slot, counted only when kept: no copy of an
     * identity on the program's stack (issue 13, point 5). */
    struct peer_id *id;
    char err[128];

    if (*n >= max || name == NULL || name[0] == '\0')
        return;
    id = &ids[*n];
    *id = *base;
    if (tlspin_host_normalize(name, id->host, sizeof(id->host), err, sizeof(err)) != 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ids[i].host, id->host) == 0)
            return;
    id->source = source;
    (*n)++;
}

/* No name and no socket: the server is one of the process's TCP peer
 * addresses, and the connection is decided under every one of them (all
 * must pass). A false refusal (an unpinned server while a pinned address is
 * open elsewhere in the process) is the price; the alternative, picking one,
 * lets a second connection choose the policy. When the list is incomplete
 * or longer than max, or empty, nothing is added: the server is unknown. */
static void add_candidates(struct peer_id *ids, size_t max, size_t *n,
                           const struct tcp_peers *tp)
{
    size_t before = *n;

    if (!tp->complete || tp->n > max - before)
        return;
    for (size_t i = 0; i < tp->n; i++) {
        struct peer_id id;
        memset(&id, 0, sizeof(id));
        set_tcp_peer(tp, i, &id);
        id.candidates = (unsigned)tp->n;
        add_identity(ids, max, n, &id, tp->peer[i].addr, TLSPIN_HOST_PEER_ADDRESS);
    }
    if (*n - before != tp->n)
        *n = before;   /* one could not be added: all or none */
}

size_t peer_identities_scan(SSL *ssl, struct peer_id *ids, size_t max, int scan)
{
    struct verify_names vn;
    struct peer_id base;
    struct tcp_peers *tp = NULL;   /* on the heap, and only when listed */
    char addr[INET6_ADDRSTRLEN];
    size_t n = 0;
    int has_socket;

    if (max == 0)
        return 0;
    memset(&base, 0, sizeof(base));
    verify_names_of(ssl, &vn);
    has_socket = socket_peer(ssl, &base, addr, sizeof(addr));
    /* Without a socket on the SSL, the process's peers are listed unless
     * the caller can do without a port and a name is given. */
    /* Without memory for the list, no candidate: as when none is found. */
    if (!has_socket && (scan || !has_name(ssl, &vn)) &&
        (tp = calloc(1, sizeof(*tp))) != NULL) {
        list_tcp_peers(tp);
        sole_tcp_peer(tp, &base);
    }
    add_identity(ids, max, &n, &base, sent_sni(ssl), TLSPIN_HOST_SNI);
    for (int i = 0; vn.hosts != NULL && i < PEER_MAX_VERIFY_NAMES; i++) {
        const char *name = X509_VERIFY_PARAM_get0_host(vn.hosts, i);
        if (name == NULL)
            break;
        add_identity(ids, max, &n, &base, name, TLSPIN_HOST_VERIFY_NAME);
    }
    if (vn.ip != NULL) {
        char *ip = X509_VERIFY_PARAM_get1_ip_asc(vn.ip);
        add_identity(ids, max, &n, &base, ip, TLSPIN_HOST_VERIFY_IP);
        OPENSSL_free(ip);
    }
    /* No name given: the address is all there is. */
    if (n == 0 && has_socket)
        add_identity(ids, max, &n, &base, addr, TLSPIN_HOST_PEER_ADDRESS);
    else if (n == 0 && tp != NULL)
        add_candidates(ids, max, &n, tp);
    free(tp);
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
    /* All identities are listed (with several TCP peers the first one
     * depends on the others), on the heap: 2 KB would be half of what a
     * decision may take from the program's stack. Without memory the
     * server is unknown, as when nothing names it. */
    struct peer_id *ids = calloc(PEER_MAX_IDENTITIES, sizeof(*ids));

    if (ids == NULL) {
        memset(id, 0, sizeof(*id));
        id->source = TLSPIN_HOST_UNKNOWN;
        return;
    }
    peer_identities(ssl, ids, PEER_MAX_IDENTITIES);
    *id = ids[0];
    free(ids);
}
