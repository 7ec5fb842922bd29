/*
 * test_bypass_records.c — issue 11, case 8: a refusal always leaves its
 * record, whatever the program did to its own syslog(3) state.
 *
 * glibc's syslog(3) obeys the calling program's setlogmask(), ident,
 * facility and LOG_PERROR. A program that masks its warnings (a common
 * "quiet" option) used to drop every tlspin record at the default level
 * while tlspin still refused the handshake. tlspin now writes its records
 * itself to the syslog socket, and never touches the program's own syslog
 * state (no openlog/closelog/setlogmask). Each test drives
 * bypass_records_client (tests/clients) or a real program against the
 * interception proxy's key for a pinned host, and counts the datagrams on
 * the harness's /dev/log:
 *
 *   R1  setlogmask(LOG_UPTO(LOG_ERR)): one record per refusal; the
 *       program's own warnings stay masked, its errors arrive
 *   R2  the same from python3 (syslog.setlogmask)
 *   R3  openlog(own ident, LOG_PID|LOG_PERROR, LOCAL2), closelog mid-run:
 *       one record per refusal, tagged with the program's name in the
 *       policy's facility; the program's own lines keep its ident, facility
 *       and mask; tlspin writes nothing to the program's stderr
 *   R4  threads and a forked child: one record per refusal, each with the
 *       pid of the process that refused
 *   R5  a daemon-like child that closes every descriptor and reopens its
 *       own files on the numbers: tlspin neither writes into nor closes a
 *       descriptor it no longer owns, and its record still arrives
 *   R6  the shim without its engine (its own fail-closed record) under
 *       setlogmask(LOG_UPTO(LOG_CRIT))
 *   R7  a log daemon that never reads (its queue full): the program is not
 *       held forever, every handshake is still refused
 *   R8  a /dev/log that refuses connections: the refusal holds and the
 *       record goes where the program's syslog(3) would send it (stderr
 *       with LOG_PERROR)
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define RECORDS_CLIENT BIN_DIR "/bypass_records_client"
#define CLIENT_NAME "bypass_records_client"

static const struct run_opts shim = {.preload = 1};

/* The usual policy, good.test pinned to the good key, and the interception
 * proxy's server: every handshake to it is refused. Returns the mark. */
static size_t pinned_and_intercepted(struct server *s)
{
    write_file_policy(NULL);
    write_good_pinset();
    server_start(s, "icpt");
    return syslog_mark();
}

/* bypass_records_client against s with the actions (NULL-terminated). */
static void client_run(struct run_result *r, const struct run_opts *o, const struct server *s,
                       const char *const actions[])
{
    const char *argv[40] = {RECORDS_CLIENT, fmt("%d", s->port), cert("trust.pem"), "good.test"};
    size_t n = 4;

    for (size_t i = 0; actions[i] && n < 39; i++)
        argv[n++] = actions[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

/* Every handshake the client made was refused by tlspin (verify result 50,
 * application verification failure), and it ran to its end. */
static void assert_all_refused(const struct run_result *r, int handshakes)
{
    int refused = 0, made = 0;

    ck_assert_msg(r->exited && r->code == 0 && !r->timed_out, "client did not finish: " RUN_FMT,
                  RUN_ARGS(r));
    ck_assert_msg(has_line(r->out, "end"), "no end line: " RUN_FMT, RUN_ARGS(r));
    for (const char *l = r->out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
        const char *rest;
        if (strncmp(l, "hs ", 3) != 0)
            continue;
        made++;
        rest = l + 3 + strspn(l + 3, "0123456789");
        refused += strncmp(rest, " refused verify_result=50\n", 26) == 0;
    }
    ck_assert_msg(made == handshakes && refused == handshakes,
                  "%d of %d handshakes (%d expected) refused by tlspin: " RUN_FMT, refused, made,
                  handshakes, RUN_ARGS(r));
}

/* Exactly `want` tlspin records since mark, each a pin-mismatch refusal in
 * the policy's facility and level, tagged "<program>[<pid>]" with the pid
 * of its field; the number of them with pid `pid` is returned. */
static int assert_refusal_records(size_t mark, size_t want, const char *program, long pid)
{
    size_t n, count = 0;
    const struct syslog_rec *r;
    int with_pid = 0;

    for (int tries = 0; tries < 30 && syslog_tlspin_count_since(mark) < want; tries++)
        syslog_wait_for_since(syslog_mark(), "tlspin:", 100);
    r = syslog_since(mark, &n);
    for (size_t i = 0; i < n; i++) {
        char rpid[32];
        if (strncmp(r[i].msg, "tlspin:", 7) != 0)
            continue;
        count++;
        ck_assert_field(&r[i], "event", "pin-mismatch");
        ck_assert_field(&r[i], "action", "blocked");
        ck_assert_field(&r[i], "program", program);
        ck_assert_msg(r[i].facility == LOG_AUTHPRIV && r[i].severity == LOG_WARNING,
                      "record not in authpriv.warning: %s", r[i].raw);
        ck_assert_int_eq(rec_field(&r[i], "pid", rpid, sizeof rpid), 0);
        ck_assert_msg(strcmp(r[i].tag, program) == 0 &&
                          strstr(r[i].raw, fmt("%s[%s]: tlspin: ", program, rpid)),
                      "record not tagged %s[%s]: %s", program, rpid, r[i].raw);
        with_pid += atol(rpid) == pid;
    }
    ck_assert_msg(count == want, "expected %zu tlspin records, got %zu:\n%s", want, count,
                  syslog_dump_since(mark));
    return with_pid;
}

/* The program's own line `text` arrived (1) or not (0). */
static const struct syslog_rec *own_line(size_t mark, const char *text)
{
    size_t n;
    const struct syslog_rec *r = syslog_since(mark, &n);

    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].msg, text) == 0)
            return &r[i];
    return NULL;
}

static long client_pid(const struct run_result *r, const char *prefix)
{
    long pid = line_number(r->out, prefix);

    ck_assert_msg(pid > 0, "no %s line: " RUN_FMT, prefix, RUN_ARGS(r));
    return pid;
}

/* ------------------------------------------------------------------ */
/* R1-R3: the program's mask, ident, facility, LOG_PERROR               */
/* ------------------------------------------------------------------ */

START_TEST(r1_masked_program_still_gets_the_record)
{
    struct server s;
    struct run_result r;
    size_t mark = pinned_and_intercepted(&s);

    client_run(&r, &shim, &s, (const char *const[]){"mask-err", "say", "hs", "say", NULL});
    assert_all_refused(&r, 1);
    ck_assert_msg(syslog_wait_for_since(mark, "own-err-2", 3000), "the program's error line "
                  "never arrived:\n%s", syslog_dump_since(mark));
    assert_refusal_records(mark, 1, CLIENT_NAME, client_pid(&r, "pid="));
    /* The program's mask is still its own: warnings dropped, errors sent. */
    ck_assert_msg(own_line(mark, "own-err-1") && !own_line(mark, "own-warning-1") &&
                      !own_line(mark, "own-warning-2"),
                  "the program's mask changed:\n%s", syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* A real program: python3 masks its warnings with syslog.setlogmask. */
START_TEST(r2_python_setlogmask_still_gets_the_record)
{
    static const char script[] =
        "import socket, ssl, sys, syslog\n"
        "syslog.setlogmask(syslog.LOG_UPTO(syslog.LOG_ERR))\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
        "try:\n"
        "    with socket.create_connection(('127.0.0.1', int(sys.argv[1]))) as s:\n"
        "        with ctx.wrap_socket(s, server_hostname='good.test') as t:\n"
        "            print('ok')\n"
        "except ssl.SSLError as e:\n"
        "    print('refused', e.verify_code)\n"
        "syslog.syslog(syslog.LOG_WARNING, 'py-own-warning')\n"
        "syslog.syslog(syslog.LOG_ERR, 'py-own-err')\n";
    struct server s;
    struct run_result r;
    size_t mark = pinned_and_intercepted(&s);

    RUN(&r, &shim, PYTHON3, "-c", script, fmt("%d", s.port), cert("trust.pem"));
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "refused 50"),
                  "python3 was not refused by tlspin: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(syslog_wait_for_since(mark, "py-own-err", 3000), "python's own error line "
                  "never arrived:\n%s", syslog_dump_since(mark));
    assert_refusal_records(mark, 1, "python3", r.pid);
    ck_assert_msg(!own_line(mark, "py-own-warning"), "python's mask changed:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

START_TEST(r3_own_ident_facility_perror_and_closelog)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *own;
    size_t mark = pinned_and_intercepted(&s);
    long pid;

    client_run(&r, &shim, &s,
               (const char *const[]){"openlog", "mask-err", "say", "hs", "closelog", "say", "hs",
                                     "say", NULL});
    assert_all_refused(&r, 2);
    pid = client_pid(&r, "pid=");
    ck_assert_msg(syslog_wait_for_since(mark, "own-err-3", 3000), "the program's last line "
                  "never arrived:\n%s", syslog_dump_since(mark));
    ck_assert_int_eq(assert_refusal_records(mark, 2, CLIENT_NAME, pid), 2);
    /* The program's own lines: its ident with [pid] and its facility until
     * it closed the log, its mask throughout. */
    own = own_line(mark, "own-err-1");
    ck_assert_msg(own && own->facility == LOG_LOCAL2 && own->severity == LOG_ERR &&
                      strcmp(own->tag, "recprobe") == 0 &&
                      strstr(own->raw, fmt("recprobe[%ld]: own-err-1", pid)),
                  "the program's own line lost its ident or facility:\n%s",
                  syslog_dump_since(mark));
    ck_assert_msg(own_line(mark, "own-err-2") && own_line(mark, "own-err-3"),
                  "the program's lines after closelog are missing:\n%s", syslog_dump_since(mark));
    for (int i = 1; i <= 3; i++)
        ck_assert_msg(!own_line(mark, fmt("own-warning-%d", i)), "the program's mask changed:\n%s",
                      syslog_dump_since(mark));
    /* LOG_PERROR is the program's choice for its own lines: they are on its
     * stderr, tlspin's records are not. */
    ck_assert_msg(strstr(r.err, "own-err-1") && !strstr(r.err, "tlspin:"),
                  "stderr: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* R4-R5: threads, fork, descriptors the program takes back             */
/* ------------------------------------------------------------------ */

START_TEST(r4_threads_and_forked_child)
{
    struct server s;
    struct run_result r;
    size_t mark = pinned_and_intercepted(&s);
    long pid, child;

    client_run(&r, &shim, &s,
               (const char *const[]){"mask-err", "threads=4", "fork", "hs", NULL});
    assert_all_refused(&r, 5);
    pid = client_pid(&r, "pid=");
    child = client_pid(&r, "child pid=");
    ck_assert_int_eq(assert_refusal_records(mark, 5, CLIENT_NAME, pid), 4);
    ck_assert_int_eq(assert_refusal_records(mark, 5, CLIENT_NAME, child), 1);
    run_result_free(&r);
}
END_TEST

START_TEST(r5_descriptor_taken_back_by_the_program)
{
    struct server s;
    struct run_result r;
    const char *victim = fmt("%s/victim", H.tmp);
    size_t mark = pinned_and_intercepted(&s), len = 0;
    char *text;
    long child;

    client_run(&r, &shim, &s,
               (const char *const[]){"hs", "fork", "closefds",
                                     fmt("squat=%s", victim), "hs", "squat-check", NULL});
    assert_all_refused(&r, 2);
    child = client_pid(&r, "child pid=");
    /* Every file the program opened on the freed numbers is still open and
     * received nothing. */
    long open_now = line_number(r.out, "squatters-open=");
    ck_assert_msg(open_now > 0 && strstr(r.out, fmt("squatters-open=%ld of %ld\n", open_now,
                                                    open_now)),
                  "a descriptor of the program was closed under it: " RUN_FMT, RUN_ARGS(&r));
    text = read_file(victim, &len);
    ck_assert_msg(text && len == 0, "the program's file received %zu bytes: %.300s", len,
                  text ? text : "(missing)");
    free(text);
    ck_assert_int_eq(assert_refusal_records(mark, 2, CLIENT_NAME, child), 1);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* R6: the shim's own record                                           */
/* ------------------------------------------------------------------ */

/* libtlspin.so copied alone: its engine cannot be loaded (static path). */
static const char *lonely_shim(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof path, "%s/lonely/libtlspin.so", H.tmp);
    run_sh(fmt("mkdir -p '%s/lonely' && cp '%s' '%s'", H.tmp, SHIM_PATH, path));
    return path;
}

START_TEST(r6_shim_without_engine_masked_program)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *env[] = {fmt("LD_PRELOAD=%s", lonely_shim()),
                         fmt("TLSPIN_CONFIG=%s", H.config), NULL};
    const struct run_opts lonely = {.env = env};
    size_t mark;

    write_file_policy(NULL);
    server_start(&s, "good");           /* only the missing engine refuses */
    mark = syslog_mark();
    client_run(&r, &lonely, &s, (const char *const[]){"mask-crit", "hs", NULL});
    assert_all_refused(&r, 1);
    rec = syslog_wait_for_since(mark, "event=policy-error", 3000);
    ck_assert_msg(rec != NULL, "the shim's record was dropped:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field_has(rec, "reason", "libtlspin-engine.so");
    ck_assert_msg(rec->facility == LOG_AUTHPRIV && rec->severity == LOG_ERR &&
                      strstr(rec->raw, fmt("%s[%d]: tlspin: ", CLIENT_NAME, (int)r.pid)),
                  "record: %s", rec->raw);
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* R7-R8: a log daemon that does not read, a socket that refuses        */
/* ------------------------------------------------------------------ */

/* In this test's own mount namespace, `what` is bind-mounted over /dev/log. */
static void dev_log_replaced_by(const char *what)
{
    test_private_mounts();
    ck_assert_msg(mount(what, "/dev/log", NULL, MS_BIND, NULL) == 0, "bind %s on /dev/log: %s",
                  what, strerror(errno));
}

/* A bound datagram socket nobody reads: its queue fills after
 * net.unix.max_dgram_qlen datagrams (10 by default). */
static int wedged_log_daemon(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    const char *path = fmt("%s/wedged.sock", H.tmp);

    ck_assert_msg(strlen(path) < sizeof sa.sun_path, "%s: too long for a socket", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind: %s", strerror(errno));
    dev_log_replaced_by(sa.sun_path);
    return fd;
}

START_TEST(r7_log_daemon_that_never_reads)
{
    struct server s;
    struct run_result r;
    int daemon_fd;

    pinned_and_intercepted(&s);
    daemon_fd = wedged_log_daemon();
    client_run(&r, &shim, &s, (const char *const[]){"hs=16", NULL});
    assert_all_refused(&r, 16);
    run_result_free(&r);
    close(daemon_fd);
}
END_TEST

START_TEST(r8_log_socket_refuses)
{
    struct server s;
    struct run_result r;

    pinned_and_intercepted(&s);
    dev_log_replaced_by(write_file("not-a-socket", "%s", ""));
    client_run(&r, &shim, &s, (const char *const[]){"openlog", "hs", NULL});
    assert_all_refused(&r, 1);
    ck_assert_msg(strstr(r.err, "tlspin: event=pin-mismatch action=blocked"),
                  "the record did not reach the program's LOG_PERROR: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

static Suite *records_suite(void)
{
    Suite *s = suite_create("bypass_records");
    TCase *tc;

    tc = harness_tcase("R1-R3 the program's own syslog state");
    tcase_add_test(tc, r1_masked_program_still_gets_the_record);
    tcase_add_test(tc, r2_python_setlogmask_still_gets_the_record);
    tcase_add_test(tc, r3_own_ident_facility_perror_and_closelog);
    suite_add_tcase(s, tc);

    tc = harness_tcase("R4-R5 threads, fork, descriptors");
    tcase_add_test(tc, r4_threads_and_forked_child);
    tcase_add_test(tc, r5_descriptor_taken_back_by_the_program);
    suite_add_tcase(s, tc);

    tc = harness_tcase("R6 the shim's record");
    tcase_add_test(tc, r6_shim_without_engine_masked_program);
    suite_add_tcase(s, tc);

    tc = harness_tcase("R7-R8 the log socket");
    tcase_add_test(tc, r7_log_daemon_that_never_reads);
    tcase_add_test(tc, r8_log_socket_refuses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(records_suite());
}
