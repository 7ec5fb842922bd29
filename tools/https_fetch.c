/* https_fetch — see https_fetch.h. */
#include "https_fetch.h"
#include "http_head.h"
#include "safe_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "decide.h"

#define HEADER_MAX 16384

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct url {
    char host[256];
    char port[8];
    char path[2048];
};

static int url_parse(const char *u, struct url *out, char *err, size_t errlen)
{
    const char *h, *slash, *colon;
    size_t hl;

    if (strncmp(u, "https://", 8) != 0) {
        snprintf(err, errlen, "%.200s: only https:// URLs are fetched", u);
        return -1;
    }
    h = u + 8;
    slash = strchr(h, '/');
    if (slash == NULL)
        slash = h + strlen(h);
    if (memchr(h, '@', (size_t)(slash - h)) != NULL || strpbrk(u, " \r\n\t") != NULL) {
        snprintf(err, errlen, "%.200s: not a plain https URL", u);
        return -1;
    }
    if (h[0] == '[') {
        const char *rb = memchr(h, ']', (size_t)(slash - h));
        if (rb == NULL)
            goto bad;
        hl = (size_t)(rb - h - 1);
        if (hl == 0 || hl >= sizeof(out->host))
            goto bad;
        memcpy(out->host, h + 1, hl);
        out->host[hl] = '\0';
        colon = rb + 1 < slash && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(slash - h));
        hl = (size_t)((colon ? colon : slash) - h);
        if (hl == 0 || hl >= sizeof(out->host))
            goto bad;
        memcpy(out->host, h, hl);
        out->host[hl] = '\0';
    }
    if (colon != NULL) {
        size_t pl = (size_t)(slash - colon - 1);
        if (pl == 0 || pl >= sizeof(out->port) || strspn(colon + 1, "0123456789") < pl)
            goto bad;
        memcpy(out->port, colon + 1, pl);
        out->port[pl] = '\0';
    } else
        strcpy(out->port, "443");
    snprintf(out->path, sizeof(out->path), "%s", *slash ? slash : "/");
    return 0;
bad:
    snprintf(err, errlen, "%.200s: malformed URL", u);
    return -1;
}

/* Wait for fd to be ready for events until deadline; 0 ready, -1 timeout. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int r;
        if (left <= 0)
            return -1;
        r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int dial(const struct https_fetch_opts *o, const struct url *u, long long deadline,
                char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    const char *node = u->host;
    char addr[256];
    int fd = -1, r;
    long long cdl = now_ms() + o->connect_timeout_ms;

    if (cdl > deadline)
        cdl = deadline;
    for (size_t i = 0; i < o->n_resolve; i++) {
        /* host:port:addr */
        const char *rv = o->resolve[i];
        size_t hl = strlen(u->host), pl = strlen(u->port);
        if (strncmp(rv, u->host, hl) == 0 && rv[hl] == ':' && strncmp(rv + hl + 1, u->port, pl) == 0 &&
            rv[hl + 1 + pl] == ':') {
            snprintf(addr, sizeof(addr), "%s", rv + hl + pl + 2);
            node = addr;
            break;
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    r = getaddrinfo(node, u->port, &hints, &res);
    if (r != 0) {
        snprintf(err, errlen, "%s: %s", u->host, gai_strerror(r));
        return -1;
    }
    snprintf(err, errlen, "%s:%s: no address", u->host, u->port);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, cdl) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            break;
        if (errno == EINPROGRESS && soerr == 0)
            snprintf(err, errlen, "%s:%s: connect timed out", u->host, u->port);
        else
            snprintf(err, errlen, "%s:%s: connect: %s", u->host, u->port,
                     strerror(soerr ? soerr : errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* Drive an SSL call with poll until the deadline. */
#define SSL_RETRY(call, ssl, fd, deadline, out)                                        \
    do {                                                                               \
        for (;;) {                                                                     \
            int r_ = (call);                                                           \
            int e_ = r_ > 0 ? SSL_ERROR_NONE : SSL_get_error((ssl), r_);               \
            if (e_ == SSL_ERROR_WANT_READ || e_ == SSL_ERROR_WANT_WRITE) {             \
                if (wait_fd((fd), e_ == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,        \
                            (deadline)) != 0) {                                        \
                    (out) = -2;                                                        \
                    break;                                                             \
                }                                                                      \
                continue;                                                              \
            }                                                                          \
            (out) = e_ == SSL_ERROR_NONE ? r_ : (e_ == SSL_ERROR_ZERO_RETURN ? 0 : -1); \
            break;                                                                     \
        }                                                                              \
    } while (0)

static int pin_ok(SSL *ssl, const struct https_fetch_opts *o)
{
    STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
    int i;
    size_t k;

    if (o->n_pins == 0)
        return 1;
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        unsigned char pin[TLSPIN_PIN_LEN];
        if (chain_spki_pin(sk_X509_value(chain, i), pin) != 0)
            continue;
        for (k = 0; k < o->n_pins; k++)
            if (memcmp(pin, o->pins[k], TLSPIN_PIN_LEN) == 0)
                return 1;
    }
    return 0;
}

int https_fetch(const struct https_fetch_opts *o, char **body, size_t *len, char *err,
                size_t errlen)
{
    struct url u;
    long long deadline = now_ms() + o->total_timeout_ms;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char *buf = NULL, req[2600], why[256];
    size_t cap = HEADER_MAX + o->max_body, got = 0, hlen = 0;
    int fd = -1, rc = -1, n;
    struct http_head head = {.content_length = -1};

    if (url_parse(o->url, &u, err, errlen) != 0)
        return -1;
    decide_busy++; /* the shim, if preloaded into us, stays out of the way */
    fd = dial(o, &u, deadline, err, errlen);
    if (fd < 0)
        goto out;
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        snprintf(err, errlen, "OpenSSL: cannot make a TLS context");
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (o->cafile != NULL ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
                          : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "CA %s: %s", o->cafile ? o->cafile : "(system store)",
                 ssl_reason(why, sizeof(why)));
        goto out;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        snprintf(err, errlen, "OpenSSL: cannot make a connection");
        goto out;
    }
    {
        unsigned char tmp[16];
        int is_ip = inet_pton(AF_INET, u.host, tmp) == 1 || inet_pton(AF_INET6, u.host, tmp) == 1;
        if (is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host);
        else {
            SSL_set_tlsext_host_name(ssl, u.host);
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                       X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
            SSL_set1_host(ssl, u.host);
        }
    }
    SSL_RETRY(SSL_connect(ssl), ssl, fd, deadline, n);
    if (n != 1) {
        long vr = SSL_get_verify_result(ssl);
        if (n == -2)
            snprintf(err, errlen, "%s: TLS handshake timed out", u.host);
        else if (vr != X509_V_OK)
            snprintf(err, errlen, "%s: certificate verification failed: %s", u.host,
                     X509_verify_cert_error_string(vr));
        else
            snprintf(err, errlen, "%s: TLS handshake failed: %s", u.host,
                     ssl_reason(why, sizeof(why)));
        goto out;
    }
    if (!pin_ok(ssl, o)) {
        snprintf(err, errlen, "%s: no key of the server's verified chain matches the pinned "
                 "update-host keys", u.host);
        goto out;
    }
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: tlspin-update/"
             TLSPIN_VERSION "\r\nAccept: */*\r\nConnection: close\r\n\r\n", u.path, u.host,
             strcmp(u.port, "443") ? ":" : "", strcmp(u.port, "443") ? u.port : "");
    SSL_RETRY(SSL_write(ssl, req, (int)strlen(req)), ssl, fd, deadline, n);
    if (n != (int)strlen(req)) {
        snprintf(err, errlen, "%s: sending the request failed", u.host);
        goto out;
    }
    buf = malloc(cap + 2);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (;;) {
        if (got > cap || (hlen == 0 && got > HEADER_MAX)) {
            snprintf(err, errlen, hlen ? "%s: body larger than %zu bytes (stopped reading)"
                                       : "%s: response head larger than %zu bytes",
                     u.host, hlen ? o->max_body : (size_t)HEADER_MAX);
            goto out;
        }
        ERR_clear_error();
        errno = 0;
        SSL_RETRY(SSL_read(ssl, buf + got, (int)(cap + 1 - got)), ssl, fd, deadline, n);
        if (n == -2) {
            snprintf(err, errlen, "%s: timed out after %d ms with %zu bytes received", u.host,
                     o->total_timeout_ms, got);
            goto out;
        }
        if (n < 0) {
            /* an EOF without close_notify is judged below by Content-Length */
            if (!(ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING &&
                  hlen > 0 && head.content_length >= 0 &&
                  got - hlen == (size_t)head.content_length)) {
                snprintf(err, errlen, "%s: connection broken after %zu bytes: %s", u.host, got,
                         ssl_reason(why, sizeof(why)));
                goto out;
            }
            n = 0;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (hlen == 0 && (hlen = http_head_end(buf, got)) > 0) {
            if (http_head_parse(buf, hlen, &head) != 0) {
                snprintf(err, errlen, "%s: malformed HTTP response", u.host);
                goto out;
            }
            if (head.status >= 300 && head.status < 400) {
                /* The server's own text: escaped, it ends up in a terminal */
                char shown[4 * 200 + 1];
                snprintf(err, errlen, "%s: HTTP %d redirect to \"%s\" not followed (only "
                         "the configured https mirrors are used)", u.host, head.status,
                         safe_text(head.location, shown, sizeof(shown)));
                goto out;
            }
            if (head.status != 200) {
                snprintf(err, errlen, "%s: HTTP status %d", u.host, head.status);
                goto out;
            }
            if (head.transfer_coded) {
                snprintf(err, errlen, "%s: chunked transfer encoding is not supported (serve "
                         "the file as a static file)", u.host);
                goto out;
            }
            if (head.content_length > (long long)o->max_body) {
                snprintf(err, errlen, "%s: Content-Length %lld is larger than %zu bytes", u.host,
                         head.content_length, o->max_body);
                goto out;
            }
        }
        if (hlen > 0 && head.content_length >= 0 && got - hlen >= (size_t)head.content_length)
            break;
    }
    if (hlen == 0) {
        snprintf(err, errlen, "%s: connection closed before a complete HTTP response", u.host);
        goto out;
    }
    if (head.content_length >= 0 && got - hlen != (size_t)head.content_length) {
        snprintf(err, errlen, "%s: connection closed after %zu of %lld body bytes", u.host,
                 got - hlen, head.content_length);
        goto out;
    }
    if (got - hlen > o->max_body) {
        snprintf(err, errlen, "%s: body larger than %zu bytes", u.host, o->max_body);
        goto out;
    }
    *len = got - hlen;
    memmove(buf, buf + hlen, *len);
    buf[*len] = '\0';
    *body = buf;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (ssl != NULL)
        SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    decide_busy--;
    return rc;
}
