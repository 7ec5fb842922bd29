/*
 * server_conn.c — serve one client of tls_server: handshake, read the
 * request (every application byte goes to --log), optionally renegotiate,
 * answer "ok", close. Failed handshakes are logged with the alerts seen, so
 * a test can tell what the client told the server.
 */
#include "server_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "net.h"

#define FIRST_BYTE_WAIT_MS 5000 /* a client that sends nothing */
#define IDLE_WAIT_MS 300        /* request without a blank line: it ended */
#define IO_TIMEOUT_S 5          /* no single blocking call waits longer */
#define DRAIN_WAIT_MS 500

static const char response[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

/* What the info callback saw on one connection. */
struct srv_state {
    int alert_received;        /* SSL_CB_ALERT value (level << 8 | desc), -1 none */
    int alert_sent;
};

void srv_info_callback(const SSL *ssl, int where, int ret)
{
    struct srv_state *st = SSL_get_app_data(ssl);

    if (!st || !(where & SSL_CB_ALERT))
        return;
    if (where & SSL_CB_READ)
        st->alert_received = ret;
    else
        st->alert_sent = ret;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (fd >= 0 && len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void event(const struct srv_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void event(const struct srv_config *cfg, const char *fmt, ...)
{
    va_list ap;

    if (cfg->events) {
        va_start(ap, fmt);
        vfprintf(cfg->events, fmt, ap);
        va_end(ap);
        fputc('\n', cfg->events);
        fflush(cfg->events);
    }
    if (cfg->verbose) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

static void describe_alert(char *out, size_t len, const char *dir, int alert)
{
    if (alert < 0)
        snprintf(out, len, "; alert %s: none", dir);
    else
        snprintf(out, len, "; alert %s: %s %s (%d)", dir, SSL_alert_type_string_long(alert),
                 SSL_alert_desc_string_long(alert), alert & 0xff);
}

/* "handshake failed: <reason>; alert received: ...; alert sent: ..." to the
 * log and the events. Empties the error queue. */
static void log_failure(const struct srv_config *cfg, SSL *ssl, int r, const struct srv_state *st,
                        const char *what)
{
    char line[1024], recv_txt[128], sent_txt[128];
    unsigned long e = ERR_peek_error();
    int serr = SSL_get_error(ssl, r), saved = errno;
    const char *reason;

    if (e)
        reason = ERR_reason_error_string(e);
    else if (serr == SSL_ERROR_SYSCALL)
        reason = saved ? strerror(saved) : "unexpected EOF";
    else
        reason = "no error queue entry";
    describe_alert(recv_txt, sizeof(recv_txt), "received", st->alert_received);
    describe_alert(sent_txt, sizeof(sent_txt), "sent", st->alert_sent);
    snprintf(line, sizeof(line), "handshake failed: %s%s (ssl_error=%d)%s%s\n", what,
             reason ? reason : "unknown", serr, recv_txt, sent_txt);
    write_all(cfg->log_fd, line, strlen(line));
    line[strlen(line) - 1] = '\0';
    event(cfg, "%s", line);
    ERR_clear_error();
}

/* Has the request ended? Keeps the last 3 bytes across reads. */
static int saw_blank_line(char tail[4], const unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memmove(tail, tail + 1, 3);
        tail[3] = (char)buf[i];
        if (memcmp(tail, "\r\n\r\n", 4) == 0)
            return 1;
    }
    return 0;
}

/* Read the request: until a blank line, EOF, or the client goes quiet.
 * Every byte is appended to the log as it arrives. Returns bytes read. */
static size_t read_request(const struct srv_config *cfg, SSL *ssl, int fd)
{
    unsigned char buf[16384];
    char tail[4] = { 0 };
    size_t total = 0;

    for (;;) {
        size_t n = 0;
        int64_t wait = total ? IDLE_WAIT_MS : FIRST_BYTE_WAIT_MS;

        if (!SSL_has_pending(ssl) && net_wait(fd, POLLIN, net_now_ms() + wait) != 1)
            break;
        if (!SSL_read_ex(ssl, buf, sizeof(buf), &n))
            break;
        write_all(cfg->log_fd, buf, n);
        total += n;
        if (saw_blank_line(tail, buf, n))
            break;
    }
    ERR_clear_error();
    return total;
}

/*
 * --reneg (TLS 1.2 only): send HelloRequest, then drive the client's new,
 * full (not resumed) handshake — presenting --reneg-cert if given — from
 * SSL_read with AUTO_RETRY off, so that SSL_read returns once
 * the handshake is done instead of waiting for application data the client
 * will not send. Returns 1 when the renegotiation completed.
 */
static int renegotiate(const struct srv_config *cfg, SSL *ssl, struct srv_state *st)
{
    unsigned char buf[4096];
    int r;

    if (SSL_version(ssl) >= TLS1_3_VERSION) {
        event(cfg, "reneg skipped: TLS 1.3 has no renegotiation");
        return 1;
    }
    st->alert_received = st->alert_sent = -1;
    /* A resumed renegotiation sends no certificate: make the client see
     * (and verify) one again. */
    SSL_set_options(ssl, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    if (cfg->reneg_cert &&
        (SSL_use_certificate_chain_file(ssl, cfg->reneg_cert) != 1 ||
         SSL_use_PrivateKey_file(ssl, cfg->reneg_key, SSL_FILETYPE_PEM) != 1)) {
        log_failure(cfg, ssl, 0, st, "renegotiation: --reneg-cert: ");
        return 0;
    }
    SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
    if (!SSL_renegotiate(ssl) || (r = SSL_do_handshake(ssl)) <= 0) {
        log_failure(cfg, ssl, 0, st, "renegotiation: ");
        return 0;
    }
    while (SSL_renegotiate_pending(ssl)) {
        r = SSL_read(ssl, buf, sizeof(buf));
        if (r > 0) {
            write_all(cfg->log_fd, buf, (size_t)r);
            continue;
        }
        if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) {
            log_failure(cfg, ssl, r, st, "renegotiation: ");
            return 0;
        }
    }
    SSL_set_mode(ssl, SSL_MODE_AUTO_RETRY);
    event(cfg, "reneg ok");
    return 1;
}

/* Close so that the client sees our close_notify and FIN, not a reset:
 * closing with unread bytes pending would send RST. */
static void close_gently(SSL *ssl, int fd)
{
    char buf[4096];

    SSL_shutdown(ssl);
    shutdown(fd, SHUT_WR);
    while (net_wait(fd, POLLIN, net_now_ms() + DRAIN_WAIT_MS) == 1 &&
           read(fd, buf, sizeof(buf)) > 0) {
        /* discard */
    }
}

void srv_serve(const struct srv_config *cfg, int fd)
{
    struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
    struct srv_state st = { .alert_received = -1, .alert_sent = -1 };
    SSL *ssl;
    const char *sni;
    size_t n;
    int r;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ERR_clear_error();
    ssl = SSL_new(cfg->ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        event(cfg, "setup failed: SSL_new");
        goto out;
    }
    SSL_set_app_data(ssl, &st);
    r = SSL_accept(ssl);
    if (r <= 0) {
        log_failure(cfg, ssl, r, &st, "");
        goto out;
    }
    sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    event(cfg, "handshake ok protocol=%s reused=%d sni=%s", SSL_get_version(ssl),
          SSL_session_reused(ssl), sni ? sni : "-");
    n = read_request(cfg, ssl, fd);
    event(cfg, "request bytes=%zu", n);
    if (cfg->reneg && !renegotiate(cfg, ssl, &st))
        goto out;
    if (!SSL_write_ex(ssl, response, sizeof(response) - 1, &n))
        event(cfg, "write failed");
    close_gently(ssl, fd);
out:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}
