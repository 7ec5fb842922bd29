/*
 * harness.h — the shared harness of tlspin's integration suites.
 *
 * Every suite binary calls harness_main() from main(). It
 *   - enters a private mount namespace, mounts a fresh tmpfs over /dev with
 *     the usual device nodes bound back, and binds a real unix datagram
 *     socket at /dev/log: the records the tests read are the datagrams that
 *     glibc's syslog(3) in the client really sent (harness_ns.c, syslog.c);
 *   - generates the certificates once per suite run with
 *     tests/fixtures/mkcerts.sh and parses its pins.env (fixtures.c);
 *   - runs the suite with Check in CK_FORK mode.
 * Each test gets a fresh temporary directory (H.tmp, inside the suite's
 * H.root) through the checked fixture that harness_tcase() installs. Servers
 * it starts die with the test process (PR_SET_PDEATHSIG) and are stopped at
 * teardown; a failed assertion ends Check's forked test process without
 * teardown, so H.root is removed by the suite process at its end.
 * TLSPIN_TEST_KEEP=1 keeps it for a post-mortem.
 *
 * Nothing here is mocked: servers are real processes on 127.0.0.1 with a
 * kernel-chosen port, clients are real programs, records are real datagrams.
 */
#ifndef TLSPIN_HARNESS_H
#define TLSPIN_HARNESS_H

#include <check.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#ifndef TLSPIN_BUILD_DIR
#error "TLSPIN_BUILD_DIR must be defined by the build"
#endif
#ifndef TLSPIN_SOURCE_DIR
#error "TLSPIN_SOURCE_DIR must be defined by the build"
#endif

/* Paths of the build products the suites drive (see CMakeLists.txt). */
#define SHIM_PATH        TLSPIN_BUILD_DIR "/lib/tlspin/libtlspin.so"
#define MODULE_DIR       TLSPIN_BUILD_DIR "/lib/tlspin/modules"
#define FILE_MODULE_PATH MODULE_DIR "/file.so"
#define TESTMODULE_DIR   TLSPIN_BUILD_DIR "/lib/tlspin/testmodules"
#define BIN_DIR          TLSPIN_BUILD_DIR "/bin"
#define TLS_CLIENT       BIN_DIR "/tls_client"
#define TLS_CLIENT_DLOPEN BIN_DIR "/tls_client_dlopen"
#define TLS_SERVER       BIN_DIR "/tls_server"
#define MKCERTS          TLSPIN_SOURCE_DIR "/tests/fixtures/mkcerts.sh"

/* The real programs, by absolute path: a python3 earlier in PATH (pyenv)
 * would not be Debian's and might not link the system OpenSSL. */
#define CURL    "/usr/bin/curl"
#define PYTHON3 "/usr/bin/python3"
#define OPENSSL "/usr/bin/openssl"
#define PERL    "/usr/bin/perl"

/* ------------------------------------------------------------------ */
/* Global state                                                        */
/* ------------------------------------------------------------------ */

struct harness {
    char root[768];            /* this suite run's directory; removed at exit */
    char certs[1024];        /* fixtures of this suite run (mkcerts.sh DIR) */
    char tmp[1024];          /* this test's private directory */
    char config[PATH_MAX];     /* <tmp>/tlspin.conf */
    char pinsets[PATH_MAX];    /* <tmp>/pins.d */
    int syslog_fd;             /* the socket bound at /dev/log */
};
extern struct harness H;

/* Run the suite: namespace, /dev/log, certificates, Check. Returns the exit
 * status for main(). Never skips: a missing privilege fails loudly. */
int harness_main(Suite *suite);

/* A test case with the per-test fixture and a generous timeout. */
TCase *harness_tcase(const char *name);

/* Sanitized build (cmake/sanitize.cmake sets TLSPIN_SANITIZE_PRELOAD): the
 * one place that puts the sanitizer runtime first in a child's LD_PRELOAD.
 * Rewrites each non-empty "LD_PRELOAD=..." entry of the NULL-terminated env
 * in place (new strings, never freed: the harness is a test process) so the
 * uninstrumented program prog (curl, python3...) loads the runtime ahead of
 * the sanitized shim. A program not built here also gets detect_leaks=0: its
 * own exit-time leaks (ruby, socat, stunnel...) are not ours, and stacks
 * through its code stop at its first frame. Does nothing in a normal build.
 * Returns the number of entries rewritten. */
int harness_sanitizer_env(char **env, const char *prog);
/* What harness_sanitizer_env puts ahead of a child's own LD_PRELOAD entries,
 * with its ':' ("" in a normal build): for tests that read an LD_PRELOAD
 * back. */
#ifdef TLSPIN_SANITIZE_PRELOAD
#define SANITIZER_PRELOAD_ENTRIES TLSPIN_SANITIZE_PRELOAD ":"
#else
#define SANITIZER_PRELOAD_ENTRIES ""
#endif

/* ------------------------------------------------------------------ */
/* Namespace and /dev (harness_ns.c)                                   */
/* ------------------------------------------------------------------ */

/* Private mount namespace, tmpfs /dev, /dev/log bound. Returns the socket's
 * fd, or -1 after printing why. */
int harness_enter_namespace(void);

/* For a test that changes system paths (/etc/ld.so.preload, the default
 * policy): give this test process a mount namespace of its own, so nothing
 * it mounts reaches later tests, and lay a writable overlay (upper layer in
 * H.tmp) over `dir`: files written under dir afterwards exist only here. */
void test_private_mounts(void);
void overlay_over(const char *dir);

/* ------------------------------------------------------------------ */
/* Syslog records (syslog.c)                                           */
/* ------------------------------------------------------------------ */

struct syslog_rec {
    int facility;              /* LOG_AUTHPRIV etc. (already shifted: <<3) */
    int severity;              /* LOG_WARNING etc. */
    char *tag;                 /* "curl", "python3", ... (without [pid]) */
    char *msg;                 /* text after "tag: " */
    char *raw;                 /* the datagram as received */
};

/* Read every datagram pending on /dev/log into the store (non-blocking). */
void syslog_drain(void);
/* Throw away what is pending and what is stored (test start). */
void syslog_reset(void);
/* Index of the next record to arrive; pass it to the *_since functions. */
size_t syslog_mark(void);
/* Records received since mark (drains first). *n gets the count; the array
 * stays valid until the next syslog_* call. */
const struct syslog_rec *syslog_since(size_t mark, size_t *n);
/* Records since mark whose message contains `needle`. */
size_t syslog_count_since(size_t mark, const char *needle);
/* Records since mark whose message starts with "tlspin:". */
size_t syslog_tlspin_count_since(size_t mark);
/* The first record since mark containing `needle`, waiting up to timeout_ms
 * for it to arrive. NULL when none did. */
const struct syslog_rec *syslog_wait_for_since(size_t mark, const char *needle,
                                                int timeout_ms);
/* The same from the start of the test. */
const struct syslog_rec *syslog_wait_for(const char *needle, int timeout_ms);
/* All records since mark, one per line, for failure messages (static). */
const char *syslog_dump_since(size_t mark);

/* Field `key` of a tlspin record ("tlspin: k=v k=\"v v\" ..."), unescaped
 * into out. Returns 0, or -1 when the key is absent or the syntax broken. */
int rec_field(const struct syslog_rec *r, const char *key, char *out, size_t outlen);
/* The keys of a tlspin record in their order, space separated, into out.
 * Returns -1 on a syntax error (unterminated quote, bad escape). */
int rec_keys(const struct syslog_rec *r, char *out, size_t outlen);

/* The only tlspin record since mark: fails the test when there is not
 * exactly one. */
const struct syslog_rec *the_tlspin_record_since(size_t mark);

/* Assert field key of r equals want. */
#define ck_assert_field(r, key, want)                                          \
    do {                                                                       \
        char f_[4096];                                                         \
        ck_assert_msg(rec_field((r), (key), f_, sizeof f_) == 0,               \
                      "record has no field %s: %s", (key), (r)->msg);          \
        ck_assert_msg(strcmp(f_, (want)) == 0,                                 \
                      "record field %s is '%s', expected '%s': %s", (key), f_, \
                      (want), (r)->msg);                                       \
    } while (0)

/* Assert field key of r contains want. */
#define ck_assert_field_has(r, key, want)                                      \
    do {                                                                       \
        char f_[4096];                                                         \
        ck_assert_msg(rec_field((r), (key), f_, sizeof f_) == 0,               \
                      "record has no field %s: %s", (key), (r)->msg);          \
        ck_assert_msg(strstr(f_, (want)) != NULL,                              \
                      "record field %s is '%s', lacks '%s': %s", (key), f_,    \
                      (want), (r)->msg);                                       \
    } while (0)

/* ------------------------------------------------------------------ */
/* Fixtures: certificates, temp dir, files (fixtures.c)                */
/* ------------------------------------------------------------------ */

/* Generate the certificates into dir with mkcerts.sh and load pins.env.
 * Returns 0 or -1 after printing why. */
int fixtures_make(const char *dir);
/* A value of pins.env ("KEY=VALUE" lines). Fails the test when absent. */
const char *pin(const char *key);
/* The same, NULL when absent (for the harness itself). */
const char *pin_opt(const char *key);
/* Path of a file of the fixtures directory (static buffer ring). */
const char *cert(const char *name);

/* Write a file under H.tmp (relative path; parents created) with printf
 * formatting. Returns its absolute path (static buffer ring). */
const char *write_file(const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write H.config from a format. */
void write_policy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usual policy: enforce, unpinned allow, on_error deny, the file module
 * over H.pinsets, rate limit 0 seconds unless `extra` sets log itself.
 * `extra` is inserted verbatim at the top level (may be ""). */
void write_file_policy(const char *extra);
/* Write H.pinsets/<name>.conf with a "pinsets = ( ... );" body. */
void write_pinsets(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A pinset for good.test with the good leaf pin and its backup. */
void write_good_pinset(void);
/* Read a whole file; NULL if missing. Caller frees. */
char *read_file(const char *path, size_t *len);
/* printf into a static buffer ring (64 buffers of 8 KiB): for building one
 * argv, not for keeping. */
const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* Processes: clients and servers (proc.c)                             */
/* ------------------------------------------------------------------ */

struct run_opts {
    int preload;               /* LD_PRELOAD=SHIM_PATH, TLSPIN_CONFIG=config */
    const char *config;        /* TLSPIN_CONFIG value; NULL: H.config */
    const char *const *env;    /* extra "K=V", NULL-terminated; or NULL */
    const char *input;         /* written to stdin then closed; NULL: /dev/null */
    int timeout_ms;            /* 0: 20 s */
};

struct run_result {
    pid_t pid;                 /* the program's pid (what its records say) */
    int exited, code;          /* WIFEXITED / WEXITSTATUS */
    int signaled, sig;
    int timed_out;             /* killed by the harness */
    char *out, *err;           /* NUL-terminated captures (never NULL) */
    size_t out_len, err_len;
};

/* Run argv (argv[0] is a path) and wait; syslog is drained meanwhile so a
 * chatty client never blocks on a full /dev/log queue. Returns 0 or -1 if
 * the program could not be started. */
int run_argv(const struct run_opts *o, struct run_result *r, const char *const argv[]);
#define RUN(r, o, ...) run_argv((o), (r), (const char *const[]){__VA_ARGS__, NULL})
void run_result_free(struct run_result *r);
/* "exit 0" / "signal 11" / "timeout", for messages. */
const char *run_status(const struct run_result *r);
/* Assertion messages show what the program said. */
#define RUN_FMT "%s\n--- stdout ---\n%.3000s\n--- stderr ---\n%.3000s"
#define RUN_ARGS(r) run_status(r), (r)->out, (r)->err

struct server {
    pid_t pid;
    int port;
    char out[PATH_MAX];        /* its stdout+stderr */
    char log[PATH_MAX];        /* tls_server --log: application bytes received
                                  and "handshake failed: ..." lines */
    char events[PATH_MAX];     /* tls_server --events: "handshake ok ..." */
};

/* openssl s_server on 127.0.0.1, kernel-chosen port, serving the leaf
 * cert_file with key_file, followed by the certificates of chain_file (NULL:
 * none; s_server sends only the first certificate of -cert); extra args
 * NULL-terminated. Fails the test if it does not come up. */
void server_s_server(struct server *s, const char *cert_file, const char *key_file,
                     const char *chain_file, const char *const extra[]);
/* Any server program (argv[0] a path) that prints "ACCEPT <addr>:<port>"
 * once it listens; its output goes to s->out. Fails the test otherwise. */
void server_program(struct server *s, const char *const argv[]);
/* openssl s_server presenting the interceptor's certificate (icpt.pem with
 * icpt-ca.pem) that acknowledges the SNI `name`: OpenSSL keeps the SNI in a
 * client's session only when the server acknowledged it. Serves -www. */
void server_s_server_acking(struct server *s, const char *name);
/* A relay to 127.0.0.1:target_port that drops the TLS alert records the
 * client sends (tests/fixtures/alert_drop_relay.py): a server that ignores
 * the client's alert. Its out file counts "dropped client alert" lines. */
void server_alert_drop_relay(struct server *s, int target_port);
/* The project's tls_server on 127.0.0.1, kernel-chosen port, with --log and
 * --events in H.tmp; args (NULL-terminated) add --cert/--key etc. preload:
 * run it under the shim with H.config. */
void server_tls_server(struct server *s, const char *const args[], int preload);
/* The project's tls_server presenting one of the fixtures' identities
 * (servers.c): "good" (good leaf + intermediate), "icpt" (the interception
 * proxy's leaf + its CA), "appended" (the interceptor's chain with the good
 * leaf appended), "self" (self-signed), "good-rsa", "good-ed25519". */
void server_start(struct server *s, const char *identity);
/* The same under the preload (server-side handshakes must be untouched). */
void server_start_preloaded(struct server *s, const char *identity);

/* What tls_server wrote to its --log and --events (malloc'ed). */
char *server_log(const struct server *s);
char *server_events(const struct server *s);
/* Stop one server (process group), or all that this test started. */
void server_stop(struct server *s);
void servers_stop_all(void);

/* ------------------------------------------------------------------ */
/* The project's test clients (clients.c)                              */
/* ------------------------------------------------------------------ */

/* Run bin (TLS_CLIENT or TLS_CLIENT_DLOPEN) with --connect 127.0.0.1:port,
 * --cafile trust.pem (unless extra has its own --cafile), --sni sni unless
 * NULL, then extra (NULL-terminated). */
void tls_client_run(struct run_result *r, const struct run_opts *o, const char *bin, int port,
                    const char *sni, const char *const extra[]);
/* 1 when the output has a line equal to `line` / starting with `prefix`. */
int has_line(const char *out, const char *line);
int has_line_prefix(const char *out, const char *prefix);
/* The number after "<prefix>" on the first line starting with it; -1. */
long line_number(const char *out, const char *prefix);
/* 1 when text has an OpenSSL error entry of library "tlspin", as printed by
 * ERR_error_string_n / ERR_print_errors: "error:XXXXXXXX:tlspin:". */
int has_tlspin_error_entry(const char *text);
/* Every handshake completed (exit 0, "handshake ok", verify_result=0). */
void assert_client_ok(const struct run_result *r);
/* Refused by tlspin: exit 1, "handshake failed ssl_error=1 verify_result=50
 * (application verification failure)", an err: line naming tlspin. */
void assert_client_blocked(const struct run_result *r);

/* The command exited with `code` / printed `text` on stdout. */
void expect_exit(const struct run_result *r, int code);
void expect_text(const struct run_result *r, const char *text);
/* Run a bash command line (fixture preparation); the test fails if it does. */
void run_sh(const char *cmd);
/* Run a bash script (text) with arguments (NULL-terminated), as the test's
 * own tool; the test fails with its output (`what` says which step) unless
 * it exits 0. */
void run_script(const char *what, const char *script, const char *const args[]);
/* The JSON a command printed, asked with a python expression over `d`
 * (e.g. "d['status']"): the value as text (a string as is, anything else
 * as JSON), malloc'ed; the test fails if python cannot evaluate it. */
char *json_query(const char *json, const char *expr);
/* json_query(json, expr) is exactly `want`. */
void assert_json(const char *json, const char *expr, const char *want);

/* The server received no application byte: nothing in its --log but
 * "handshake failed: ..." lines, and one of them says it received the fatal
 * handshake_failure alert (40) from the client. */
void assert_server_got_no_data(const struct server *s);
/* The server's log contains `text` (what the client sent). */
void assert_server_got(const struct server *s, const char *text);

#endif /* TLSPIN_HARNESS_H */
