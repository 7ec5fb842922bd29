/*
 * test_tsan.c — the concurrency scenarios under ThreadSanitizer (issue 13,
 * point 4).
 *
 * A TSan build of the shim, the engine and the file module
 * (tests/programs/CMakeLists.txt, <build>/tsan/) is preloaded, after the
 * TSan runtime, into tsan_client (itself built with TSan) or into the
 * uninstrumented fork_client. TSAN_OPTIONS makes the first report fatal
 * (halt_on_error, exitcode 66) and reads tests/tsan.supp, which may only
 * hold races proven to be inside OpenSSL (uninstrumented here). Any report
 * fails the test, and so does any misdecided handshake:
 *
 *   - 16 threads' first handshakes, released together behind a barrier,
 *     race the shim's lazy initialisation while the pinset file and the
 *     policy file are rewritten (atomically) every 300 ms: allowed, refused,
 *     unpinned and report-only hosts, in six fresh processes;
 *   - sessions made by one thread resumed by others, during the same
 *     rewrites;
 *   - fork_client: enforcement in parent, child and grandchild, forking
 *     before and after the first handshake;
 *   - the positive control: a module with a deliberate data race
 *     (tests/programs/tsan_racy_module.c) in the same stack must be reported
 *     by TSan and make the run fail, so a silent checker cannot pass.
 */
#include "harness.h"

#include "../programs/tp_suite.h"
#include "threaded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSAN_DIR    TLSPIN_BUILD_DIR "/tsan"
#define TSAN_CLIENT BIN_DIR "/tsan_client"
#define RACY_MODULE TSAN_DIR "/lib/tlspin/testmodules/tsan_racy.so"
#define TSAN_SUPP   TLSPIN_SOURCE_DIR "/tests/tsan.supp"
#define TSAN_EXIT   66
#define THREADS     16

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* A build without its TSan variant cannot pass this suite: a whole-tree
 * sanitized build (TLSPIN_SANITIZE) leaves it out of CTest
 * (tests/integration/CMakeLists.txt) rather than count it as passed. */
static void assert_built(void)
{
    char *why = read_file(TSAN_DIR "/not-built", NULL);

    ck_assert_msg(why == NULL, "no TSan variant in this build: %s", why ? why : "");
}

/* The environment of a run under TSan: its runtime first in LD_PRELOAD,
 * then the TSan shim, which loads the TSan engine and modules next to
 * itself (variant_env says why first; tsan_client links the runtime
 * itself, and there it changes nothing). */
static const char *const *tsan_env(void)
{
    /* history_size=4: the stacks of both sides of a report, even in long
     * runs; report_signal_unsafe=0: the shim's and the program's signal
     * handling is not what this suite looks at. */
    return variant_env("tsan",
                       "TSAN_OPTIONS=halt_on_error=1:exitcode=66:history_size=4:"
                       "second_deadlock_stack=1:report_signal_unsafe=0:suppressions=" TSAN_SUPP,
                       "no ThreadSanitizer build (" TSAN_DIR "/libtsan.path): the compiler lacks "
                       "-fsanitize=thread, or TLSPIN_SANITIZE is set (a whole-tree sanitized "
                       "build has no TSan variant)? see tests/programs/CMakeLists.txt");
}

/* Every handshake to target `name` had its expected outcome; at least
 * `min` of them. Returns their number. */
static long assert_target(const char *out, const char *name, long min, int allowed)
{
    struct target_counts c = counts_of(out, name);
    ck_assert_msg(c.handshakes >= min && c.other == 0 && c.ok == (allowed ? c.handshakes : 0) &&
                      c.blocked == (allowed ? 0 : c.handshakes),
                  "target %s: handshakes=%ld ok=%ld blocked=%ld other=%ld, expected at least %ld, "
                  "all %s\n%.6000s",
                  name, c.handshakes, c.ok, c.blocked, c.other, min,
                  allowed ? "allowed" : "blocked", out);
    return c.handshakes;
}

/* The usual file policy (rate limit off), with the racy module after the
 * file module when racy; "# generation N" makes each rewrite a change of
 * the policy file itself. Replaced atomically (rename): a reload never
 * catches it half-written (test_rotation.c is about that). */
static void write_policy_gen(unsigned gen, int racy)
{
    const char *tmp = write_file(
        "tlspin.conf.new",
        "# generation %u\n"
        "version = 1;\n"
        "mode = \"enforce\";\n"
        "unpinned = \"allow\";\n"
        "on_error = \"deny\";\n"
        "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
        "stack = (\n"
        "  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }%s\n"
        ");\n",
        gen, H.pinsets,
        racy ? ",\n  { module = \"" RACY_MODULE "\"; control = \"optional\"; }" : "");
    ck_assert_msg(rename(tmp, H.config) == 0, "rename: %s", strerror(errno));
}

static void policy_setup(int racy)
{
    write_policy_gen(1, racy);
    write_good_pinset();
    write_canary(1);
}

/* The canary generations (distinct report-only pinset names, in order of
 * change) in pid's records since mark. */
static int generations_seen(size_t mark, pid_t pid)
{
    size_t n;
    const struct syslog_rec *r = syslog_since(mark, &n);
    char f[512], last[512] = "";
    int generations = 0;

    for (size_t i = 0; i < n; i++) {
        if (!strstr(r[i].msg, "event=pin-mismatch action=allowed-report-only ") ||
            rec_field(&r[i], "pid", f, sizeof f) != 0 || atol(f) != (long)pid ||
            rec_field(&r[i], "pinset", f, sizeof f) != 0 || strcmp(f, last) == 0)
            continue;
        snprintf(last, sizeof last, "%s", f);
        generations++;
    }
    return generations;
}

/* Run argv (a tsan_client with --until STOP_FILE, or anything that ends by
 * itself) in the background under TSan while, every 300 ms, the canary
 * pinset (odd turns) or the policy file (even turns) is rewritten. Once its
 * records show `generations` canary generations (the rewrites reached its
 * decisions), STOP_FILE is created and the client finishes: nothing here
 * waits for a time to pass. 150 s guard against a hang only. Returns its
 * output (malloc'ed); *status gets its wait status. */
#define STOP_FILE "tsan-client.stop"
static char *run_rewriting(const char *const argv[], int racy, int generations, int *status,
                           pid_t *pid)
{
    struct tp_proc p;
    unsigned gen = 1;
    long long end = tp_ms() + 150000, next = tp_ms() + 300;
    size_t mark = syslog_mark();
    char stop[PATH_MAX + 32];

    snprintf(stop, sizeof stop, "%s/" STOP_FILE, H.tmp);
    unlink(stop);
    tp_spawn(&p, "tsan", argv, 0, tsan_env());
    while (!tp_exited(&p)) {
        if (tp_ms() >= end) {
            tp_kill(&p);
            ck_abort_msg("%s did not finish in 150 s:\n%.6000s", argv[0], tp_output(&p));
        }
        if (tp_ms() >= next) {
            gen++;
            if (gen % 2)
                write_canary(gen);
            else
                write_policy_gen(gen, racy);
            next = tp_ms() + 300;
        }
        if (access(stop, F_OK) != 0 && generations_seen(mark, p.pid) >= generations)
            write_file(STOP_FILE, "stop\n");
        tp_sleep_draining(10);
    }
    syslog_drain();
    *status = p.status;
    if (pid)
        *pid = p.pid;
    return tp_output(&p);
}

/* No TSan report of any kind, and a clean exit. */
static void assert_tsan_clean(const char *out, int status)
{
    ck_assert_msg(!strstr(out, "cannot be preloaded"), "the TSan runtime or shim was not "
                                                       "preloaded:\n%.3000s", out);
    ck_assert_msg(!strstr(out, "ThreadSanitizer"), "TSan reported (see tests/tsan.supp for what "
                                                   "may be suppressed):\n%.12000s", out);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "exit status %d (66: a TSan report):\n%.6000s\n--- records ---\n%.3000s",
                  status, out, syslog_dump_since(0));
}

/* argv of tsan_client over four targets: the pinned host, the same name
 * behind the interceptor, an unpinned host, localhost behind the
 * interceptor (report-only). Kept in a static of its own: fmt()'s ring is
 * reused by the rewrites. */
struct client_args {
    char cafile[PATH_MAX], threads[16], per_thread[16], until[PATH_MAX + 32], targets[4][160];
    const char *argv[32];
};

static const char *const *client_argv(struct client_args *a, int good_port, int icpt_port,
                                      int other_port, int per_thread, int resume)
{
    int n = 0;

    snprintf(a->cafile, sizeof a->cafile, "%s", cert("trust.pem"));
    snprintf(a->threads, sizeof a->threads, "%d", THREADS);
    snprintf(a->per_thread, sizeof a->per_thread, "%d", per_thread);
    snprintf(a->until, sizeof a->until, "%s/" STOP_FILE, H.tmp);
    snprintf(a->targets[0], sizeof a->targets[0], "match,%d,good.test,allow", good_port);
    snprintf(a->targets[1], sizeof a->targets[1], "intercepted,%d,good.test,block", icpt_port);
    snprintf(a->targets[2], sizeof a->targets[2], "unpinned,%d,other.test,allow", other_port);
    snprintf(a->targets[3], sizeof a->targets[3], "canary,%d,localhost,allow", icpt_port);
    a->argv[n++] = TSAN_CLIENT;
    a->argv[n++] = "--cafile";
    a->argv[n++] = a->cafile;
    a->argv[n++] = "--threads";
    a->argv[n++] = a->threads;
    a->argv[n++] = "--per-thread";
    a->argv[n++] = a->per_thread;
    a->argv[n++] = "--until";
    a->argv[n++] = a->until;
    a->argv[n++] = "--show-maps";
    if (resume)
        a->argv[n++] = "--resume";
    for (int i = 0; i < 4; i++) {
        a->argv[n++] = "--target";
        a->argv[n++] = a->targets[i];
    }
    a->argv[n] = NULL;
    return a->argv;
}

/* Every handshake decided as the policy says (at least the --per-thread
 * share of each target), and exactly one record per refusal and per
 * report-only handshake. Returns the canary generations seen. */
static int assert_decisions(const char *out, int per_thread, size_t mark, pid_t pid)
{
    long blocked, canary;

    assert_target(out, "match", share_of(0, 4, THREADS, per_thread), 1);
    blocked = assert_target(out, "intercepted", share_of(1, 4, THREADS, per_thread), 0);
    assert_target(out, "unpinned", share_of(2, 4, THREADS, per_thread), 1);
    canary = assert_target(out, "canary", share_of(3, 4, THREADS, per_thread), 1);
    ck_assert_msg(has_line_prefix(out, "total ") && strstr(out, " misdecided=0 other=0 "), "%s",
                  out);
    return assert_records(mark, pid, blocked, canary);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

/* 16 threads' first handshakes racing the lazy initialisation, then more
 * until pinset and policy rewrites have reached the decisions (two canary
 * generations: at least one reload mid-run); six fresh processes. */
START_TEST(first_handshakes_race_rewrites)
{
    static struct client_args a;
    const int runs = 6, per_thread = 8;
    struct servers s;

    assert_built();

    policy_setup(0);
    servers_start(&s);
    for (int run = 0; run < runs; run++) {
        size_t mark = syslog_mark();
        int status, generations;
        pid_t pid;
        char *out = run_rewriting(client_argv(&a, s.good.port, s.icpt.port, s.other.port,
                                              per_thread, 0),
                                  0, 2, &status, &pid);

        printf("tsan run %d: %s", run, strstr(out, "total ") ? strstr(out, "total ") : out);
        assert_tsan_clean(out, status);
        assert_variant_ran(out, "tsan");
        generations = assert_decisions(out, per_thread, mark, pid);
        ck_assert_msg(generations >= 2, "run %d: %d canary generation(s)", run, generations);
        free(out);
    }
    servers_stop(&s);
}
END_TEST

/* Sessions stored by one thread and resumed by others, while pinset and
 * policy are rewritten. tls_server (sequential, tickets and a session
 * cache) serves the allowed hosts: mt_server makes no sessions. */
START_TEST(sessions_resumed_across_threads)
{
    static struct client_args a;
    const int per_thread = 8;
    struct server good, other;
    struct mt_server icpt;
    struct target_counts m, u;
    size_t mark;
    int status, generations;
    pid_t pid;
    char *out, *ev;

    assert_built();

    policy_setup(0);
    server_start(&good, "good");
    server_start(&other, "good-rsa");
    mt_server_start(&icpt, "icpt");
    mark = syslog_mark();
    out = run_rewriting(client_argv(&a, good.port, icpt.port, other.port, per_thread, 1), 0, 3,
                        &status, &pid);
    printf("tsan resume: %s", strstr(out, "total ") ? strstr(out, "total ") : out);
    assert_tsan_clean(out, status);
    assert_variant_ran(out, "tsan");
    generations = assert_decisions(out, per_thread, mark, pid);
    ck_assert_msg(generations >= 3, "%d canary generation(s)", generations);
    /* Resumption did happen, on both allowed hosts (the server agrees);
     * a refused host never has a session to offer. */
    m = counts_of(out, "match");
    u = counts_of(out, "unpinned");
    ck_assert_msg(m.resumed > 0 && u.resumed > 0, "no session was resumed:\n%.3000s", out);
    ck_assert_int_eq(counts_of(out, "intercepted").resumed, 0);
    ev = server_events(&good);
    ck_assert_msg(strstr(ev, "reused=1"), "the server saw no resumption:\n%.3000s", ev);
    free(ev);
    free(out);
    server_stop(&good);
    server_stop(&other);
    mt_server_stop(&icpt);
}
END_TEST

/* fork_client (not instrumented; the TSan runtime preloaded): parent,
 * child and grandchild each decide their own handshakes. */
START_TEST(fork_under_tsan)
{
    struct mt_server good, icpt;
    struct tp_proc p;
    char *out;
    int fork_first = _i;
    const char *argv[10] = {FORK_CLIENT, "--cafile", cert("trust.pem"), "--good", NULL,
                            "--icpt", NULL, NULL, NULL};
    char gp[16], ip[16];

    assert_built();

    policy_setup(0);
    mt_server_start(&good, "good");
    mt_server_start(&icpt, "icpt");
    snprintf(gp, sizeof gp, "%d", good.port);
    snprintf(ip, sizeof ip, "%d", icpt.port);
    argv[4] = gp;
    argv[6] = ip;
    if (fork_first)
        argv[7] = "--fork-first";
    tp_spawn(&p, "fork", argv, 0, tsan_env());
    ck_assert_msg(tp_wait(&p, 120000), "fork_client did not finish");
    out = tp_output(&p);
    printf("fork_client under TSan (%s):\n%s", fork_first ? "fork first" : "handshake first",
           out);
    assert_tsan_clean(out, p.status);
    ck_assert_msg(has_line(out, "wrong=0"), "%s", out);
    ck_assert_msg(strstr(out, "\nchild pid=") && strstr(out, "\ngrandchild pid=") &&
                      strstr(out, "\nparent pid="),
                  "%s", out);
    free(out);
    mt_server_stop(&good);
    mt_server_stop(&icpt);
}
END_TEST

/* Positive control: the same run with a module that races on purpose in
 * the stack is reported by TSan, in that module, and fails. */
START_TEST(deliberate_race_is_reported)
{
    static struct client_args a;
    struct servers s;
    int status;
    char *out;

    assert_built();

    policy_setup(1);
    servers_start(&s);
    out = run_rewriting(client_argv(&a, s.good.port, s.icpt.port, s.other.port, 4, 0), 1, 1,
                        &status, NULL);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == TSAN_EXIT,
                  "the deliberate race did not fail the run (status %d):\n%.6000s", status, out);
    ck_assert_msg(strstr(out, "WARNING: ThreadSanitizer: data race") &&
                      strstr(out, "racy_check") && strstr(out, "tsan_racy.so"),
                  "not the deliberate race that was reported:\n%.6000s", out);
    printf("positive control: %s", strstr(out, "SUMMARY: ThreadSanitizer"));
    free(out);
    servers_stop(&s);
}
END_TEST

static Suite *tsan_suite(void)
{
    Suite *s = suite_create("tsan");
    TCase *tc = harness_tcase("tsan");

    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, first_handshakes_race_rewrites);
    tcase_add_test(tc, sessions_resumed_across_threads);
    tcase_add_loop_test(tc, fork_under_tsan, 0, 2);
    tcase_add_test(tc, deliberate_race_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(tsan_suite());
}
