/*
 * test_bypass_files.c — issue 11, case 9: files that are not files.
 *
 * Everything tlspin reads from the file system inside other programs (the
 * policy, the files it @includes, the file module's pinsets, the ct
 * module's log list) is read only when it is a regular file, without ever
 * blocking and under a size cap. A FIFO named *.conf in pins.d used to hang
 * the first handshake of every program, and `tlspin check`, forever. Each
 * object below is put where a file is expected:
 *
 *   a FIFO, a symlink to a FIFO, a unix socket, a symlink to /dev/zero,
 *   /dev/null or /dev/tty, a directory
 *
 * and then:
 *   F1  in pins.d as NAME.conf: a handshake under the shim finishes, the
 *       fault is the file module's (on_error decides: deny refuses, allow
 *       lets it through) and the one record names the file
 *   F2  the same pins.d: `tlspin check` names the file and exits 2
 *   F3  as tlspin.conf itself: refused (the built-in on_error), the record
 *       names it; `tlspin check` names it and exits 2
 *   F4  as a file the policy @includes: the same (the policy cannot be
 *       read whole, so even its on_error = "allow" does not apply); an
 *       @include in a comment is not one, an indented one is
 *   F5  as the ct module's log_list: the ct module's fault, on_error
 *       decides, the record names it; `tlspin check` names it, exits 2
 *   F6  a FIFO as the program `tlspin doctor` is asked about: it says the
 *       program is not a regular file instead of waiting
 *
 * No assertion depends on timing: a hang shows as the harness's timeout
 * (the run is reported timed out), never as a slow run.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"
#define CT_MODULE MODULE_DIR "/ct.so"

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

/* ------------------------------------------------------------------ */
/* The objects                                                          */
/* ------------------------------------------------------------------ */

static void make_fifo(const char *path)
{
    ck_assert_msg(mkfifo(path, 0644) == 0, "mkfifo %s: %s", path, strerror(errno));
}

static void make_fifo_link(const char *path)
{
    const char *target = fmt("%s.target-fifo", path);

    make_fifo(target);
    ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* Bound from inside its directory: sun_path is short. */
static void make_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *slash = strrchr(path, '/');
    char cwd[PATH_MAX];
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(fmt("%.*s", (int)(slash - path), path)), 0);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", slash + 1);
    ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind %s: %s", path,
                  strerror(errno));
    ck_assert_int_eq(listen(fd, 1), 0);      /* stays open: the test process owns it */
    ck_assert_int_eq(chdir(cwd), 0);
}

static void link_to(const char *path, const char *target)
{
    ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

static void make_zero_link(const char *path) { link_to(path, "/dev/zero"); }
static void make_null_link(const char *path) { link_to(path, "/dev/null"); }

static void make_tty_link(const char *path) { link_to(path, "/dev/tty"); }

static void make_directory(const char *path)
{
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

static const struct not_a_file {
    const char *name;            /* also the file's base name */
    void (*make)(const char *path);
} objects[] = {
    {"fifo", make_fifo},
    {"fifo-link", make_fifo_link},
    {"socket", make_socket},
    {"dev-zero", make_zero_link},
    {"dev-null", make_null_link},
    {"dev-tty", make_tty_link},
    {"directory", make_directory},
};
#define N_OBJECTS ((int)(sizeof objects / sizeof *objects))

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void policy(const char *on_error, const char *stack)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"%s\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "stack = (\n%s\n);\n",
                 on_error, stack);
}

static const char *file_entry(void)
{
    return fmt("  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }",
               H.pinsets);
}

/* The program finished on its own: a hang is the harness's timeout. */
static void assert_finished(const struct run_result *r, const char *what)
{
    ck_assert_msg(!r->timed_out && (r->exited || r->signaled), "%s hung: " RUN_FMT, what,
                  RUN_ARGS(r));
}

/* One handshake to the good server for good.test under the shim (with
 * config as TLSPIN_CONFIG, NULL: H.config); refused or allowed as `allow`
 * says, and exactly one record, with `action`, whose reason names `file`. */
static void handshake_decided(int port, const char *config, int allow, const char *file)
{
    struct run_opts o = shim;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark = syslog_mark();

    o.config = config;
    tls_client_run(&r, &o, TLS_CLIENT, port, "good.test", NULL);
    assert_finished(&r, "the handshake");
    if (allow)
        assert_client_ok(&r);
    else
        assert_client_blocked(&r);
    rec = syslog_wait_for_since(mark, "tlspin:", 3000);
    ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "action", allow ? "allowed-policy-error" : "blocked");
    ck_assert_field_has(rec, "reason", file);
    run_result_free(&r);
}

/* `tlspin check --config config` finishes, exits 2 and names `file`. */
static void check_names(const char *config, const char *file)
{
    struct run_result r;

    RUN(&r, &plain, TLSPIN_CLI, "check", "--config", config);
    assert_finished(&r, "tlspin check");
    ck_assert_msg(r.exited && r.code == 2, "tlspin check: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, file) || strstr(r.err, file), "tlspin check does not name %s: "
                  RUN_FMT, file, RUN_ARGS(&r));
    run_result_free(&r);
}

/* ------------------------------------------------------------------ */
/* F1-F2: pins.d                                                        */
/* ------------------------------------------------------------------ */

/* _i = object * 2 + (on_error == allow). */
START_TEST(f1_pinsets_entry_not_a_file)
{
    const struct not_a_file *o = &objects[_i / 2];
    int allow = _i % 2;
    const char *file = fmt("%s/%s.conf", H.pinsets, o->name);
    struct server s;

    policy(allow ? "allow" : "deny", file_entry());
    write_good_pinset();
    o->make(file);
    server_start(&s, "good");
    handshake_decided(s.port, NULL, allow, file);
}
END_TEST

START_TEST(f2_check_names_pinsets_entry)
{
    const struct not_a_file *o = &objects[_i];
    const char *file = fmt("%s/%s.conf", H.pinsets, o->name);

    policy("deny", file_entry());
    write_good_pinset();
    o->make(file);
    check_names(H.config, file);
}
END_TEST

/* ------------------------------------------------------------------ */
/* F3-F4: the policy and what it includes                               */
/* ------------------------------------------------------------------ */

START_TEST(f3_policy_not_a_file)
{
    const struct not_a_file *o = &objects[_i];
    const char *config = fmt("%s/%s-tlspin.conf", H.tmp, o->name);
    struct server s;

    write_good_pinset();
    o->make(config);
    server_start(&s, "good");
    handshake_decided(s.port, config, 0, config);
    check_names(config, config);
}
END_TEST

/* _i = object * 2 + (on_error = allow in the policy): a policy that cannot
 * be read whole is not the policy, so its on_error is not known either and
 * the built-in one (deny) refuses, as for any unreadable policy. */
START_TEST(f4_included_file_not_a_file)
{
    const struct not_a_file *o = &objects[_i / 2];
    int allow = _i % 2;
    const char *inc = fmt("%s/%s.inc", H.tmp, o->name);
    struct server s;

    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"%s\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "@include \"%s.inc\"\n",
                 allow ? "allow" : "deny", o->name);
    write_good_pinset();
    o->make(inc);
    server_start(&s, "good");
    handshake_decided(s.port, NULL, 0, inc);
    check_names(H.config, inc);
}
END_TEST

/* Where an @include line is one: libconfig reads `@include "NAME"` at the
 * start of a line (after blanks), outside comments. The check before
 * libconfig opens anything must see exactly those: a FIFO named in a
 * comment is not read by anyone, a FIFO behind an indented directive is
 * refused. fifo.inc is a FIFO next to the policy. */
static const struct include_row {
    const char *text;
    int is_include;
} include_rows[] = {
    {"/* an old line:\n@include \"fifo.inc\"\n*/\n", 0},
    {"// @include \"fifo.inc\"\n", 0},
    {"# @include \"fifo.inc\"\n", 0},
    {" \t@include \"fifo.inc\"\n", 1},
    {"// a comment\n@include \"fifo.inc\"\n", 1},
    {"/* a comment */\n@include  \"fifo.inc\"\n", 1},
};
#define N_INCLUDE_ROWS ((int)(sizeof include_rows / sizeof *include_rows))

START_TEST(f4_which_include_lines_are_read)
{
    const struct include_row *row = &include_rows[_i];
    const char *inc = fmt("%s/fifo.inc", H.tmp);
    struct run_result r;

    make_fifo(inc);
    write_policy("version = 1;\nstack = ();\n%s", row->text);
    if (row->is_include) {
        check_names(H.config, inc);
        return;
    }
    RUN(&r, &plain, TLSPIN_CLI, "check", "--config", H.config);
    assert_finished(&r, "tlspin check");
    ck_assert_msg(r.exited && r.code != 2 && !strstr(r.out, inc), "row %d: " RUN_FMT, _i,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* F5: the ct module's log list                                         */
/* ------------------------------------------------------------------ */

START_TEST(f5_ct_log_list_not_a_file)
{
    const struct not_a_file *o = &objects[_i / 2];
    int allow = _i % 2;
    const char *list = fmt("%s/%s.json", H.tmp, o->name);
    struct server s;

    policy(allow ? "allow" : "deny",
           fmt("  { module = \"%s\"; control = \"required\"; args = { log_list = \"%s\"; }; }",
               CT_MODULE, list));
    o->make(list);
    server_start(&s, "good");
    handshake_decided(s.port, NULL, allow, list);
    check_names(H.config, list);
}
END_TEST

/* ------------------------------------------------------------------ */
/* F6: the CLI's other readers                                          */
/* ------------------------------------------------------------------ */

/* `tlspin doctor PROGRAM` reads the program's first bytes (a "#!" line?)
 * and its ELF headers: a FIFO named as the program is not a program, and
 * doctor says so instead of waiting for a writer. */
START_TEST(f6_doctor_on_a_fifo)
{
    const char *prog = fmt("%s/prog", H.tmp);
    struct run_result r;

    make_fifo(prog);
    ck_assert_int_eq(chmod(prog, 0755), 0);
    RUN(&r, &plain, TLSPIN_CLI, "doctor", prog);
    assert_finished(&r, "tlspin doctor");
    ck_assert_msg(r.exited && r.code != 0 && strstr(r.out, "not a regular file"),
                  "tlspin doctor: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* F7: a module path that names no regular file (the policy may name a
 * module by path): dlopen() would wait on a FIFO in every program's first
 * handshake. A module that cannot load is a faulty entry, as for a missing
 * one: on_error decides, the record and tlspin check name it. */
START_TEST(f7_module_not_a_file)
{
    const struct not_a_file *o = &objects[_i];
    const char *module = fmt("%s/%s-module.so", H.tmp, o->name);
    struct server s;

    o->make(module);
    policy("deny", fmt("  { module = \"%s\"; control = \"required\"; }", module));
    server_start(&s, "good");
    handshake_decided(s.port, NULL, 0, module);
    check_names(H.config, module);
}
END_TEST

static Suite *files_suite(void)
{
    Suite *s = suite_create("bypass_files");
    TCase *tc;

    tc = harness_tcase("F1-F2 pins.d");
    tcase_add_loop_test(tc, f1_pinsets_entry_not_a_file, 0, 2 * N_OBJECTS);
    tcase_add_loop_test(tc, f2_check_names_pinsets_entry, 0, N_OBJECTS);
    suite_add_tcase(s, tc);

    tc = harness_tcase("F3-F4 the policy and its includes");
    tcase_add_loop_test(tc, f3_policy_not_a_file, 0, N_OBJECTS);
    tcase_add_loop_test(tc, f4_included_file_not_a_file, 0, 2 * N_OBJECTS);
    tcase_add_loop_test(tc, f4_which_include_lines_are_read, 0, N_INCLUDE_ROWS);
    suite_add_tcase(s, tc);

    tc = harness_tcase("F5 the ct log list");
    tcase_add_loop_test(tc, f5_ct_log_list_not_a_file, 0, 2 * N_OBJECTS);
    suite_add_tcase(s, tc);

    tc = harness_tcase("F6 the CLI's other readers");
    tcase_add_test(tc, f6_doctor_on_a_fifo);
    tcase_add_loop_test(tc, f7_module_not_a_file, 0, N_OBJECTS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(files_suite());
}
