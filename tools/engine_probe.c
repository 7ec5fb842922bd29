/* engine_probe — see engine_probe.h.
 *
 * Why a child process: a damaged engine can kill whoever loads it. A file
 * cut short past its program headers passes dlopen's checks, and the first
 * page of a segment beyond the end of the file raises SIGBUS (measured: an
 * engine truncated to 50 kB kills curl at its first handshake). status must
 * live to say so; and a module that loads but misbehaves must not take
 * tlspin with it either. The child dlopens exactly what the shim would
 * (the same path, RTLD_NOW | RTLD_LOCAL), loads the policy with that
 * engine's own policy_load() and module directory, as a new process's first
 * handshake does (loader/engine/policy_current.c, first_load), and writes
 * what it found on a pipe, one line at a time, flushed before each step
 * that could kill it: where the lines stop says which step did.
 *
 * The child reads struct policy as this tree's policy.h lays it out: the
 * engine and bin/tlspin are built and installed together. A mixed install
 * that disagrees can at worst kill the child, which is then reported. */
#include "engine_probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_api.h"
#include "policy.h"

#ifndef TLSPIN_ENGINE_INSTALLED
#define TLSPIN_ENGINE_INSTALLED "/usr/lib/x86_64-linux-gnu/tlspin/libtlspin-engine.so"
#endif

/* A policy whose loading takes longer than this is reported as hanging (a
 * new process would hang at its first handshake as long). */
#define PROBE_TIMEOUT_S 20

void engine_path_for_shim(const char *shim_entry, char *out, size_t outlen)
{
    const char *slash = shim_entry ? strrchr(shim_entry, '/') : NULL;

    /* The same rule as loader/resolve.c engine_path(). */
    if (shim_entry == NULL || shim_entry[0] != '/' || slash == NULL ||
        snprintf(out, outlen, "%.*s/%s", (int)(slash - shim_entry), shim_entry,
                 TLSPIN_ENGINE_FILE) >= (int)outlen)
        snprintf(out, outlen, "%s", TLSPIN_ENGINE_INSTALLED);
}

/* ------------------------------------------------------------------ */
/* The child                                                            */
/* ------------------------------------------------------------------ */

/* A field on one line: tabs and line ends would break the framing. */
static void put_field(FILE *w, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, w);
}

static const char *control_text(enum control_flag c)
{
    switch (c) {
    case CONTROL_REQUIRED: return "required";
    case CONTROL_REQUISITE: return "requisite";
    case CONTROL_SUFFICIENT: return "sufficient";
    case CONTROL_OPTIONAL: return "optional";
    }
    return "?";
}

typedef struct policy *policy_load_fn(const char *path, const char *moduledir);
typedef void policy_free_fn(struct policy *policy);
typedef const char *policy_moduledir_fn(void);
typedef int last_good_fn(const char *path, time_t *committed, char *gendir, size_t gendirlen,
                         char *why, size_t whylen);

static int has_entry_fault(const struct policy *p)
{
    for (size_t i = 0; p->config && i < p->n_entries; i++)
        if (p->entries[i].fault)
            return 1;
    return 0;
}

/* A module's own warnings and errors (lint), as "W\t<file>\t<message>". */
static void on_lint(void *ctx, tlspin_severity severity, const char *file, unsigned line,
                    const char *message)
{
    FILE *w = ctx;

    (void)line;
    if (severity == TLSPIN_SEV_NOTE)
        return;
    fputs("W\t", w);
    put_field(w, file ? file : "");
    fputs("\t", w);
    put_field(w, message);
    fputs("\n", w);
}

/* Lines: "E\tok" | "E\tfail\t<why>"; "D\t<moduledir>"; "C\t<mode>\t<on_error>";
 * "F\t<policy fault>"; "N\t<control>\t<module>\t<fault or empty>";
 * "W\t<file>\t<a module's warning>"; "L\t<1|-1>\t<last good, or why not>";
 * "X" at the end. */
static void child(int fd, const char *engine, const char *policy_path)
{
    FILE *w = fdopen(fd, "w");
    void *h;
    policy_load_fn *load;
    policy_free_fn *release;
    policy_moduledir_fn *moduledir;
    last_good_fn *last_good;
    struct policy *p;
    int nul = open("/dev/null", O_RDWR);

    if (w == NULL)
        _exit(127);
    /* Whatever the engine or a module prints stays out of status's output. */
    if (nul >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(nul, 2);
    }
    signal(SIGALRM, SIG_DFL);
    alarm(PROBE_TIMEOUT_S);
    h = dlopen(engine, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fputs("E\tfail\t", w);
        put_field(w, dlerror());
        fputs("\n", w);
        fclose(w);
        _exit(0);
    }
    if (dlsym(h, TLSPIN_ENGINE_ENTRY) == NULL) {
        /* The shim then fails closed, saying so. */
        fprintf(w, "E\tfail\t%s has no %s: not a tlspin engine of this shim's interface (%d)\n",
                engine, TLSPIN_ENGINE_ENTRY, TLSPIN_ENGINE_INTERFACE);
        fclose(w);
        _exit(0);
    }
    *(void **)&load = dlsym(h, "policy_load");
    *(void **)&release = dlsym(h, "policy_free");
    *(void **)&moduledir = dlsym(h, "policy_moduledir");
    *(void **)&last_good = dlsym(h, TLSPIN_PROBE_LAST_GOOD);   /* optional: the seam */
    if (load == NULL || release == NULL || moduledir == NULL) {
        fprintf(w, "E\tfail\t%s lacks policy_load/policy_free/policy_moduledir: an engine "
                   "from another tlspin version\n", engine);
        fclose(w);
        _exit(0);
    }
    fputs("E\tok\nD\t", w);
    put_field(w, moduledir());
    fputs("\n", w);
    fflush(w);
    p = load(policy_path, moduledir());
    if (p == NULL) {
        fputs("F\tout of memory loading the policy\nX\n", w);
        fclose(w);
        _exit(0);
    }
    if (p->config)
        fprintf(w, "C\t%s\t%s\n", p->config->mode == MODE_REPORT ? "report" : "enforce",
                p->config->on_error_allow ? "allow" : "deny");
    if (p->fault || p->config == NULL) {
        fputs("F\t", w);
        put_field(w, p->fault ? p->fault : "no policy");
        fputs("\n", w);
    }
    for (size_t i = 0; p->config && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        fprintf(w, "N\t%s\t", control_text(e->config->control));
        put_field(w, e->config->module);
        fputs("\t", w);
        put_field(w, e->fault);
        fputs("\n", w);
    }
    /* What the modules warn of (a CT log list going stale, a signed pinset
     * about to expire): trouble that has not happened yet. */
    for (size_t i = 0; p->config && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        const struct tlspin_module *m = e->module.desc;
        if (e->fault == NULL && m != NULL && (m->caps & TLSPIN_CAP_LINT) && m->lint != NULL) {
            fflush(w);
            m->lint(e->state, (int64_t)time(NULL), on_lint, w);
        }
    }
    /* What stands in for a faulty policy, asked only when there is one (as a
     * new process does: loader/engine/policy_current.c). */
    if (last_good && (p->fault || p->config == NULL || has_entry_fault(p))) {
        char gendir[PATH_MAX] = "", why[512] = "", when[64] = "?";
        time_t committed = 0;
        struct tm tm;
        int lg;

        fflush(w);
        lg = last_good(policy_path, &committed, gendir, sizeof gendir, why, sizeof why);
        if (lg == 1 && gmtime_r(&committed, &tm) != NULL)
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        if (lg == 1) {
            fprintf(w, "L\t1\tcommitted %s, ", when);
            put_field(w, gendir);
            fputs("\n", w);
        } else if (lg < 0) {
            fputs("L\t-1\t", w);
            put_field(w, why);
            fputs("\n", w);
        }
    }
    fputs("X\n", w);
    fflush(w);
    /* No destructors of the engine or the modules: the report is complete,
     * and what they do at exit is none of status's business. */
    _exit(0);
}

/* ------------------------------------------------------------------ */
/* The parent                                                           */
/* ------------------------------------------------------------------ */

/* The text after the n-th tab of line (0: the first field), up to the next
 * tab, malloc'ed. */
static char *field(const char *line, int n)
{
    const char *end;
    for (; n > 0 && line; n--)
        if ((line = strchr(line, '\t')) != NULL)
            line++;
    if (line == NULL)
        return strdup("");
    end = strchr(line, '\t');
    return strndup(line, end ? (size_t)(end - line) : strlen(line));
}

static int parse_report(char *text, struct engine_probe *out)
{
    int ended = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *a;
        switch (line[0]) {
        case 'E':
            if (strncmp(line, "E\tok", 4) == 0) {
                out->engine_ok = 1;
            } else {
                a = field(line, 2);
                snprintf(out->engine_error, sizeof out->engine_error, "%s", a ? a : "");
                free(a);
            }
            break;
        case 'D':
            a = field(line, 1);
            snprintf(out->moduledir, sizeof out->moduledir, "%s", a ? a : "");
            free(a);
            break;
        case 'C':
            a = field(line, 1);
            out->mode_report = a && strcmp(a, "report") == 0;
            free(a);
            a = field(line, 2);
            out->on_error_allow = a && strcmp(a, "allow") == 0;
            free(a);
            out->have_config = 1;
            break;
        case 'F':
            free(out->policy_fault);
            out->policy_fault = field(line, 1);
            break;
        case 'N': {
            struct probe_entry *more =
                realloc(out->entries, (out->n_entries + 1) * sizeof *out->entries);
            if (more == NULL)
                return -1;
            out->entries = more;
            struct probe_entry *e = &out->entries[out->n_entries++];
            e->control = field(line, 1);
            e->module = field(line, 2);
            e->fault = field(line, 3);
            if (e->fault && e->fault[0] == '\0') {
                free(e->fault);
                e->fault = NULL;
            } else {
                out->n_faulty++;
            }
            break;
        }
        case 'W': {
            char **more = realloc(out->warnings, (out->n_warnings + 1) * sizeof *out->warnings);
            char *file = field(line, 1), *msg = field(line, 2);
            if (more == NULL || asprintf(&more[out->n_warnings], "%s%s%s", file ? file : "",
                                         file && file[0] ? ": " : "", msg ? msg : "") < 0) {
                free(file);
                free(msg);
                if (more != NULL)
                    out->warnings = more;
                return -1;
            }
            out->warnings = more;
            out->n_warnings++;
            free(file);
            free(msg);
            break;
        }
        case 'L':
            a = field(line, 1);
            out->last_good = a && strcmp(a, "1") == 0 ? 1 : -1;
            free(a);
            a = field(line, 2);
            snprintf(out->last_good_text, sizeof out->last_good_text, "%s", a ? a : "");
            free(a);
            break;
        case 'X':
            ended = 1;
            break;
        }
    }
    return ended;
}

int engine_probe_run(const char *shim_entry, const char *policy_path, struct engine_probe *out,
                     char *err, size_t errlen)
{
    int pfd[2], status, ended;
    char *text = NULL;
    size_t len = 0, cap = 0;
    pid_t pid;

    memset(out, 0, sizeof *out);
    engine_path_for_shim(shim_entry, out->engine, sizeof out->engine);
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start a probe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a probe: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        child(pfd[1], out->engine, policy_path);
    }
    close(pfd[1]);
    for (;;) {
        if (cap - len < 1024) {
            char *more = realloc(text, cap + 16384);
            if (more == NULL)
                break;
            text = more;
            cap += 16384;
        }
        ssize_t r = read(pfd[0], text + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    text[len] = '\0';
    ended = parse_report(text, out);
    free(text);
    if (ended < 0) {
        snprintf(err, errlen, "out of memory");
        engine_probe_free(out);
        return -1;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        out->killed_by = sig;
        out->killed_in_policy = out->engine_ok;
        if (sig == SIGALRM)
            snprintf(out->engine_error, sizeof out->engine_error,
                     "loading %.400s took over %d seconds (killed)",
                     out->engine_ok ? "the policy and its modules" : out->engine,
                     PROBE_TIMEOUT_S);
        else
            snprintf(out->engine_error, sizeof out->engine_error,
                     "loading %.400s killed the process (signal %d, %.60s)",
                     out->engine_ok ? "the policy and its modules" : out->engine, sig,
                     strsignal(sig));
        if (!out->engine_ok)
            return 0;
    } else if (!out->engine_ok && out->engine_error[0] == '\0') {
        snprintf(out->engine_error, sizeof out->engine_error,
                 "the probe loading %.400s ended without a word (%s %d)", out->engine,
                 WIFEXITED(status) ? "exit" : "status",
                 WIFEXITED(status) ? WEXITSTATUS(status) : status);
    }
    out->policy_ran = out->engine_ok && ended && !out->killed_by;
    return 0;
}

void engine_probe_free(struct engine_probe *p)
{
    for (size_t i = 0; i < p->n_entries; i++) {
        free(p->entries[i].module);
        free(p->entries[i].control);
        free(p->entries[i].fault);
    }
    free(p->entries);
    free(p->policy_fault);
    for (size_t i = 0; i < p->n_warnings; i++)
        free(p->warnings[i]);
    free(p->warnings);
    memset(p, 0, sizeof *p);
}
