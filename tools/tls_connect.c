/* The command's own TLS connections (see tls_connect.h). */
#include "tls_connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "hostname.h"

static int parse_port(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int tls_target_parse(const char *text, unsigned default_port, struct tls_target *out,
                     char *err, size_t errlen)
{
    char buf[512];
    char *host = buf, *port = NULL, *p;

    memset(out, 0, sizeof(*out));
    out->port = default_port;
    if (strncmp(text, "https://", 8) == 0)
        text += 8;
    if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "host name too long");
        return -1;
    }
    if ((p = strchr(buf, '/')) != NULL)
        *p = '\0';   /* a URL's path */
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            snprintf(err, errlen, "\"%s\": write an IPv6 address as [ADDR] or [ADDR]:PORT", text);
            return -1;
        }
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            port = close + 2;
    } else if ((p = strchr(buf, ':')) != NULL && strchr(p + 1, ':') == NULL) {
        *p = '\0';
        port = p + 1;
    }   /* else: no colon, or a bare IPv6 literal (several colons, no port) */
    if (host[0] == '\0') {
        snprintf(err, errlen, "\"%s\": no host", text);
        return -1;
    }
    if (port != NULL && parse_port(port, &out->port) != 0) {
        snprintf(err, errlen, "\"%s\": the port must be a number from 1 to 65535", text);
        return -1;
    }
    for (p = host; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "\"%s\": spaces or control characters in the host", text);
            return -1;
        }
    if (strlen(host) >= sizeof(out->host)) {
        snprintf(err, errlen, "host name too long");
        return -1;
    }
    memcpy(out->host, host, strlen(host) + 1);
    return 0;
}

void tls_target_text(const char *host, unsigned port, char *out, size_t outlen)
{
    if (strchr(host, ':') != NULL)
        snprintf(out, outlen, "[%s]:%u", host, port);
    else
        snprintf(out, outlen, "%s:%u", host, port);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sockaddr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
        port = ntohs(in6->sin6_port);
    }
    tls_target_text(addr, port, out, outlen);
}

/* One address, non-blocking connect bounded by the deadline. */
static int connect_one(const struct addrinfo *ai, long deadline, char *why, size_t whylen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(why, whylen, "%s", strerror(errno));
            close(fd);
            return -1;
        }
        struct pollfd pfd = { fd, POLLOUT, 0 };
        long left = deadline - now_ms();
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n <= 0) {
            snprintf(why, whylen, n == 0 ? "timed out" : "%s", strerror(errno));
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            snprintf(why, whylen, "%s", strerror(soerr ? soerr : errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int dial(const struct tls_session_opts *o, struct tls_session_result *r, long deadline)
{
    struct addrinfo hints, *res = NULL;
    char port[16], why[200] = "no address", where[sizeof(r->peer)] = "";
    int fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(port, sizeof(port), "%u", o->port);
    r->stage = TLS_STAGE_RESOLVE;
    if ((rc = getaddrinfo(o->dial, port, &hints, &res)) != 0) {
        snprintf(r->error, sizeof(r->error), "cannot resolve %s: %s", o->dial,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    r->stage = TLS_STAGE_CONNECT;
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        sockaddr_text(ai->ai_addr, where, sizeof(where));
        fd = connect_one(ai, deadline, why, sizeof(why));
        if (fd >= 0)
            memcpy(r->peer, where, sizeof(r->peer));
        if (now_ms() >= deadline)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        char target[300];
        tls_target_text(o->dial, o->port, target, sizeof(target));
        if (strcmp(target, where) == 0 || where[0] == '\0')
            snprintf(r->error, sizeof(r->error), "cannot connect to %.280s: %.200s", target, why);
        else
            snprintf(r->error, sizeof(r->error), "cannot connect to %.200s (%.80s): %.200s",
                     target, where, why);
    }
    return fd;
}

struct verify_ctx {
    const struct tls_session_opts *o;
    struct tls_session_result *r;
};

static int verify_cb(X509_STORE_CTX *ctx, void *arg)
{
    struct verify_ctx *v = arg;
    int idx = SSL_get_ex_data_X509_STORE_CTX_idx();
    SSL *ssl = idx >= 0 ? X509_STORE_CTX_get_ex_data(ctx, idx) : NULL;
    int ok = X509_verify_cert(ctx) > 0 && X509_STORE_CTX_get_error(ctx) == X509_V_OK;

    v->r->verify_called = 1;
    v->r->verify_ok = ok;
    if (!ok) {
        int e = X509_STORE_CTX_get_error(ctx);
        snprintf(v->r->verify_error, sizeof(v->r->verify_error), "%s (depth %d)",
                 X509_verify_cert_error_string(e ? e : X509_V_ERR_UNSPECIFIED),
                 X509_STORE_CTX_get_error_depth(ctx));
    }
    if (v->o->verified != NULL && ssl != NULL) {
        ERR_set_mark();
        v->o->verified(v->o->arg, ssl, ctx, ok);
        ERR_pop_to_mark();
    }
    /* Go on whatever the verdict: the command reports, it does not refuse. */
    return 1;
}

static void ssl_error_text(SSL *ssl, int rc, char *out, size_t outlen)
{
    int e = SSL_get_error(ssl, rc);
    unsigned long code = ERR_peek_last_error();

    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof(buf));
        snprintf(out, outlen, "%s", buf);
    } else if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        snprintf(out, outlen, "timed out");
    } else if (e == SSL_ERROR_SYSCALL && errno != 0) {
        snprintf(out, outlen, "%s", strerror(errno));
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        snprintf(out, outlen, "the server closed the connection");
    } else {
        snprintf(out, outlen, "SSL error %d", e);
    }
}

static int setup_name(SSL *ssl, const char *name, char *err, size_t errlen)
{
    char norm[TLSPIN_HOST_MAX], why[128];

    if (name == NULL || name[0] == '\0')
        return 0;
    if (tlspin_host_normalize(name, norm, sizeof(norm), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "bad server name \"%s\": %s", name, why);
        return -1;
    }
    if (tlspin_host_is_ip(norm)) {
        /* RFC 6066: no IP literal in SNI; the address is what is verified. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), norm) != 1) {
            snprintf(err, errlen, "bad IP address \"%s\"", name);
            return -1;
        }
        return 0;
    }
    if (SSL_set_tlsext_host_name(ssl, norm) != 1 || SSL_set1_host(ssl, norm) != 1) {
        snprintf(err, errlen, "cannot use the server name \"%s\"", name);
        return -1;
    }
    return 0;
}

int tls_session_run(const struct tls_session_opts *o, struct tls_session_result *r)
{
    long deadline = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 10000);
    struct verify_ctx v = { o, r };
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int fd = -1, rc = -1;

    memset(r, 0, sizeof(*r));
    /* A server that hangs up must not kill the command with SIGPIPE when
     * OpenSSL writes (an alert, close_notify): the write fails instead. */
    signal(SIGPIPE, SIG_IGN);
    decide_busy++;
    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        snprintf(r->error, sizeof(r->error), "cannot set up TLS (out of memory?)");
        goto out;
    }
    if (o->cafile != NULL ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
                          : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(r->error, sizeof(r->error), o->cafile ? "cannot read the CA file %s"
                 : "cannot load the system trust store%s", o->cafile ? o->cafile : "");
        goto out;
    }
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, &v);
    if ((ssl = SSL_new(ctx)) == NULL) {
        snprintf(r->error, sizeof(r->error), "cannot set up TLS (out of memory?)");
        goto out;
    }
    if (setup_name(ssl, o->name, r->error, sizeof(r->error)) != 0)
        goto out;
    if ((fd = dial(o, r, deadline)) < 0)
        goto out;
    r->stage = TLS_STAGE_HANDSHAKE;
    {
        long left = deadline - now_ms();
        struct timeval tv = { left > 0 ? left / 1000 : 0, left > 0 ? (left % 1000) * 1000 : 1000 };
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
            SSL_set_fd(ssl, fd) != 1) {
            snprintf(r->error, sizeof(r->error), "cannot set up the socket: %s", strerror(errno));
            goto out;
        }
    }
    if (o->before != NULL)
        o->before(o->arg, ssl);
    errno = 0;
    int hs = SSL_connect(ssl);
    if (hs != 1) {
        char why[300];
        ssl_error_text(ssl, hs, why, sizeof(why));
        snprintf(r->error, sizeof(r->error), "TLS handshake with %s failed: %s", r->peer, why);
        goto out;
    }
    r->stage = TLS_STAGE_DONE;
    if (o->handshaken != NULL)
        o->handshaken(o->arg, ssl);
    snprintf(r->protocol, sizeof(r->protocol), "%s", SSL_get_version(ssl));
    snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(ssl));
    SSL_shutdown(ssl);   /* close_notify, without waiting for the server's */
    rc = 0;
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    decide_busy--;
    return rc;
}

static void keep(X509 *const *from, const struct tlspin_cert *certs, size_t n, X509 **to,
                 unsigned char (*pins)[TLSPIN_PIN_LEN], size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < n && i < CHAIN_MAX; i++) {
        if (X509_up_ref(from[i]) != 1)
            break;
        to[i] = from[i];
        memcpy(pins[i], certs[i].spki_sha256, TLSPIN_PIN_LEN);
        *count = i + 1;
    }
}

void kept_chain_take(struct kept_chain *out, const struct chain *c)
{
    kept_chain_free(out);
    keep(c->verified_x509, c->verified, c->n_verified, out->verified, out->verified_pin,
         &out->n_verified);
    keep(c->presented_x509, c->presented, c->n_presented, out->presented, out->presented_pin,
         &out->n_presented);
    out->trust = c->trust;
}

void kept_chain_free(struct kept_chain *kc)
{
    for (size_t i = 0; i < kc->n_verified; i++)
        X509_free(kc->verified[i]);
    for (size_t i = 0; i < kc->n_presented; i++)
        X509_free(kc->presented[i]);
    memset(kc, 0, sizeof(*kc));
}

int kept_chain_presented(const struct kept_chain *kc, X509 *cert)
{
    for (size_t i = 0; i < kc->n_presented; i++)
        if (X509_cmp(kc->presented[i], cert) == 0)
            return 1;
    return 0;
}

const char *kept_chain_position(const struct kept_chain *kc, size_t i)
{
    X509 *x = kc->verified[i];
    if (i == 0)
        return "leaf";
    return i + 1 == kc->n_verified && X509_check_issued(x, x) == X509_V_OK ? "root"
                                                                            : "intermediate";
}
