/* tlspin check — validate the whole policy the way the shim loads it (the
 * engine's policy_load: the same parser, the same module loader, the same
 * faults), then ask every healthy module for its own diagnostics (lint), and
 * look at who besides root can change what the policy is made of. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "json_out.h"
#include "last_good.h"
#include "module_load.h"
#include "perm_check.h"
#include "policy.h"
#include "policy_path.h"
#include "term.h"

#ifdef TLSPIN_STATEDIR
#define TLSPIN_STATEDIR_SHOWN TLSPIN_STATEDIR
#else
#define TLSPIN_STATEDIR_SHOWN "/var/lib/tlspin"
#endif

static const char usage_text[] =
    "usage: tlspin check [--config PATH] [--json] [-q]\n"
    "       tlspin check --commit [--config PATH]\n"
    "\n"
    "Validate the whole policy as the shim loads it, like `nginx -t`: syntax\n"
    "errors, unknown keys and values, modules that cannot be loaded (missing,\n"
    "another ABI, no entry point) or that refuse their arguments (pins that are\n"
    "not SHA-256 values, pinsets without a backup pin, ...); then each module's\n"
    "own checks (pinsets expired or expiring within 30, 14, 7 or 1 days, single\n"
    "pins, host patterns shadowed by more specific ones, pinsets of one host for\n"
    "different ports that pin different keys); then every file anyone\n"
    "but root can change: the policy file and its directory, each module and its\n"
    "directory, and what each module reads (pinset files and directories).\n"
    "\n"
    "  --config PATH   the policy (default: $TLSPIN_CONFIG, else\n"
    "                  /etc/tlspin/tlspin.conf)\n"
    "  --commit        (root) when the policy loads cleanly and has no error,\n"
    "                  snapshot it, its modules and what they read as the last\n"
    "                  good policy: a program starting while the policy is\n"
    "                  broken enforces it (kept under $TLSPIN_STATE_DIR, else\n"
    "                  " TLSPIN_STATEDIR_SHOWN "/last-good); a faulty policy is not\n"
    "                  committed (exit 2, the snapshot untouched)\n"
    "  --json          machine-readable output\n"
    "  -q, --quiet     findings only, no summary line\n"
    "  -h, --help      this text\n"
    "\n"
    "Output: one line per finding, FILE:LINE: SEVERITY: MESSAGE (severity error,\n"
    "warning or note), then a summary line.\n"
    "Exit status: 0 no problem (notes allowed), 1 warnings, 2 errors or bad usage.\n";

/* What a new process falls back on while the policy is broken. */
struct fallback {
    int state;               /* 1 a usable snapshot, 0 none, -1 unusable */
    char when[64];           /* its commit time, UTC */
    char why[600];           /* why it cannot be used */
};

struct finding {
    char *file;              /* NULL: no location */
    unsigned line;
    tlspin_severity severity;
    char *message;
    const char *source;      /* "policy", a module name, "permissions" */
};

struct report {
    struct finding *items;
    size_t n, cap;
    size_t count[3];         /* by severity */
    int oom;
    char dir[PATH_MAX];      /* the policy's directory: @include files named
                                relative to it are shown absolute */
};

/* `file` as an absolute path (an @include is named as written, relative to
 * the policy's directory); malloc'ed, NULL for no file. */
static char *absolute(const struct report *r, const char *file)
{
    char *out = NULL;

    if (file == NULL || file[0] == '\0')
        return NULL;
    if (file[0] == '/' || r->dir[0] == '\0')
        return strdup(file);
    if (asprintf(&out, "%s/%s", r->dir, file) < 0)
        return NULL;
    return out;
}

static void add(struct report *r, const char *source, tlspin_severity sev, const char *file,
                unsigned line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct report *r, const char *source, tlspin_severity sev, const char *file,
                unsigned line, const char *fmt, ...)
{
    struct finding *f;
    va_list ap;
    char *msg = NULL;

    if ((unsigned)sev > TLSPIN_SEV_ERROR)
        sev = TLSPIN_SEV_ERROR;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct finding *more = realloc(r->items, cap * sizeof(*more));
        if (more == NULL) {
            r->oom = 1;
            return;
        }
        r->items = more;
        r->cap = cap;
    }
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    /* The same module twice in the stack says the same things twice. */
    char *abs = absolute(r, file);
    for (size_t i = 0; msg != NULL && i < r->n; i++) {
        const struct finding *g = &r->items[i];
        if (g->severity == sev && g->line == line && strcmp(g->message, msg) == 0 &&
            ((g->file == NULL && abs == NULL) ||
             (g->file != NULL && abs != NULL && strcmp(g->file, abs) == 0))) {
            free(msg);
            free(abs);
            return;
        }
    }
    free(abs);
    f = &r->items[r->n];
    f->file = absolute(r, file);
    f->line = line;
    f->severity = sev;
    f->message = msg;
    f->source = source;
    if (msg == NULL) {
        free(f->file);
        r->oom = 1;
        return;
    }
    r->n++;
    r->count[sev]++;
}

static void report_free(struct report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].file);
        free(r->items[i].message);
    }
    free(r->items);
}

/* "FILE:LINE: rest" at the start of text (FILE without spaces, LINE
 * digits): splits it. Returns 1 when found. */
static int split_location(const char *text, char **file, unsigned *line, const char **rest)
{
    size_t word = strcspn(text, " ");

    for (const char *p = strchr(text, ':'); p != NULL && (size_t)(p - text) < word;
         p = strchr(p + 1, ':')) {
        const char *d = p + 1;
        unsigned long v = 0;
        if (*d < '0' || *d > '9')
            continue;
        while (*d >= '0' && *d <= '9' && v < 100000000)
            v = v * 10 + (unsigned long)(*d++ - '0');
        if (d[0] != ':' || d[1] != ' ')
            continue;
        if ((*file = strndup(text, (size_t)(p - text))) == NULL)
            return 0;
        *line = (unsigned)v;
        *rest = d + 2;
        return 1;
    }
    return 0;
}

/* A fault text as a located finding: the innermost FILE:LINE wins (the
 * pinsets file, not the stack entry that named it). */
static void add_fault(struct report *r, const char *source, const char *text,
                      const char *file, unsigned line)
{
    char *inner;
    unsigned inner_line;
    const char *rest;

    if (split_location(text, &inner, &inner_line, &rest)) {
        add(r, source, TLSPIN_SEV_ERROR, inner, inner_line, "%s", rest);
        free(inner);
    } else {
        add(r, source, TLSPIN_SEV_ERROR, file, line, "%s", text);
    }
}

/* The .so files of the module directory, for "unknown module" messages. */
static void installed_modules(const char *dir, char *out, size_t outlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t len = 0;

    out[0] = '\0';
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL && len + 1 < outlen) {
        size_t n = strlen(de->d_name);
        if (n <= 3 || strcmp(de->d_name + n - 3, ".so") != 0 || de->d_name[0] == '.')
            continue;
        int w = snprintf(out + len, outlen - len, "%s%.*s", len ? ", " : "", (int)(n - 3),
                         de->d_name);
        if (w < 0 || (size_t)w >= outlen - len)
            break;
        len += (size_t)w;
    }
    closedir(d);
}

static void check_entry_fault(struct report *r, const struct policy_entry *e,
                              const char *moduledir)
{
    const struct stack_entry_config *c = e->config;
    const char *text = e->fault;
    char prefix[PATH_MAX + 32];
    struct stat st;
    int n = snprintf(prefix, sizeof(prefix), "%s:%u: ", c->file, c->line);

    /* policy_load writes "<entry file>:<line>: <why>". */
    if (n > 0 && strncmp(text, prefix, (size_t)n) == 0)
        text += n;
    if (e->module.handle == NULL && stat(c->path, &st) != 0 && errno == ENOENT) {
        char list[512];
        if (c->module[0] == '/') {
            add(r, "policy", TLSPIN_SEV_ERROR, c->file, c->line,
                "unknown module: there is no %s", c->path);
        } else {
            installed_modules(moduledir, list, sizeof(list));
            add(r, "policy", TLSPIN_SEV_ERROR, c->file, c->line,
                "unknown module \"%s\": there is no %s (installed: %s)", c->module, c->path,
                list[0] ? list : "none");
        }
        return;
    }
    add_fault(r, e->module.desc ? e->module.desc->name : c->module, text, c->file, c->line);
}

struct lint_ctx {
    struct report *r;
    const struct policy_entry *e;
    size_t errors;
};

static void on_diag(void *ctx, tlspin_severity sev, const char *file, unsigned line,
                    const char *message)
{
    struct lint_ctx *l = ctx;
    const char *name = l->e->module.desc->name;

    if (message == NULL)
        return;
    if (file == NULL || file[0] == '\0') {
        /* No location of its own: the stack entry that configured it. */
        add(l->r, name, sev, l->e->config->file, l->e->config->line, "module %s: %s", name,
            message);
    } else {
        add(l->r, name, sev, file, line, "%s", message);
    }
    if (sev >= TLSPIN_SEV_ERROR)
        l->errors++;
}

/* Paths checked for permissions, once each. */
struct seen_paths {
    char **paths;
    size_t n;
};

static int seen(struct seen_paths *s, const char *path)
{
    char **more;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->paths[i], path) == 0)
            return 1;
    if ((more = realloc(s->paths, (s->n + 1) * sizeof(*more))) == NULL)
        return 1;
    s->paths = more;
    if ((s->paths[s->n] = strdup(path)) == NULL)
        return 1;
    s->n++;
    return 0;
}

struct perm_ctx {
    struct report *r;
    struct seen_paths *seen;
    const char *module;      /* whose watch() paths these are */
    int others_matter;       /* other users' programs can reach the policy */
};

/* check runs as root, and root reads everything: a root-owned pinset with
 * mode 0600 loads here while every other user's program fails its policy
 * (and on_error then decides every handshake). What a user other than the
 * owner and the group would see: the file readable by others, a directory
 * also searchable, and every directory above searchable by others. Files
 * owned by another user are that user's own policy and not judged here.
 * Only asked when other users can reach the policy file's directory: a
 * policy in a directory closed to them (root's private TLSPIN_CONFIG, a
 * test's mkdtemp directory) is meant for root alone.
 * Returns 1 with the sentence in msg when others cannot read it. */
static int others_cannot_read(const char *path, char *msg, size_t msglen, int *own)
{
    char dir[PATH_MAX];
    struct stat st;
    char *slash;

    *own = 1;
    if (stat(path, &st) != 0 || st.st_uid != 0)
        return 0;
    if ((st.st_mode & S_IROTH) == 0 || (S_ISDIR(st.st_mode) && (st.st_mode & S_IXOTH) == 0)) {
        snprintf(msg, msglen, "not readable by other users (owner root, mode %04o): every "
                 "non-root program fails this policy", (unsigned)(st.st_mode & 07777));
        return 1;
    }
    *own = 0;
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return 0;
    while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        if (stat(dir, &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
            snprintf(msg, msglen, "not readable by other users: the directory %s (mode %04o) "
                     "is closed to them, so every non-root program fails this policy", dir,
                     (unsigned)(st.st_mode & 07777));
            return 1;
        }
    }
    return 0;
}

static void check_path(struct perm_ctx *pc, const char *path, const char *what)
{
    char msg[PATH_MAX + 200];
    enum perm_verdict v;
    int own;

    if (path == NULL || path[0] == '\0' || seen(pc->seen, path))
        return;
    v = perm_check(path, what, msg, sizeof(msg));
    if (v != PERM_OK)
        add(pc->r, "permissions", v == PERM_ERROR ? TLSPIN_SEV_ERROR : TLSPIN_SEV_WARNING, path,
            0, "%s", msg);
    /* The file's own mode is the classic accident (a pinset written 0600):
     * an error. A closed directory above it is more often meant (a private
     * tree of root's): a warning, so enable-system and --commit still go on. */
    if (pc->others_matter && others_cannot_read(path, msg, sizeof(msg), &own))
        add(pc->r, "permissions", own ? TLSPIN_SEV_ERROR : TLSPIN_SEV_WARNING, path, 0, "%s",
            msg);
}

static void check_dir_of(struct perm_ctx *pc, const char *path, const char *what)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return;
    snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    check_path(pc, dir, what);
}

static void on_watch(void *ctx, const char *path)
{
    struct perm_ctx *pc = ctx;
    struct stat st;

    if (path == NULL)
        return;
    char what[160];

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(what, sizeof(what), "directory read by module %s", pc->module);
        check_path(pc, path, what);
    } else {
        snprintf(what, sizeof(what), "file read by module %s", pc->module);
        check_path(pc, path, what);
        snprintf(what, sizeof(what), "directory of a file read by module %s", pc->module);
        check_dir_of(pc, path, what);
    }
}

static void check_permissions(struct report *r, const struct policy *p, const char *path)
{
    struct seen_paths s = { NULL, 0 };
    struct perm_ctx pc = { r, &s, "?", 1 };
    char dir[PATH_MAX], *slash;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s", path);
    while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        if (stat(dir, &st) == 0 && (st.st_mode & S_IXOTH) == 0)
            pc.others_matter = 0;
    }

    check_path(&pc, path, "policy file");
    check_dir_of(&pc, path, "policy directory");
    for (size_t i = 0; p->config != NULL && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        const struct tlspin_args args = { e->config->args, e->config->n_args };

        char *file = absolute(r, e->config->file);   /* maybe an @include */
        check_path(&pc, file, "policy file");
        check_dir_of(&pc, file, "policy directory");
        free(file);
        check_path(&pc, e->config->path, "module");
        check_dir_of(&pc, e->config->path, "module directory");
        if (e->module.desc != NULL && module_has_watch(e->module.desc)) {
            pc.module = e->module.desc->name;
            e->module.desc->watch(e->state, &args, on_watch, &pc);
        }
    }
    for (size_t i = 0; i < s.n; i++)
        free(s.paths[i]);
    free(s.paths);
}

static const char *severity_name(tlspin_severity sev)
{
    return sev == TLSPIN_SEV_ERROR ? "error" : sev == TLSPIN_SEV_WARNING ? "warning" : "note";
}

static void print_finding(const struct finding *f)
{
    static const enum term_style style[] = { TERM_CYAN, TERM_YELLOW, TERM_RED };

    if (f->file != NULL && f->line > 0)
        printf("%s:%u: ", f->file, f->line);
    else if (f->file != NULL)
        printf("%s: ", f->file);
    else
        printf("tlspin: ");
    printf("%s%s%s: %s\n", term_on(stdout, style[f->severity]), severity_name(f->severity),
           term_off(stdout), f->message);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* What the shim would make of this policy, in one clause. */
static void consequence(const struct policy *p, const struct report *r,
                        const struct fallback *fb, char *out, size_t outlen)
{
    if (policy_has_fault(p) && fb->state == 1) {
        snprintf(out, outlen, "the policy does not load: a running program keeps its last good "
                 "policy; new processes will enforce the last good policy committed at %s",
                 fb->when);
    } else if (policy_has_fault(p)) {
        if (p->config == NULL)
            snprintf(out, outlen, "the policy does not load: a running program keeps its last "
                     "good policy; a program starting now refuses every handshake");
        else
            snprintf(out, outlen, "the policy does not load cleanly: a running program keeps "
                     "its last good policy; a program starting now decides the handshakes the "
                     "broken entries take part in by on_error = \"%s\"",
                     p->config->on_error_allow ? "allow" : "deny");
    } else if (r->count[TLSPIN_SEV_ERROR] > 0) {
        snprintf(out, outlen, "the policy loads, but needs fixing");
    } else if (r->count[TLSPIN_SEV_WARNING] > 0) {
        snprintf(out, outlen, "the policy loads, with warnings");
    } else {
        snprintf(out, outlen, "ok");
    }
}

static void print_json(const char *path, const struct policy *p, const struct report *r,
                       const struct fallback *fb, int status)
{
    struct json j;
    char what[600];

    consequence(p, r, fb, what, sizeof(what));
    json_begin(&j, stdout);
    json_object_open(&j, NULL);
    json_str(&j, "config", path);
    json_str(&j, "status", status == 0 ? "ok" : status == 1 ? "warnings" : "errors");
    json_int(&j, "exit", status);
    json_bool(&j, "loads", !policy_has_fault(p));
    if (fb->state == 1)
        json_str(&j, "last_good_committed", fb->when);
    else
        json_null(&j, "last_good_committed");
    json_str(&j, "summary", what);
    json_int(&j, "errors", (long long)r->count[TLSPIN_SEV_ERROR]);
    json_int(&j, "warnings", (long long)r->count[TLSPIN_SEV_WARNING]);
    json_int(&j, "notes", (long long)r->count[TLSPIN_SEV_NOTE]);
    json_array_open(&j, "findings");
    for (size_t i = 0; i < r->n; i++) {
        const struct finding *f = &r->items[i];
        json_object_open(&j, NULL);
        json_str(&j, "file", f->file);
        if (f->line > 0)
            json_int(&j, "line", f->line);
        else
            json_null(&j, "line");
        json_str(&j, "severity", severity_name(f->severity));
        json_str(&j, "source", f->source);
        json_str(&j, "message", f->message);
        json_object_close(&j);
    }
    json_array_close(&j);
    json_array_open(&j, "stack");
    for (size_t i = 0; p->config != NULL && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        json_object_open(&j, NULL);
        json_str(&j, "module", e->config->module);
        json_str(&j, "control", control_name(e->config->control));
        json_str(&j, "path", e->config->path);
        json_str(&j, "version", e->module.desc ? e->module.desc->version : NULL);
        json_bool(&j, "healthy", e->fault == NULL);
        json_object_close(&j);
    }
    json_array_close(&j);
    json_object_close(&j);
    json_end(&j);
}

int cmd_check(int argc, char **argv)
{
    enum { OPT_CONFIG = 256, OPT_JSON, OPT_COMMIT };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, OPT_CONFIG },
        { "json", no_argument, NULL, OPT_JSON },
        { "commit", no_argument, NULL, OPT_COMMIT },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *moduledir;
    char path[PATH_MAX];
    int opt, json = 0, quiet = 0, commit = 0, status;
    struct fallback fb = { 0 };
    struct report r;
    struct policy *p;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_CONFIG: config = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_COMMIT: commit = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fprintf(stderr, "tlspin check: unknown option \"%s\"\nTry 'tlspin check --help'.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tlspin check: unexpected argument \"%s\" (the policy is given with "
                "--config PATH)\nTry 'tlspin check --help'.\n", argv[optind]);
        return 2;
    }
    {
        char err[600];
        if (policy_path_resolve(config, path, sizeof(path), err, sizeof(err)) != 0) {
            fprintf(stderr, "tlspin check: %s\n", err);
            return 2;
        }
    }

    memset(&r, 0, sizeof(r));
    {
        const char *slash = strrchr(path, '/');
        snprintf(r.dir, sizeof(r.dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    }
    moduledir = policy_moduledir();
    p = policy_load(path, moduledir);
    if (p == NULL) {
        fprintf(stderr, "tlspin check: out of memory\n");
        return 2;
    }
    if (p->fault != NULL || p->config == NULL) {
        add_fault(&r, "policy", p->fault ? p->fault : "the policy cannot be read", path, 0);
    } else {
        int64_t now = (int64_t)time(NULL);
        for (size_t i = 0; i < p->n_entries; i++) {
            const struct policy_entry *e = &p->entries[i];
            if (e->fault != NULL) {
                check_entry_fault(&r, e, moduledir);
            } else if (module_has_lint(e->module.desc)) {
                struct lint_ctx l = { &r, e, 0 };
                int errors = e->module.desc->lint(e->state, now, on_diag, &l);
                if (errors > 0 && (size_t)errors > l.errors)
                    add(&r, e->module.desc->name, TLSPIN_SEV_ERROR, e->config->file,
                        e->config->line, "module %s found %d error(s) it did not describe",
                        e->module.desc->name, errors);
            }
        }
    }
    check_permissions(&r, p, path);
    if (r.oom)
        add(&r, "policy", TLSPIN_SEV_ERROR, NULL, 0, "out of memory: findings are missing");

    /* A broken policy: what a program starting now does instead. The
     * snapshot is only read (last_good_info loads no module). */
    if (policy_has_fault(p)) {
        time_t t = 0;
        fb.state = last_good_info(path, &t, NULL, 0, fb.why, sizeof(fb.why));
        if (fb.state == 1) {
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(fb.when, sizeof(fb.when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        } else if (fb.state < 0) {
            add(&r, "last-good", TLSPIN_SEV_ERROR, NULL, 0, "the last good policy cannot be "
                "used (new processes decide by on_error): %s", fb.why);
        }
    }
    status = r.count[TLSPIN_SEV_ERROR] > 0 ? 2 : r.count[TLSPIN_SEV_WARNING] > 0 ? 1 : 0;
    if (json) {
        print_json(path, p, &r, &fb, status);
    } else {
        char what[600];
        for (size_t i = 0; i < r.n; i++)
            print_finding(&r.items[i]);
        if (!quiet) {
            size_t e = r.count[TLSPIN_SEV_ERROR], w = r.count[TLSPIN_SEV_WARNING],
                   n = r.count[TLSPIN_SEV_NOTE];
            static const enum term_style style[] = { TERM_GREEN, TERM_YELLOW, TERM_RED };
            consequence(p, &r, &fb, what, sizeof(what));
            printf("%s: %zu %s, %zu %s, %zu %s: %s%s%s\n", path, e, plural(e, "error", "errors"),
                   w, plural(w, "warning", "warnings"), n, plural(n, "note", "notes"),
                   term_on(stdout, style[status]), what, term_off(stdout));
        }
    }
    /* Only a policy that loads as the shim loads it, with no error, becomes
     * the last good one. */
    if (commit) {
        char err[1200];
        if (policy_has_fault(p) || r.count[TLSPIN_SEV_ERROR] > 0) {
            fprintf(stderr, "tlspin check: not committed: the policy has errors; the last good "
                    "policy is unchanged\n");
            status = 2;
        } else if (last_good_commit(path, p, err, sizeof(err)) != 0) {
            fprintf(stderr, "tlspin check: not committed: %s\n", err);
            status = 2;
        } else if (!json) {
            char gendir[PATH_MAX] = "";
            if (last_good_info(path, NULL, gendir, sizeof(gendir), err, sizeof(err)) == 1)
                printf("%s: committed as the last good policy (%s)\n", path, gendir);
            else {
                fprintf(stderr, "tlspin check: committed, but the snapshot does not check: "
                        "%s\n", err);
                status = 2;
            }
        }
    }
    report_free(&r);
    policy_free(p);
    return status;
}
