/*
 * clients.c — driving tls_client / tls_client_dlopen (tests/clients) and
 * reading their report lines (client_report.h there).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tls_client_run(struct run_result *r, const struct run_opts *o, const char *bin, int port,
                    const char *sni, const char *const extra[])
{
    const char *argv[64];
    size_t n = 0;

    argv[n++] = bin;
    argv[n++] = "--connect";
    argv[n++] = fmt("127.0.0.1:%d", port);
    int own_ca = 0;

    for (size_t i = 0; extra && extra[i]; i++)
        own_ca |= strcmp(extra[i], "--cafile") == 0;
    if (!own_ca) {
        argv[n++] = "--cafile";
        argv[n++] = cert("trust.pem");
    }
    if (sni) {
        argv[n++] = "--sni";
        argv[n++] = sni;
    }
    for (size_t i = 0; extra && extra[i] && n < 63; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

int has_line_prefix(const char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return 1;
    return 0;
}

int has_line(const char *out, const char *line)
{
    size_t n = strlen(line);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, line, n) == 0 && (l[n] == '\n' || l[n] == '\0'))
            return 1;
    return 0;
}

long line_number(const char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return strtol(l + n, NULL, 10);
    return -1;
}

void assert_client_ok(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 0 && has_line(r->out, "handshake ok") &&
                      !has_line_prefix(r->out, "handshake failed"),
                  "client should have succeeded: " RUN_FMT, RUN_ARGS(r));
}

int has_tlspin_error_entry(const char *text)
{
    for (const char *p = strstr(text, "error:"); p; p = strstr(p + 1, "error:")) {
        size_t hex = strspn(p + 6, "0123456789ABCDEFabcdef");
        if (hex == 8 && strncmp(p + 14, ":tlspin:", 8) == 0)
            return 1;
    }
    return 0;
}

void assert_client_blocked(const struct run_result *r)
{
    int tlspin_err = 0;

    ck_assert_msg(r->exited && r->code == 1, "client should have been blocked: " RUN_FMT,
                  RUN_ARGS(r));
    ck_assert_msg(has_line(r->out, "handshake failed ssl_error=1 verify_result=50 "
                                   "(application verification failure)"),
                  "not the failure tlspin causes: " RUN_FMT, RUN_ARGS(r));
    ck_assert_msg(!has_line(r->out, "handshake ok"), "a handshake completed: " RUN_FMT,
                  RUN_ARGS(r));
    for (const char *l = r->out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (strncmp(l, "err: ", 5) == 0) {
            char *line = strndup(l, len);
            tlspin_err |= has_tlspin_error_entry(line);
            free(line);
        }
    }
    ck_assert_msg(tlspin_err, "no err: line from library tlspin: " RUN_FMT, RUN_ARGS(r));
}

/* The server writes its log as things happen, after the client may have
 * exited: wait (bounded) for `needle` to appear. Returns the log. */
static char *log_wait(const struct server *s, const char *needle)
{
    for (int i = 0; i < 500; i++) {
        char *log = server_log(s);
        if (strstr(log, needle))
            return log;
        free(log);
        usleep(10000);
    }
    return server_log(s);
}

void assert_server_got_no_data(const struct server *s)
{
    char *log = log_wait(s, "handshake failed: ");
    int alert = 0;

    ck_assert_msg(*log, "the server logged no failed handshake");
    for (const char *l = log; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
        ck_assert_msg(strncmp(l, "handshake failed: ", 18) == 0,
                      "the server received application data:\n%s", log);
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (memmem(l, len, "alert received: fatal handshake failure (40)", 44))
            alert = 1;
    }
    ck_assert_msg(alert, "the server did not receive a fatal handshake_failure alert:\n%s", log);
    free(log);
}

void assert_server_got(const struct server *s, const char *text)
{
    char *log = log_wait(s, text);
    ck_assert_msg(strstr(log, text), "the server did not receive '%s'; its log:\n%s", text, log);
    free(log);
}

char *json_query(const char *json, const char *expr)
{
    static const char prog[] = "import json, sys\n"
                               "d = json.loads(sys.stdin.read())\n"
                               "v = eval(sys.argv[1])\n"
                               "print(v if isinstance(v, str) else json.dumps(v))\n";
    struct run_opts o = {.input = json};
    struct run_result r;
    char *out;

    ck_assert_int_eq(RUN(&r, &o, PYTHON3, "-I", "-c", prog, expr), 0);
    ck_assert_msg(r.exited && r.code == 0, "%s: " RUN_FMT "\n%s", expr, RUN_ARGS(&r), json);
    out = strdup(r.out);
    ck_assert_ptr_nonnull(out);
    out[strcspn(out, "\n")] = '\0';
    run_result_free(&r);
    return out;
}

void assert_json(const char *json, const char *expr, const char *want)
{
    char *got = json_query(json, expr);
    ck_assert_msg(strcmp(got, want) == 0, "%s is '%s', expected '%s'\n%s", expr, got, want,
                  json);
    free(got);
}

void expect_exit(const struct run_result *r, int code)
{
    ck_assert_msg(r->exited && r->code == code, "expected exit %d: " RUN_FMT, code,
                  RUN_ARGS(r));
}

void expect_text(const struct run_result *r, const char *text)
{
    ck_assert_msg(strstr(r->out, text) != NULL, "no '%s': " RUN_FMT, text, RUN_ARGS(r));
}

void run_script(const char *what, const char *script, const char *const args[])
{
    static const struct run_opts plain = {0};
    const char *argv[16] = {"/bin/bash", "-c", script, "bash"};
    struct run_result r;
    size_t n = 4;

    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&plain, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "%s failed: " RUN_FMT, what, RUN_ARGS(&r));
    run_result_free(&r);
}

void run_sh(const char *cmd)
{
    static const struct run_opts plain = {0};
    struct run_result r;

    ck_assert_int_eq(RUN(&r, &plain, "/bin/bash", "-c", cmd), 0);
    ck_assert_msg(r.exited && r.code == 0, "%s: " RUN_FMT, cmd, RUN_ARGS(&r));
    run_result_free(&r);
}
