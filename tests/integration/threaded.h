/*
 * threaded.h — what the suites running the multi-threaded clients
 * (test_concurrency: threaded_client; test_tsan: tsan_client) share: their
 * three servers, the canary pinset whose generations show reloads in the
 * records, the clients' per-target counts and the records they must leave,
 * and the environment of a run under a sanitizer variant
 * (tests/programs/CMakeLists.txt, <build>/<kind>/).
 *
 * Include after harness.h and ../programs/tp_suite.h.
 */
#ifndef THREADED_H
#define THREADED_H

#include <stddef.h>
#include <sys/types.h>

/* The three servers: the pinned key, the interceptor, an unpinned host's.
 * (mt_server names its files with a counter of its own in each file that
 * includes tp_suite.h: do not start one of the same id next to these in the
 * same test by hand.) */
struct servers {
    struct mt_server good, icpt, other;
};

void servers_start(struct servers *s);
void servers_stop(struct servers *s);

/* Report-only pinset "canary-<gen>" for "localhost" (which every leaf's SAN
 * holds): the interceptor's key mismatches it, so each handshake to
 * localhost leaves an allowed-report-only record saying which generation of
 * the policy decided it. Replaced atomically (rename): a reload never
 * catches it half-written (test_rotation.c is about that). */
void write_canary(unsigned gen);

/* Handshakes to target k when `threads` threads make `per_thread` each and
 * thread t's i-th goes to target (t + i) mod n. */
long share_of(int k, int n, int threads, int per_thread);

/* The "target NAME expect=... handshakes=N ok=N blocked=N other=N
 * [resumed=N]" line of a client's output; resumed is -1 where the client
 * does not count resumptions (threaded_client). Fails the test without
 * one. */
struct target_counts {
    long handshakes, ok, blocked, other, resumed;
};

struct target_counts counts_of(const char *out, const char *name);

/* Every tlspin record since mark is of pid and parses: `blocked`
 * pin-mismatch refusals of good.test (pinset api, the interceptor's key
 * against the good one) and `canary` report-only records of localhost,
 * nothing else. Returns the canary generations seen (distinct pinset names
 * in a row). */
int assert_records(size_t mark, pid_t pid, long blocked, long canary);

/* The environment of a run of a sanitizer variant (kind "asan" or "tsan"):
 * LD_PRELOAD=<its runtime, from <build>/<kind>/lib<kind>.path>:<its shim>,
 * TLSPIN_CONFIG=H.config, and options ("ASAN_OPTIONS=..."). The runtime
 * first: in a program that does not link it, it would otherwise come in as
 * the shim's dependency, after libc in the lookup order, its interceptors
 * blind to the program's calls. Fails the test, saying `missing`, when the
 * variant was not built. Static: valid until the next call (tp_spawn and
 * run_argv copy it). */
const char *const *variant_env(const char *kind, const char *options, const char *missing);

/* The shim, engine and file module of variant kind are what ran (the
 * client's --show-maps lines), not those of the real build. */
void assert_variant_ran(const char *out, const char *kind);

#endif
