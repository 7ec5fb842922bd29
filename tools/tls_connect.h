/* tls_connect — the tlspin command's own TLS client: resolve, connect with a
 * timeout, send SNI, verify the chain and the name against the system trust
 * store (or a CA file), and let the caller look at the verification exactly
 * where the shim decides: inside it, with OpenSSL's X509_STORE_CTX.
 *
 * The connection holds the engine's decide_busy for its whole life: when the
 * shim is preloaded into the command too (/etc/ld.so.preload), its hooks
 * then let the command's handshakes through untouched, so `tlspin pin` can
 * read a key the policy refuses and `tlspin probe` decides once, not twice. */
#ifndef TLSPIN_TLS_CONNECT_H
#define TLSPIN_TLS_CONNECT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <tlspin/module.h>

#include "chain.h"

/* HOST[:PORT] as typed: "example.com", "example.com:8443", "10.0.0.7:443",
 * "[2001:db8::1]:443", "2001:db8::1" (a bare IPv6 literal has no port), or
 * an https:// URL (path ignored). */
struct tls_target {
    char host[256];          /* name or IP literal, without brackets */
    unsigned port;
};

/* Returns 0, or -1 with a reason in err. */
int tls_target_parse(const char *text, unsigned default_port, struct tls_target *out,
                     char *err, size_t errlen);

/* "host:port", "[v6]:port". */
void tls_target_text(const char *host, unsigned port, char *out, size_t outlen);

struct tls_session_opts {
    const char *name;        /* SNI and the name verified; an IP literal is
                                verified as an address and never sent as SNI */
    const char *dial;        /* host name or address to connect to */
    unsigned port;
    const char *cafile;      /* NULL: the system trust store */
    int timeout_ms;          /* for resolving+connecting and for the handshake */
    /* Called once the SSL is set up, just before the handshake. Optional. */
    void (*before)(void *arg, SSL *ssl);
    /* Called inside the certificate verification, after OpenSSL verified
     * the chain (ok = 1) or failed to (ok = 0). ctx and its certificates are
     * valid only during the call. Optional. */
    void (*verified)(void *arg, SSL *ssl, X509_STORE_CTX *ctx, int ok);
    /* Called when the handshake completed, before the connection closes:
     * everything the server sent (a TLS 1.2 OCSP staple too) is in. */
    void (*handshaken)(void *arg, SSL *ssl);
    void *arg;
};

enum tls_stage { TLS_STAGE_RESOLVE, TLS_STAGE_CONNECT, TLS_STAGE_HANDSHAKE, TLS_STAGE_DONE };

struct tls_session_result {
    enum tls_stage stage;    /* how far it got; DONE when the handshake completed */
    char peer[80];           /* "addr:port" of the socket, once connected */
    int verify_called;       /* the verification ran (a certificate arrived) */
    int verify_ok;
    char verify_error[256];  /* OpenSSL's reason when !verify_ok */
    char protocol[32];       /* "TLSv1.3" */
    char cipher[80];
    char error[512];         /* why it stopped before DONE */
};

/* Runs one handshake and closes the connection. Returns 0 when the
 * handshake completed (verified or not: see verify_ok), -1 otherwise. */
int tls_session_run(const struct tls_session_opts *o, struct tls_session_result *r);

/* The certificates of a verification as tlspin counts them, kept past the
 * callback (references held). */
struct kept_chain {
    X509 *verified[CHAIN_MAX];
    unsigned char verified_pin[CHAIN_MAX][TLSPIN_PIN_LEN];
    size_t n_verified;
    X509 *presented[CHAIN_MAX];
    unsigned char presented_pin[CHAIN_MAX][TLSPIN_PIN_LEN];
    size_t n_presented;
    tlspin_chain_trust trust;
};

/* `out` starts zeroed ({0}) or holds an earlier take, which is released. */
void kept_chain_take(struct kept_chain *out, const struct chain *chain);
void kept_chain_free(struct kept_chain *kc);
/* "leaf" (first), "root" (a self-issued last one) or "intermediate". */
const char *kept_chain_position(const struct kept_chain *kc, size_t i);
/* 1 when `cert` is among the presented certificates. */
int kept_chain_presented(const struct kept_chain *kc, X509 *cert);

#endif
