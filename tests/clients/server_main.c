/*
 * server_main.c — tls_server: a small TLS server for the integration tests,
 * for when `openssl s_server` cannot show what the server received.
 *
 *   tls_server --listen 127.0.0.1:0|[::1]:0 --cert FILE --key FILE
 *              [--chain FILE] [--tls1.2|--tls1.3] [--no-tickets] [--reneg]
 *              [--reneg-cert FILE --reneg-key FILE]
 *              [--log FILE] [--events FILE] [--count N] [-v]
 *
 * Prints "listening <port>" once bound, then serves clients one at a time
 * (forever, or --count N connections). See server_conn.c for what it does
 * with each one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "hostport.h"
#include "net.h"
#include "server_conn.h"

struct srv_options {
    char host[256];
    char port[8];
    const char *cert, *key, *chain, *log, *events, *reneg_cert, *reneg_key;
    int version;               /* 0 any, else the only TLS version */
    int no_tickets, reneg, verbose;
    long count;                /* connections to serve, 0: forever */
};

static void usage(const char *prog)
{
    fprintf(stderr,
"usage: %s --listen ADDR:PORT --cert FILE --key FILE [options]\n"
"  --listen ADDR:PORT   127.0.0.1:0 or [::1]:0 (0: the kernel chooses)\n"
"  --cert FILE          leaf certificate, optionally followed by its chain\n"
"  --key FILE           its private key\n"
"  --chain FILE         more certificates to send after --cert's\n"
"  --tls1.2 | --tls1.3  only this protocol version\n"
"  --no-tickets         SSL_OP_NO_TICKET (TLS 1.2: session IDs; TLS 1.3:\n"
"                       stateful tickets)\n"
"  --reneg              TLS 1.2: renegotiate (full handshake) after reading\n"
"                       the request, before answering\n"
"  --reneg-cert FILE    present this chain in the renegotiation (implies\n"
"  --reneg-key FILE     --reneg; same key type as --cert): a server\n"
"                       changing its certificate\n"
"  --log FILE           append received application bytes and\n"
"                       'handshake failed: ...' lines\n"
"  --events FILE        append one line per connection event\n"
"  --count N            exit after N connections (default: never)\n"
"  -v                   events also on stderr\n", prog);
}

static int parse_options(struct srv_options *o, int argc, char **argv)
{
    enum { O_LISTEN = 256, O_CERT, O_KEY, O_CHAIN, O_TLS12, O_TLS13, O_NO_TICKETS,
           O_RENEG, O_RENEG_CERT, O_RENEG_KEY, O_LOG, O_EVENTS, O_COUNT };
    static const struct option opts[] = {
        { "listen", required_argument, NULL, O_LISTEN },
        { "cert", required_argument, NULL, O_CERT },
        { "key", required_argument, NULL, O_KEY },
        { "chain", required_argument, NULL, O_CHAIN },
        { "tls1.2", no_argument, NULL, O_TLS12 },
        { "tls1.3", no_argument, NULL, O_TLS13 },
        { "no-tickets", no_argument, NULL, O_NO_TICKETS },
        { "reneg", no_argument, NULL, O_RENEG },
        { "reneg-cert", required_argument, NULL, O_RENEG_CERT },
        { "reneg-key", required_argument, NULL, O_RENEG_KEY },
        { "log", required_argument, NULL, O_LOG },
        { "events", required_argument, NULL, O_EVENTS },
        { "count", required_argument, NULL, O_COUNT },
        { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    int c, have_listen = 0;
    char *end;

    memset(o, 0, sizeof(*o));
    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            if (hostport_split(optarg, o->host, sizeof(o->host), o->port, sizeof(o->port)) < 0) {
                fprintf(stderr, "bad --listen: %s\n", optarg);
                return -1;
            }
            have_listen = 1;
            break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_CHAIN: o->chain = optarg; break;
        case O_TLS12: o->version = TLS1_2_VERSION; break;
        case O_TLS13: o->version = TLS1_3_VERSION; break;
        case O_NO_TICKETS: o->no_tickets = 1; break;
        case O_RENEG: o->reneg = 1; break;
        case O_RENEG_CERT: o->reneg_cert = optarg; o->reneg = 1; break;
        case O_RENEG_KEY: o->reneg_key = optarg; o->reneg = 1; break;
        case O_LOG: o->log = optarg; break;
        case O_EVENTS: o->events = optarg; break;
        case O_COUNT:
            o->count = strtol(optarg, &end, 10);
            if (*end || o->count <= 0) {
                fprintf(stderr, "bad --count: %s\n", optarg);
                return -1;
            }
            break;
        case 'v': o->verbose = 1; break;
        default:
            usage(argv[0]);
            return -1;
        }
    }
    if (optind != argc || !have_listen || !o->cert || !o->key ||
        !o->reneg_cert != !o->reneg_key) {
        usage(argv[0]);
        return -1;
    }
    return 0;
}

/* Every certificate of file, in order, after those of --cert. */
static int add_chain_file(SSL_CTX *ctx, const char *file)
{
    BIO *b = BIO_new_file(file, "r");
    X509 *x;
    int n = 0;

    if (!b)
        return 0;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!SSL_CTX_add0_chain_cert(ctx, x)) {
            X509_free(x);
            BIO_free(b);
            return 0;
        }
        n++;
    }
    BIO_free(b);
    ERR_clear_error(); /* the end of the file reads as an error */
    return n > 0;
}

static SSL_CTX *make_ctx(const struct srv_options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    static const unsigned char sid_ctx[] = "tlspin-tls_server";

    if (!ctx)
        return NULL;
    if (o->version && (!SSL_CTX_set_min_proto_version(ctx, o->version) ||
                       !SSL_CTX_set_max_proto_version(ctx, o->version)))
        goto fail;
    /* The chain goes out exactly as configured: never built from a store. */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
        (o->chain && !add_chain_file(ctx, o->chain)) ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1))
        goto fail;
    if (o->no_tickets)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_info_callback(ctx, srv_info_callback);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    struct srv_options o;
    struct srv_config cfg = { .log_fd = -1 };
    char err[256];
    unsigned port;
    int lfd;

    signal(SIGPIPE, SIG_IGN);
    if (parse_options(&o, argc, argv) < 0)
        return 2;
    cfg.ctx = make_ctx(&o);
    if (!cfg.ctx) {
        fprintf(stderr, "tls_server: cannot set up TLS:\n");
        ERR_print_errors_fp(stderr);
        return 2;
    }
    cfg.reneg = o.reneg;
    cfg.reneg_cert = o.reneg_cert;
    cfg.reneg_key = o.reneg_key;
    cfg.verbose = o.verbose;
    if (o.log && (cfg.log_fd = open(o.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        perror(o.log);
        return 2;
    }
    if (o.events && !(cfg.events = fopen(o.events, "ae"))) {
        perror(o.events);
        return 2;
    }
    lfd = net_listen(o.host, o.port, &port, err, sizeof(err));
    if (lfd < 0) {
        fprintf(stderr, "tls_server: %s\n", err);
        return 2;
    }
    printf("listening %u\n", port);
    fflush(stdout);
    for (long served = 0; o.count == 0 || served < o.count;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EINTR)
                poll(NULL, 0, 10); /* e.g. EMFILE: do not spin */
            continue;
        }
        srv_serve(&cfg, fd);
        served++;
    }
    close(lfd);
    SSL_CTX_free(cfg.ctx);
    return 0;
}
