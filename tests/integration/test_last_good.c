/*
 * test_last_good.c — the last good policy for every new process (issue 12,
 * points 1 and 2). A good policy is committed with `tlspin check --commit`
 * (this test runs as root; the snapshots live under TLSPIN_STATE_DIR in
 * H.tmp), then the policy is broken in one of four ways — a syntax error, an
 * unknown key, a half-written pinset, a module that no longer exists — and a
 * new curl and a new python3 under the shim must still reach an unpinned
 * host, still be refused a pinned host with the wrong key, and the record
 * must say using-last-good with the fault (and the same for an @included
 * file caught broken). Without a snapshot on_error
 * decides as before. A tampered snapshot (group-writable file, a symlinked
 * directory, a file owned by another uid) is ignored with a record;
 * `check --commit` refuses a faulty policy; `check` says what new processes
 * do; commits racing new processes never show a mix of two generations.
 * Both for a policy named by TLSPIN_CONFIG and for /etc/tlspin/tlspin.conf
 * (overlay in a private mount namespace, the shim in /etc/ld.so.preload).
 */
#include "harness.h"

#include "../programs/tp_suite.h"

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"
#define SYSTEM_POLICY TLSPIN_DEFAULT_CONFIG

/* Where this test's snapshots live, and how programs are run: under the
 * shim with H.config (TLSPIN_CONFIG), or plainly with the shim in the
 * overlay's /etc/ld.so.preload and the policy at the system path. */
static char state_dir[PATH_MAX];
static char state_env[PATH_MAX + 32];   /* not fmt()'s ring: it is reused */
static const char *env[2];
static struct run_opts shim, plain;
static int systemwide;
static const char *policy_path;

static void setup(int system)
{
    snprintf(state_dir, sizeof state_dir, "%s/state", H.tmp);
    snprintf(state_env, sizeof state_env, "TLSPIN_STATE_DIR=%s", state_dir);
    env[0] = state_env;
    env[1] = NULL;
    shim = (struct run_opts){.preload = 1, .env = env};
    plain = (struct run_opts){.env = env};
    systemwide = system;
    policy_path = system ? SYSTEM_POLICY : H.config;
    if (system) {
        test_private_mounts();
        overlay_over("/etc");
        ck_assert_msg(mkdir("/etc/tlspin", 0755) == 0 || errno == EEXIST, "%s", strerror(errno));
    }
}

static void write_abs(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* The shim for every program from now on (systemwide only). */
static void preload_listed(void)
{
    if (systemwide)
        write_abs("/etc/ld.so.preload", SHIM_PATH "\n");
}

static const struct run_opts *client_opts(void)
{
    return systemwide ? &plain : &shim;
}

/* A good policy at policy_path: the file module (`module`: a name or a
 * path) over H.pinsets, good.test pinned, unpinned hosts as `unpinned`. */
static void good_policy_unpinned(const char *module, const char *unpinned)
{
    write_good_pinset();
    write_abs(policy_path,
              fmt("version = 1;\n"
                  "mode = \"enforce\";\n"
                  "unpinned = \"%s\";\n"
                  "on_error = \"deny\";\n"
                  "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                  "stack = (\n"
                  "  { module = \"%s\"; control = \"required\"; args = { pinsets = \"%s\"; }; }\n"
                  ");\n",
                  unpinned, module, H.pinsets));
}

static void good_policy(const char *module)
{
    good_policy_unpinned(module, "allow");
}

/* `tlspin check [--commit]` on policy_path; returns the exit code. */
static int check(struct run_result *r, int commit)
{
    const char *argv[6] = {TLSPIN_CLI, "check"};
    int n = 2;

    if (!systemwide) {
        argv[n++] = "--config";
        argv[n++] = policy_path;
    }
    if (commit)
        argv[n++] = "--commit";
    ck_assert_int_eq(run_argv(&plain, r, argv), 0);
    ck_assert_msg(r->exited, "tlspin check: " RUN_FMT, RUN_ARGS(r));
    return r->code;
}

/* Commits the policy; returns its generation directory (static). */
static const char *commit(void)
{
    static char gendir[PATH_MAX];
    struct run_result r;
    const char *p;

    ck_assert_msg(check(&r, 1) < 2, "commit: " RUN_FMT, RUN_ARGS(&r));
    p = strstr(r.out, "committed as the last good policy (");
    ck_assert_msg(p != NULL, "commit: " RUN_FMT, RUN_ARGS(&r));
    p += strlen("committed as the last good policy (");
    snprintf(gendir, sizeof gendir, "%.*s", (int)strcspn(p, ")"), p);
    run_result_free(&r);
    return gendir;
}

static void curl_run(struct run_result *r, const struct mt_server *s, const char *host)
{
    ck_assert_int_eq(RUN(r, client_opts(), CURL, "-q", "-sS", "--max-time", "10", "--cacert",
                         cert("trust.pem"), "--resolve", fmt("%s:%d:127.0.0.1", host, s->port),
                         fmt("https://%s:%d/", host, s->port)),
                     0);
}

static const char py_client[] =
    "import socket, ssl, sys, urllib.request\n"
    "host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "real = socket.getaddrinfo\n"
    "socket.getaddrinfo = lambda h, *a, **k: real('127.0.0.1' if h == host else h, *a, **k)\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "try:\n"
    "    with urllib.request.urlopen('https://%s:%d/' % (host, port), context=ctx, timeout=10) as r:\n"
    "        print('OK', r.read().decode().strip())\n"
    "except Exception as e:\n"
    "    reason = getattr(e, 'reason', e)\n"
    "    print('FAILED', type(reason).__name__, getattr(reason, 'verify_message', '-'))\n"
    "    sys.exit(1)\n";

static void python_run(struct run_result *r, const struct mt_server *s, const char *host)
{
    ck_assert_int_eq(RUN(r, client_opts(), PYTHON3, "-I", "-c", py_client, host,
                         fmt("%d", s->port), cert("trust.pem")),
                     0);
}

/* A new curl and a new python3: the unpinned host is reached, the pinned
 * host behind the interceptor refused; each process says using-last-good
 * with `reason` in it. */
static void assert_last_good_enforced(const struct mt_server *icpt, const char *reason)
{
    struct run_result r;
    size_t mark;
    const struct syslog_rec *rec;

    for (int prog = 0; prog < 2; prog++) {
        const char *tag = prog ? "python3" : "curl";

        mark = syslog_mark();
        prog ? python_run(&r, icpt, "other.test") : curl_run(&r, icpt, "other.test");
        ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "ok"),
                      "%s to an unpinned host under the last good policy: " RUN_FMT, tag,
                      RUN_ARGS(&r));
        rec = syslog_wait_for_since(mark, "action=using-last-good", 2000);
        ck_assert_msg(rec != NULL, "%s: no using-last-good record:\n%s", tag,
                      syslog_dump_since(mark));
        ck_assert_str_eq(rec->tag, tag);
        ck_assert_field(rec, "event", "policy-error");
        ck_assert_field(rec, "pid", fmt("%ld", (long)r.pid));
        ck_assert_field_has(rec, "reason", reason);
        ck_assert_msg(syslog_count_since(mark, "action=using-last-good") == 1,
                      "one record per process:\n%s", syslog_dump_since(mark));
        run_result_free(&r);

        mark = syslog_mark();
        prog ? python_run(&r, icpt, "good.test") : curl_run(&r, icpt, "good.test");
        ck_assert_msg(r.exited && r.code != 0, "%s: the pinned host with the wrong key passed "
                      "under the last good policy: " RUN_FMT, tag, RUN_ARGS(&r));
        rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
        ck_assert_msg(rec != NULL, "%s: no pin-mismatch record:\n%s", tag,
                      syslog_dump_since(mark));
        ck_assert_field(rec, "action", "blocked");
        ck_assert_field(rec, "host", "good.test");
        run_result_free(&r);
    }
}

/* Without a usable snapshot: on_error = "deny" refuses even the unpinned
 * host (the documented one case where a fault blocks unpinned hosts). */
static void assert_on_error_denies(const struct mt_server *icpt)
{
    struct run_result r;

    curl_run(&r, icpt, "other.test");
    ck_assert_msg(r.exited && r.code != 0, "curl passed under a broken policy without a last "
                  "good one: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    python_run(&r, icpt, "other.test");
    ck_assert_msg(r.exited && r.code != 0, "python3 passed under a broken policy without a "
                  "last good one: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}

enum fault { SYNTAX, UNKNOWN_KEY, HALF_PINSET, MISSING_MODULE, SIGNED_NO_CACHE };

/* The module the good policy names: for MISSING_MODULE a copy of file.so
 * that the fault then removes. */
static const char *module_for(enum fault f)
{
    if (f != MISSING_MODULE)
        return "file";
    {
        const char *copy = fmt("%s/mods/file.so", H.tmp);
        size_t len;
        char *so = read_file(FILE_MODULE_PATH, &len);
        FILE *out;
        ck_assert_msg(so != NULL, "%s", FILE_MODULE_PATH);
        ck_assert_msg(mkdir(fmt("%s/mods", H.tmp), 0755) == 0 || errno == EEXIST, "mods");
        out = fopen(copy, "wb");
        ck_assert_msg(out && fwrite(so, 1, len, out) == len && fclose(out) == 0, "%s", copy);
        free(so);
        return copy;
    }
}

/* Breaks the policy; returns what the reason must contain. */
static const char *break_policy(enum fault f, const char *module)
{
    char *text;

    switch (f) {
    case SYNTAX:
        text = read_file(policy_path, NULL);
        write_abs(policy_path, fmt("%s\nstack_extra = ( { module = \"file\" \n", text));
        free(text);
        return fmt("%s:", policy_path);
    case UNKNOWN_KEY:
        text = read_file(policy_path, NULL);
        write_abs(policy_path, fmt("%scolour = \"red\";\n", text));
        free(text);
        return "unknown key \"colour\"";
    case HALF_PINSET:
        write_pinsets("api", "pinsets = (\n  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                      "    pins = [ \"%s\"", pin("PIN_GOOD"));
        return fmt("%s/api.conf", H.pinsets);
    case MISSING_MODULE:
        ck_assert_int_eq(unlink(module), 0);
        return module;
    case SIGNED_NO_CACHE:
        /* The stack switched to the signed module before the first
         * `tlspin update`: a trusted key, no signed pinset yet. */
        run_sh(fmt("mkdir -p '%s/keys' && '%s' keygen --out '%s/keys/fleet' >/dev/null", H.tmp,
                   TLSPIN_CLI, H.tmp));
        write_abs(policy_path,
                  fmt("version = 1;\nmode = \"enforce\";\nunpinned = \"allow\";\n"
                      "on_error = \"deny\";\n"
                      "log = { facility = \"authpriv\"; level = \"warning\"; "
                      "rate_limit_seconds = 0; };\n"
                      "stack = ( { module = \"signed\"; control = \"required\";\n"
                      "  args = { cache = \"%s/nocache/pinset.signed\"; keys = \"%s/keys\"; }; } );\n",
                      H.tmp, H.tmp));
        return "no signed pinset yet";
    }
    return "";
}

static void fault_case(int system, enum fault f)
{
    struct mt_server icpt;
    struct run_result r;
    const char *module, *reason;

    setup(system);
    mt_server_start(&icpt, "icpt");
    module = module_for(f);
    good_policy(module);
    (void)commit();
    preload_listed();
    reason = break_policy(f, module);
    assert_last_good_enforced(&icpt, reason);

    /* tlspin check says what new processes do, and fails. */
    ck_assert_int_eq(check(&r, 0), 2);
    ck_assert_msg(strstr(r.out, "new processes will enforce the last good policy committed at"),
                  "check: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* Without the snapshot, on_error decides as before. */
    {
        char moved[PATH_MAX + 8];
        snprintf(moved, sizeof moved, "%s.away", state_dir);
        ck_assert_int_eq(rename(state_dir, moved), 0);
        assert_on_error_denies(&icpt);
        ck_assert_int_eq(rename(moved, state_dir), 0);
    }
    if (system)
        unlink("/etc/ld.so.preload");
}

START_TEST(config_syntax_error) { fault_case(0, SYNTAX); }
END_TEST
START_TEST(config_unknown_key) { fault_case(0, UNKNOWN_KEY); }
END_TEST
START_TEST(config_half_written_pinset) { fault_case(0, HALF_PINSET); }
END_TEST
START_TEST(config_missing_module) { fault_case(0, MISSING_MODULE); }
END_TEST
START_TEST(config_signed_before_first_update) { fault_case(0, SIGNED_NO_CACHE); }
END_TEST
START_TEST(system_signed_before_first_update) { fault_case(1, SIGNED_NO_CACHE); }
END_TEST
START_TEST(system_syntax_error) { fault_case(1, SYNTAX); }
END_TEST
START_TEST(system_unknown_key) { fault_case(1, UNKNOWN_KEY); }
END_TEST
START_TEST(system_half_written_pinset) { fault_case(1, HALF_PINSET); }
END_TEST
START_TEST(system_missing_module) { fault_case(1, MISSING_MODULE); }
END_TEST

/* A policy that @includes a file next to it: the snapshot holds the
 * included file too, so breaking it falls back to the committed copy. */
static void include_case(int system)
{
    struct mt_server icpt;
    char *text, dir[PATH_MAX];
    const char *common;

    setup(system);
    mt_server_start(&icpt, "icpt");
    good_policy("file");
    snprintf(dir, sizeof dir, "%s", policy_path);
    *strrchr(dir, '/') = '\0';
    common = fmt("%s/common.conf", dir);
    write_abs(common, "mode = \"enforce\";\n");
    text = read_file(policy_path, NULL);
    /* the policy's own mode line goes: the included file sets it */
    *strstr(text, "mode = ") = '#';
    write_abs(policy_path, fmt("@include \"common.conf\"\n%s", text));
    free(text);
    (void)commit();
    preload_listed();
    write_abs(common, "mode = \"enforce\"\n junk\n");
    /* libconfig places an error inside an include at the @include line of
     * the policy (config.c reads the policy from a string) */
    assert_last_good_enforced(&icpt, fmt("%s:", policy_path));
    if (system)
        unlink("/etc/ld.so.preload");
}

START_TEST(config_broken_include) { include_case(0); }
END_TEST
START_TEST(system_broken_include) { include_case(1); }
END_TEST

/* A snapshot anyone but root could have changed is never used. */
enum tamper { GROUP_WRITABLE, SYMLINKED_DIR, OTHER_OWNER };

static void tamper_case(int system, enum tamper t)
{
    struct mt_server icpt;
    struct run_result r;
    const char *gendir, *mirrored_pins, *expect;
    size_t mark;
    const struct syslog_rec *rec;

    setup(system);
    mt_server_start(&icpt, "icpt");
    good_policy("file");
    gendir = fmt("%s", commit());
    mirrored_pins = fmt("%s/root%s", gendir, H.pinsets);
    switch (t) {
    case GROUP_WRITABLE:
        ck_assert_int_eq(chmod(fmt("%s/api.conf", mirrored_pins), 0664), 0);
        expect = "not group or world writable";
        break;
    case SYMLINKED_DIR:
        ck_assert_int_eq(rename(mirrored_pins, fmt("%s.real", mirrored_pins)), 0);
        ck_assert_int_eq(symlink(fmt("%s.real", mirrored_pins), mirrored_pins), 0);
        expect = "symbolic link";
        break;
    case OTHER_OWNER:
    default:
        ck_assert_int_eq(chown(fmt("%s/root%s", gendir, policy_path), 1000, 1000), 0);
        expect = "owned by root";
        break;
    }
    preload_listed();
    break_policy(SYNTAX, NULL);

    mark = syslog_mark();
    curl_run(&r, &icpt, "other.test");
    ck_assert_msg(r.exited && r.code != 0, "curl passed with a tampered snapshot: " RUN_FMT,
                  RUN_ARGS(&r));
    rec = syslog_wait_for_since(mark, "action=last-good-ignored", 2000);
    ck_assert_msg(rec != NULL, "no last-good-ignored record:\n%s", syslog_dump_since(mark));
    ck_assert_field_has(rec, "reason", expect);
    ck_assert_msg(syslog_count_since(mark, "using-last-good") == 0, "%s",
                  syslog_dump_since(mark));
    run_result_free(&r);

    /* check says the snapshot cannot be used. */
    ck_assert_int_eq(check(&r, 0), 2);
    ck_assert_msg(strstr(r.out, "the last good policy cannot be used"), "check: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    if (system)
        unlink("/etc/ld.so.preload");
}

START_TEST(tampered_group_writable) { tamper_case(0, GROUP_WRITABLE); }
END_TEST
START_TEST(tampered_symlinked_dir) { tamper_case(0, SYMLINKED_DIR); }
END_TEST
START_TEST(tampered_other_owner) { tamper_case(0, OTHER_OWNER); }
END_TEST
START_TEST(system_tampered_group_writable) { tamper_case(1, GROUP_WRITABLE); }
END_TEST

/* A faulty policy is never committed; the snapshot stays as it was. */
static void refuse_case(int system)
{
    struct run_result r;
    const char *gendir;
    char *info_before, *info_after;

    setup(system);
    good_policy("file");
    gendir = fmt("%s", commit());
    info_before = read_file(fmt("%s/info", gendir), NULL);
    ck_assert_ptr_nonnull(info_before);
    break_policy(UNKNOWN_KEY, NULL);
    ck_assert_int_eq(check(&r, 1), 2);
    ck_assert_msg(strstr(r.err, "not committed"), "check --commit: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    info_after = read_file(fmt("%s/info", gendir), NULL);
    ck_assert_ptr_nonnull(info_after);
    ck_assert_str_eq(info_before, info_after);
    ck_assert_int_eq(readlink(fmt("%s/../current", gendir), (char[64]){0}, 63) > 0, 1);
    {
        char link[64] = "";
        ck_assert_int_gt(readlink(fmt("%s/../current", gendir), link, sizeof link - 1), 0);
        ck_assert_str_eq(link, strrchr(gendir, '/') + 1);
    }
    free(info_before);
    free(info_after);
}

START_TEST(commit_refuses_faulty_policy) { refuse_case(0); }
END_TEST
START_TEST(system_commit_refuses_faulty_policy) { refuse_case(1); }
END_TEST

/* Commits racing new processes. Generation A: unpinned allow, good.test
 * pinned; generation B: unpinned deny, other.test pinned to the
 * interceptor's key too. Either way other.test through the interceptor
 * passes; B's policy with A's pinsets (a mix) refuses it. The committer
 * makes the policy good, commits, breaks it again, alternating A and B;
 * meanwhile new curls start, mostly under a broken policy. */
static void race_case(int system)
{
    struct mt_server icpt;
    struct run_result r;
    pid_t committer;
    int status, runs = 0, fallback_runs = 0;
    size_t mark;
    long long end;

    setup(system);
    mt_server_start(&icpt, "icpt");
    good_policy("file");
    (void)commit();
    preload_listed();
    break_policy(SYNTAX, NULL);
    committer = fork();
    ck_assert_int_ge(committer, 0);
    if (committer == 0) {
        for (int i = 0; i < 12; i++) {
            struct run_result c;
            if (i % 2) {
                good_policy("file");
            } else {
                /* The pinset first: the live policy is never B without it. */
                write_pinsets("other", "pinsets = ( { name = \"other\"; hosts = "
                              "[ \"other.test\" ]; pins = [ \"%s\", \"%s\" ]; } );\n",
                              pin("PIN_ICPT"), pin("PIN_BACKUP"));
                good_policy_unpinned("file", "deny");
            }
            if (check(&c, 1) >= 2)
                _exit(1);
            run_result_free(&c);
            /* Broken first: the live policy is never B without its pinset. */
            break_policy(SYNTAX, NULL);
            if (!(i % 2))
                unlink(fmt("%s/other.conf", H.pinsets));
            usleep(150000);
        }
        _exit(0);
    }
    mark = syslog_mark();
    end = tp_ms() + 60000;
    while (tp_ms() < end) {
        pid_t done = waitpid(committer, &status, WNOHANG);
        curl_run(&r, &icpt, "other.test");
        ck_assert_msg(r.exited && r.code == 0, "curl refused an unpinned/pinned-to-its-key host "
                      "while commits ran (a mixed generation?): " RUN_FMT "\n%s", RUN_ARGS(&r),
                      syslog_dump_since(mark));
        run_result_free(&r);
        runs++;
        if (done == committer)
            break;
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the committer failed");
    fallback_runs = (int)syslog_count_since(mark, "action=using-last-good");
    ck_assert_msg(syslog_count_since(mark, "last-good-ignored") == 0, "%s",
                  syslog_dump_since(mark));
    ck_assert_msg(fallback_runs > 0, "no run used the last good policy (%d runs)", runs);
    printf("race: %d curls, %d under the last good policy\n", runs, fallback_runs);
    {
        /* Two generations are kept, nothing half-made is left. */
        glob_t g;
        ck_assert_int_eq(glob(fmt("%s/last-good/*/gen-*", state_dir), 0, NULL, &g), 0);
        ck_assert_int_eq((int)g.gl_pathc, 2);
        for (size_t i = 0; i < g.gl_pathc; i++)
            ck_assert_msg(!strstr(g.gl_pathv[i], ".tmp"), "%s", g.gl_pathv[i]);
        globfree(&g);
    }
    if (system)
        unlink("/etc/ld.so.preload");
}

START_TEST(commits_race_new_processes) { race_case(0); }
END_TEST
START_TEST(system_commits_race_new_processes) { race_case(1); }
END_TEST

/* Commits running at the same time all succeed, one after the other: none
 * takes another's half-made generation for a leftover of a crash. */
START_TEST(concurrent_commits)
{
    pid_t kids[4];
    glob_t g;

    setup(0);
    good_policy("file");
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            for (int i = 0; i < 5; i++) {
                struct run_result c;
                if (check(&c, 1) != 0 || !strstr(c.out, "committed as the last good policy"))
                    _exit(1);
                run_result_free(&c);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "committer %d failed", k);
    }
    ck_assert_int_eq(glob(fmt("%s/last-good/*/gen-*", state_dir), 0, NULL, &g), 0);
    ck_assert_int_eq((int)g.gl_pathc, 2);
    ck_assert_msg(strcmp(g.gl_pathv[0] + strlen(g.gl_pathv[0]) - 4, ".tmp") != 0 &&
                      strcmp(g.gl_pathv[1] + strlen(g.gl_pathv[1]) - 4, ".tmp") != 0,
                  "%s %s", g.gl_pathv[0], g.gl_pathv[1]);
    globfree(&g);
}
END_TEST

/* In one running python3 that started under a broken policy: the stand-in
 * refuses the pinned host; the policy broken another way keeps it pinned
 * (the snapshot read again, one more record); the policy fixed (good.test
 * unpinned now) replaces the stand-in at the next reload. The program
 * edits the files itself between its handshakes. */
static const char py_running[] =
    "import socket, ssl, sys, time\n"
    "port, ca, policy, broken2, fixed, pins, empty = sys.argv[1:8]\n"
    "ctx = ssl.create_default_context(cafile=ca)\n"
    "def once():\n"
    "    s = socket.create_connection(('127.0.0.1', int(port)), timeout=10)\n"
    "    try:\n"
    "        ctx.wrap_socket(s, server_hostname='good.test').close()\n"
    "        return 'ok'\n"
    "    except ssl.SSLCertVerificationError as e:\n"
    "        return 'blocked' if e.verify_code == 50 else 'other'\n"
    "def put(path, src):\n"
    "    open(path + '.tmp', 'w').write(open(src).read())\n"
    "    import os; os.rename(path + '.tmp', path)\n"
    "print('broken', once(), flush=True)\n"
    "put(policy, broken2); time.sleep(2.5)\n"
    "print('broken2', once(), flush=True)\n"
    "put(pins, empty); put(policy, fixed); time.sleep(2.5)\n"
    "print('fixed', once(), flush=True)\n";

START_TEST(running_process_follows_fixes)
{
    struct mt_server icpt;
    struct run_result r;
    size_t mark;
    char *good_text;
    const char *broken2, *fixed, *empty;

    setup(0);
    mt_server_start(&icpt, "icpt");
    good_policy("file");
    (void)commit();
    good_text = read_file(policy_path, NULL);
    fixed = write_file("fixed.conf", "%s", good_text);
    broken2 = write_file("broken2.conf", "%scolour = \"red\";\n", good_text);
    empty = write_file("empty.conf", "pinsets = ( );\n");
    free(good_text);
    break_policy(SYNTAX, NULL);
    mark = syslog_mark();
    ck_assert_int_eq(RUN(&r, &shim, PYTHON3, "-I", "-c", py_running, fmt("%d", icpt.port),
                         cert("trust.pem"), policy_path, broken2, fixed,
                         fmt("%s/api.conf", H.pinsets), empty),
                     0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "broken blocked") &&
                      has_line(r.out, "broken2 blocked") && has_line(r.out, "fixed ok"),
                  "python3: " RUN_FMT "\n%s", RUN_ARGS(&r), syslog_dump_since(mark));
    ck_assert_int_eq((int)syslog_count_since(mark, "action=using-last-good"), 2);
    ck_assert_int_eq((int)syslog_count_since(mark, "unknown key"), 1);
    ck_assert_int_eq((int)syslog_count_since(mark, "kept-last-good"), 0);
    run_result_free(&r);
}
END_TEST

/* A later good policy is what new processes use. */
START_TEST(fixed_policy_replaces_last_good)
{
    struct mt_server icpt;
    struct run_result r;
    size_t mark;

    setup(0);
    mt_server_start(&icpt, "icpt");
    good_policy("file");
    (void)commit();
    break_policy(SYNTAX, NULL);
    mark = syslog_mark();
    /* The new process enforces the last good pins... */
    curl_run(&r, &icpt, "good.test");
    ck_assert_msg(r.exited && r.code != 0, "curl: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_ptr_nonnull(syslog_wait_for_since(mark, "action=using-last-good", 2000));
    /* ...and once fixed (good.test unpinned now), new processes use it. */
    good_policy("file");
    write_pinsets("api", "pinsets = ( );\n");
    mark = syslog_mark();
    curl_run(&r, &icpt, "good.test");
    ck_assert_msg(r.exited && r.code == 0, "curl: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq((int)syslog_count_since(mark, "last-good"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("last_good");
    TCase *tc = harness_tcase("last_good");

    tcase_add_test(tc, config_syntax_error);
    tcase_add_test(tc, config_unknown_key);
    tcase_add_test(tc, config_half_written_pinset);
    tcase_add_test(tc, config_missing_module);
    tcase_add_test(tc, config_signed_before_first_update);
    tcase_add_test(tc, system_syntax_error);
    tcase_add_test(tc, system_unknown_key);
    tcase_add_test(tc, system_half_written_pinset);
    tcase_add_test(tc, system_missing_module);
    tcase_add_test(tc, system_signed_before_first_update);
    tcase_add_test(tc, config_broken_include);
    tcase_add_test(tc, system_broken_include);
    tcase_add_test(tc, tampered_group_writable);
    tcase_add_test(tc, tampered_symlinked_dir);
    tcase_add_test(tc, tampered_other_owner);
    tcase_add_test(tc, system_tampered_group_writable);
    tcase_add_test(tc, commit_refuses_faulty_policy);
    tcase_add_test(tc, system_commit_refuses_faulty_policy);
    tcase_add_test(tc, commits_race_new_processes);
    tcase_add_test(tc, system_commits_race_new_processes);
    tcase_add_test(tc, concurrent_commits);
    tcase_add_test(tc, fixed_policy_replaces_last_good);
    tcase_add_test(tc, running_process_follows_fixes);
    suite_add_tcase(s, tc);
    return harness_main(s);
}
