/* tlspin log — recent tlspin records from the system log (journald, or
 * rsyslog's files), decoded into a table. */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log_line.h"
#include "term.h"
#include "time_spec.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define MAX_FILES 16

/* The files read when journald is not running: rsyslog on Debian writes
 * auth/authpriv (tlspin's default facility) to auth.log, the rest to
 * syslog; other distributions use messages/secure. */
static const char *const default_files[] = {"/var/log/auth.log", "/var/log/syslog",
                                            "/var/log/secure", "/var/log/messages", NULL};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin log [--since TIME] [--file PATH]... [--journal] [-n N] [-w]\n"
            "                  [--raw]\n"
            "\n"
            "Show tlspin's records (one per refused or noteworthy handshake) from the system\n"
            "log as a table: time, program[pid], event, action, host:port, pinset, reason.\n"
            "Records are found by their message, which starts with \"tlspin:\" (their tag is\n"
            "the program's own name). On a terminal, wide fields are trimmed to fit.\n"
            "\n"
            "Source: journald (journalctl) when it runs, else /var/log/auth.log and\n"
            "/var/log/syslog (or /var/log/secure and /var/log/messages), merged by time.\n"
            "\n"
            "  --since TIME     only records at or after TIME: 2026-11-26,\n"
            "                   \"2026-11-26 14:00\", 14:00, today, yesterday,\n"
            "                   \"2 hours ago\", 30min, 1d, @EPOCH\n"
            "  --file PATH      read PATH (repeatable; - for standard input) instead: any\n"
            "                   mix of rsyslog's formats (RFC 3339 or traditional\n"
            "                   timestamps), journalctl -o short-iso, or raw datagrams\n"
            "  --journal        read journalctl even if journald does not seem to run\n"
            "  -n, --lines N    only the last N records\n"
            "  -w, --wide       never trim fields (trimming happens only on a terminal)\n"
            "  --raw            print the records' lines as logged (every field: chain,\n"
            "                   expected pins, ...) instead of the table\n"
            "  -h, --help       this text\n"
            "\n"
            "Exit status: 0 (also when there is no record); 1 the log cannot be read;\n"
            "2 usage error.\n");
}

enum { C_TIME, C_PROGRAM, C_EVENT, C_ACTION, C_HOST, C_PINSET, C_REASON, NCOL };
static const char *const headers[NCOL] = {"TIME", "PROGRAM[PID]", "EVENT", "ACTION",
                                          "HOST:PORT", "PINSET", "REASON"};

struct row {
    time_t when;
    size_t seq;                 /* order of arrival: ties keep it */
    char *cell[NCOL];
    char *raw;
};

struct table {
    struct row *v;
    size_t n, cap;
    time_t since;
    int have_since;
    time_t now;
};

/* Printable ASCII only: a log file may hold anything. */
static char *clean(const char *s)
{
    char *out = strdup(s ? s : "-");
    if (out == NULL) {
        fprintf(stderr, "tlspin log: out of memory\n");
        exit(1);
    }
    for (unsigned char *p = (unsigned char *)out; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            *p = '?';
    return out;
}

static char *field(const char *msg, const char *key)
{
    char buf[4096];
    if (logl_field(msg, key, buf, sizeof buf) != 0 || buf[0] == '\0')
        return clean("-");
    return clean(buf);
}

static void add_line(struct table *t, const char *line)
{
    struct log_entry e;
    char buf[8192];

    if (!logl_parse(line, t->now, &e))
        return;
    if (t->have_since && e.when != (time_t)-1 && e.when < t->since)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (t->v == NULL) {
            fprintf(stderr, "tlspin log: out of memory\n");
            exit(1);
        }
    }
    struct row *r = &t->v[t->n];
    memset(r, 0, sizeof *r);
    r->when = e.when;
    r->seq = t->n++;
    r->raw = clean(line);

    if (e.when == (time_t)-1) {
        r->cell[C_TIME] = clean("?");
    } else {
        struct tm tm;
        localtime_r(&e.when, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        r->cell[C_TIME] = clean(buf);
    }

    /* program and pid: the record's own fields, else the syslog header's. */
    char prog[256], pid[32];
    if (logl_field(e.msg, "program", prog, sizeof prog) != 0)
        snprintf(prog, sizeof prog, "%s", e.tag[0] ? e.tag : "?");
    if (logl_field(e.msg, "pid", pid, sizeof pid) != 0) {
        if (e.pid >= 0)
            snprintf(pid, sizeof pid, "%ld", e.pid);
        else
            pid[0] = '\0';
    }
    snprintf(buf, sizeof buf, pid[0] ? "%s[%s]" : "%s", prog, pid);
    r->cell[C_PROGRAM] = clean(buf);

    char event[256], module[256];
    if (logl_field(e.msg, "event", event, sizeof event) == 0) {
        r->cell[C_EVENT] = clean(event);
        r->cell[C_ACTION] = field(e.msg, "action");
        r->cell[C_PINSET] = field(e.msg, "pinset");
        char reason[4096], sup[32];
        if (logl_field(e.msg, "reason", reason, sizeof reason) != 0)
            snprintf(reason, sizeof reason, "-");
        if (logl_field(e.msg, "suppressed", sup, sizeof sup) == 0)
            snprintf(buf, sizeof buf, "%s (+%s identical, suppressed)", reason, sup);
        else
            snprintf(buf, sizeof buf, "%s", reason);
        r->cell[C_REASON] = clean(buf);
    } else {
        /* A module's own line: "tlspin: module=NAME message=..." */
        char message[4096];
        if (logl_field(e.msg, "module", module, sizeof module) != 0)
            snprintf(module, sizeof module, "?");
        snprintf(buf, sizeof buf, "module %s", module);
        r->cell[C_EVENT] = clean(buf);
        r->cell[C_ACTION] = clean("-");
        r->cell[C_PINSET] = clean("-");
        if (logl_field(e.msg, "message", message, sizeof message) != 0)
            snprintf(message, sizeof message, "%s", e.msg + 7 + (e.msg[7] == ' '));
        r->cell[C_REASON] = clean(message);
    }

    char host[1024], port[32];
    if (logl_field(e.msg, "host", host, sizeof host) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "-");
    if (logl_field(e.msg, "port", port, sizeof port) != 0 || strcmp(port, "-") == 0 ||
        strcmp(host, "-") == 0)
        snprintf(buf, sizeof buf, "%s", host);
    else if (strchr(host, ':') != NULL)
        snprintf(buf, sizeof buf, "[%s]:%s", host, port);
    else
        snprintf(buf, sizeof buf, "%s:%s", host, port);
    r->cell[C_HOST] = clean(buf);
}

static void read_stream(struct table *t, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        add_line(t, line);
    }
    free(line);
}

static int read_file(struct table *t, const char *path)
{
    FILE *f;

    if (strcmp(path, "-") == 0) {
        read_stream(t, stdin);
        return 0;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        int e = errno;
        fprintf(stderr, "tlspin log: cannot read %s: %s%s\n", path, strerror(e),
                e == EACCES ? " (root, or the adm group, can read it)" : "");
        return -1;
    }
    read_stream(t, f);
    if (ferror(f)) {
        fprintf(stderr, "tlspin log: error reading %s: %s\n", path, strerror(errno));
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

/* journalctl --no-pager -q -o short-iso [--since @EPOCH], filtered here
 * (the tag is each program's name, so there is no -t to select by). */
static int read_journal(struct table *t)
{
    char since_arg[64];
    char *args[8];
    int n = 0, pfd[2], status;
    pid_t pid;

    args[n++] = "journalctl";
    args[n++] = "--no-pager";
    args[n++] = "-q";
    args[n++] = "-o";
    args[n++] = "short-iso";
    if (t->have_since) {
        snprintf(since_arg, sizeof since_arg, "--since=@%lld", (long long)t->since);
        args[n++] = since_arg;
    }
    args[n] = NULL;
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "tlspin log: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tlspin log: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        execvp(args[0], args);
        fprintf(stderr, "tlspin log: cannot run journalctl: %s (--file PATH reads a log file)\n",
                strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    if (f == NULL) {
        close(pfd[0]);
        waitpid(pid, &status, 0);
        return -1;
    }
    read_stream(t, f);
    fclose(f);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127))
            fprintf(stderr, "tlspin log: journalctl failed (%s %d)\n",
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

static int have_journalctl(void)
{
    const char *path = getenv("PATH");
    char cand[PATH_MAX];
    if (path == NULL)
        path = "/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(cand, sizeof cand, "%.*s/journalctl", (int)len, p);
        if (len > 0 && access(cand, X_OK) == 0)
            return 1;
        if (colon == NULL)
            return 0;
        p = colon + 1;
    }
}

static int by_time(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->when != y->when && x->when != (time_t)-1 && y->when != (time_t)-1)
        return x->when < y->when ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int columns(void)
{
    struct winsize ws;
    const char *c = getenv("COLUMNS");
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return c && atoi(c) > 0 ? atoi(c) : 80;
}

static enum term_style action_style(const char *action, int *styled)
{
    *styled = 1;
    if (strcmp(action, "blocked") == 0)
        return TERM_RED;
    if (strcmp(action, "allowed") == 0)
        return TERM_GREEN;
    if (strcmp(action, "-") == 0)
        *styled = 0;
    return TERM_YELLOW;
}

/* Cell text cut to width w with an ellipsis. */
static void print_cell(const char *text, size_t w, int last, const char *ellipsis,
                       const char *on, const char *off)
{
    size_t len = strlen(text);
    if (len <= w) {
        if (last)
            printf("%s%s%s", on, text, off);
        else
            printf("%s%-*s%s", on, (int)w, text, off);
        return;
    }
    printf("%s%.*s%s%s", on, (int)(w > 1 ? w - 1 : 0), text, ellipsis, off);
}

static void print_table(const struct table *t, size_t first, int trim)
{
    size_t w[NCOL];
    const char *ellipsis = "~";
    int short_time = 0;    /* "MM-DD HH:MM:SS" */

    if (trim) {
        setlocale(LC_CTYPE, "");
        if (strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
            ellipsis = "\xE2\x80\xA6";
    }
    for (int c = 0; c < NCOL; c++) {
        w[c] = strlen(headers[c]);
        for (size_t i = first; i < t->n; i++)
            if (strlen(t->v[i].cell[c]) > w[c])
                w[c] = strlen(t->v[i].cell[c]);
    }
    if (trim) {
        /* Fit the terminal: first the year goes from the time, then each
         * column gives up width in this order, down to these minimums: the
         * reason keeps 30 columns as long as the others can give. */
        static const struct {
            int col;
            size_t min;
        } order[] = {{C_HOST, 24},   {C_PINSET, 12}, {C_PROGRAM, 16}, {C_EVENT, 14},
                     {C_ACTION, 14}, {C_REASON, 30}, {C_HOST, 12},    {C_PINSET, 8},
                     {C_PROGRAM, 10}, {C_EVENT, 10}, {C_ACTION, 8},   {C_REASON, 10},
                     {C_HOST, 8},    {C_PROGRAM, 6}, {C_EVENT, 6},    {C_REASON, 4}};
        size_t total = 2 * (NCOL - 1), avail = (size_t)columns();
        for (int c = 0; c < NCOL; c++)
            total += w[c];
        if (total > avail && w[C_TIME] == 19) {
            short_time = 1;
            w[C_TIME] -= 5;
            total -= 5;
        }
        for (size_t k = 0; k < sizeof order / sizeof order[0] && total > avail; k++) {
            size_t *cw = &w[order[k].col];
            size_t give = *cw > order[k].min ? *cw - order[k].min : 0;
            if (give > total - avail)
                give = total - avail;
            *cw -= give;
            total -= give;
        }
    }
    for (int c = 0; c < NCOL; c++) {
        print_cell(headers[c], w[c], c == NCOL - 1, ellipsis, term_on(stdout, TERM_BOLD),
                   term_off(stdout));
        if (c < NCOL - 1)
            fputs("  ", stdout);
    }
    putchar('\n');
    for (size_t i = first; i < t->n; i++) {
        for (int c = 0; c < NCOL; c++) {
            const char *on = "", *off = "";
            if (c == C_ACTION) {
                int styled;
                enum term_style s = action_style(t->v[i].cell[c], &styled);
                if (styled) {
                    on = term_on(stdout, s);
                    off = term_off(stdout);
                }
            }
            const char *text = t->v[i].cell[c];
            if (c == C_TIME && short_time && strlen(text) == 19)
                text += 5;
            print_cell(text, w[c], c == NCOL - 1, ellipsis, on, off);
            if (c < NCOL - 1)
                fputs("  ", stdout);
        }
        putchar('\n');
    }
}

int cmd_log(int argc, char **argv)
{
    const char *files[MAX_FILES + 1];
    size_t n_files = 0;
    int journal = 0, wide = 0, raw = 0, rc = 0;
    long last = -1;
    struct table t = {0};

    t.now = time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--journal") == 0) {
            journal = 1;
            continue;
        }
        if (strcmp(a, "-w") == 0 || strcmp(a, "--wide") == 0) {
            wide = 1;
            continue;
        }
        if (strcmp(a, "--raw") == 0) {
            raw = 1;
            continue;
        }
        const char *opts[] = {"--since", "--file", "--lines", "-n", NULL};
        int which = -1;
        for (int k = 0; opts[k]; k++) {
            size_t len = strlen(opts[k]);
            if (strncmp(a, opts[k], len) == 0 && (a[len] == '\0' || a[len] == '=')) {
                which = k;
                v = a[len] == '=' ? a + len + 1 : NULL;
                break;
            }
        }
        if (which < 0) {
            fprintf(stderr, "tlspin log: %s \"%s\"\nTry 'tlspin log --help'.\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return 2;
        }
        if (v == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tlspin log: %s needs a value\nTry 'tlspin log --help'.\n", a);
                return 2;
            }
            v = argv[++i];
        }
        if (which == 0) {
            if (time_spec_parse(v, t.now, &t.since) != 0) {
                fprintf(stderr, "tlspin log: --since: not a time: \"%s\" (try 2026-11-26, "
                                "\"2026-11-26 14:00\", \"2 hours ago\", today)\n", v);
                return 2;
            }
            t.have_since = 1;
        } else if (which == 1) {
            if (n_files == MAX_FILES) {
                fprintf(stderr, "tlspin log: at most %d --file\n", MAX_FILES);
                return 2;
            }
            files[n_files++] = v;
        } else {
            char *end;
            last = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || last < 0) {
                fprintf(stderr, "tlspin log: %s: not a number of records: %s\n", a, v);
                return 2;
            }
        }
    }
    if (journal && n_files > 0) {
        fprintf(stderr, "tlspin log: --journal and --file exclude each other\n");
        return 2;
    }

    /* The source. */
    const char *source = NULL;
    char source_buf[512] = "";
    if (n_files > 0) {
        for (size_t i = 0; i < n_files; i++)
            if (read_file(&t, files[i]) != 0)
                rc = 1;
        source = n_files == 1 ? files[0] : "the files given";
    } else if (journal || (access(JOURNAL_SOCKET, F_OK) == 0 && have_journalctl())) {
        if (read_journal(&t) != 0)
            rc = 1;
        source = "the journal";
    } else {
        size_t len = 0;
        for (size_t i = 0; default_files[i]; i++) {
            if (access(default_files[i], F_OK) != 0)
                continue;
            if (read_file(&t, default_files[i]) != 0)
                rc = 1;
            len += (size_t)snprintf(source_buf + len, sizeof source_buf - len, "%s%s",
                                    len ? " and " : "", default_files[i]);
        }
        if (len == 0) {
            fprintf(stderr, "tlspin log: no system log found: journald does not run and there "
                            "is no /var/log/auth.log or /var/log/syslog; --file PATH reads a "
                            "log file\n");
            return 1;
        }
        source = source_buf;
    }
    if (n_files > 1 || source == source_buf)
        qsort(t.v, t.n, sizeof *t.v, by_time);

    size_t first = last >= 0 && (size_t)last < t.n ? t.n - (size_t)last : 0;
    if (t.n == 0 || first == t.n) {
        char when[64] = "";
        if (t.have_since) {
            struct tm tm;
            localtime_r(&t.since, &tm);
            strftime(when, sizeof when, " since %Y-%m-%d %H:%M:%S", &tm);
        }
        fprintf(stderr, "tlspin log: no tlspin record in %s%s\n", source, when);
    } else if (raw) {
        for (size_t i = first; i < t.n; i++)
            printf("%s\n", t.v[i].raw);
    } else {
        print_table(&t, first, !wide && isatty(STDOUT_FILENO));
    }
    for (size_t i = 0; i < t.n; i++) {
        for (int c = 0; c < NCOL; c++)
            free(t.v[i].cell[c]);
        free(t.v[i].raw);
    }
    free(t.v);
    return rc;
}
