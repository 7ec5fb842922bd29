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
#include "tp_threads.h"

static struct tp_opts o = {.threads = 16, .per_thread = 20};
static struct tp_counts counts[TP_MAX_TARGETS];
static int resume;
static const char *until;
static SSL_CTX *ctx;
static pthread_barrier_t start;
static atomic_int reported;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_SESSION *slot[TP_MAX_TARGETS]; /* under slot_lock */

static void count(int tid, int i, int k, enum tp_result r, int resumed, const char *detail)
{
    if (!tp_count(&counts[k], &o.targets[k], r, resumed) && atomic_fetch_add(&reported, 1) < 10)
        fprintf(stderr, "thread %d handshake %d target %s: %s (expected %s): %s\n", tid, i,
                o.targets[k].name, tp_result_name(r),
                tp_result_name((enum tp_result)o.targets[k].expect), detail);
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
    int tid = (int)(long)arg, k = tid % o.n_targets, opened;
    char detail[1024];
    struct tp_conn c;

    /* The first connection is ready before the barrier: after it, nothing
     * but SSL_connect stands between the threads and the shim. */
    opened = tp_conn_open(&c, ctx, o.targets[k].port, o.targets[k].sni, detail,
                          sizeof(detail)) == 0;
    pthread_barrier_wait(&start);
    if (opened)
        finish(tid, 0, k, &c);
    else
        count(tid, 0, k, TP_OTHER, 0, detail);

    /* With --until, an unexpected outcome ends the run too: the suite then
     * fails on it at once instead of waiting for what will not come. */
    for (int i = 1; i < o.per_thread || (until && access(until, F_OK) != 0 &&
                                         atomic_load(&reported) == 0);
         i++) {
        k = (tid + i) % o.n_targets;
        if (tp_conn_open(&c, ctx, o.targets[k].port, o.targets[k].sni, detail,
                         sizeof(detail)) != 0) {
            count(tid, i, k, TP_OTHER, 0, detail);
            continue;
        }
        if (resume)
            offer_session(&c, k);
        finish(tid, i, k, &c);
    }
    return NULL;
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
    int failed;
    long long t0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a server closing on us is a counted result */
    for (int i = 1; i < argc; i++) {
        int taken = tp_opts_arg(&o, argc, argv, &i);

        if (taken > 0)
            continue;
        if (taken == 0 && strcmp(argv[i], "--resume") == 0)
            resume = 1;
        else if (taken == 0 && strcmp(argv[i], "--until") == 0 && i + 1 < argc)
            until = argv[++i];
        else
            return usage();
    }
    if (tp_opts_check(&o) != 0)
        return usage();
    if ((ctx = tp_ctx_new(o.cafile)) == NULL ||
        tp_run_threads(o.threads, run, &start, &t0) != 0)
        return 2;

    failed = tp_report(o.targets, counts, o.n_targets, 1, t0);
    for (int k = 0; k < o.n_targets; k++)
        SSL_SESSION_free(slot[k]);
    if (o.show_maps)
        tp_show_maps();
    SSL_CTX_free(ctx);
    return failed;
}
