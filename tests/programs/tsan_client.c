/*
 * tsan_client — the ThreadSanitizer suite's client (tests/integration/
 * test_tsan.c), built with -fsanitize=thread: many threads of one process
 * making handshakes through one SSL_CTX, each checked against what the
 * policy must decide, optionally resuming sessions other threads made.
 *
 *   tsan_client --cafile FILE [--threads 16] [--per-thread N] [--resume]
 *               --target NAME,PORT,SNI,allow|block [--target ...]
 *               [--until FILE] [--show-maps]
 *
 * As in threaded_client: each thread opens its first connection and waits
 * at a barrier, so the first handshakes of the process race through the
 * shim's lazy initialisation; thread t's i-th handshake goes to target
 * (t + i) mod #targets.
 *
 * --until FILE: after its --per-thread handshakes, each thread goes on
 * until FILE exists (the suite creates it once it has seen what it waits
 * for, e.g. policy reloads reaching decisions: no timing is assumed), or
 * until a handshake had an unexpected outcome.
 *
 * --resume: one session slot per target, shared by all threads under a
 * mutex. Before a handshake the thread offers the slot's session (made by
 * whichever thread stored it last, usually another); after an allowed one
 * it stores its own. So sessions cross threads while other threads decide
 * and the policy is reloaded. Resumed handshakes are counted.
 *
 * Output: "target NAME expect=... handshakes=N ok=N blocked=N other=N
 * resumed=N" per target, then "total handshakes=N misdecided=N other=N
 * resumed=N elapsed_ms=N". Exit 0 only when every handshake had its
 * expected outcome (TSan exits with its own code when it reports).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp_common.h"

#define MAX_TARGETS 8
#define MAX_THREADS 64

struct counts {
    atomic_ulong ok, blocked, other, resumed;
};

static struct tp_target targets[MAX_TARGETS];
static struct counts counts[MAX_TARGETS];
static int n_targets, per_thread = 20, resume;
static const char *until;
static SSL_CTX *ctx;
static pthread_barrier_t start;
static atomic_int reported;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_SESSION *slot[MAX_TARGETS]; /* under slot_lock */

static void count(int tid, int i, int k, enum tp_result r, int resumed, const char *detail)
{
    switch (r) {
    case TP_OK: atomic_fetch_add(&counts[k].ok, 1); break;
    case TP_BLOCKED: atomic_fetch_add(&counts[k].blocked, 1); break;
    case TP_OTHER: atomic_fetch_add(&counts[k].other, 1); break;
    }
    if (resumed)
        atomic_fetch_add(&counts[k].resumed, 1);
    if ((int)r != targets[k].expect && atomic_fetch_add(&reported, 1) < 10)
        fprintf(stderr, "thread %d handshake %d target %s: %s (expected %s): %s\n", tid, i,
                targets[k].name, tp_result_name(r),
                tp_result_name((enum tp_result)targets[k].expect), detail);
}

/* Offer target k's stored session to c (a reference of its own). */
static void offer_session(struct tp_conn *c, int k)
{
    pthread_mutex_lock(&slot_lock);
    if (slot[k])
        SSL_set_session(c->ssl, slot[k]);
    pthread_mutex_unlock(&slot_lock);
}

/* Keep c's session (with the ticket read after the handshake) for others. */
static void store_session(struct tp_conn *c, int k)
{
    SSL_SESSION *s = SSL_get1_session(c->ssl), *old;

    if (!s)
        return;
    pthread_mutex_lock(&slot_lock);
    old = slot[k];
    slot[k] = s;
    pthread_mutex_unlock(&slot_lock);
    SSL_SESSION_free(old);
}

/* One handshake of thread tid to target k on an opened connection. */
static void finish(int tid, int i, int k, struct tp_conn *c)
{
    char detail[1024];
    enum tp_result r = tp_conn_run(c, detail, sizeof(detail));
    int resumed = r == TP_OK && SSL_session_reused(c->ssl);

    if (resume && r == TP_OK) {
        /* Closed properly: OpenSSL marks the session of an SSL freed
         * without a close_notify sent as not resumable. */
        SSL_shutdown(c->ssl);
        store_session(c, k);
    }
    count(tid, i, k, r, resumed, detail);
    tp_conn_close(c);
}

static void *run(void *arg)
{
    int tid = (int)(long)arg, k = tid % n_targets, opened;
    char detail[1024];
    struct tp_conn c;

    /* The first connection is ready before the barrier: after it, nothing
     * but SSL_connect stands between the threads and the shim. */
    opened = tp_conn_open(&c, ctx, targets[k].port, targets[k].sni, detail,
                          sizeof(detail)) == 0;
    pthread_barrier_wait(&start);
    if (opened)
        finish(tid, 0, k, &c);
    else
        count(tid, 0, k, TP_OTHER, 0, detail);

    /* With --until, an unexpected outcome ends the run too: the suite then
     * fails on it at once instead of waiting for what will not come. */
    for (int i = 1; i < per_thread || (until && access(until, F_OK) != 0 &&
                                       atomic_load(&reported) == 0);
         i++) {
        k = (tid + i) % n_targets;
        if (tp_conn_open(&c, ctx, targets[k].port, targets[k].sni, detail, sizeof(detail)) != 0) {
            count(tid, i, k, TP_OTHER, 0, detail);
            continue;
        }
        if (resume)
            offer_session(&c, k);
        finish(tid, i, k, &c);
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

static int usage(void)
{
    fprintf(stderr, "usage: tsan_client --cafile FILE [--threads N] [--per-thread N] [--resume]\n"
                    "       --target NAME,PORT,SNI,allow|block [--target ...] [--until FILE]\n"
                    "       [--show-maps]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cafile = NULL;
    int threads = 16, maps = 0;
    pthread_t tids[MAX_THREADS];
    unsigned long total = 0, misdecided = 0, other = 0, resumed = 0;
    long long t0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a server closing on us is a counted result */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--show-maps") == 0)
            maps = 1;
        else if (strcmp(argv[i], "--resume") == 0)
            resume = 1;
        else if (i + 1 >= argc)
            return usage();
        else if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--until") == 0)
            until = argv[++i];
        else if (strcmp(argv[i], "--per-thread") == 0)
            per_thread = atoi(argv[++i]);
        else if (strcmp(argv[i], "--target") == 0) {
            if (n_targets == MAX_TARGETS || tp_parse_target(argv[++i], &targets[n_targets]) != 0 ||
                targets[n_targets].expect == TP_EXPECT_ANY)
                return usage();
            n_targets++;
        } else
            return usage();
    }
    if (!cafile || n_targets == 0 || threads < 1 || threads > MAX_THREADS || per_thread < 1)
        return usage();
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
                      ot = atomic_load(&counts[k].other), re = atomic_load(&counts[k].resumed);
        printf("target %s expect=%s handshakes=%lu ok=%lu blocked=%lu other=%lu resumed=%lu\n",
               targets[k].name, targets[k].expect == TP_EXPECT_ALLOW ? "allow" : "block",
               ok + bl + ot, ok, bl, ot, re);
        total += ok + bl + ot;
        other += ot;
        resumed += re;
        misdecided += targets[k].expect == TP_EXPECT_ALLOW ? bl : ok;
        SSL_SESSION_free(slot[k]);
    }
    printf("total handshakes=%lu misdecided=%lu other=%lu resumed=%lu elapsed_ms=%lld\n", total,
           misdecided, other, resumed, tp_now_ms() - t0);
    if (maps)
        show_maps();
    SSL_CTX_free(ctx);
    pthread_barrier_destroy(&start);
    return misdecided == 0 && other == 0 ? 0 : 1;
}
