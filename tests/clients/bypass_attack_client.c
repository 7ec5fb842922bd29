/* bypass_attack_client.c — the adversarial review's client for issue 11 (cases 1
 * and 4), kept as a test instrument of test_bypass_nocert.c: one program whose
 * flags reproduce each way around the decision the review tried, e.g.
 *   -secb-info / -secb-msg / -setctx-info  replace the security callback (or
 *       the SSL_CTX) from the info callback at HANDSHAKE_START / the msg
 *       callback after the ClientHello
 *   -late-bio / -nullbio-first  the first handshake call has no BIO
 *   -psk-sess FILE   a psk_use_session_cb handing over a stored session
 *   -loop-sess A -loop-sess B  one connection per session, same addresses
 *   -eap             a session_secret_cb secret (EAP-FAST style)
 *   -reneg -reneg-secb  TLS 1.2 renegotiation after replacing the callback
 *   -early TEXT      SSL_write_early_data before the handshake
 * It prints "handshake: COMPLETED|FAILED ..." and, once connected, sends
 * "DATA-SENT". Exit 0 when every handshake completed. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <fcntl.h>

static int opt_secb_info, opt_setctx_info, opt_secb_msg;
static SSL_CTX *ctx2;
static SSL_SESSION *psk_sess;
static const char *psk_id = "Client_identity";
static unsigned char psk_key[64]; static size_t psk_len;

static int allow_all(const SSL *s, const SSL_CTX *c, int op, int bits, int nid, void *o, void *ex)
{ (void)s;(void)c;(void)op;(void)bits;(void)nid;(void)o;(void)ex; return 1; }

static void info_cb(const SSL *s, int where, int ret)
{
    (void)ret;
    if (where & SSL_CB_HANDSHAKE_START) {
        fprintf(stderr, "[info] handshake start\n");
        if (opt_secb_info) SSL_set_security_callback((SSL *)s, allow_all);
        if (opt_setctx_info) SSL_set_SSL_CTX((SSL *)s, ctx2);
    }
}
static void msg_cb(int wp, int ver, int ct, const void *buf, size_t len, SSL *s, void *arg)
{
    (void)ver;(void)len;(void)arg;
    if (wp && ct == SSL3_RT_HANDSHAKE && ((const unsigned char *)buf)[0] == SSL3_MT_CLIENT_HELLO) {
        fprintf(stderr, "[msg] ClientHello sent\n");
        if (opt_secb_msg) SSL_set_security_callback(s, allow_all);
    }
}
static int psk_use_sess_cb(SSL *s, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess)
{
    (void)s;(void)md;
    if (!psk_sess) { *sess = NULL; return 1; }
    SSL_SESSION_up_ref(psk_sess);
    *sess = psk_sess; *id = (const unsigned char *)psk_id; *idlen = strlen(psk_id);
    return 1;
}
static unsigned int psk_client_cb(SSL *s, const char *hint, char *identity, unsigned int max_id, unsigned char *psk, unsigned int max_psk)
{
    (void)s;(void)hint;
    snprintf(identity, max_id, "%s", psk_id);
    if (psk_len > max_psk) return 0;
    memcpy(psk, psk_key, psk_len); return (unsigned)psk_len;
}
static int eap_secret_cb(SSL *s, void *secret, int *len, STACK_OF(SSL_CIPHER) *peer, const SSL_CIPHER **pref, void *arg)
{ (void)s;(void)peer;(void)pref;(void)arg; memset(secret, 0x42, 48); *len = 48; return 1; }
static int tcp(const char *host, int port, int dgram)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    int fd = socket(AF_INET, dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (connect(fd, (void *)&a, sizeof a) != 0) { perror("connect"); exit(3); }
    return fd;
}
static int pump_connect(SSL *ssl, BIO *ext, int fd)
{
    for (;;) {
        int r = SSL_connect(ssl);
        char buf[16384]; int n;
        while ((n = BIO_read(ext, buf, sizeof buf)) > 0) write(fd, buf, n);
        if (r == 1) return 1;
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return 0;
        if (e == SSL_ERROR_WANT_READ) {
            n = read(fd, buf, sizeof buf);
            if (n <= 0) return 0;
            BIO_write(ext, buf, n);
        }
    }
}
static SSL_SESSION *read_sess(const char *f)
{
    FILE *fp = fopen(f, "r"); if (!fp) { perror(f); exit(2); }
    SSL_SESSION *s = PEM_read_SSL_SESSION(fp, NULL, NULL, NULL); fclose(fp);
    if (!s) { ERR_print_errors_fp(stderr); exit(2); }
    return s;
}
static void report(SSL *ssl, int ok, const char *what)
{
    X509 *p = SSL_get0_peer_certificate(ssl);
    char subj[256] = "-";
    if (p) X509_NAME_oneline(X509_get_subject_name(p), subj, sizeof subj);
    printf("%s: %s version=%s cipher=%s reused=%d peer=%s verify=%ld\n", what, ok ? "COMPLETED" : "FAILED",
           SSL_get_version(ssl), SSL_get_cipher_name(ssl), SSL_session_reused(ssl), subj, SSL_get_verify_result(ssl));
    if (!ok) ERR_print_errors_fp(stdout);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *ciphers = NULL, *ciphersuites = NULL, *sni = NULL, *vhost = NULL;
    const char *sni_late = NULL, *sess_in = NULL, *sess_out = NULL, *early = NULL, *cafile = NULL;
    int port = 4433, proto = 0, dtls = 0, late_bio = 0, implicit = 0, reneg = 0, reneg_secb = 0, secb_new = 0;
    int setctx_new = 0, eap = 0, do_dup = 0, unconnected = 0, connect_first = 0, loops = 1, nullbio_first = 0, mem_bio = 0;
    const char *reneg_ciphers = "aNULL:@SECLEVEL=0";
    const char *loop_sess[8] = {0}; int n_loop_sess = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define ARG (argv[++i])
        if (!strcmp(a, "-p")) port = atoi(ARG);
        else if (!strcmp(a, "-ciphers")) ciphers = ARG;
        else if (!strcmp(a, "-suites")) ciphersuites = ARG;
        else if (!strcmp(a, "-tls12")) proto = TLS1_2_VERSION;
        else if (!strcmp(a, "-tls13")) proto = TLS1_3_VERSION;
        else if (!strcmp(a, "-dtls")) dtls = 1;
        else if (!strcmp(a, "-sni")) sni = ARG;
        else if (!strcmp(a, "-sni-late")) sni_late = ARG;
        else if (!strcmp(a, "-setctx-new")) setctx_new = 1;
        else if (!strcmp(a, "-eap")) eap = 1;
        else if (!strcmp(a, "-dup")) do_dup = 1;
        else if (!strcmp(a, "-unconnected")) unconnected = 1;
        else if (!strcmp(a, "-connect-first")) connect_first = 1;
        else if (!strcmp(a, "-vhost")) vhost = ARG;
        else if (!strcmp(a, "-CAfile")) cafile = ARG;
        else if (!strcmp(a, "-secb-new")) secb_new = 1;
        else if (!strcmp(a, "-secb-info")) opt_secb_info = 1;
        else if (!strcmp(a, "-secb-msg")) opt_secb_msg = 1;
        else if (!strcmp(a, "-setctx-info")) opt_setctx_info = 1;
        else if (!strcmp(a, "-late-bio")) late_bio = 1;
        else if (!strcmp(a, "-nullbio-first")) nullbio_first = 1;
        else if (!strcmp(a, "-implicit")) implicit = 1;
        else if (!strcmp(a, "-reneg")) reneg = 1;
        else if (!strcmp(a, "-reneg-secb")) reneg_secb = 1;
        else if (!strcmp(a, "-reneg-ciphers")) reneg_ciphers = ARG;
        else if (!strcmp(a, "-sess-in")) sess_in = ARG;
        else if (!strcmp(a, "-sess-out")) sess_out = ARG;
        else if (!strcmp(a, "-loop-sess")) loop_sess[n_loop_sess++] = ARG;
        else if (!strcmp(a, "-psk-sess")) psk_sess = read_sess(ARG);
        else if (!strcmp(a, "-psk")) { const char *h = ARG; psk_len = strlen(h) / 2; for (size_t k = 0; k < psk_len; k++) sscanf(h + 2 * k, "%2hhx", &psk_key[k]); }
        else if (!strcmp(a, "-early")) early = ARG;
        else if (!strcmp(a, "-membio")) mem_bio = 1;
        else { fprintf(stderr, "bad arg %s\n", a); return 2; }
    }
    SSL_CTX *ctx = SSL_CTX_new(dtls ? DTLS_client_method() : TLS_client_method());
    ctx2 = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx2, 0);
    SSL_CTX_set_security_callback(ctx2, allow_all); SSL_CTX_set_cipher_list(ctx2, "ALL:@SECLEVEL=0");
    if (proto) { SSL_CTX_set_min_proto_version(ctx, proto); SSL_CTX_set_max_proto_version(ctx, proto); }
    if (ciphers && !SSL_CTX_set_cipher_list(ctx, ciphers)) { ERR_print_errors_fp(stderr); return 2; }
    if (ciphersuites && !SSL_CTX_set_ciphersuites(ctx, ciphersuites)) { ERR_print_errors_fp(stderr); return 2; }
    if (cafile) { SSL_CTX_load_verify_locations(ctx, cafile, NULL); SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL); }
    SSL_CTX_set_info_callback(ctx, info_cb);
    if (psk_sess) SSL_CTX_set_psk_use_session_callback(ctx, psk_use_sess_cb);
    if (psk_len) SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    if (n_loop_sess) loops = n_loop_sess;
    int rc = 0;
    for (int it = 0; it < loops; it++) {
        int fd = connect_first ? tcp(host, port, dtls) : -1;
        SSL *ssl = SSL_new(ctx);
        fprintf(stderr, "[iter %d] ssl=%p\n", it, (void *)ssl);
        if (connect_first) SSL_set_fd(ssl, fd);
        SSL_set_msg_callback(ssl, msg_cb);
        if (eap) { SSL_set_session_secret_cb(ssl, eap_secret_cb, NULL); SSL_set_session_ticket_ext(ssl, "PAC-OPAQUE", 10); }
        if (setctx_new) SSL_set_SSL_CTX(ssl, ctx2);
        if (secb_new) SSL_set_security_callback(ssl, allow_all);
        if (sni) SSL_set_tlsext_host_name(ssl, sni);
        if (vhost) SSL_set1_host(ssl, vhost);
        SSL_SESSION *sess = NULL;
        if (n_loop_sess) sess = read_sess(loop_sess[it]);
        else if (sess_in) sess = read_sess(sess_in);
        if (sess) { int r = SSL_set_session(ssl, sess); fprintf(stderr, "[sess] set_session=%d session_now=%p (%p)\n", r, (void *)SSL_get_session(ssl), (void *)sess); }
        if (sni_late) SSL_set_tlsext_host_name(ssl, sni_late);
        if (fd < 0 && unconnected) fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) fd = tcp(host, port, dtls);
        BIO *bio = dtls ? BIO_new_dgram(fd, BIO_NOCLOSE) : BIO_new_socket(fd, BIO_NOCLOSE);
        if (dtls) { struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) }; inet_pton(AF_INET, host, &a.sin_addr); if (unconnected) BIO_dgram_set_peer(bio, (BIO_ADDR *)&a); else BIO_ctrl_set_connected(bio, &a); }
        int ok;
        SSL_set_connect_state(ssl);
        if (late_bio || nullbio_first) {
            if (nullbio_first) SSL_set_bio(ssl, NULL, NULL);
            int r = implicit ? SSL_write(ssl, "GET / implicit\n", 15) : SSL_do_handshake(ssl);
            fprintf(stderr, "[late-bio] first handshake without BIO: %d err=%d\n", r, SSL_get_error(ssl, r));
            ERR_print_errors_fp(stderr);
        }
        if (!connect_first) SSL_set_bio(ssl, bio, bio); else BIO_free(bio);
        if (do_dup) { SSL_set_connect_state(ssl); SSL *d = SSL_dup(ssl); SSL_set_fd(d, fd); fprintf(stderr, "[dup] %p -> %p secb same=%d\n", (void*)ssl, (void*)d, SSL_get_security_callback(d) == SSL_get_security_callback(ssl)); ssl = d; }
        if (early) {
            size_t w = 0;
            int r = SSL_write_early_data(ssl, early, strlen(early), &w);
            fprintf(stderr, "[early] write_early_data=%d written=%zu status-before-hs\n", r, w);
            if (!r) ERR_print_errors_fp(stderr);
        }
        if (mem_bio) {
            BIO *in, *ext; BIO_new_bio_pair(&in, 0, &ext, 0);
            SSL_set_bio(ssl, in, in);
            int other = getenv("NO_OTHER") ? -1 : tcp(host, 4433 + 1000, 0); (void)other;   /* a second TCP peer */
            ok = pump_connect(ssl, ext, fd);
        } else if (implicit) {
            ok = SSL_write(ssl, "GET / implicit\n", 15) > 0;
        } else {
            ok = SSL_connect(ssl) == 1;
        }
        report(ssl, ok, "handshake");
        if (early) fprintf(stderr, "[early] early_data_status=%d\n", SSL_get_early_data_status(ssl));
        if (ok && reneg) {
            if (reneg_secb) SSL_set_security_callback(ssl, allow_all);
            SSL_set_cipher_list(ssl, reneg_ciphers);
            int r = SSL_renegotiate(ssl);
            fprintf(stderr, "[reneg] SSL_renegotiate=%d\n", r);
            r = SSL_do_handshake(ssl);
            fprintf(stderr, "[reneg] SSL_do_handshake=%d cipher=%s\n", r, SSL_get_cipher_name(ssl));
            char buf[64];
            if (r == 1) { SSL_write(ssl, "ping\n", 5); r = SSL_read(ssl, buf, sizeof buf); }
            report(ssl, r > 0, "renegotiated");
        }
        if (ok) {
            SSL_write(ssl, "DATA-SENT\n", 10);
            if (sess_out) { FILE *fp = fopen(sess_out, "w"); PEM_write_SSL_SESSION(fp, SSL_get1_session(ssl)); fclose(fp); }
            /* for TLS1.3 pull tickets */
            char buf[16]; struct timeval tv = {0, 300000}; setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            SSL_read(ssl, buf, 0);
            if (sess_out) { FILE *fp = fopen(sess_out, "w"); PEM_write_SSL_SESSION(fp, SSL_get1_session(ssl)); fclose(fp); }
        }
        rc |= !ok;
        SSL_free(ssl);
        if (sess) SSL_SESSION_free(sess);
        close(fd);
    }
    return rc;
}
