/* Record formatting and emission. Host names, subjects and reasons may come
 * from a certificate an attacker chose: nothing unescaped reaches a log. */
#include "record.h"

#include <errno.h>
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

/* Appends at most `room` bytes of escaped `v` quoted; stops cleanly at the cap. */
static size_t append_quoted(char *out, size_t outlen, size_t len, const char *v)
{
    size_t cap = len + VALUE_MAX < outlen ? len + VALUE_MAX : outlen;
    if (len + 2 >= cap)
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
        if (len + n + 4 >= cap) {       /* room for "..." and the quote */
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
    int n;
    if (len >= outlen)
        return len;
    n = snprintf(out + len, outlen - len, " %s=", key);
    if (n < 0 || (size_t)n >= outlen - len) {
        out[len] = '\0';
        return len;
    }
    len += (size_t)n;
    if (value == NULL || value[0] == '\0')
        value = "-";
    if (bare_safe(value) && strlen(value) < VALUE_MAX && len + strlen(value) < outlen) {
        memcpy(out + len, value, strlen(value) + 1);
        return len + strlen(value);
    }
    return append_quoted(out, outlen, len, value);
}

size_t record_format(const struct record *r, char *out, size_t outlen)
{
    char num[32];
    size_t len;

    if (outlen == 0)
        return 0;
    len = (size_t)snprintf(out, outlen, "tlspin:");
    len = record_append(out, outlen, len, "event", r->event);
    len = record_append(out, outlen, len, "action", r->action);
    len = record_append(out, outlen, len, "program", program_invocation_short_name);
    snprintf(num, sizeof(num), "%ld", (long)getpid());
    len = record_append(out, outlen, len, "pid", num);
    len = record_append(out, outlen, len, "host", r->host);
    if (r->port)
        snprintf(num, sizeof(num), "%u", r->port);
    len = record_append(out, outlen, len, "port", r->port ? num : NULL);
    len = record_append(out, outlen, len, "peer", r->peer);
    len = record_append(out, outlen, len, "pinset", r->pinset);
    len = record_append(out, outlen, len, "module", r->module);
    len = record_append(out, outlen, len, "control", r->control);
    len = record_append(out, outlen, len, "verdict", r->verdict);
    len = record_append(out, outlen, len, "trust", r->trust);
    len = record_append(out, outlen, len, "chain", r->chain);
    len = record_append(out, outlen, len, "expected", r->expected);
    len = record_append(out, outlen, len, "reason", r->reason);
    return len;
}

/* Rate limiting: identical lines (pid included, so per process) within the
 * window are counted, not written; the count rides on the next one written. */
struct rate_slot {
    uint64_t hash;
    time_t last;
    unsigned long suppressed;
};

static struct rate_slot slots[RATE_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

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
    struct timespec now;
    uint64_t h = fnv1a(line);
    struct rate_slot *slot, *oldest = &slots[0];
    int admit = 1;

    *suppressed = 0;
    if (window == 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&slots_lock);
    for (slot = slots; slot < slots + RATE_SLOTS; slot++) {
        if (slot->hash == h)
            break;
        if (slot->last < oldest->last)
            oldest = slot;
    }
    if (slot == slots + RATE_SLOTS) {
        slot = oldest;   /* forgetting the oldest loses at most its count */
        slot->hash = h;
        slot->suppressed = 0;
        slot->last = now.tv_sec;
    } else if (now.tv_sec - slot->last < (time_t)window) {
        slot->suppressed++;
        admit = 0;
    } else {
        *suppressed = slot->suppressed;
        slot->suppressed = 0;
        slot->last = now.tv_sec;
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
