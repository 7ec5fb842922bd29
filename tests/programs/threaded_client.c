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
#include "tp_threads.h"

static struct tp_opts o = {.threads = 8, .per_thread = 100};
static struct tp_counts counts[TP_MAX_TARGETS];
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
    if (!tp_count(&counts[k], &o.targets[k], r, 0))
        unexpected(tid, i, &o.targets[k], r, detail);
}

static void *run(void *arg)
{
    int tid = (int)(long)arg;
    char detail[1024];
    struct tp_conn first;
    int k = tid % o.n_targets, opened;

    /* The first connection is ready before the barrier: after it, nothing
     * but SSL_connect stands between the threads and the shim. */
    opened = tp_conn_open(&first, ctx, o.targets[k].port, o.targets[k].sni, detail,
                          sizeof(detail)) == 0;
    pthread_barrier_wait(&start);
    count(tid, 0, k, opened ? tp_conn_run(&first, detail, sizeof(detail)) : TP_OTHER, detail);
    if (opened)
        tp_conn_close(&first);

    for (int i = 1; i < o.per_thread; i++) {
        k = (tid + i) % o.n_targets;
        count(tid, i, k, tp_handshake(ctx, o.targets[k].port, o.targets[k].sni, detail,
                                      sizeof(detail)),
              detail);
    }
    return NULL;
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
    int leak = 0, failed;
    long long t0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A server closing on us is a result (counted as "other", reported),
     * not a reason for the whole process to die of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        int taken = tp_opts_arg(&o, argc, argv, &i);

        if (taken < 0)
            usage();
        else if (!taken && strcmp(argv[i], "--leak-control") == 0)
            leak = 1;
        else if (!taken)
            usage();
    }
    if (tp_opts_check(&o) != 0)
        usage();
    if ((ctx = tp_ctx_new(o.cafile)) == NULL ||
        tp_run_threads(o.threads, run, &start, &t0) != 0)
        return 2;
    failed = tp_report(o.targets, counts, o.n_targets, 0, t0);
    if (o.show_maps)
        tp_show_maps();
    if (leak) {
        static void *volatile sink;
        sink = malloc(4242);
        memset(sink, 1, 4242);
        sink = NULL;
        printf("leaked 4242 bytes on purpose\n");
    }
    SSL_CTX_free(ctx);
    return failed;
}
