/* client_options.h — command line of tls_client and tls_client_dlopen. */
#ifndef TLSC_CLIENT_OPTIONS_H
#define TLSC_CLIENT_OPTIONS_H

#include <stddef.h>

/* Which API call performs the handshake. */
enum tlsc_path {
    TLSC_PATH_CONNECT,        /* SSL_connect */
    TLSC_PATH_DO_HANDSHAKE,   /* SSL_set_connect_state + SSL_do_handshake */
    TLSC_PATH_IMPLICIT_WRITE, /* SSL_set_connect_state + first SSL_write */
    TLSC_PATH_IMPLICIT_READ,  /* SSL_set_connect_state + first SSL_read */
    TLSC_PATH_IMPLICIT_PEEK,  /* SSL_set_connect_state + first SSL_peek */
    TLSC_PATH_WRITE_EX,       /* SSL_set_connect_state + first SSL_write_ex */
    TLSC_PATH_READ_EX,        /* SSL_set_connect_state + first SSL_read_ex */
    TLSC_PATH_PEEK_EX,        /* SSL_set_connect_state + first SSL_peek_ex */
    TLSC_PATH_BIO             /* BIO_new_ssl_connect + BIO_do_handshake */
};

enum tlsc_version { TLSC_TLS_ANY, TLSC_TLS12, TLSC_TLS13 };
enum tlsc_verify_cb { TLSC_VCB_NONE, TLSC_VCB_COUNT, TLSC_VCB_ACCEPT_ALL };
enum tlsc_cert_verify_cb { TLSC_CVCB_NONE, TLSC_CVCB_TRUST_ALL, TLSC_CVCB_CALL_X509 };

struct tlsc_options {
    const char *connect;       /* --connect as given, e.g. "[::1]:443" */
    char host[256];            /* its host, brackets removed */
    char port[8];
    const char *sni;           /* --sni, NULL: send none */
    const char *host_check;    /* --host-check: SSL_set1_host */
    const char *ip_check;      /* --ip-check: X509_VERIFY_PARAM_set1_ip_asc */
    const char *cafile;        /* --cafile, NULL: system default paths */
    const char *ciphers;       /* --ciphers: TLS 1.2 cipher list, NULL: default */
    enum tlsc_version version;
    int generic_method;        /* --method generic: TLS_method, not TLS_client_method */
    enum tlsc_path path;
    int nonblock;
    int verify_peer;           /* --verify peer (default) / none */
    enum tlsc_verify_cb verify_cb;
    enum tlsc_cert_verify_cb cert_verify_cb;
    unsigned resume;           /* --resume N: N more connections */
    unsigned pause_ms;         /* --pause MS: sleep before each of them */
    const char *sess_in;
    const char *sess_out;
    char *send;                /* bytes to send, escapes decoded (owned) */
    size_t send_len;
    unsigned timeout;          /* seconds, whole run */
    int verbose;
};

/* Parse argv into opts. Returns 0, or -1 after printing a usage message
 * (the caller exits 2). */
int tlsc_options_parse(struct tlsc_options *opts, int argc, char **argv);

void tlsc_options_free(struct tlsc_options *opts);

const char *tlsc_path_name(enum tlsc_path path);

#endif
