/* tlspin update — fetch the signed pinset from its mirrors, verify it in
 * memory, install it into the cache atomically. Run by a timer (etc/systemd)
 * or cron, never from inside a protected program's handshake.
 *
 *   tlspin update [--config FILE] [--mirror URL]... [--cache PATH]
 *                 [--keys DIR|FILE] [--state PATH] [--cafile FILE]
 *                 [--pin PIN]... [--connect-timeout S] [--timeout S]
 *                 [--max-size BYTES] [--threshold N] [--max-validity DAYS]
 *                 [--jitter S] [--resolve HOST:PORT:ADDR] [--quiet]
 *
 * Mirrors are tried in order. The first file that verifies (signatures by
 * trusted keys, fields, validity window, pinsets, not below the serial
 * floor, not the same serial with other bytes) is installed: cache first
 * (temp file, fsync, rename, fsync of the directory), then the state file.
 * The same file again is a no-op. Anything else leaves the cache and state
 * as they were: the last good file keeps being enforced.
 * Exit status: 0 installed or already current, 1 nothing installed, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "https_fetch.h"
#include "safe_text.h"
#include "pin.h"
#include "signed_check.h"

#define UPDATE_CONFIG_DEFAULT TLSPIN_SYSCONFDIR "/update.conf"
#define MIRRORS_MAX 16
#define PINS_MAX 16

static const char update_usage[] =
    "usage: tlspin update [--config FILE] [--mirror URL]... [--cache PATH]\n"
    "                     [--keys DIR|FILE] [--state PATH] [--cafile FILE]\n"
    "                     [--pin PIN]... [--connect-timeout S] [--timeout S]\n"
    "                     [--max-size BYTES] [--threshold N] [--max-validity DAYS]\n"
    "                     [--jitter S] [--resolve HOST:PORT:ADDR] [--quiet]\n"
    "Fetch the signed pinset over HTTPS (TLS 1.2+, verified; the update host\n"
    "optionally pinned), verify it in memory and install it atomically into\n"
    "the cache (default " SIGNED_CACHE_DEFAULT "). Settings also come\n"
    "from " UPDATE_CONFIG_DEFAULT " (\"mirror URL\", \"cafile PATH\", ...: the\n"
    "long option names, one per line). Exit status: 0 installed or current,\n"
    "1 nothing installed (the last good file stays), 2 bad usage.\n";

struct update_opts {
    const char *mirrors[MIRRORS_MAX];
    size_t n_mirrors;
    const char *cache, *keys, *state, *cafile;
    const char *resolve[MIRRORS_MAX];
    size_t n_resolve;
    unsigned char pins[PINS_MAX][TLSPIN_PIN_LEN];
    size_t n_pins;
    int connect_timeout_s, timeout_s, jitter_s, quiet;
    long max_size;
    unsigned threshold;
    int64_t max_validity;
};

static int usage_error(const char *f, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *f, ...)
{
    va_list ap;

    fprintf(stderr, "tlspin update: ");
    va_start(ap, f);
    vfprintf(stderr, f, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlspin update --help'.\n");
    return 2;
}

static int int_arg(const char *name, const char *v, long lo, long hi, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(v, &end, 10);
    if (errno || *end || end == v || *out < lo || *out > hi) {
        usage_error("--%s \"%s\" is not a number from %ld to %ld", name, v, lo, hi);
        return -1;
    }
    return 0;
}

/* One setting, from the command line or the config file. */
static int set_opt(struct update_opts *o, const char *name, const char *v)
{
    long n;
    char err[256];

    if (strcmp(name, "mirror") == 0) {
        if (o->n_mirrors >= MIRRORS_MAX)
            return usage_error("at most %d mirrors", MIRRORS_MAX);
        o->mirrors[o->n_mirrors++] = v;
    } else if (strcmp(name, "cache") == 0)
        o->cache = v;
    else if (strcmp(name, "keys") == 0)
        o->keys = v;
    else if (strcmp(name, "state") == 0)
        o->state = v;
    else if (strcmp(name, "cafile") == 0)
        o->cafile = v;
    else if (strcmp(name, "resolve") == 0) {
        if (o->n_resolve >= MIRRORS_MAX)
            return usage_error("at most %d --resolve", MIRRORS_MAX);
        o->resolve[o->n_resolve++] = v;
    }
    else if (strcmp(name, "pin") == 0) {
        if (o->n_pins >= PINS_MAX)
            return usage_error("at most %d pins", PINS_MAX);
        if (tlspin_pin_parse(v, o->pins[o->n_pins], err, sizeof(err)) != 0)
            return usage_error("--pin \"%s\": %s", v, err);
        o->n_pins++;
    } else if (strcmp(name, "connect-timeout") == 0) {
        if (int_arg(name, v, 1, 600, &n))
            return 2;
        o->connect_timeout_s = (int)n;
    } else if (strcmp(name, "timeout") == 0) {
        if (int_arg(name, v, 1, 3600, &n))
            return 2;
        o->timeout_s = (int)n;
    } else if (strcmp(name, "jitter") == 0) {
        if (int_arg(name, v, 0, 86400, &n))
            return 2;
        o->jitter_s = (int)n;
    } else if (strcmp(name, "max-size") == 0) {
        if (int_arg(name, v, 1, SIGFMT_FILE_MAX, &n))
            return 2;
        o->max_size = n;
    } else if (strcmp(name, "threshold") == 0) {
        if (int_arg(name, v, 1, SIGFMT_SIGS_MAX, &n))
            return 2;
        o->threshold = (unsigned)n;
    } else if (strcmp(name, "max-validity") == 0) {
        if (int_arg(name, v, 1, 366, &n))
            return 2;
        o->max_validity = (int64_t)n * 86400;
    } else
        return usage_error("unknown setting \"%s\"", name);
    return 0;
}

/* The config file's text: the settings point into it for the process's life. */
static char *volatile config_text; /* volatile: the store is kept, LSan sees a root */

/* "name value" lines; # comments. The strings live for the process. */
static int read_config(struct update_opts *o, const char *path, int must_exist)
{
    char *text, err[512], *line, *save = NULL;
    size_t len;
    unsigned lineno = 0;

    if (access(path, F_OK) != 0 && !must_exist)
        return 0;
    if (signed_read_plain(path, 65536, &text, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin update: %s\n", err);
        return 2;
    }
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *name = line, *v;
        lineno++;
        while (*name == ' ' || *name == '\t')
            name++;
        if (*name == '#' || *name == '\0')
            continue;
        v = name + strcspn(name, " \t");
        if (*v == '\0') {
            fprintf(stderr, "tlspin update: %s: \"%s\" has no value\n", path, name);
            return 2;
        }
        *v++ = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');)
            *--e = '\0';
        if (set_opt(o, name, v) != 0) {
            fprintf(stderr, "tlspin update: in %s\n", path);
            return 2;
        }
    }
    config_text = text; /* stays allocated: o points into it */
    return 0;
}

static void say(const struct update_opts *o, int prio, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct update_opts *o, int prio, const char *f, ...)
{
    va_list ap;
    char raw[2048], msg[4 * sizeof(raw)];

    va_start(ap, f);
    vsnprintf(raw, sizeof(raw), f, ap);
    va_end(ap);
    /* Messages quote what mirrors send (headers, reasons from the body's
     * parser): escaped before a terminal, cron mail or syslog sees them. */
    safe_text(raw, msg, sizeof(msg));
    if (prio <= LOG_WARNING)
        fprintf(stderr, "tlspin update: %s\n", msg);
    else if (!o->quiet)
        printf("%s\n", msg);
    openlog("tlspin-update", LOG_PID, LOG_DAEMON);
    syslog(prio, "%s", msg);
    closelog();
}

int cmd_update(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'C'}, {"mirror", required_argument, NULL, 'm'},
        {"cache", required_argument, NULL, 'c'}, {"keys", required_argument, NULL, 'k'},
        {"state", required_argument, NULL, 's'}, {"cafile", required_argument, NULL, 'a'},
        {"pin", required_argument, NULL, 'p'}, {"connect-timeout", required_argument, NULL, 'T'},
        {"timeout", required_argument, NULL, 't'}, {"max-size", required_argument, NULL, 'S'},
        {"threshold", required_argument, NULL, 'n'},
        {"max-validity", required_argument, NULL, 'V'},
        {"jitter", required_argument, NULL, 'j'}, {"resolve", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct update_opts o;
    const char *config = NULL;
    char state_buf[4096], err[2048], errs[8192] = "", shown[4 * 2048];
    struct sigfmt_keys keys;
    struct sigstore_state floor;
    size_t i;
    int c, r;

    memset(&o, 0, sizeof(o));
    o.connect_timeout_s = 10;
    o.timeout_s = 60;
    o.max_size = SIGFMT_FILE_MAX;
    /* first pass: --config and --help only */
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(update_usage, stdout);
            return 0;
        }
        if (c == 'C')
            config = optarg;
    }
    opterr = 1;
    r = read_config(&o, config ? config : UPDATE_CONFIG_DEFAULT, config != NULL);
    if (r != 0)
        return r;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *name = NULL;
        for (i = 0; opts[i].name != NULL; i++)
            if (opts[i].val == c)
                name = opts[i].name;
        if (c == 'C')
            continue;
        if (c == 'q') {
            o.quiet = 1;
            continue;
        }
        if (name == NULL || c == 'h')
            return usage_error("unknown option");
        if (set_opt(&o, name, optarg) != 0)
            return 2;
    }
    if (optind != argc)
        return usage_error("no operand expected");
    if (o.n_mirrors == 0)
        return usage_error("no mirror: give --mirror URL or \"mirror URL\" in %s",
                           config ? config : UPDATE_CONFIG_DEFAULT);
    if (o.cache == NULL)
        o.cache = SIGNED_CACHE_DEFAULT;
    if (o.keys == NULL)
        o.keys = SIGNED_KEYS_DEFAULT;
    if (o.state == NULL) {
        signed_state_path(o.cache, state_buf, sizeof(state_buf));
        o.state = state_buf;
    }
    if (o.jitter_s > 0) {
        unsigned v = 0;
        if (getrandom(&v, sizeof(v), 0) == (ssize_t)sizeof(v))
            sleep(v % (unsigned)(o.jitter_s + 1));
    }
    signal(SIGPIPE, SIG_IGN); /* a server that resets is an error, not our death */
    {
        /* One updater at a time per cache: a lock on the cache's directory. */
        char dir[4096];
        const char *slash = strrchr(o.cache, '/');
        int dfd;
        if (o.cache[0] != '/' || slash == NULL) {
            say(&o, LOG_ERR, "cache %s: not an absolute path", o.cache);
            return 1;
        }
        snprintf(dir, sizeof(dir), "%.*s", slash == o.cache ? 1 : (int)(slash - o.cache), o.cache);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || flock(dfd, LOCK_EX | LOCK_NB) != 0) {
            say(&o, LOG_ERR, "cache directory %s: %s", dir,
                dfd < 0 ? strerror(errno) : "another tlspin update is running");
            return 1;
        }
        /* dfd stays open (and locked) until the process exits */
    }
    if (sigstore_load_keys(o.keys, &keys, err, sizeof(err)) != 0) {
        say(&o, LOG_ERR, "%s", err);
        return 1;
    }
    if (sigstore_state_read(o.state, &floor, err, sizeof(err)) != 0) {
        say(&o, LOG_ERR, "%s", err);
        return 1;
    }
    for (i = 0; i < o.n_mirrors; i++) {
        struct https_fetch_opts fo = {
            .url = o.mirrors[i], .cafile = o.cafile,
            .pins = (const unsigned char(*)[TLSPIN_PIN_LEN])o.pins, .n_pins = o.n_pins,
            .resolve = o.resolve, .n_resolve = o.n_resolve, .connect_timeout_ms = o.connect_timeout_s * 1000,
            .total_timeout_ms = o.timeout_s * 1000, .max_body = (size_t)o.max_size};
        struct sigfmt_limits lim = {.now = (int64_t)time(NULL), .max_validity = o.max_validity,
                                    .threshold = o.threshold};
        struct signed_verdict v;
        char *body = NULL, state_text[512];
        size_t len = 0;

        if (https_fetch(&fo, &body, &len, err, sizeof(err)) != 0 ||
            signed_check(o.mirrors[i], body, len, &keys, &lim, &floor, &v, err,
                         sizeof(err)) != 0) {
            say(&o, LOG_WARNING, "%s%s", v.stale && body ? "STALE: " : "", err);
            snprintf(errs + strlen(errs), sizeof(errs) - strlen(errs), "\n  %s",
                     safe_text(err, shown, sizeof(shown)));
            free(body);
            continue;
        }
        if (v.same) {
            say(&o, LOG_INFO, "%s: serial %llu is current (%s)", o.mirrors[i],
                (unsigned long long)v.info.serial, o.cache);
            free(body);
            return 0;
        }
        if (sigstore_install(o.cache, body, len, err, sizeof(err)) != 0) {
            say(&o, LOG_ERR, "install: %s", err);
            free(body);
            return 1;
        }
        sigstore_state_text(&v.info, state_text, sizeof(state_text));
        if (sigstore_install(o.state, state_text, strlen(state_text), err, sizeof(err)) != 0) {
            say(&o, LOG_ERR, "state: %s (the new cache is installed)", err);
            free(body);
            return 1;
        }
        {
            char te[21];
            sigfmt_time_format(v.info.expires, te);
            say(&o, LOG_NOTICE, "installed serial %llu from %s into %s (expires %s, signed by "
                "%s%s%s)", (unsigned long long)v.info.serial, o.mirrors[i], o.cache, te,
                v.info.signers, floor.present ? "; was serial " : "",
                floor.present ? (snprintf(state_text, sizeof(state_text), "%llu",
                                          (unsigned long long)floor.serial), state_text) : "");
        }
        free(body);
        return 0;
    }
    fprintf(stderr, "tlspin update: nothing installed; %s keeps serial %s:%s\n", o.cache,
            floor.present ? (snprintf(err, sizeof(err), "%llu", (unsigned long long)floor.serial), err)
                          : "(none)",
            errs);
    return 1;
}
