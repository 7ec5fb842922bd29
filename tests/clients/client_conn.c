/* client_conn.c — one client connection from socket to report. */
#include "client_conn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client_paths.h"
#include "client_report.h"
#include "net.h"

/* How long to wait for the reply after sending (the brief's "2 s"). */
#define REPLY_WAIT_MS 2000

/* Tracks handshakes after the first one: TLS 1.2 renegotiation happens
 * inside SSL_read, where no handshake call of ours can see it fail. */
static void info_cb(const SSL *ssl, int where, int ret)
{
    struct tlsc_conn *c = SSL_get_app_data(ssl);

    (void)ret;
    if (!c)
        return;
    if (where & SSL_CB_HANDSHAKE_START) {
        if (c->handshake_done && SSL_version(ssl) < TLS1_3_VERSION)
            c->renegotiations++;
        c->in_handshake = 1;
    }
    if (where & SSL_CB_HANDSHAKE_DONE) {
        c->in_handshake = 0;
        c->handshake_done = 1;
    }
}

/* Create c->ssl (and c->bio / c->fd). Returns 0, or -1 after printing why. */
static int conn_open(struct tlsc_conn *c, SSL_CTX *ctx, const struct tlsc_options *o)
{
    char err[256];

    if (o->path == TLSC_PATH_BIO) {
        /* The connect BIO dials o->connect itself, as BIO apps do. */
        c->bio = BIO_new_ssl_connect(ctx);
        if (!c->bio || BIO_get_ssl(c->bio, &c->ssl) != 1 || !c->ssl ||
            BIO_set_conn_hostname(c->bio, o->connect) != 1 ||
            (o->nonblock && BIO_set_nbio(c->bio, 1) != 1)) {
            printf("setup failed: BIO_new_ssl_connect\n");
            return -1;
        }
        return 0;
    }
    c->fd = net_connect(o->host, o->port, err, sizeof(err));
    if (c->fd < 0) {
        printf("setup failed: %s\n", err);
        return -1;
    }
    if (o->nonblock && net_set_nonblock(c->fd, 1) < 0) {
        printf("setup failed: O_NONBLOCK\n");
        return -1;
    }
    c->ssl = SSL_new(ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
        printf("setup failed: SSL_new\n");
        return -1;
    }
    return 0;
}

/* Per-connection settings, in the order programs usually make them. */
static int conn_configure(struct tlsc_conn *c, const struct tlsc_options *o, SSL_SESSION *session)
{
    SSL_set_app_data(c->ssl, c);
    SSL_set_info_callback(c->ssl, info_cb);
    if (o->sni && !SSL_set_tlsext_host_name(c->ssl, o->sni)) {
        printf("setup failed: SNI %s\n", o->sni);
        return -1;
    }
    if (o->host_check && !SSL_set1_host(c->ssl, o->host_check)) {
        printf("setup failed: SSL_set1_host %s\n", o->host_check);
        return -1;
    }
    if (o->ip_check && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o->ip_check)) {
        printf("setup failed: X509_VERIFY_PARAM_set1_ip_asc %s\n", o->ip_check);
        return -1;
    }
    /* A session refused here (e.g. by a shim) is not an error for the
     * program: it falls back to a full handshake, and reused=0 shows it. */
    if (session && !SSL_set_session(c->ssl, session)) {
        printf("set_session refused\n");
        tlsc_report_errors("err: ");
    }
    return 0;
}

static void conn_close(struct tlsc_conn *c)
{
    if (c->bio) {
        BIO_free_all(c->bio); /* frees the SSL and the connect BIO's socket */
    } else {
        SSL_free(c->ssl);
        if (c->fd >= 0)
            close(c->fd);
    }
}

static void keep_session(struct tlsc_conn *c, SSL_SESSION **session)
{
    SSL_SESSION *s = SSL_get1_session(c->ssl);

    if (!s)
        return;
    if (!SSL_SESSION_is_resumable(s)) {
        SSL_SESSION_free(s);
        return;
    }
    SSL_SESSION_free(*session);
    *session = s;
}

enum tlsc_result tlsc_connection_run(SSL_CTX *ctx, const struct tlsc_options *o,
                                     SSL_SESSION **session)
{
    struct tlsc_conn c = { .fd = -1 };
    enum tlsc_result res = TLSC_HANDSHAKE_FAILED;
    const char *end;

    ERR_clear_error();
    if (conn_open(&c, ctx, o) < 0 || conn_configure(&c, o, *session) < 0) {
        tlsc_report_errors("err: ");
        conn_close(&c);
        return TLSC_SETUP_FAILED;
    }
    if (!tlsc_handshake(&c, o)) {
        tlsc_report_failure(c.ssl, c.ssl_error);
        goto out;
    }
    tlsc_report_success(c.ssl);
    /* The write paths sent the request while hand-shaking. */
    if (c.sent == 0 && o->send_len > 0 && !tlsc_send_all(&c, o->send, o->send_len)) {
        printf("write failed ssl_error=%d\n", c.ssl_error);
        tlsc_report_errors("io-err: ");
    }
    end = tlsc_receive(&c, REPLY_WAIT_MS);
    if (c.renegotiations > 0) {
        printf("renegotiations=%u\n", c.renegotiations);
        /* The server may have presented another certificate. */
        if (!c.in_handshake)
            tlsc_report_peer_pin("reneg_peer_pin", c.ssl);
    }
    if (c.in_handshake && c.handshake_done) {
        /* A renegotiation failed inside SSL_read. */
        tlsc_report_failure(c.ssl, c.ssl_error);
    } else {
        if (strcmp(end, "error") == 0)
            tlsc_report_errors("io-err: ");
        res = TLSC_OK;
        /* Without our close_notify, SSL_free marks the session not
         * resumable (ssl_clear_bad_session): send it, as curl does. */
        SSL_shutdown(c.ssl);
        keep_session(&c, session);
    }
    printf("sent=%zu\n", c.sent);
    printf("received=%zu\n", c.received);
    printf("read_end=%s\n", end);
out:
    if (o->nonblock)
        printf("want_read=%u want_write=%u\n", c.want_read, c.want_write);
    ERR_clear_error();
    conn_close(&c);
    return res;
}
