/*
 * test_strict_modes.c — issue 13: StrictModes for everything loaded into
 * every process, what `tlspin check` (as root) says an unprivileged process
 * sees, and bounded cost.
 *
 * The policy, what it @includes, the pinsets and their directory, the ct
 * log list and every module .so, and every directory above each, must be
 * owned by root (or the process's euid) and not writable by group or
 * others; a sticky directory writable by others (/tmp, where H.root lives)
 * is accepted on the way, because what lies in it is root's. Symbolic links
 * are followed only when the link is root's (or the euid's), and the target
 * is walked under the same rules. A violation is the fault of that file: a
 * module error (on_error decides, here deny) or an unreadable policy, with
 * one record naming the file and the rule; `tlspin check` names it too.
 *
 * Each handshake is a real one: tls_client under the shim against the
 * suite's good server, as root, and as nobody through setpriv (the harness
 * runs as root). H.root and H.tmp are mkdtemp'ed 0700 by the harness; the
 * cases that run as nobody or ask check about other users open them (0755).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

static const char *file_entry(const char *module)
{
    return fmt("  { module = \"%s\"; control = \"required\"; args = { pinsets = \"%s\"; }; }",
               module, H.pinsets);
}

static void policy(const char *stack)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"deny\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "stack = (\n%s\n);\n",
                 stack);
    mkdir(H.pinsets, 0755);
}

/* One handshake for good.test under the shim, run directly or as nobody:
 * allowed without a record, or refused with one record whose reason has
 * every string of `want` (NULL-terminated). */
static void handshake(int port, int as_nobody, int allow, const char *const want[])
{
    struct run_result r;
    size_t mark = syslog_mark();

    if (as_nobody) {
        const char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", TLS_CLIENT, "--connect",
                              fmt("127.0.0.1:%d", port), "--sni", "good.test", "--cafile",
                              cert("trust.pem"), NULL};
        ck_assert_int_eq(run_argv(&shim, &r, argv), 0);
    } else {
        tls_client_run(&r, &shim, TLS_CLIENT, port, "good.test", NULL);
    }
    ck_assert_msg(!r.timed_out, "the handshake hung: " RUN_FMT, RUN_ARGS(&r));
    if (allow) {
        assert_client_ok(&r);
        ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected record:\n%s",
                      syslog_dump_since(mark));
    } else {
        const struct syslog_rec *rec;

        assert_client_blocked(&r);
        rec = syslog_wait_for_since(mark, "tlspin:", 3000);
        ck_assert_msg(rec != NULL, "no record:\n%s", syslog_dump_since(mark));
        rec = the_tlspin_record_since(mark);
        ck_assert_field(rec, "action", "blocked");
        for (size_t i = 0; want && want[i]; i++)
            ck_assert_field_has(rec, "reason", want[i]);
    }
    run_result_free(&r);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})

/* `tlspin check` exits `code` and its output has every string of want. */
static void check_says(int code, const char *const want[])
{
    struct run_result r;

    RUN(&r, &plain, TLSPIN_CLI, "check", "--config", H.config);
    ck_assert_msg(r.exited && r.code == code, "tlspin check: " RUN_FMT, RUN_ARGS(&r));
    for (size_t i = 0; want && want[i]; i++)
        ck_assert_msg(strstr(r.out, want[i]) || strstr(r.err, want[i]),
                      "tlspin check does not say \"%s\": " RUN_FMT, want[i], RUN_ARGS(&r));
    run_result_free(&r);
}

/* H.tmp and its parents open to other users, as /etc is. */
static void open_tmp_to_all(void)
{
    ck_assert_int_eq(chmod(H.root, 0755), 0);
    ck_assert_int_eq(chmod(H.tmp, 0755), 0);
    ck_assert_int_eq(chmod(H.certs, 0755), 0);
}

/* A copy of the build's file module at H.tmp/<dir>/file.so. */
static const char *copy_module(const char *dir)
{
    const char *d = fmt("%s/%s", H.tmp, dir);
    const char *so = fmt("%s/file.so", d);

    ck_assert_int_eq(mkdir(d, 0755), 0);
    run_sh(fmt("cp '%s' '%s' && chmod 0755 '%s'", FILE_MODULE_PATH, so, so));
    return so;
}

/* ------------------------------------------------------------------ */

/* The control: the suite's own layout (files 0644 in 0755 directories
 * under H.root 0700 under sticky /tmp) passes, pinned and enforced. */
START_TEST(good_layout_passes)
{
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    server_start(&s, "good");
    handshake(s.port, 0, 1, NULL);
    check_says(0, NULL);
}
END_TEST

START_TEST(group_writable_pinset)
{
    const char *file = fmt("%s/x.conf", H.pinsets);
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    write_pinsets("x", "pinsets = ();\n");
    ck_assert_int_eq(chmod(file, 0664), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: writable by group (mode 0664): refused", file)));
    check_says(2, WANT(fmt("%s: writable by group (mode 0664): refused", file)));
}
END_TEST

START_TEST(other_owned_pinset)
{
    const char *file = fmt("%s/x.conf", H.pinsets);
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    write_pinsets("x", "pinsets = ();\n");
    ck_assert_int_eq(chown(file, 65534, 65534), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: owned by uid 65534, not root: refused", file)));
    check_says(2, WANT(fmt("%s: owned by uid 65534", file)));
}
END_TEST

START_TEST(world_writable_pinsets_dir)
{
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    ck_assert_int_eq(chmod(H.pinsets, 01777), 0);   /* sticky does not save the dir itself */
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: writable by group and others (mode 1777): refused",
                                     H.pinsets)));
    check_says(2, WANT("writable by group and others (mode 1777): refused"));
}
END_TEST

/* A world-writable directory above the pinsets (not sticky). */
START_TEST(world_writable_dir_above)
{
    struct server s;

    ck_assert_int_eq(chmod(H.tmp, 0777), 0);
    policy(file_entry("file"));
    write_good_pinset();
    server_start(&s, "good");
    /* The policy file itself lies in H.tmp: the policy is refused first. */
    handshake(s.port, 0, 0, WANT(fmt("%s:0: the directory %s: writable by group and others "
                                     "(mode 0777): refused", H.config, H.tmp)));
}
END_TEST

START_TEST(world_writable_module_dir)
{
    const char *so = copy_module("mods");
    struct server s;

    policy(file_entry(so));
    write_good_pinset();
    server_start(&s, "good");
    handshake(s.port, 0, 1, NULL);       /* the copy itself is fine */
    ck_assert_int_eq(chmod(fmt("%s/mods", H.tmp), 0777), 0);
    handshake(s.port, 0, 0, WANT(fmt("cannot load module %s: the directory %s/mods: writable by "
                                     "group and others (mode 0777): refused", so, H.tmp)));
    check_says(2, WANT(fmt("cannot load module %s: the directory %s/mods: writable", so, H.tmp)));
}
END_TEST

START_TEST(writable_module_so)
{
    const char *so = copy_module("mods");
    struct server s;

    policy(file_entry(so));
    write_good_pinset();
    ck_assert_int_eq(chmod(so, 0666), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: writable by group and others (mode 0666): refused",
                                     so)));
    check_says(2, WANT("writable by group and others (mode 0666): refused"));
}
END_TEST

START_TEST(group_writable_policy)
{
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    ck_assert_int_eq(chmod(H.config, 0620), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s:0: writable by group (mode 0620): refused", H.config)));
    check_says(2, WANT("writable by group (mode 0620): refused"));
}
END_TEST

/* A link out of the tree into a directory anyone can write: the target's
 * directory fails. A link owned by another user: the link fails. A root
 * link to a root file in a root directory: followed. */
START_TEST(symlink_out_of_the_tree)
{
    const char *evil = fmt("%s/evil", H.tmp);
    const char *link = fmt("%s/x.conf", H.pinsets);
    const char *good = fmt("%s/elsewhere/y.conf", H.tmp);
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    ck_assert_int_eq(mkdir(evil, 0777), 0);
    ck_assert_int_eq(chmod(evil, 0777), 0);
    write_file("evil/x.conf", "pinsets = ();\n");
    ck_assert_int_eq(symlink(fmt("%s/x.conf", evil), link), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: the directory %s: writable by group and others "
                                     "(mode 0777): refused", link, evil)));
    check_says(2, WANT(fmt("%s: the directory %s: writable", link, evil)));

    ck_assert_int_eq(unlink(link), 0);
    write_file("elsewhere/y.conf", "pinsets = ();\n");
    ck_assert_int_eq(symlink(good, link), 0);
    handshake(s.port, 0, 1, NULL);

    ck_assert_int_eq(lchown(link, 65534, 65534), 0);
    handshake(s.port, 0, 0, WANT(fmt("the symbolic link %s is owned by uid 65534", link)));
}
END_TEST

/* Mode 0600, owned by root: root's program is fine, nobody's is refused
 * (the module cannot read it), and check, run as root, says so. */
START_TEST(pinset_0600)
{
    const char *file = fmt("%s/api.conf", H.pinsets);
    struct server s;

    open_tmp_to_all();
    policy(file_entry("file"));
    write_good_pinset();
    ck_assert_int_eq(chmod(file, 0600), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 1, NULL);
    handshake(s.port, 1, 0, WANT(file, "Permission denied"));
    check_says(2, WANT(fmt("%s: error: not readable by other users (owner root, mode 0600): "
                           "every non-root program fails this policy", file)));
    ck_assert_int_eq(chmod(file, 0644), 0);
    handshake(s.port, 1, 1, NULL);
    check_says(0, NULL);
}
END_TEST

/* The same for the policy file and a module directory closed to others. */
START_TEST(policy_and_module_closed_to_others)
{
    const char *so;

    open_tmp_to_all();
    so = copy_module("mods");
    policy(file_entry(so));
    write_good_pinset();
    ck_assert_int_eq(chmod(H.config, 0600), 0);
    ck_assert_int_eq(chmod(fmt("%s/mods", H.tmp), 0700), 0);
    check_says(2, WANT(fmt("%s: error: not readable by other users (owner root, mode 0600)",
                           H.config),
                       fmt("%s/mods: error: not readable by other users (owner root, mode "
                           "0700)", H.tmp),
                       /* a closed directory above: a warning (often meant) */
                       fmt("%s: warning: not readable by other users: the directory %s/mods",
                           so, H.tmp)));
}
END_TEST

/* A user's own policy in a directory of their own works for them. */
START_TEST(users_own_policy_works_for_them)
{
    struct server s;

    open_tmp_to_all();
    policy(file_entry("file"));
    write_good_pinset();
    run_sh(fmt("chown -R 65534:65534 '%s' '%s'", H.config, H.pinsets));
    server_start(&s, "good");
    handshake(s.port, 1, 1, NULL);
    /* Root's program does not trust nobody's files. */
    handshake(s.port, 0, 0, WANT(fmt("%s:0: owned by uid 65534, not root: refused", H.config)));
}
END_TEST

/* The ct module's log list, under the same rules. */
START_TEST(group_writable_ct_log_list)
{
    const char *list = write_file("log_list.json", "{}\n");
    struct server s;

    policy(fmt("  { module = \"%s/ct.so\"; control = \"required\"; args = { log_list = "
               "\"%s\"; }; }", MODULE_DIR, list));
    ck_assert_int_eq(chmod(list, 0664), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: writable by group (mode 0664): refused", list)));
    check_says(2, WANT(fmt("%s: writable by group (mode 0664): refused", list)));
}
END_TEST

/* A valid pinset over the cap costs nothing: refused before it is read. */
START_TEST(oversized_pinset)
{
    const char *file = fmt("%s/huge.conf", H.pinsets);
    struct server s;
    FILE *f;

    policy(file_entry("file"));
    write_good_pinset();
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("pinsets = ();\n", f);
    /* 9 MiB of comment: valid, and over the 8 MiB cap. */
    for (int i = 0; i < 9 * 1024; i++) {
        char line[1024];
        memset(line, '#', sizeof line - 1);
        line[sizeof line - 2] = '\n';
        line[sizeof line - 1] = '\0';
        fputs(line, f);
    }
    ck_assert_int_eq(fclose(f), 0);
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: larger than 8 MiB (the cap of a pinsets file)", file)));
    check_says(2, WANT(fmt("%s: larger than 8 MiB", file)));
}
END_TEST

/* Under the cap each, over the cap of the directory together. */
START_TEST(oversized_pinsets_dir)
{
    struct server s;

    policy(file_entry("file"));
    write_good_pinset();
    for (int i = 0; i < 3; i++) {
        const char *file = fmt("%s/big%d.conf", H.pinsets, i);
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 6 * 1024 * 1024), 0); /* sparse */
        close(fd);
    }
    server_start(&s, "good");
    handshake(s.port, 0, 0, WANT(fmt("%s: its *.conf files hold more than 16 MiB", H.pinsets)));
    check_says(2, WANT("hold more than 16 MiB"));
}
END_TEST

static Suite *strict_suite(void)
{
    Suite *s = suite_create("strict_modes");
    TCase *tc = harness_tcase("strict modes");

    tcase_add_test(tc, good_layout_passes);
    tcase_add_test(tc, group_writable_pinset);
    tcase_add_test(tc, other_owned_pinset);
    tcase_add_test(tc, world_writable_pinsets_dir);
    tcase_add_test(tc, world_writable_dir_above);
    tcase_add_test(tc, world_writable_module_dir);
    tcase_add_test(tc, writable_module_so);
    tcase_add_test(tc, group_writable_policy);
    tcase_add_test(tc, symlink_out_of_the_tree);
    tcase_add_test(tc, pinset_0600);
    tcase_add_test(tc, policy_and_module_closed_to_others);
    tcase_add_test(tc, users_own_policy_works_for_them);
    tcase_add_test(tc, group_writable_ct_log_list);
    tcase_add_test(tc, oversized_pinset);
    tcase_add_test(tc, oversized_pinsets_dir);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(strict_suite());
}
