/*
 * tp_common.h — what the test programs of tests/programs share: one client
 * handshake against 127.0.0.1, classified the way the integration suites
 * need it.
 *
 *   TP_OK       the handshake completed, the request was sent and the
 *               server's answer ("ok") came back
 *   TP_BLOCKED  refused by tlspin: the handshake failed with verify result
 *               50 (X509_V_ERR_APPLICATION_VERIFICATION) and an error entry
 *               of the library "tlspin" on the OpenSSL error queue
 *   TP_OTHER    anything else (connection refused, another verification
 *               error, no answer): never an acceptable outcome in the tests
 *
 * A refused handshake never sends the request: the server counting requests
 * is how the suites check that no application byte got through.
 */
#ifndef TP_COMMON_H
#define TP_COMMON_H

#include <stddef.h>

#include <openssl/ssl.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tp_result { TP_OK, TP_BLOCKED, TP_OTHER };
enum tp_expect { TP_EXPECT_ANY = -1, TP_EXPECT_ALLOW = TP_OK, TP_EXPECT_BLOCK = TP_BLOCKED };

/* "NAME,PORT,SNI[,allow|block]" */
struct tp_target {
    char name[64];
    int port;
    char sni[256];
    int expect;                /* enum tp_expect */
};

struct tp_conn {
    int fd;
    SSL *ssl;
    char sni[256];
};

const char *tp_result_name(enum tp_result r);

/* CLOCK_MONOTONIC in milliseconds: the same clock as the suites' and as
 * python's time.monotonic(), so timestamps compare across processes. */
long long tp_now_ms(void);

/* Parse a --target value. Returns 0, or -1 after printing why. */
int tp_parse_target(const char *spec, struct tp_target *t);

/* A client context: TLS_client_method, SSL_VERIFY_PEER against cafile. NULL
 * after printing why. */
SSL_CTX *tp_ctx_new(const char *cafile);

/* TCP connect to 127.0.0.1:port and an SSL with SNI and host check set to
 * sni; no handshake yet. Returns 0, or -1 with detail filled. */
int tp_conn_open(struct tp_conn *c, SSL_CTX *ctx, int port, const char *sni, char *detail,
                 size_t dlen);
/* The handshake (SSL_connect), then on success one request and its answer.
 * detail says what went wrong for TP_OTHER (and why for TP_BLOCKED). */
enum tp_result tp_conn_run(struct tp_conn *c, char *detail, size_t dlen);
void tp_conn_close(struct tp_conn *c);

/* open + run + close. */
enum tp_result tp_handshake(SSL_CTX *ctx, int port, const char *sni, char *detail, size_t dlen);

/* The same with everything from the environment, for code that runs before
 * main() (constructors): TP_PORT, TP_SNI, TP_CAFILE. Prints one line
 * "<who>: <result> <detail>" on stdout and returns the result; TP_OTHER
 * when the environment is incomplete. */
enum tp_result tp_handshake_from_env(const char *who);

#ifdef __cplusplus
}
#endif

#endif
