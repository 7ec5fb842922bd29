/* Record formatting and emission. Host names, subjects and reasons may come
 * from a certificate an attacker chose: nothing unescaped reaches a log. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define VALUE_MAX 4096          /* cap on one escaped value */
#define RATE_SLOTS 64

static int bare_safe(const char *v)
{
    if (*v == '\0')
        return 0;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* Appends `v` double-quoted and escaped, within VALUE_MAX bytes and the
 * buffer; a value cut short ends in ...". Always NUL-terminates. */
static size_t append_quoted(char *out, size_t outlen, size_t len, const char *v)
{
    size_t cap = len + VALUE_MAX < outlen ? len + VALUE_MAX : outlen;

    if (len + 6 > cap)          /* not even room for "..." and the NUL */
        return len;
    out[len++] = '"';
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        char esc[5];
        size_t n;
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; n = 2;
        } else if (c < ' ' || c >= 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", c); n = 4;
        } else {
            esc[0] = (char)c; n = 1;
        }
        if (len + n + 5 > cap) {    /* keep room for ...", and the NUL */
            memcpy(out + len, "...", 3);
            len += 3;
            break;
        }
        memcpy(out + len, esc, n);
        len += n;
    }
    out[len++] = '"';
    out[len] = '\0';
    return len;
}

size_t record_append(char *out, size_t outlen, size_t len, const char *key, const char *value)
{
    size_t start = len, vlen, after;
    int n;

    if (outlen == 0 || len >= outlen)
        return len;
    n = snprintf(out + len, outlen - len, " %s=", key);
    if (n < 0 || (size_t)n >= outlen - len) {
        out[start] = '\0';
        return start;
    }
    len += (size_t)n;
    if (value == NULL || value[0] == '\0')
        value = "-";
    vlen = strlen(value);
    if (bare_safe(value) && vlen < VALUE_MAX && len + vlen < outlen) {
        memcpy(out + len, value, vlen + 1);
        return len + vlen;
    }
    after = append_quoted(out, outlen, len, value);
    if (after == len) {         /* no room for the value: no half field either */
        out[start] = '\0';
        return start;
    }
    return after;
}

/* The kernel's name for the process: programs that rewrite their title
 * (nginx: "nginx: worker process") overwrite argv[0], and with it
 * program_invocation_short_name. */
static void program_name(char *out, size_t outlen)
{
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, outlen - 1) : -1;

    if (fd >= 0)
        close(fd);
    if (n > 0 && out[n - 1] == '\n')
        n--;
    if (n <= 0) {
        snprintf(out, outlen, "%s", program_invocation_short_name);
        return;
    }
    out[n] = '\0';
    /* The kernel cuts its name at 15 bytes: when it is the start of the
     * program's own name, the full name is the better one. */
    if (strncmp(program_invocation_short_name, out, (size_t)n) == 0)
        snprintf(out, outlen, "%s", program_invocation_short_name);
}

size_t record_format(const struct record *r, char *out, size_t outlen)
{
    static const char prefix[] = "tlspin:";
    size_t len;

    if (outlen == 0)
        return 0;
    if (outlen <= sizeof(prefix) - 1) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out, prefix, sizeof(prefix));
    len = sizeof(prefix) - 1;
    char pid[32], port[16], program[64];
    program_name(program, sizeof(program));
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    snprintf(port, sizeof(port), "%u", r->port);
    const char *const fields[][2] = {
        { "event", r->event },     { "action", r->action },
        { "program", program }, { "pid", pid },
        { "host", r->host },       { "port", r->port ? port : NULL },
        { "peer", r->peer },       { "pinset", r->pinset },
        { "module", r->module },   { "control", r->control },
        { "verdict", r->verdict }, { "trust", r->trust },
        { "chain", r->chain },     { "expected", r->expected },
        { "reason", r->reason },
    };
    /* A record cut short keeps its first fields whole and drops the rest:
     * never a later field without an earlier one. */
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        size_t next = record_append(out, outlen, len, fields[i][0], fields[i][1]);
        if (next == len)
            break;
        len = next;
    }
    return len;
}

/* Rate limiting: identical lines (pid included, so per process) within the
 * window are counted, not written; the count rides on the next one written. */
struct rate_slot {
    uint64_t hash;
    int64_t last_ms;            /* CLOCK_MONOTONIC, when it last went out */
    unsigned long suppressed;
};

static struct rate_slot slots[RATE_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A child forked while another thread held the lock must not hang on its
 * first record. */
static void slots_lock_reset(void)
{
    pthread_mutex_init(&slots_lock, NULL);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, slots_lock_reset);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* Returns 1 to write now (with *suppressed = count to report), 0 to drop. */
static int rate_admit(const char *line, unsigned window, unsigned long *suppressed)
{
    struct timespec ts;
    int64_t now;
    uint64_t h = fnv1a(line);
    struct rate_slot *slot, *oldest = &slots[0];
    int admit = 1;

    *suppressed = 0;
    if (window == 0)
        return 1;
    pthread_once(&atfork_once, register_atfork);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_lock(&slots_lock);
    for (slot = slots; slot < slots + RATE_SLOTS; slot++) {
        if (slot->hash == h)
            break;
        if (slot->last_ms < oldest->last_ms)
            oldest = slot;
    }
    if (slot == slots + RATE_SLOTS) {
        slot = oldest;   /* forgetting the oldest loses at most its count */
        slot->hash = h;
        slot->suppressed = 0;
        slot->last_ms = now;
    } else if (now - slot->last_ms < (int64_t)window * 1000) {
        slot->suppressed++;
        admit = 0;
    } else {
        *suppressed = slot->suppressed;
        slot->suppressed = 0;
        slot->last_ms = now;
    }
    pthread_mutex_unlock(&slots_lock);
    return admit;
}

void record_emit_line(const struct log_settings *s, int level, const char *line)
{
    unsigned long suppressed;
    int saved_errno = errno;

    if (rate_admit(line, s->rate_limit_seconds, &suppressed)) {
        if (suppressed)
            syslog(s->facility | level, "%s suppressed=%lu", line, suppressed);
        else
            syslog(s->facility | level, "%s", line);
    }
    errno = saved_errno;
}

void record_emit(const struct log_settings *s, const struct record *r)
{
    char line[RECORD_MAX];
    record_format(r, line, sizeof(line));
    record_emit_line(s, s->level, line);
}
