/*
 * decide_bench — the engine measured directly (it is linked, not preloaded):
 * policy_load() cost and memory for a policy, and the per-handshake decision
 * on a prepared chain, for a pinned and for an unpinned host.
 *
 *   decide_bench --config CONF --moduledir DIR --chain PEM --host NAME
 *                [--miss NAME] [--iters N] [--only load|decide|floor|none]
 *
 * PEM: the verified chain, leaf first, ending at the root. Prints one line:
 *   load_ns=N heap_bytes=N rss_kib=N hit_ns=X miss_ns=X chain_ns=X floor_ns=X
 *   n_certs=N verdict_hit=allow|block verdict_miss=...
 * where hit_ns/miss_ns time decide() alone (the stack and the module's
 * lookup), chain_ns the pins of the chain (chain_from_stack: one SHA-256 per
 * certificate) and floor_ns the floor: one SHA-256 of each certificate's
 * SubjectPublicKeyInfo plus one hash-table lookup, done here by hand.
 *
 * --only is for valgrind --tool=callgrind: the policy is loaded, then only
 * that work runs `iters` times, so the instructions per operation come from
 * the difference of two runs with different --iters.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "chain.h"
#include "decide.h"
#include "peer.h"
#include "policy.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The floor: one SHA-256 per certificate's SPKI, one hash-table lookup. */
static const char *floor_key;
static uint64_t floor_hash;
static volatile int floor_sink;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void floor_once(STACK_OF(X509) *sk, const char *host)
{
    unsigned char md[32];
    for (int i = 0; i < sk_X509_num(sk); i++) {
        unsigned char *der = NULL;
        int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(sk_X509_value(sk, i)), &der);
        unsigned int mdlen;
        EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
        OPENSSL_free(der);
        floor_sink += md[0];
    }
    if (fnv(host) == floor_hash && strcmp(host, floor_key) == 0)
        floor_sink++;
}

static double median_ns_per_op(uint64_t *batches, int n, int per)
{
    qsort(batches, (size_t)n, sizeof(*batches), cmp_u64);
    return (double)batches[n / 2] / per;
}

static void make_id(struct peer_id *id, const char *host)
{
    memset(id, 0, sizeof(*id));
    snprintf(id->host, sizeof(id->host), "%s", host);
    id->source = TLSPIN_HOST_SNI;
    id->port = 443;
    snprintf(id->peer, sizeof(id->peer), "127.0.0.1:443");
}

/* A handshake decides on a fresh chain: forget the chain's answer for the
 * leaf and host (kept to spare a resumption check), so every timed decision
 * pays for X509_check_host as a handshake does. */
static void decide_cold(const struct policy *p, const struct peer_id *id, struct chain *chain,
                        struct decision *d)
{
    chain->leaf_host[0] = '\0';
    decide(p, NULL, id, chain, 0, d, NULL, NULL);
}

int main(int argc, char **argv)
{
    const char *config = NULL, *moduledir = NULL, *pem = NULL, *host = NULL,
               *miss = "unpinned.bench.test", *only = NULL;
    int iters = 20000;

    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--config") == 0) config = v;
        else if (strcmp(a, "--moduledir") == 0) moduledir = v;
        else if (strcmp(a, "--chain") == 0) pem = v;
        else if (strcmp(a, "--host") == 0) host = v;
        else if (strcmp(a, "--miss") == 0) miss = v;
        else if (strcmp(a, "--iters") == 0) iters = atoi(v);
        else if (strcmp(a, "--only") == 0) only = v;
        else {
            fprintf(stderr, "decide_bench: unknown option %s\n", a);
            return 2;
        }
    }
    if (config == NULL || moduledir == NULL || pem == NULL || host == NULL || iters < 1) {
        fprintf(stderr, "usage: decide_bench --config CONF --moduledir DIR --chain PEM "
                        "--host NAME [--miss NAME] [--iters N] [--only load|decide|floor|none]\n");
        return 2;
    }

    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(pem, "r");
    X509 *x;
    while (f && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    if (f)
        fclose(f);
    if (sk_X509_num(sk) < 1) {
        fprintf(stderr, "decide_bench: no certificate in %s\n", pem);
        return 1;
    }
    floor_key = host;
    floor_hash = fnv(host);

    /* Warm OpenSSL (SHA-256 fetch, error strings) before measuring memory. */
    floor_once(sk, host);
    struct mallinfo2 m0 = mallinfo2();
    long r0 = rss_kib();
    uint64_t t0 = now_ns();
    struct policy *p = policy_load(config, moduledir);
    uint64_t load = now_ns() - t0;
    struct mallinfo2 m1 = mallinfo2();
    long r1 = rss_kib();
    if (p == NULL || policy_has_fault(p)) {
        fprintf(stderr, "decide_bench: policy fault: %s\n", p ? policy_first_fault(p) : "no memory");
        return 1;
    }

    struct chain chain;
    struct peer_id hit, mis;
    struct decision d;
    make_id(&hit, host);
    make_id(&mis, miss);
    if (chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &chain) != 0) {
        fprintf(stderr, "decide_bench: chain_from_stack failed\n");
        return 1;
    }

    if (only != NULL) {
        for (int i = 0; i < iters; i++) {
            if (strcmp(only, "decide") == 0)
                decide_cold(p, &hit, &chain, &d);
            else if (strcmp(only, "floor") == 0)
                floor_once(sk, host);
            else if (strcmp(only, "chain") == 0) {
                struct chain c2;
                chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &c2);
                chain_release(&c2);
            }
        }
        printf("only=%s iters=%d\n", only, iters);
        return 0;
    }

    enum { BATCHES = 41 };
    int per = iters / BATCHES > 0 ? iters / BATCHES : 1;
    uint64_t b_hit[BATCHES], b_miss[BATCHES], b_chain[BATCHES], b_floor[BATCHES];
    decide_cold(p, &hit, &chain, &d);
    int verdict_hit = d.action;
    decide_cold(p, &mis, &chain, &d);
    int verdict_miss = d.action;
    for (int b = 0; b < BATCHES; b++) {
        uint64_t s = now_ns();
        for (int i = 0; i < per; i++)
            decide_cold(p, &hit, &chain, &d);
        b_hit[b] = now_ns() - s;
        s = now_ns();
        for (int i = 0; i < per; i++)
            decide_cold(p, &mis, &chain, &d);
        b_miss[b] = now_ns() - s;
        s = now_ns();
        for (int i = 0; i < per; i++) {
            struct chain c2;
            chain_from_stack(sk, TLSPIN_CHAIN_APP_VERIFIED, 0, NULL, 0, &c2);
            chain_release(&c2);
        }
        b_chain[b] = now_ns() - s;
        s = now_ns();
        for (int i = 0; i < per; i++)
            floor_once(sk, host);
        b_floor[b] = now_ns() - s;
    }
    printf("load_ns=%llu heap_bytes=%lld rss_kib=%ld hit_ns=%.1f miss_ns=%.1f chain_ns=%.1f "
           "floor_ns=%.1f n_certs=%d verdict_hit=%s verdict_miss=%s\n",
           (unsigned long long)load, (long long)(m1.uordblks - m0.uordblks), r1 - r0,
           median_ns_per_op(b_hit, BATCHES, per), median_ns_per_op(b_miss, BATCHES, per),
           median_ns_per_op(b_chain, BATCHES, per), median_ns_per_op(b_floor, BATCHES, per),
           sk_X509_num(sk), verdict_hit == ACTION_ALLOW ? "allow" : "block",
           verdict_miss == ACTION_ALLOW ? "allow" : "block");
    chain_release(&chain);
    policy_free(p);
    return 0;
}
