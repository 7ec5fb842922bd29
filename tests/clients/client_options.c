/* client_options.c — parse the command line of the test clients. */
#include "client_options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"

static const char *const path_names[] = {
    [TLSC_PATH_CONNECT] = "connect",
    [TLSC_PATH_DO_HANDSHAKE] = "do_handshake",
    [TLSC_PATH_IMPLICIT_WRITE] = "implicit_write",
    [TLSC_PATH_IMPLICIT_READ] = "implicit_read",
    [TLSC_PATH_IMPLICIT_PEEK] = "implicit_peek",
    [TLSC_PATH_WRITE_EX] = "write_ex",
    [TLSC_PATH_READ_EX] = "read_ex",
    [TLSC_PATH_PEEK_EX] = "peek_ex",
    [TLSC_PATH_BIO] = "bio",
};

const char *tlsc_path_name(enum tlsc_path path)
{
    return path_names[path];
}

static void usage(const char *prog)
{
    fprintf(stderr,
"usage: %s --connect HOST:PORT [options]\n"
"  --connect HOST:PORT     IPv4 literal, [IPv6] literal or name\n"
"  --sni NAME              send SNI (default: none)\n"
"  --host-check NAME       SSL_set1_host\n"
"  --ip-check ADDR         X509_VERIFY_PARAM_set1_ip_asc\n"
"  --cafile FILE           trust store (default: system default paths)\n"
"  --ciphers LIST          SSL_CTX_set_cipher_list (e.g. ALL:@SECLEVEL=0)\n"
"  --tls1.2 | --tls1.3     only this protocol version\n"
"  --method client|generic TLS_client_method (default) or TLS_method\n"
"  --path P                connect|do_handshake|implicit_write|implicit_read|\n"
"                          implicit_peek|write_ex|read_ex|peek_ex|bio\n"
"  --nonblock              non-blocking socket, poll on WANT_READ/WANT_WRITE\n"
"  --verify none|peer      SSL_VERIFY_NONE or SSL_VERIFY_PEER (default)\n"
"  --verify-cb             counting verify callback returning preverify_ok\n"
"  --verify-cb-accept-all  verify callback returning 1\n"
"  --cert-verify-cb trust-all|call-x509  SSL_CTX_set_cert_verify_callback\n"
"  --resume N              N more connections resuming the previous session\n"
"  --pause MS              sleep MS milliseconds before each of those (e.g. for\n"
"                          a policy file to change in between)\n"
"  --sess-in FILE          resume this PEM session on the first connection\n"
"  --sess-out FILE         write the last session as PEM\n"
"  --send TEXT             send TEXT after the handshake (\\r \\n \\t \\\\ \\xHH);\n"
"                          default: GET / HTTP/1.0 with Host: <sni or host>\n"
"  --timeout SECONDS       whole run (default 10), then exit 3\n"
"  -v, --verbose           details on stderr\n",
            prog);
}

/* Decode C-like escapes so that a shell test can write "\r\n". */
static int decode_escapes(const char *in, char **out, size_t *outlen)
{
    size_t n = 0;
    char *buf = malloc(strlen(in) + 1);

    if (!buf)
        return -1;
    while (*in) {
        char c = *in++;

        if (c == '\\') {
            c = *in++;
            switch (c) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '\\': break;
            case 'x': {
                char hex[3] = { 0 }, *end;

                if (!in[0] || !in[1]) {
                    free(buf);
                    return -1;
                }
                hex[0] = in[0];
                hex[1] = in[1];
                c = (char)strtoul(hex, &end, 16);
                if (*end) {
                    free(buf);
                    return -1;
                }
                in += 2;
                break;
            }
            default:
                free(buf);
                return -1;
            }
        }
        buf[n++] = c;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

static int parse_path(const char *s, enum tlsc_path *path)
{
    for (size_t i = 0; i < sizeof(path_names) / sizeof(path_names[0]); i++) {
        if (strcmp(s, path_names[i]) == 0) {
            *path = (enum tlsc_path)i;
            return 0;
        }
    }
    return -1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    if (!*s || *s == '-' || *s == '+')
        return -1;
    v = strtoul(s, &end, 10);
    if (*end || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

enum {
    OPT_CONNECT = 256, OPT_SNI, OPT_HOST_CHECK, OPT_IP_CHECK, OPT_CAFILE, OPT_TLS12,
    OPT_TLS13, OPT_METHOD, OPT_PATH, OPT_NONBLOCK, OPT_VERIFY, OPT_VERIFY_CB,
    OPT_VERIFY_CB_ALL, OPT_CERT_VERIFY_CB, OPT_RESUME, OPT_PAUSE, OPT_SESS_IN, OPT_SESS_OUT,
    OPT_SEND, OPT_TIMEOUT, OPT_CIPHERS
};

static const struct option long_opts[] = {
    { "connect", required_argument, NULL, OPT_CONNECT },
    { "sni", required_argument, NULL, OPT_SNI },
    { "host-check", required_argument, NULL, OPT_HOST_CHECK },
    { "ip-check", required_argument, NULL, OPT_IP_CHECK },
    { "cafile", required_argument, NULL, OPT_CAFILE },
    { "tls1.2", no_argument, NULL, OPT_TLS12 },
    { "tls1.3", no_argument, NULL, OPT_TLS13 },
    { "method", required_argument, NULL, OPT_METHOD },
    { "path", required_argument, NULL, OPT_PATH },
    { "nonblock", no_argument, NULL, OPT_NONBLOCK },
    { "verify", required_argument, NULL, OPT_VERIFY },
    { "verify-cb", no_argument, NULL, OPT_VERIFY_CB },
    { "verify-cb-accept-all", no_argument, NULL, OPT_VERIFY_CB_ALL },
    { "cert-verify-cb", required_argument, NULL, OPT_CERT_VERIFY_CB },
    { "resume", required_argument, NULL, OPT_RESUME },
    { "pause", required_argument, NULL, OPT_PAUSE },
    { "sess-in", required_argument, NULL, OPT_SESS_IN },
    { "sess-out", required_argument, NULL, OPT_SESS_OUT },
    { "send", required_argument, NULL, OPT_SEND },
    { "ciphers", required_argument, NULL, OPT_CIPHERS },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int bad(const char *prog, const char *what, const char *value)
{
    fprintf(stderr, "%s: bad %s: %s\n", prog, what, value ? value : "");
    usage(prog);
    return -1;
}

static int default_request(struct tlsc_options *o)
{
    const char *host = o->sni ? o->sni : o->host;
    int v6 = !o->sni && strchr(o->host, ':') != NULL;
    int n = asprintf(&o->send, "GET / HTTP/1.0\r\nHost: %s%s%s\r\n\r\n",
                     v6 ? "[" : "", host, v6 ? "]" : "");

    if (n < 0) {
        o->send = NULL;
        return -1;
    }
    o->send_len = (size_t)n;
    return 0;
}

int tlsc_options_parse(struct tlsc_options *o, int argc, char **argv)
{
    const char *prog = argv[0], *send_text = NULL;
    int c;

    memset(o, 0, sizeof(*o));
    o->verify_peer = 1;
    o->timeout = 10;
    while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONNECT:
            o->connect = optarg;
            if (hostport_split(optarg, o->host, sizeof(o->host), o->port, sizeof(o->port)) < 0)
                return bad(prog, "--connect", optarg);
            break;
        case OPT_SNI: o->sni = optarg; break;
        case OPT_HOST_CHECK: o->host_check = optarg; break;
        case OPT_IP_CHECK: o->ip_check = optarg; break;
        case OPT_CAFILE: o->cafile = optarg; break;
        case OPT_CIPHERS: o->ciphers = optarg; break;
        case OPT_TLS12: o->version = TLSC_TLS12; break;
        case OPT_TLS13: o->version = TLSC_TLS13; break;
        case OPT_METHOD:
            if (strcmp(optarg, "client") == 0)
                o->generic_method = 0;
            else if (strcmp(optarg, "generic") == 0)
                o->generic_method = 1;
            else
                return bad(prog, "--method", optarg);
            break;
        case OPT_PATH:
            if (parse_path(optarg, &o->path) < 0)
                return bad(prog, "--path", optarg);
            break;
        case OPT_NONBLOCK: o->nonblock = 1; break;
        case OPT_VERIFY:
            if (strcmp(optarg, "none") == 0)
                o->verify_peer = 0;
            else if (strcmp(optarg, "peer") == 0)
                o->verify_peer = 1;
            else
                return bad(prog, "--verify", optarg);
            break;
        case OPT_VERIFY_CB: o->verify_cb = TLSC_VCB_COUNT; break;
        case OPT_VERIFY_CB_ALL: o->verify_cb = TLSC_VCB_ACCEPT_ALL; break;
        case OPT_CERT_VERIFY_CB:
            if (strcmp(optarg, "trust-all") == 0)
                o->cert_verify_cb = TLSC_CVCB_TRUST_ALL;
            else if (strcmp(optarg, "call-x509") == 0)
                o->cert_verify_cb = TLSC_CVCB_CALL_X509;
            else
                return bad(prog, "--cert-verify-cb", optarg);
            break;
        case OPT_RESUME:
            if (parse_uint(optarg, 100, &o->resume) < 0)
                return bad(prog, "--resume", optarg);
            break;
        case OPT_PAUSE:
            if (parse_uint(optarg, 3600 * 1000, &o->pause_ms) < 0)
                return bad(prog, "--pause", optarg);
            break;
        case OPT_SESS_IN: o->sess_in = optarg; break;
        case OPT_SESS_OUT: o->sess_out = optarg; break;
        case OPT_SEND: send_text = optarg; break;
        case OPT_TIMEOUT:
            if (parse_uint(optarg, 3600, &o->timeout) < 0 || o->timeout == 0)
                return bad(prog, "--timeout", optarg);
            break;
        case 'v': o->verbose = 1; break;
        case 'h':
        default:
            usage(prog);
            return -1;
        }
    }
    if (optind != argc)
        return bad(prog, "argument", argv[optind]);
    if (!o->connect)
        return bad(prog, "command line", "--connect is required");
    if (send_text) {
        if (decode_escapes(send_text, &o->send, &o->send_len) < 0)
            return bad(prog, "--send escape", send_text);
    } else if (default_request(o) < 0) {
        return bad(prog, "request", "out of memory");
    }
    /* These paths hand-shake inside the first write: it needs bytes. */
    if (o->send_len == 0 &&
        (o->path == TLSC_PATH_IMPLICIT_WRITE || o->path == TLSC_PATH_WRITE_EX))
        return bad(prog, "--send", "(empty) with a write path");
    return 0;
}

void tlsc_options_free(struct tlsc_options *o)
{
    free(o->send);
    o->send = NULL;
}
