/*
 * threaded_client — many client handshakes from many threads of one
 * process, every one of them checked against what the policy must decide.
 *
 *   threaded_client --cafile FILE [--threads 8] [--per-thread N]
 *                   --target NAME,PORT,SNI,allow|block [--target ...]
 *                   [--show-maps] [--leak-control]
 *
 * All threads share one SSL_CTX, as a real multi-threaded program does.
 * Each thread opens its first connection (TCP connect, SSL_new, SNI) and
 * then waits at a barrier; all are released at once, so the first
 * handshakes of the process race each other through the shim's lazy
 * initialisation (resolving OpenSSL, loading the engine, loading the
 * policy and its modules). Thread t's i-th handshake goes to target
 * (t + i) mod #targets, so every kind is in the first race.
 *
 * Output: one line per target
 *   target NAME expect=allow|block handshakes=N ok=N blocked=N other=N
 * then
 *   total handshakes=N misdecided=N other=N elapsed_ms=N
 * and, on stderr, the first few unexpected outcomes with their details.
 * Exit 0 only when every handshake had its expected outcome.
 *
 * --show-maps prints "mapped <path>" for every file of the process whose
 * path contains "tlspin" (which shim, engine and modules really ran).
 * --leak-control leaks one block on purpose: the positive control showing
 * that a leak checker run over this program does report leaks.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_common.h"

#define MAX_TARGETS 8
#define MAX_THREADS 64

struct counts {
    atomic_ulong ok, blocked, other;
};

static struct tp_target targets[MAX_TARGETS];
static struct counts counts[MAX_TARGETS];
static int n_targets, per_thread = 100;
static SSL_CTX *ctx;
static pthread_barrier_t start;
static atomic_int reported;

static void unexpected(int tid, int i, const struct tp_target *t, enum tp_result r,
                       const char *detail)
{
    if (atomic_fetch_add(&reported, 1) < 10)
        fprintf(stderr, "thread %d handshake %d target %s: %s (expected %s): %s\n", tid, i,
                t->name, tp_result_name(r), tp_result_name((enum tp_result)t->expect), detail);
}

static void count(int tid, int i, int k, enum tp_result r, const char *detail)
{
    switch (r) {
    case TP_OK: atomic_fetch_add(&counts[k].ok, 1); break;
    case TP_BLOCKED: atomic_fetch_add(&counts[k].blocked, 1); break;
    case TP_OTHER: atomic_fetch_add(&counts[k].other, 1); break;
    }
    if ((int)r != targets[k].expect)
        unexpected(tid, i, &targets[k], r, detail);
}

static void *run(void *arg)
{
    int tid = (int)(long)arg;
    char detail[1024];
    struct tp_conn first;
    int k = tid % n_targets, opened;

    /* The first connection is ready before the barrier: after it, nothing
     * but SSL_connect stands between the threads and the shim. */
    opened = tp_conn_open(&first, ctx, targets[k].port, targets[k].sni, detail,
                          sizeof(detail)) == 0;
    pthread_barrier_wait(&start);
    count(tid, 0, k, opened ? tp_conn_run(&first, detail, sizeof(detail)) : TP_OTHER, detail);
    if (opened)
        tp_conn_close(&first);

    for (int i = 1; i < per_thread; i++) {
        k = (tid + i) % n_targets;
        count(tid, i, k, tp_handshake(ctx, targets[k].port, targets[k].sni, detail,
                                      sizeof(detail)), detail);
    }
    return NULL;
}

static void show_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096], seen[32][1024];
    int n_seen = 0;

    while (f && fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        int dup = 0;
        if (!path || !strstr(path, "tlspin"))
            continue;
        path[strcspn(path, "\n")] = '\0';
        for (int i = 0; i < n_seen; i++)
            dup |= strcmp(seen[i], path) == 0;
        if (dup || n_seen == 32)
            continue;
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", path);
        printf("mapped %s\n", path);
    }
    if (f)
        fclose(f);
}

static void usage(void)
{
    fprintf(stderr, "usage: threaded_client --cafile FILE [--threads N] [--per-thread N]\n"
                    "       --target NAME,PORT,SNI,allow|block [--target ...]\n"
                    "       [--show-maps] [--leak-control]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *cafile = NULL;
    int threads = 8, maps = 0, leak = 0;
    pthread_t tids[MAX_THREADS];
    unsigned long total = 0, misdecided = 0, other = 0;
    long long t0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A server closing on us is a result (counted as "other", reported),
     * not a reason for the whole process to die of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--show-maps") == 0) {
            maps = 1;
            continue;
        }
        if (strcmp(argv[i], "--leak-control") == 0) {
            leak = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--per-thread") == 0)
            per_thread = atoi(argv[++i]);
        else if (strcmp(argv[i], "--target") == 0) {
            if (n_targets == MAX_TARGETS || tp_parse_target(argv[++i], &targets[n_targets]) != 0)
                usage();
            if (targets[n_targets].expect == TP_EXPECT_ANY)
                usage();
            n_targets++;
        } else
            usage();
    }
    if (!cafile || n_targets == 0 || threads < 1 || threads > MAX_THREADS || per_thread < 1)
        usage();
    if ((ctx = tp_ctx_new(cafile)) == NULL)
        return 2;

    pthread_barrier_init(&start, NULL, (unsigned)threads);
    t0 = tp_now_ms();
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, run, (void *)(long)t) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 2;
        }
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);

    for (int k = 0; k < n_targets; k++) {
        unsigned long ok = atomic_load(&counts[k].ok), bl = atomic_load(&counts[k].blocked),
                      ot = atomic_load(&counts[k].other);
        printf("target %s expect=%s handshakes=%lu ok=%lu blocked=%lu other=%lu\n",
               targets[k].name, targets[k].expect == TP_EXPECT_ALLOW ? "allow" : "block",
               ok + bl + ot, ok, bl, ot);
        total += ok + bl + ot;
        other += ot;
        misdecided += targets[k].expect == TP_EXPECT_ALLOW ? bl : ok;
    }
    printf("total handshakes=%lu misdecided=%lu other=%lu elapsed_ms=%lld\n", total, misdecided,
           other, tp_now_ms() - t0);
    if (maps)
        show_maps();
    if (leak) {
        static void *volatile sink;
        sink = malloc(4242);
        memset(sink, 1, 4242);
        sink = NULL;
        printf("leaked 4242 bytes on purpose\n");
    }
    SSL_CTX_free(ctx);
    pthread_barrier_destroy(&start);
    return misdecided == 0 && other == 0 ? 0 : 1;
}
