/*
 * hs_client — timed TLS 1.3 client handshakes against 127.0.0.1.
 *
 *   hs_client --port P --host NAME --cafile FILE [--n 1000] [--warmup 20]
 *             [--mode full|resume] [--threads 1] [--out FILE]
 *
 * Each handshake: TCP connect, SSL_new, SNI + SSL_set1_host (verified),
 * SSL_connect; that interval is the latency recorded. Then one request, the
 * response read to EOF (which also collects TLS 1.3 session tickets),
 * close_notify. In resume mode every handshake offers the newest session
 * received and counts whether the server resumed it.
 *
 * The process's very first handshake (which pays tlspin's lazy load and
 * OpenSSL's own first-use costs) is reported as first_ns and is not a sample;
 * then `warmup` more handshakes are not samples either. With --threads T,
 * every thread makes n handshakes, all start at a barrier, and rate is
 * handshakes per second over the wall time from the barrier to the last.
 *
 * cpu_ns: the process's CPU time (user + system, all threads) from the
 * barrier to the last handshake: the client's own cost, which a busy
 * machine disturbs less than latency.
 *
 * --out FILE: one latency in ns per line. stdout, one line:
 *   tlspin_engine=0|1 cpu_ns=N handshakes=N ok=N failed=N reused=N first_ns=N elapsed_ns=N rate=R
 * Exit 0 only when every handshake succeeded (and, resuming, was resumed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static SSL_CTX *ctx;
static int port, n_per_thread = 1000, warmup = 20, resume;
static const char *host = "good.test";
static pthread_barrier_t barrier;
static atomic_ulong n_ok, n_failed, n_reused;

struct worker {
    pthread_t tid;
    uint64_t *lat;
    int n;
    SSL_SESSION *sess;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One connection; returns the handshake latency in ns, 0 on failure. */
static uint64_t one(struct worker *w)
{
    static const char req[] = "GET / HTTP/1.0\r\nHost: bench\r\n\r\n";
    struct sockaddr_in sa;
    char buf[512];
    uint64_t t0 = now_ns(), t1;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = 0;
    SSL *ssl = NULL;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    ssl = SSL_new(ctx);
    if (ssl == NULL)
        goto out;
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set1_host(ssl, host);
    if (resume && w->sess != NULL)
        SSL_set_session(ssl, w->sess);
    if (SSL_connect(ssl) != 1)
        goto out;
    t1 = now_ns();
    if (resume && w->sess != NULL && SSL_session_reused(ssl))
        atomic_fetch_add(&n_reused, 1);
    if (SSL_write(ssl, req, (int)sizeof(req) - 1) <= 0)
        goto out;
    while (SSL_read(ssl, buf, sizeof(buf)) > 0)
        ;
    if (resume) {
        SSL_SESSION *s = SSL_get1_session(ssl);
        if (s != NULL && SSL_SESSION_is_resumable(s)) {
            SSL_SESSION_free(w->sess);
            w->sess = s;
        } else {
            SSL_SESSION_free(s);
        }
    }
    SSL_shutdown(ssl);
    ok = 1;
out:
    if (!ok) {
        unsigned long e = ERR_peek_last_error();
        if (atomic_load(&n_failed) < 3)
            fprintf(stderr, "hs_client: handshake failed: %s\n",
                    e ? ERR_error_string(e, NULL) : "connect/io error");
    }
    ERR_clear_error();
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    atomic_fetch_add(ok ? &n_ok : &n_failed, 1);
    return ok ? t1 - t0 : 0;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < warmup; i++)
        one(w);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < w->n; i++)
        w->lat[i] = one(w);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *cafile = NULL, *out = NULL, *mode = "full";
    int threads = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            goto usage;
        i++;
        if (strcmp(a, "--port") == 0) port = atoi(v);
        else if (strcmp(a, "--host") == 0) host = v;
        else if (strcmp(a, "--cafile") == 0) cafile = v;
        else if (strcmp(a, "--n") == 0) n_per_thread = atoi(v);
        else if (strcmp(a, "--warmup") == 0) warmup = atoi(v);
        else if (strcmp(a, "--mode") == 0) mode = v;
        else if (strcmp(a, "--threads") == 0) threads = atoi(v);
        else if (strcmp(a, "--out") == 0) out = v;
        else goto usage;
    }
    if (port <= 0 || cafile == NULL || n_per_thread < 0 || warmup < 0 || threads < 1 ||
        threads > 64 || (strcmp(mode, "full") != 0 && strcmp(mode, "resume") != 0))
        goto usage;
    resume = strcmp(mode, "resume") == 0;

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

    struct worker *ws = calloc((size_t)threads, sizeof(*ws));
    /* The process's first handshake: lazy loads of tlspin and OpenSSL. */
    uint64_t first = one(&ws[0]);
    for (int t = 0; t < threads; t++) {
        ws[t].n = n_per_thread;
        ws[t].lat = calloc((size_t)n_per_thread + 1, sizeof(uint64_t));
        if (t > 0 && ws[0].sess != NULL && SSL_SESSION_up_ref(ws[0].sess))
            ws[t].sess = ws[0].sess;
    }
    atomic_store(&n_ok, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&n_reused, 0);
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++)
        pthread_create(&ws[t].tid, NULL, run, &ws[t]);
    pthread_barrier_wait(&barrier);
    uint64_t t0 = now_ns();
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    for (int t = 0; t < threads; t++)
        pthread_join(ws[t].tid, NULL);
    uint64_t elapsed = now_ns() - t0;
    getrusage(RUSAGE_SELF, &ru1);
    /* CPU time of the process (all threads) over the timed handshakes */
    long long cpu_us = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000LL +
                       (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                       (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000LL +
                       (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
    /* counters include the warm-up handshakes: count the samples instead */
    unsigned long ok = 0, failed = 0;
    FILE *f = out ? fopen(out, "w") : NULL;
    if (out && f == NULL) {
        perror(out);
        return 1;
    }
    for (int t = 0; t < threads; t++)
        for (int i = 0; i < ws[t].n; i++) {
            if (ws[t].lat[i] == 0) {
                failed++;
                continue;
            }
            ok++;
            if (f)
                fprintf(f, "%llu\n", (unsigned long long)ws[t].lat[i]);
        }
    if (f)
        fclose(f);
    unsigned long total = (unsigned long)threads * (unsigned long)n_per_thread;
    /* Which tlspin really ran: the engine is mapped only once the shim
     * loaded it at the first handshake. */
    int engine = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (maps && fgets(line, sizeof(line), maps))
        if (strstr(line, "libtlspin-engine.so") != NULL)
            engine = 1;
    if (maps)
        fclose(maps);
    printf("tlspin_engine=%d cpu_ns=%lld ", engine, cpu_us * 1000);
    printf("handshakes=%lu ok=%lu failed=%lu reused=%lu first_ns=%llu elapsed_ns=%llu rate=%.1f\n",
           total, ok, failed + (first == 0), atomic_load(&n_reused), (unsigned long long)first,
           (unsigned long long)elapsed, elapsed ? (double)ok * 1e9 / (double)elapsed : 0.0);
    int bad = failed > 0 || first == 0 || atomic_load(&n_failed) > 0;
    if (resume && atomic_load(&n_reused) < (unsigned long)threads * (unsigned long)(n_per_thread + warmup) - 1)
        bad = 1;
    return bad ? 1 : 0;
usage:
    fprintf(stderr, "usage: hs_client --port P --host NAME --cafile FILE [--n 1000] "
                    "[--warmup 20] [--mode full|resume] [--threads 1] [--out FILE]\n");
    return 2;
}
