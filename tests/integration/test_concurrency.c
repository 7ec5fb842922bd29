/*
 * test_concurrency.c — threads and process life (issue 3, point 5).
 *
 *   - threaded_client (tests/programs): 8 threads sharing one SSL_CTX make
 *     a few thousand handshakes against three multi-threaded servers
 *     (mt_server): the pinned host with its own key, the pinned host behind
 *     the interceptor's key, an unpinned host. The first handshakes race
 *     through the shim's lazy initialisation behind a barrier. Every
 *     handshake must be decided as the policy says (counted per kind), the
 *     interceptor must receive no request, every refusal must leave exactly
 *     one well-formed record.
 *   - the lazy-initialisation race again, in many fresh processes;
 *   - the same load while the policy is reloaded underneath (pinset file
 *     rewritten every 300 ms): decisions stay right, and report-only
 *     "canary" records show that reloads did happen mid-run;
 *   - under valgrind memcheck and under an AddressSanitizer build of shim,
 *     engine, file module and client (tests/programs/CMakeLists.txt), both
 *     with reloads: no error, no definite leak; each with a positive control
 *     (a deliberate leak is reported) so a silent checker cannot pass;
 *   - stack_client on 64 KiB thread stacks: what tlspin adds to the
 *     program's stack in the decision, the policy's load and reload, the
 *     fallback to the last good policy, the TLS 1.2 staple hold and the
 *     engine's load (issue 13, point 5: at most 4 KB each);
 *   - fork_client: enforcement in parent, child and grandchild, each
 *     recording under its own pid; forking before or after the first
 *     handshake;
 *   - the first handshake of a process made from a constructor: the
 *     program's own C constructor, another shared library's constructor,
 *     the same library's constructor run by dlopen (the shim loads its
 *     engine inside a dlopen, with glibc's loader lock held: it must not
 *     hang), and a C++ static constructor.
 */
#include "harness.h"

#include "../programs/tp_suite.h"
#include "threaded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8

static const struct run_opts shim = {.preload = 1, .timeout_ms = 90000};

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static void assert_counts(const char *out, const char *name, long handshakes, long ok,
                          long blocked)
{
    struct target_counts c = counts_of(out, name);
    ck_assert_msg(c.handshakes == handshakes && c.ok == ok && c.blocked == blocked && c.other == 0,
                  "target %s: handshakes=%ld ok=%ld blocked=%ld other=%ld, expected "
                  "handshakes=%ld ok=%ld blocked=%ld other=0\n%.3000s",
                  name, c.handshakes, c.ok, c.blocked, c.other, handshakes, ok, blocked, out);
}

/* The usual file policy (rate limit off) with good.test pinned to its key. */
static void pinned_policy(void)
{
    write_file_policy("");
    write_good_pinset();
}

/* The interceptor received handshakes only, all refused by the client with
 * an alert, and not one request; the others answered every request. */
static void assert_servers(const struct servers *s, long to_good, long to_icpt, long to_other,
                           long icpt_allowed)
{
    struct mt_stats g = mt_server_wait(&s->good, to_good);
    struct mt_stats i = mt_server_wait(&s->icpt, to_icpt);
    struct mt_stats o = mt_server_wait(&s->other, to_other);

    ck_assert_msg(g.connections == to_good && g.handshake_ok == to_good && g.requests == to_good,
                  "good server: " MT_STATS_FMT ", expected %ld answered", MT_STATS_ARGS(g),
                  to_good);
    ck_assert_msg(o.connections == to_other && o.handshake_ok == to_other &&
                      o.requests == to_other,
                  "unpinned server: " MT_STATS_FMT ", expected %ld answered", MT_STATS_ARGS(o),
                  to_other);
    ck_assert_msg(i.connections == to_icpt && i.handshake_ok == icpt_allowed &&
                      i.requests == icpt_allowed &&
                      i.handshake_failed == to_icpt - icpt_allowed &&
                      i.alerts_received == to_icpt - icpt_allowed,
                  "interceptor: " MT_STATS_FMT ", expected %ld refused with an alert and %ld "
                  "allowed (unpinned host) requests",
                  MT_STATS_ARGS(i), to_icpt - icpt_allowed, icpt_allowed);
}

/* ------------------------------------------------------------------ */
/* threads                                                             */
/* ------------------------------------------------------------------ */

#define PER_THREAD 300

START_TEST(threaded_handshakes_all_decided)
{
    struct servers s;
    struct run_result r;
    long n;
    size_t mark;

    pinned_policy();
    servers_start(&s);
    n = share_of(0, 3, THREADS, PER_THREAD);
    ck_assert_int_eq(n, share_of(1, 3, THREADS, PER_THREAD));
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, THREADED_CLIENT, "--cafile", cert("trust.pem"), "--threads",
                         fmt("%d", THREADS), "--per-thread", fmt("%d", PER_THREAD), "--target",
                         tp_target("match", &s.good, "good.test", "allow"), "--target",
                         tp_target("intercepted", &s.icpt, "good.test", "block"), "--target",
                         tp_target("unpinned", &s.other, "other.test", "allow")),
                     0);
    printf("threaded_client: %s", strstr(r.out, "total ") ? strstr(r.out, "total ") : r.out);
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    assert_counts(r.out, "match", share_of(0, 3, THREADS, PER_THREAD),
                  share_of(0, 3, THREADS, PER_THREAD), 0);
    assert_counts(r.out, "intercepted", share_of(1, 3, THREADS, PER_THREAD), 0,
                  share_of(1, 3, THREADS, PER_THREAD));
    assert_counts(r.out, "unpinned", share_of(2, 3, THREADS, PER_THREAD),
                  share_of(2, 3, THREADS, PER_THREAD), 0);
    ck_assert_msg(has_line_prefix(r.out, fmt("total handshakes=%d misdecided=0 other=0 ",
                                             THREADS * PER_THREAD)),
                  "%s", r.out);
    assert_servers(&s, share_of(0, 3, THREADS, PER_THREAD), share_of(1, 3, THREADS, PER_THREAD),
                   share_of(2, 3, THREADS, PER_THREAD), 0);
    assert_records(mark, r.pid, share_of(1, 3, THREADS, PER_THREAD), 0);
    run_result_free(&r);
    servers_stop(&s);
}
END_TEST

/* The first handshakes of a fresh process, eight at once behind a barrier,
 * over and over: whatever thread wins the lazy initialisation, none of them
 * may see a half-initialised shim, engine or policy. */
START_TEST(lazy_initialisation_race_repeated)
{
    struct servers s;
    struct run_result r;
    const int runs = 25, per_thread = 3;

    pinned_policy();
    servers_start(&s);
    for (int run = 0; run < runs; run++) {
        size_t mark = syslog_mark();
        ck_assert_int_eq(RUN(&r, &shim, THREADED_CLIENT, "--cafile", cert("trust.pem"),
                             "--threads", fmt("%d", THREADS), "--per-thread",
                             fmt("%d", per_thread), "--target",
                             tp_target("match", &s.good, "good.test", "allow"), "--target",
                             tp_target("intercepted", &s.icpt, "good.test", "block"), "--target",
                             tp_target("unpinned", &s.other, "other.test", "allow")),
                         0);
        ck_assert_msg(r.exited && r.code == 0, "run %d: " RUN_FMT, run, RUN_ARGS(&r));
        assert_counts(r.out, "intercepted", 8, 0, 8);
        assert_records(mark, r.pid, 8, 0);
        run_result_free(&r);
    }
    assert_servers(&s, 8L * runs, 8L * runs, 8L * runs, 0);
    servers_stop(&s);
}
END_TEST

/* Run a threaded client in the background while the canary pinset is
 * rewritten every 300 ms; returns the generations written. */
static unsigned run_while_reloading(struct tp_proc *p, int timeout_ms)
{
    unsigned gen = 1;
    long long end = tp_ms() + timeout_ms, next = tp_ms() + 300;

    while (!tp_exited(p)) {
        ck_assert_msg(tp_ms() < end, "the client did not finish in %d ms", timeout_ms);
        if (tp_ms() >= next) {
            write_canary(++gen);
            next = tp_ms() + 300;
        }
        tp_sleep_draining(10);
    }
    syslog_drain();
    return gen;
}

/* 4 targets: match, intercepted, unpinned, canary (the interceptor's key
 * for localhost: allowed, report-only record). */
static const char *const *four_targets(const struct servers *s)
{
    static const char *t[8];
    static char buf[4][128];
    snprintf(buf[0], sizeof buf[0], "%s", tp_target("match", &s->good, "good.test", "allow"));
    snprintf(buf[1], sizeof buf[1], "%s",
             tp_target("intercepted", &s->icpt, "good.test", "block"));
    snprintf(buf[2], sizeof buf[2], "%s", tp_target("unpinned", &s->other, "other.test", "allow"));
    snprintf(buf[3], sizeof buf[3], "%s", tp_target("canary", &s->icpt, "localhost", "allow"));
    for (int i = 0; i < 4; i++) {
        t[2 * i] = "--target";
        t[2 * i + 1] = buf[i];
    }
    return t;
}

static void assert_four_targets(const char *out, int threads, int per_thread)
{
    assert_counts(out, "match", share_of(0, 4, threads, per_thread),
                  share_of(0, 4, threads, per_thread), 0);
    assert_counts(out, "intercepted", share_of(1, 4, threads, per_thread), 0,
                  share_of(1, 4, threads, per_thread));
    assert_counts(out, "unpinned", share_of(2, 4, threads, per_thread),
                  share_of(2, 4, threads, per_thread), 0);
    assert_counts(out, "canary", share_of(3, 4, threads, per_thread),
                  share_of(3, 4, threads, per_thread), 0);
}

START_TEST(threads_while_the_policy_reloads)
{
    struct servers s;
    struct tp_proc p;
    const char *const *t;
    const int per_thread = 200;
    unsigned written;
    int generations;
    size_t mark;
    char *out;

    pinned_policy();
    write_canary(1);
    servers_start(&s);
    t = four_targets(&s);
    mark = syslog_mark();
    tp_spawn(&p, "threaded",
             (const char *const[]){THREADED_CLIENT, "--cafile", cert("trust.pem"), "--threads",
                                   fmt("%d", THREADS), "--per-thread", fmt("%d", per_thread),
                                   t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], NULL},
             1, NULL);
    written = run_while_reloading(&p, 90000);
    out = tp_output(&p);
    printf("threaded_client with reloads (%u pinset generations written): %s", written,
           strstr(out, "total ") ? strstr(out, "total ") : out);
    ck_assert_msg(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "%s:\n%.3000s",
                  tp_status(&p), out);
    assert_four_targets(out, THREADS, per_thread);
    generations = assert_records(mark, p.pid, share_of(1, 4, THREADS, per_thread),
                                 share_of(3, 4, THREADS, per_thread));
    /* Reloads really happened under load: the canary changed generation
     * several times (about once a second). */
    ck_assert_msg(generations >= 3, "only %d canary generation(s) seen in the records", generations);
    assert_servers(&s, share_of(0, 4, THREADS, per_thread),
                   share_of(1, 4, THREADS, per_thread) + share_of(3, 4, THREADS, per_thread),
                   share_of(2, 4, THREADS, per_thread), share_of(3, 4, THREADS, per_thread));
    free(out);
    servers_stop(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* memory checkers                                                     */
/* ------------------------------------------------------------------ */

#define VALGRIND "/usr/bin/valgrind"

/* The argv of a run that is used again after a long wait (the positive
 * controls below run it a second time): its strings in buffers of their
 * own. fmt() and cert() return slots of a ring that write_canary() reuses
 * every 300 ms, so on a loaded machine, where the first run takes longer,
 * they were overwritten before the control ran: the control then exited
 * with a usage error (or ran something else) instead of leaking. */
struct kept_args {
    char cafile[PATH_MAX], threads[16], per_thread[16], targets[8][160];
};

static void keep_args(struct kept_args *k, const char *const *t, int per_thread)
{
    snprintf(k->cafile, sizeof k->cafile, "%s", cert("trust.pem"));
    snprintf(k->threads, sizeof k->threads, "%d", THREADS);
    snprintf(k->per_thread, sizeof k->per_thread, "%d", per_thread);
    for (int i = 0; i < 8; i++)
        snprintf(k->targets[i], sizeof k->targets[i], "%s", t[i]);
}

/* The leak control really ran the client to its deliberate leak: a usage
 * error or a failed start would prove nothing about the checker. */
static void assert_control_ran(const struct run_result *r)
{
    ck_assert_msg(has_line(r->out, "leaked 4242 bytes on purpose") &&
                      has_line_prefix(r->out, "total handshakes=8 misdecided=0 other=0 "),
                  "the leak control did not run to its leak: " RUN_FMT, RUN_ARGS(r));
}

static const char *const *valgrind_args(void)
{
    static const char *const a[] = {VALGRIND,
                                    "--tool=memcheck",
                                    "--error-exitcode=99",
                                    "--leak-check=full",
                                    "--show-leak-kinds=definite",
                                    "--errors-for-leak-kinds=definite",
                                    "--track-origins=yes",
                                    "--fair-sched=yes",
                                    NULL};
    return a;
}

START_TEST(valgrind_memcheck_clean)
{
    struct servers s;
    struct tp_proc p;
    struct run_result r;
    const char *argv[40];
    const char *const *vg = valgrind_args(), *const *t;
    const int per_thread = 12;
    static struct kept_args k;
    size_t n = 0, mark, per_thread_at;
    int generations;
    char *out;

    ck_assert_msg(access(VALGRIND, X_OK) == 0, VALGRIND " is not installed (script/setup)");
    pinned_policy();
    write_canary(1);
    servers_start(&s);
    t = four_targets(&s);
    keep_args(&k, t, per_thread);
    for (size_t i = 0; vg[i]; i++)
        argv[n++] = vg[i];
    argv[n++] = THREADED_CLIENT;
    argv[n++] = "--cafile";
    argv[n++] = k.cafile;
    argv[n++] = "--threads";
    argv[n++] = k.threads;
    argv[n++] = "--per-thread";
    per_thread_at = n;
    argv[n++] = k.per_thread;
    for (int i = 0; i < 8; i++)
        argv[n++] = k.targets[i];
    argv[n] = NULL;

    mark = syslog_mark();
    tp_spawn(&p, "valgrind", argv, 1, NULL);
    run_while_reloading(&p, 120000);
    out = tp_output(&p);
    printf("valgrind: %s", strstr(out, "total ") ? strstr(out, "total ") : out);
    ck_assert_msg(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
                  "under valgrind: %s (99: memcheck found errors or definite leaks):\n%.6000s",
                  tp_status(&p), out);
    ck_assert_msg(strstr(out, "ERROR SUMMARY: 0 errors from 0 contexts"), "%.6000s", out);
    ck_assert_msg(strstr(out, "definitely lost: 0 bytes in 0 blocks") ||
                      strstr(out, "All heap blocks were freed"),
                  "%.6000s", out);
    assert_four_targets(out, THREADS, per_thread);
    generations = assert_records(mark, p.pid, share_of(1, 4, THREADS, per_thread),
                                 share_of(3, 4, THREADS, per_thread));
    ck_assert_msg(generations >= 2, "no reload seen under valgrind (%d generation)", generations);
    free(out);

    /* Positive control: the same run with a deliberate leak fails. */
    argv[n++] = "--leak-control";
    argv[n] = NULL;
    argv[per_thread_at] = "1";
    ck_assert_int_eq(run_argv(&shim, &r, argv), 0);
    assert_control_ran(&r);
    ck_assert_msg(r.exited && r.code == 99 && strstr(r.err, "definitely lost: 4,242 bytes"),
                  "the leak control was not reported: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    servers_stop(&s);
}
END_TEST

#define ASAN_DIR TLSPIN_BUILD_DIR "/asan"

START_TEST(address_sanitizer_clean)
{
    struct servers s;
    struct tp_proc p;
    struct run_result r;
    const char *const *t;
    const int per_thread = 150;
    const char *const *env;
    const char *argv[32];
    static struct kept_args k;
    size_t n = 0, mark, per_thread_at;
    int generations;
    char *out;

    /* The ASan runtime first, then the ASan shim (which loads the ASan
     * engine and file module next to itself). */
    env = variant_env("asan",
                      "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=98:"
                      "detect_stack_use_after_return=1:strict_init_order=1",
                      "no AddressSanitizer build (" ASAN_DIR "/libasan.path): the compiler lacks "
                      "-fsanitize=address? see tests/programs/CMakeLists.txt");

    pinned_policy();
    write_canary(1);
    servers_start(&s);
    t = four_targets(&s);
    keep_args(&k, t, per_thread);
    argv[n++] = BIN_DIR "/threaded_client_asan";
    argv[n++] = "--cafile";
    argv[n++] = k.cafile;
    argv[n++] = "--threads";
    argv[n++] = k.threads;
    argv[n++] = "--per-thread";
    per_thread_at = n;
    argv[n++] = k.per_thread;
    argv[n++] = "--show-maps";
    for (int i = 0; i < 8; i++)
        argv[n++] = k.targets[i];
    argv[n] = NULL;

    mark = syslog_mark();
    tp_spawn(&p, "asan", argv, 0, env);
    run_while_reloading(&p, 120000);
    out = tp_output(&p);
    printf("asan: %s", strstr(out, "total ") ? strstr(out, "total ") : out);
    ck_assert_msg(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
                  "under ASan: %s (98: ASan/LSan report):\n%.6000s", tp_status(&p), out);
    ck_assert_msg(!strstr(out, "Sanitizer"), "%.6000s", out);
    assert_variant_ran(out, "asan");
    assert_four_targets(out, THREADS, per_thread);
    generations = assert_records(mark, p.pid, share_of(1, 4, THREADS, per_thread),
                                 share_of(3, 4, THREADS, per_thread));
    ck_assert_msg(generations >= 3, "only %d canary generation(s) under ASan", generations);
    free(out);

    /* Positive control: LeakSanitizer does report a leak in this setup. */
    {
        const struct run_opts o = {.env = env, .timeout_ms = 60000};
        argv[per_thread_at] = "1";
        argv[n++] = "--leak-control";
        argv[n] = NULL;
        ck_assert_int_eq(run_argv(&o, &r, argv), 0);
        assert_control_ran(&r);
        ck_assert_msg(r.exited && r.code == 98 && strstr(r.err, "detected memory leaks") &&
                          strstr(r.err, "4242 byte(s)"),
                      "the leak control was not reported: " RUN_FMT, RUN_ARGS(&r));
        run_result_free(&r);
    }
    servers_stop(&s);
}
END_TEST

/* The ASan build of the shim is a shim too: preloaded alone into programs
 * that never use TLS, under LD_BIND_NOW, they must run as without it. */
START_TEST(asan_shim_is_a_polite_guest)
{
    const char *const env[] = {"LD_BIND_NOW=1", "LD_PRELOAD=" ASAN_DIR "/lib/tlspin/libtlspin.so",
                               NULL};
    struct run_opts o = {.env = env};
    struct run_result r;

    ck_assert_int_eq(RUN(&r, &o, "/bin/true"), 0);
    ck_assert_msg(r.exited && r.code == 0 && r.err[0] == '\0', "/bin/true: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &o, "/bin/sh", "-c", "echo ok"), 0);
    ck_assert_msg(r.exited && r.code == 0 && strcmp(r.out, "ok\n") == 0 && r.err[0] == '\0',
                  "sh -c: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* small stacks                                                        */
/* ------------------------------------------------------------------ */

#define STACK_CLIENT BIN_DIR "/stack_client"
#define CT_TOOL BIN_DIR "/ct_tool"
/* Issue 13, point 5: what tlspin may put on the program's stack. */
#define DECISION_STACK_MAX 4096
/* The shim's resolution and dlopen of the engine at the first handshake,
 * in SSL_new's SSL_clear: the same 4 KB. It was +9,464 (4.9 KB of the
 * shim's frames, a PATH_MAX buffer among them, then 5 KB of glibc's dlopen
 * mapping the engine and libconfig); now the path is on the heap and the
 * probe, resolution and load run on a private stack (loader/resolve.c),
 * measured +152. */
#define ENGINE_LOAD_STACK_MAX 4096

/* The ceilings of one run: below X509_verify_cert, SSL_connect's start,
 * SSL_clear, and in the CT callback. */
struct stack_limits {
    long verify, start, clear, ct;
};

/* One target's depths, from its line of stack_client's output. */
struct target_depths {
    char name[64];
    long verify, clear, ct, start;
};

#define STACK_TARGETS_MAX 8

/* stack_client's maxima and each target's depths (see
 * tests/programs/stack_client.c). */
struct stack_figures {
    long peak, verify, verify_calls, clear, clear_calls, ct, ct_calls, start, start_calls;
    struct target_depths t[STACK_TARGETS_MAX];
    size_t n;
};

/* stack_client on 64 KiB thread stacks over steps (its --target, --rename,
 * --pause-ms arguments); every target must end as expected. */
static struct stack_figures stack_run(const struct run_opts *o, const char *const steps[])
{
    struct stack_figures f;
    const char *argv[40] = {STACK_CLIENT, "--cafile", cert("trust.pem"), "--stack", "64"};
    struct run_result r;
    size_t n = 5;
    const char *l;

    memset(&f, 0, sizeof(f));
    for (size_t i = 0; steps[i] != NULL && n + 1 < sizeof argv / sizeof *argv; i++)
        argv[n++] = steps[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, &r, argv), 0);
    printf("stack_client (%s):\n%s", o && o->preload ? "tlspin" : "no preload", r.out);
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    l = strstr(r.out, "max thread_peak=");
    ck_assert_msg(l && sscanf(l,
                              "max thread_peak=%ld verify_depth=%ld verify_calls=%ld "
                              "clear_depth=%ld clear_calls=%ld ct_depth=%ld ct_calls=%ld "
                              "start_depth=%ld start_calls=%ld",
                              &f.peak, &f.verify, &f.verify_calls, &f.clear, &f.clear_calls,
                              &f.ct, &f.ct_calls, &f.start, &f.start_calls) == 9,
                  RUN_FMT, RUN_ARGS(&r));
    for (l = r.out; l != NULL && *l != '\0' && f.n < STACK_TARGETS_MAX;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        struct target_depths *t = &f.t[f.n];
        long peak;
        if (sscanf(l,
                   "target %63s result=%*s thread_peak=%ld verify_depth=%ld clear_depth=%ld "
                   "ct_depth=%ld start_depth=%ld",
                   t->name, &peak, &t->verify, &t->clear, &t->ct, &t->start) == 6)
            f.n++;
    }
    run_result_free(&r);
    return f;
}

/* tlspin's share of each point, target by target (a reload is compared
 * with the same handshake without tlspin, never with a first one), the
 * largest over the targets. */
static struct target_depths stack_share(const struct stack_figures *without,
                                        const struct stack_figures *with)
{
    struct target_depths share;

    memset(&share, 0, sizeof(share));
    ck_assert_msg(with->n > 0 && with->n == without->n, "%zu targets with tlspin, %zu without",
                  with->n, without->n);
    for (size_t i = 0; i < with->n; i++) {
        const struct target_depths *w = &with->t[i], *o = NULL;
        for (size_t j = 0; j < without->n && o == NULL; j++)
            if (strcmp(without->t[j].name, w->name) == 0)
                o = &without->t[j];
        ck_assert_msg(o != NULL, "target %s: not in the run without tlspin", w->name);
        if (w->verify - o->verify > share.verify)
            share.verify = w->verify - o->verify;
        if (w->clear - o->clear > share.clear)
            share.clear = w->clear - o->clear;
        if (w->ct - o->ct > share.ct)
            share.ct = w->ct - o->ct;
        if (w->start - o->start > share.start)
            share.start = w->start - o->start;
    }
    return share;
}

/* tlspin's share of each point (with minus without, per target), printed
 * (maxima, then the largest share) and held to the bound. The CT callback
 * runs only under tlspin (the program enables no CT): all of its depth is
 * tlspin's. */
static void assert_stack_bound(const char *what, const struct stack_figures *without,
                               const struct stack_figures *with, const struct stack_limits *max)
{
    struct target_depths share = stack_share(without, with);

    printf("stack (%s): X509_verify_cert %ld without tlspin, %ld with (+%ld); "
           "SSL_connect's start %ld without, %ld with (+%ld); "
           "SSL_clear %ld without, %ld with (+%ld); CT callback %ld; "
           "thread peak %ld without, %ld with (+%ld)\n",
           what, without->verify, with->verify, share.verify, without->start, with->start,
           share.start, without->clear, with->clear, share.clear, share.ct, without->peak,
           with->peak, with->peak - without->peak);
    ck_assert_msg(share.start <= max->start,
                  "%s: tlspin's handshake start (policy load, reload) put %ld bytes on the "
                  "program's stack (at most %ld)",
                  what, share.start, max->start);
    ck_assert_msg(share.verify <= max->verify,
                  "%s: tlspin's decision put %ld bytes on the program's stack (at most %ld)",
                  what, share.verify, max->verify);
    ck_assert_msg(share.clear <= max->clear,
                  "%s: tlspin in SSL_clear (engine load, handshake start) put %ld bytes "
                  "on the program's stack (at most %ld)",
                  what, share.clear, max->clear);
    ck_assert_msg(share.ct <= max->ct,
                  "%s: tlspin's decision after the server's flight put %ld bytes on the "
                  "program's stack (at most %ld)",
                  what, share.ct, max->ct);
}

/* Stages, outside the pinsets directory, the pinset that pins other.test
 * (served with another key): renamed into place between handshakes, it
 * turns the next handshake to other.test into a reload and a refusal. */
static const char *stage_other_pinset(char *dst, size_t dstlen)
{
    snprintf(dst, dstlen, "%s/other.conf", H.pinsets);
    unlink(dst);
    return write_file("other.conf.staged",
                      "pinsets = (\n"
                      "  { name = \"other\"; hosts = [ \"other.test\" ];\n"
                      "    pins = [ \"%s\", \"%s\" ]; }\n"
                      ");\n",
                      pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* Handshakes on 64 KiB thread stacks, in one process: the first (the shim
 * loads the engine, the engine the policy and its modules), an allowed
 * pinned one, a refusal with its record, an unpinned one, and, after the
 * pinsets changed and the reload interval passed, the one that reloads the
 * policy (and is refused by the new pinset: the reload did happen there).
 * Below X509_verify_cert (the decision) and in SSL_connect before the
 * handshake proper (where the policy is loaded and reloaded), tlspin adds
 * at most 4 KB to OpenSSL's own depth; in SSL_clear (the engine's dlopen)
 * too (ENGINE_LOAD_STACK_MAX). */
START_TEST(decision_fits_a_small_stack)
{
    const struct run_opts plain_run = {.timeout_ms = 60000};
    struct servers s;
    struct stack_figures without, with;
    char other_conf[PATH_MAX + 16];
    const char *staged;
    size_t mark;

    pinned_policy();
    servers_start(&s);
    staged = stage_other_pinset(other_conf, sizeof other_conf);
    without = stack_run(
        &plain_run,
        (const char *const[]){"--target", tp_target("match", &s.good, "good.test", "allow"),
                              "--target", tp_target("intercepted", &s.icpt, "good.test", "allow"),
                              "--target", tp_target("unpinned", &s.other, "other.test", "allow"),
                              "--rename", fmt("%s,%s", staged, other_conf), "--pause-ms", "1300",
                              "--target", tp_target("reloaded", &s.other, "other.test", "allow"),
                              NULL});
    staged = stage_other_pinset(other_conf, sizeof other_conf);
    mark = syslog_mark();
    with = stack_run(
        &shim,
        (const char *const[]){"--target", tp_target("match", &s.good, "good.test", "allow"),
                              "--target", tp_target("intercepted", &s.icpt, "good.test", "block"),
                              "--target", tp_target("unpinned", &s.other, "other.test", "allow"),
                              "--rename", fmt("%s,%s", staged, other_conf), "--pause-ms", "1300",
                              "--target", tp_target("reloaded", &s.other, "other.test", "block"),
                              NULL});
    ck_assert_msg(syslog_count_since(mark, "event=pin-mismatch action=blocked ") == 2, "%s",
                  syslog_dump_since(mark));
    /* The measuring functions ran for every handshake. */
    ck_assert_msg(with.verify_calls == 4 && without.verify_calls == 4,
                  "verify_calls=%ld/%ld", without.verify_calls, with.verify_calls);
    ck_assert_msg(with.clear_calls >= 4 && without.clear_calls >= 4, "clear_calls=%ld/%ld",
                  without.clear_calls, with.clear_calls);
    ck_assert_msg(with.start_calls == 4 && without.start_calls == 4, "start_calls=%ld/%ld",
                  without.start_calls, with.start_calls);
    assert_stack_bound("load, decisions, reload", &without, &with,
                       &(struct stack_limits){DECISION_STACK_MAX, DECISION_STACK_MAX,
                                              ENGINE_LOAD_STACK_MAX, DECISION_STACK_MAX});
    servers_stop(&s);
}
END_TEST

/* A broken policy in a new process: the first handshake loads it, finds
 * the fault and loads the last good policy committed to disk in its place
 * (policy_current.c fall_back, last_good.c: the snapshot's checks and its
 * own load), all on the program's thread. Within 4 KB of tlspin's too; the
 * interceptor is still refused (the snapshot enforces). */
START_TEST(last_good_fallback_fits_a_small_stack)
{
    static char state_env[PATH_MAX + 32];
    const char *env[2] = {state_env, NULL};
    const struct run_opts plain_run = {.timeout_ms = 60000, .env = env};
    const struct run_opts shim_run = {.preload = 1, .timeout_ms = 90000, .env = env};
    struct servers s;
    struct stack_figures without, with;
    struct run_result r;
    size_t mark;

    snprintf(state_env, sizeof state_env, "TLSPIN_STATE_DIR=%s/state", H.tmp);
    pinned_policy();
    ck_assert_int_eq(RUN(&r, &plain_run, BIN_DIR "/tlspin", "check", "--config", H.config,
                         "--commit"),
                     0);
    ck_assert_msg(r.exited && strstr(r.out, "committed as the last good policy"),
                  "commit: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    write_policy("version = 1;\nmode = \"enforce\";\nthis is not a setting\n");
    servers_start(&s);
    without = stack_run(
        &plain_run,
        (const char *const[]){"--target", tp_target("match", &s.good, "good.test", "allow"),
                              "--target", tp_target("intercepted", &s.icpt, "good.test", "allow"),
                              NULL});
    mark = syslog_mark();
    with = stack_run(
        &shim_run,
        (const char *const[]){"--target", tp_target("match", &s.good, "good.test", "allow"),
                              "--target", tp_target("intercepted", &s.icpt, "good.test", "block"),
                              NULL});
    ck_assert_msg(syslog_count_since(mark, "action=using-last-good") == 1, "%s",
                  syslog_dump_since(mark));
    assert_stack_bound("broken policy, last good from disk", &without, &with,
                       &(struct stack_limits){DECISION_STACK_MAX, DECISION_STACK_MAX,
                                              ENGINE_LOAD_STACK_MAX, DECISION_STACK_MAX});
    servers_stop(&s);
}
END_TEST

/* ct_tool's output line "NAME=value": value. */
static const char *ct_tool_value(const char *out, const char *name)
{
    const char *v = strstr(out, name);
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];

    ck_assert_msg(v != NULL, "no %s in: %s", name, out);
    ck_assert_int_eq(sscanf(v + strlen(name), "%511s", b), 1);
    return b;
}

/* A CT log key (ct_tool log): its base64 SPKI. */
static const char *ct_log_key(const char *name)
{
    struct run_result r;
    const char *key;

    ck_assert_int_eq(RUN(&r, &(struct run_opts){0}, CT_TOOL, "log", fmt("%s/%s.key", H.tmp, name),
                         "ec"),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "ct_tool log: " RUN_FMT, RUN_ARGS(&r));
    key = ct_tool_value(r.out, "KEY=");
    run_result_free(&r);
    return key;
}

static void ct_tool_ok(const char *const argv[])
{
    struct run_result r;

    ck_assert_int_eq(run_argv(&(struct run_opts){0}, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "ct_tool: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}

/* TLS 1.2 with the ct module (apple policy) against a server whose only
 * SCTs are in its stapled OCSP response: tlspin holds the decision at the
 * certificate and takes it after the server's flight, in the CT callback
 * (it passes only if it waited). The first handshake loads the ct module.
 * Each of X509_verify_cert, SSL_connect's start (the ct module's open())
 * and the CT callback stays within 4 KB of tlspin's, and so does the
 * engine's load (ENGINE_LOAD_STACK_MAX). */
START_TEST(flight_hold_fits_a_small_stack)
{
    const struct run_opts plain_run = {.timeout_ms = 60000};
    struct server srv;
    struct stack_figures without, with;
    const char *a1 = ct_log_key("a1"), *b1 = ct_log_key("b1");
    const char *leaf = fmt("%s/leaf", H.tmp), *list, *ocsp = fmt("%s/leaf.ocsp", H.tmp);
    const char *steps[8];

    list = write_file("ct_log_list.cnf",
                      "enabled_logs = a1, b1\n\n[a1]\ndescription = a1\nkey = %s\noperator = A\n\n"
                      "[b1]\ndescription = b1\nkey = %s\noperator = B\n",
                      a1, b1);
    ct_tool_ok((const char *const[]){CT_TOOL, "leaf", "--issuer", cert("int.pem"), "--issuer-key",
                                     cert("int.key"), "--days", "90", "--key",
                                     fmt("%s.key", leaf), "--cert", fmt("%s.pem", leaf), NULL});
    ct_tool_ok((const char *const[]){CT_TOOL, "scts", "--cert", fmt("%s.pem", leaf), "--ocsp",
                                     ocsp, "--issuer", cert("int.pem"), "--issuer-key",
                                     cert("int.key"), "--log", fmt("%s/a1.key", H.tmp), "--log",
                                     fmt("%s/b1.key", H.tmp), NULL});
    server_s_server(&srv, fmt("%s.pem", leaf), fmt("%s.key", leaf), cert("int.pem"),
                    (const char *const[]){"-www", "-tls1_2", "-status_file", ocsp, NULL});
    write_policy("version = 1;\nmode = \"enforce\";\nunpinned = \"allow\";\n"
                 "on_error = \"deny\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; "
                 "rate_limit_seconds = 0; };\n"
                 "stack = (\n  { module = \"%s\"; control = \"required\";\n"
                 "    args = { log_list = \"%s\"; policy = \"apple\"; }; }\n);\n",
                 MODULE_DIR "/ct.so", list);
    steps[0] = "--target";
    steps[1] = fmt("stapled,%d,good.test,allow", srv.port);
    steps[2] = "--handshake-only";   /* s_server -www answers no "ok" */
    steps[3] = NULL;
    without = stack_run(&plain_run, steps);
    with = stack_run(&shim, steps);
    ck_assert_msg(with.ct_calls >= 1 && without.ct_calls == 0,
                  "the CT callback ran %ld times with tlspin, %ld without", with.ct_calls,
                  without.ct_calls);
    assert_stack_bound("TLS 1.2 staple, flight hold", &without, &with,
                       &(struct stack_limits){DECISION_STACK_MAX, DECISION_STACK_MAX,
                                              ENGINE_LOAD_STACK_MAX, DECISION_STACK_MAX});
    server_stop(&srv);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fork                                                                */
/* ------------------------------------------------------------------ */

/* The pid on the line "<role> pid=N <check> ..." of fork_client. */
static long role_pid(const char *out, const char *role, const char *check)
{
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        long pid;
        char c[64], res[32];
        if (strncmp(l, role, strlen(role)) == 0 && l[strlen(role)] == ' ' &&
            sscanf(l + strlen(role), " pid=%ld %63s %31s", &pid, c, res) == 3 &&
            strcmp(c, check) == 0)
            return pid;
    }
    return -1;
}

START_TEST(fork_keeps_enforcing)
{
    static const char *const roles[] = {"child", "grandchild", "parent"};
    static const char *const checks[] = {"good", "intercepted", "unpinned"};
    struct mt_server good, icpt;
    struct run_result r;
    size_t mark, n;
    const struct syslog_rec *recs;
    int fork_first = _i;

    pinned_policy();
    mt_server_start(&good, "good");
    mt_server_start(&icpt, "icpt");
    mark = syslog_mark();
    if (fork_first)
        ck_assert_int_eq(RUN(&r, &shim, FORK_CLIENT, "--cafile", cert("trust.pem"), "--good",
                             fmt("%d", good.port), "--icpt", fmt("%d", icpt.port), "--fork-first"),
                         0);
    else
        ck_assert_int_eq(RUN(&r, &shim, FORK_CLIENT, "--cafile", cert("trust.pem"), "--good",
                             fmt("%d", good.port), "--icpt", fmt("%d", icpt.port)),
                         0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "wrong=0"), RUN_FMT, RUN_ARGS(&r));
    if (!fork_first)
        ck_assert_msg(role_pid(r.out, "parent-before-fork", "good") == r.pid, "%s", r.out);

    /* Every role made every check, from a pid of its own, with the
     * expected result. */
    long pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = role_pid(r.out, roles[i], "good");
        ck_assert_msg(pids[i] > 0, "no %s line:\n%s", roles[i], r.out);
        for (int c = 0; c < 3; c++)
            ck_assert_msg(role_pid(r.out, roles[i], checks[c]) == pids[i], "%s %s:\n%s", roles[i],
                          checks[c], r.out);
    }
    ck_assert_int_eq(pids[2], r.pid);
    ck_assert_msg(pids[0] != pids[1] && pids[0] != pids[2] && pids[1] != pids[2], "%s", r.out);

    /* One refusal record per process, each under the pid that made it. */
    recs = syslog_since(mark, &n);
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (size_t k = 0; k < n; k++) {
            char f[32];
            if (strstr(recs[k].msg, "event=pin-mismatch action=blocked ") &&
                rec_field(&recs[k], "pid", f, sizeof f) == 0 && atol(f) == pids[i])
                found++;
        }
        ck_assert_msg(found == 1, "%d blocked records from the %s (pid %ld):\n%s", found,
                      roles[i], pids[i], syslog_dump_since(mark));
    }
    ck_assert_msg(syslog_tlspin_count_since(mark) == 3, "%s", syslog_dump_since(mark));
    {
        struct mt_stats st = mt_server_wait(&icpt, 6);
        ck_assert_msg(st.requests == 3 && st.handshake_failed == 3 && st.alerts_received == 3,
                      "interceptor: " MT_STATS_FMT, MT_STATS_ARGS(st));
    }
    run_result_free(&r);
    mt_server_stop(&good);
    mt_server_stop(&icpt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* constructors                                                        */
/* ------------------------------------------------------------------ */

struct ctor_program {
    const char *bin, *tag, *who;
};

static const struct ctor_program ctor_programs[] = {
    {BIN_DIR "/ctor_client", "ctor_client", "ctor"},
    {BIN_DIR "/ctor_lib_client", "ctor_lib_client", "library-ctor"},
    {BIN_DIR "/ctor_dlopen_client", "ctor_dlopen_client", "library-ctor"},
    {BIN_DIR "/ctor_client_cxx", "ctor_client_cxx", "cxx-static-ctor"},
};

static void ctor_run(struct run_result *r, const struct ctor_program *p, int preload,
                     const struct mt_server *s, const char *sni)
{
    char port[32], snienv[300], ca[PATH_MAX + 16];
    const char *const env[] = {port, snienv, ca, NULL};
    struct run_opts o = {.preload = preload, .env = env};

    snprintf(port, sizeof port, "TP_PORT=%d", s->port);
    snprintf(snienv, sizeof snienv, "TP_SNI=%s", sni);
    snprintf(ca, sizeof ca, "TP_CAFILE=%s", cert("trust.pem"));
    ck_assert_int_eq(RUN(r, &o, p->bin), 0);
}

START_TEST(first_handshake_in_a_constructor)
{
    const struct ctor_program *p = &ctor_programs[_i];
    struct mt_server good, icpt;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    if (access(p->bin, X_OK) != 0) {
        /* Only the C++ program is optional: built when CMake finds g++. */
        ck_assert_msg(strcmp(p->tag, "ctor_client_cxx") == 0, "%s was not built", p->bin);
        ck_assert_msg(access("/usr/bin/g++", X_OK) != 0 && access("/usr/bin/c++", X_OK) != 0,
                      "g++ is installed but %s was not built", p->bin);
        printf("no C++ compiler: the C++ static constructor case cannot run here\n");
        return;
    }
    pinned_policy();
    mt_server_start(&good, "good");
    mt_server_start(&icpt, "icpt");

    /* The threat is real: without the shim the constructor's handshake
     * through the interceptor succeeds. */
    ctor_run(&r, p, 0, &icpt, "good.test");
    ck_assert_msg(r.exited && r.code == 0 && has_line_prefix(r.out, fmt("%s: ok ", p->who)) &&
                      has_line(r.out, "main: ctor result=ok"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* Under the shim it is refused, in the constructor, and recorded. */
    mark = syslog_mark();
    ctor_run(&r, p, 1, &icpt, "good.test");
    ck_assert_msg(r.exited && r.code == 1 && has_line_prefix(r.out, fmt("%s: blocked ", p->who)) &&
                      has_line(r.out, "main: ctor result=blocked"),
                  RUN_FMT, RUN_ARGS(&r));
    rec = the_tlspin_record_since(mark);
    ck_assert_str_eq(rec->tag, p->tag);
    ck_assert_msg(strstr(rec->msg, "event=pin-mismatch action=blocked "), "%s", rec->msg);
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pid", fmt("%ld", (long)r.pid));
    run_result_free(&r);

    /* The pinned key passes, silently. */
    mark = syslog_mark();
    ctor_run(&r, p, 1, &good, "good.test");
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "main: ctor result=ok"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    run_result_free(&r);

    {
        struct mt_stats st = mt_server_wait(&icpt, 2);
        ck_assert_msg(st.requests == 1 && st.alerts_received == 1, "interceptor: " MT_STATS_FMT,
                      MT_STATS_ARGS(st));
    }
    mt_server_stop(&good);
    mt_server_stop(&icpt);
}
END_TEST

static Suite *concurrency_suite(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc;

    tc = harness_tcase("threads");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, threaded_handshakes_all_decided);
    tcase_add_test(tc, lazy_initialisation_race_repeated);
    tcase_add_test(tc, threads_while_the_policy_reloads);
    suite_add_tcase(s, tc);

    tc = harness_tcase("memory checkers");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, valgrind_memcheck_clean);
    tcase_add_test(tc, address_sanitizer_clean);
    tcase_add_test(tc, asan_shim_is_a_polite_guest);
    suite_add_tcase(s, tc);

    tc = harness_tcase("small stacks");
    tcase_add_test(tc, decision_fits_a_small_stack);
    tcase_add_test(tc, flight_hold_fits_a_small_stack);
    tcase_add_test(tc, last_good_fallback_fits_a_small_stack);
    suite_add_tcase(s, tc);

    tc = harness_tcase("process life");
    tcase_add_loop_test(tc, fork_keeps_enforcing, 0, 2);
    tcase_add_loop_test(tc, first_handshake_in_a_constructor, 0,
                        (int)(sizeof ctor_programs / sizeof *ctor_programs));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(concurrency_suite());
}
