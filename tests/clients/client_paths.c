/*
 * client_paths.c — every API call through which a client handshake can
 * happen (see docs of --path), and the application I/O after it.
 *
 * The read paths (implicit_read, implicit_peek, read_ex, peek_ex) leave the
 * socket non-blocking during the first read even without --nonblock: the
 * servers speak only after our request, so a blocking first read would wait
 * forever once the handshake is done. The read returns WANT_READ with
 * SSL_is_init_finished() true, which is how such a program learns that the
 * handshake it caused has completed.
 */
#include "client_paths.h"

#include <poll.h>
#include <string.h>

#include "net.h"

/* No wait inside one call may outlast the whole run's alarm anyway. */
#define FAR_FUTURE_MS (3600 * 1000)

static int is_read_path(enum tlsc_path p)
{
    return p == TLSC_PATH_IMPLICIT_READ || p == TLSC_PATH_IMPLICIT_PEEK ||
           p == TLSC_PATH_READ_EX || p == TLSC_PATH_PEEK_EX;
}

/* One call of the path's function; >0 means done. */
static int attempt(struct tlsc_conn *c, const struct tlsc_options *o)
{
    unsigned char buf[4096];
    size_t n = 0;
    int r;

    switch (o->path) {
    case TLSC_PATH_CONNECT:
        return SSL_connect(c->ssl);
    case TLSC_PATH_DO_HANDSHAKE:
        return SSL_do_handshake(c->ssl);
    case TLSC_PATH_IMPLICIT_WRITE:
        r = SSL_write(c->ssl, o->send, (int)o->send_len);
        if (r > 0)
            c->sent += (size_t)r;
        return r;
    case TLSC_PATH_WRITE_EX:
        r = SSL_write_ex(c->ssl, o->send, o->send_len, &n);
        if (r > 0)
            c->sent += n;
        return r;
    case TLSC_PATH_IMPLICIT_READ:
        r = SSL_read(c->ssl, buf, sizeof(buf));
        if (r > 0)
            c->received += (size_t)r;
        return r;
    case TLSC_PATH_READ_EX:
        r = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
        if (r > 0)
            c->received += n;
        return r;
    case TLSC_PATH_IMPLICIT_PEEK:
        /* Peeked bytes stay buffered and are counted when read. */
        return SSL_peek(c->ssl, buf, sizeof(buf));
    case TLSC_PATH_PEEK_EX:
        return SSL_peek_ex(c->ssl, buf, sizeof(buf), &n);
    case TLSC_PATH_BIO:
        return (int)BIO_do_handshake(c->bio);
    }
    return -1;
}

/* Wait for the socket; an fd not yet known (the connect BIO before its
 * socket exists) just yields briefly. */
static void wait_io(int fd, short events)
{
    if (fd < 0)
        poll(NULL, 0, 1);
    else
        net_wait(fd, events, net_now_ms() + FAR_FUTURE_MS);
}

/* The bio path reports retries through the BIO, not SSL_get_error. */
static int bio_retry(struct tlsc_conn *c, int r)
{
    short events;

    if (!BIO_should_retry(c->bio)) {
        c->ssl_error = SSL_get_error(c->ssl, r);
        return 0;
    }
    if (BIO_should_read(c->bio)) {
        c->want_read++;
        events = POLLIN;
    } else {
        /* write, or the non-blocking connect still in progress */
        c->want_write++;
        events = POLLOUT;
    }
    wait_io((int)BIO_get_fd(c->bio, NULL), events);
    return 1;
}

int tlsc_handshake(struct tlsc_conn *c, const struct tlsc_options *o)
{
    int read_path = is_read_path(o->path), ok = 0;

    if (o->path != TLSC_PATH_CONNECT && o->path != TLSC_PATH_BIO)
        SSL_set_connect_state(c->ssl);
    if (read_path && !o->nonblock)
        net_set_nonblock(c->fd, 1);
    for (;;) {
        int r = attempt(c, o), e;

        if (r > 0) {
            ok = 1;
            break;
        }
        if (o->path == TLSC_PATH_BIO) {
            if (!bio_retry(c, r))
                break;
            continue;
        }
        e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            if (read_path && SSL_is_init_finished(c->ssl)) {
                ok = 1;
                break;
            }
            c->want_read++;
            wait_io(c->fd, POLLIN);
        } else if (e == SSL_ERROR_WANT_WRITE) {
            c->want_write++;
            wait_io(c->fd, POLLOUT);
        } else {
            c->ssl_error = e;
            break;
        }
    }
    if (read_path && !o->nonblock)
        net_set_nonblock(c->fd, 0);
    return ok;
}

int tlsc_send_all(struct tlsc_conn *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        size_t n = 0;
        int e;

        if (SSL_write_ex(c->ssl, p, len, &n)) {
            c->sent += n;
            p += n;
            len -= n;
            continue;
        }
        e = SSL_get_error(c->ssl, 0);
        if (e == SSL_ERROR_WANT_WRITE) {
            c->want_write++;
            wait_io(SSL_get_fd(c->ssl), POLLOUT);
        } else if (e == SSL_ERROR_WANT_READ) {
            c->want_read++;
            wait_io(SSL_get_fd(c->ssl), POLLIN);
        } else {
            c->ssl_error = e;
            return 0;
        }
    }
    return 1;
}

const char *tlsc_receive(struct tlsc_conn *c, int wait_ms)
{
    int64_t deadline = net_now_ms() + wait_ms;
    int fd = SSL_get_fd(c->ssl);
    unsigned char buf[16384];

    for (;;) {
        size_t n = 0;
        int e;

        /* Bound the wait by the clock, not by the peer. */
        if (!SSL_has_pending(c->ssl) && net_wait(fd, POLLIN, deadline) == 0)
            return "timeout";
        if (SSL_read_ex(c->ssl, buf, sizeof(buf), &n)) {
            c->received += n;
            continue;
        }
        e = SSL_get_error(c->ssl, 0);
        switch (e) {
        case SSL_ERROR_WANT_READ:
            c->want_read++;
            continue;
        case SSL_ERROR_WANT_WRITE:
            c->want_write++;
            if (net_wait(fd, POLLOUT, deadline) == 0)
                return "timeout";
            continue;
        case SSL_ERROR_ZERO_RETURN:
            return "eof";
        case SSL_ERROR_SYSCALL:
            if (ERR_peek_error() == 0)
                return "eof"; /* TCP EOF without close_notify */
            /* fall through */
        default:
            c->ssl_error = e;
            return "error";
        }
    }
}
