/*
 * tp_threads.h — what the multi-threaded clients (threaded_client,
 * tsan_client) share besides the handshake itself (tp_common.h): running
 * their threads, counting outcomes per target, the report the suites read,
 * and --show-maps.
 */
#ifndef TP_THREADS_H
#define TP_THREADS_H

#include <stdatomic.h>

#include "tp_common.h"

#include <pthread.h>

#define TP_MAX_THREADS 64
#define TP_MAX_TARGETS 8

/* The options both clients take (their defaults set by the caller). */
struct tp_opts {
    const char *cafile;
    int threads, per_thread, show_maps, n_targets;
    struct tp_target targets[TP_MAX_TARGETS];
};

/* Take argv[*i] if it is --cafile FILE, --threads N, --per-thread N,
 * --target NAME,PORT,SNI,allow|block (the expectation required) or
 * --show-maps, *i then on its value. Returns 1 when taken, 0 when it is
 * none of these, -1 when malformed (no value, a bad target, too many). */
int tp_opts_arg(struct tp_opts *o, int argc, char **argv, int *i);

/* 0 when o is complete and in range: a CA file, a target, 1 to
 * TP_MAX_THREADS threads, at least one handshake each. Else -1. */
int tp_opts_check(const struct tp_opts *o);

/* The outcomes of the handshakes to one target, counted by many threads. */
struct tp_counts {
    atomic_ulong ok, blocked, other, resumed;
};

/* Run fn in n threads, thread t getting (void *)(long)t, and join them;
 * start is initialised for the n threads first (fn waits at it to release
 * them together) and destroyed after; *t0 gets tp_now_ms() at the start.
 * Returns 0, or -1 after printing why when a thread cannot be created: then
 * at once, without joining (the threads started wait at the barrier for the
 * missing one; the caller exits). */
int tp_run_threads(int n, void *(*fn)(void *), pthread_barrier_t *start, long long *t0);

/* Count one handshake's outcome r (and a resumed session). Returns 1 when
 * r is what target t expects, else 0. */
int tp_count(struct tp_counts *c, const struct tp_target *t, enum tp_result r, int resumed);

/* Print, for each of the n targets,
 *   target NAME expect=allow|block handshakes=N ok=N blocked=N other=N
 * then
 *   total handshakes=N misdecided=N other=N elapsed_ms=N
 * (since t0, tp_now_ms), each with " resumed=N" before the line's end, or
 * before elapsed_ms, when with_resumed. Returns 0 when every handshake had
 * its expected outcome, else 1 (the clients' exit status). */
int tp_report(const struct tp_target *t, struct tp_counts *c, int n, int with_resumed,
              long long t0);

/* Print "mapped <path>" once for each file mapped into the process whose
 * path contains "tlspin" (which shim, engine and modules really ran).
 * Returns 0, or -1 when /proc/self/maps cannot be read. */
int tp_show_maps(void);

#endif
