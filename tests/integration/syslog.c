/*
 * syslog.c — the records that arrive on the harness's /dev/log, parsed.
 *
 * glibc sends "<PRI>Mmm dd hh:mm:ss TAG: MSG" (TAG[PID] with LOG_PID). The
 * store lives in the test's own (forked) process; syslog_reset() at test
 * start drops whatever an earlier test left.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

static struct syslog_rec *recs;
static size_t n_recs, cap_recs;

static void store(const char *buf, size_t len)
{
    struct syslog_rec r = {0};
    const char *p = buf, *end = buf + len, *colon;
    int pri = 0;

    while (end > p && (end[-1] == '\n' || end[-1] == '\0'))
        end--;
    r.raw = strndup(buf, (size_t)(end - buf));
    if (p < end && *p == '<') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            pri = pri * 10 + (*p++ - '0');
        if (p < end && *p == '>')
            p++;
    }
    r.facility = pri & LOG_FACMASK;
    r.severity = pri & LOG_PRIMASK;
    /* "Mmm dd hh:mm:ss " */
    if (end - p > 16 && p[3] == ' ' && p[6] == ' ' && p[9] == ':' && p[15] == ' ')
        p += 16;
    colon = memmem(p, (size_t)(end - p), ": ", 2);
    if (colon) {
        const char *br = memchr(p, '[', (size_t)(colon - p));
        r.tag = strndup(p, (size_t)((br ? br : colon) - p));
        r.msg = strndup(colon + 2, (size_t)(end - colon - 2));
    } else {
        r.tag = strdup("");
        r.msg = strndup(p, (size_t)(end - p));
    }
    if (n_recs == cap_recs) {
        cap_recs = cap_recs ? 2 * cap_recs : 64;
        recs = realloc(recs, cap_recs * sizeof *recs);
        ck_assert_ptr_nonnull(recs);
    }
    recs[n_recs++] = r;
}

void syslog_drain(void)
{
    char buf[65536];

    for (;;) {
        ssize_t n = recv(H.syslog_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;
        store(buf, (size_t)n);
    }
}

void syslog_reset(void)
{
    char buf[65536];

    while (recv(H.syslog_fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        ;
    for (size_t i = 0; i < n_recs; i++) {
        free(recs[i].tag);
        free(recs[i].msg);
        free(recs[i].raw);
    }
    n_recs = 0;
}

size_t syslog_mark(void)
{
    syslog_drain();
    return n_recs;
}

const struct syslog_rec *syslog_since(size_t mark, size_t *n)
{
    syslog_drain();
    *n = mark < n_recs ? n_recs - mark : 0;
    return recs + (mark < n_recs ? mark : n_recs);
}

size_t syslog_count_since(size_t mark, const char *needle)
{
    size_t n, c = 0;
    const struct syslog_rec *r = syslog_since(mark, &n);

    for (size_t i = 0; i < n; i++)
        if (strstr(r[i].msg, needle))
            c++;
    return c;
}

size_t syslog_tlspin_count_since(size_t mark)
{
    size_t n, c = 0;
    const struct syslog_rec *r = syslog_since(mark, &n);

    for (size_t i = 0; i < n; i++)
        if (strncmp(r[i].msg, "tlspin:", 7) == 0)
            c++;
    return c;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

const struct syslog_rec *syslog_wait_for_since(size_t mark, const char *needle, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    for (;;) {
        size_t n;
        const struct syslog_rec *r = syslog_since(mark, &n);
        long left;

        for (size_t i = 0; i < n; i++)
            if (strstr(r[i].msg, needle))
                return &r[i];
        left = deadline - now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd p = {.fd = H.syslog_fd, .events = POLLIN};
        poll(&p, 1, (int)(left > 100 ? 100 : left));
    }
}

const struct syslog_rec *syslog_wait_for(const char *needle, int timeout_ms)
{
    return syslog_wait_for_since(0, needle, timeout_ms);
}

const char *syslog_dump_since(size_t mark)
{
    static char out[16384];
    size_t n, off = 0;
    const struct syslog_rec *r = syslog_since(mark, &n);

    out[0] = '\0';
    if (n == 0)
        snprintf(out, sizeof out, "(no syslog record)");
    for (size_t i = 0; i < n && off < sizeof out - 1; i++) {
        int w = snprintf(out + off, sizeof out - off, "[%zu] %s\n", i, r[i].raw);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return out;
}

const struct syslog_rec *the_tlspin_record_since(size_t mark)
{
    size_t n;
    const struct syslog_rec *r = syslog_since(mark, &n), *found = NULL;
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        if (strncmp(r[i].msg, "tlspin:", 7) == 0) {
            found = &r[i];
            c++;
        }
    ck_assert_msg(c == 1, "expected exactly one tlspin record, got %zu:\n%s", c,
                  syslog_dump_since(mark));
    return found;
}

/* ---------------- key=value parsing of a tlspin record ---------------- */

/* Parse one value at *pp into out (unescaped); advance *pp. */
static int parse_value(const char **pp, char *out, size_t outlen)
{
    const char *p = *pp;
    size_t o = 0;

#define PUT(c)                  \
    do {                        \
        if (o + 1 < outlen)     \
            out[o++] = (char)(c); \
    } while (0)

    if (*p == '"') {
        p++;
        for (;;) {
            if (*p == '\0')
                return -1; /* unterminated */
            if (*p == '"') {
                p++;
                break;
            }
            if (*p == '\\') {
                p++;
                if (*p == '"' || *p == '\\') {
                    PUT(*p);
                    p++;
                } else if (*p == 'x') {
                    unsigned v;
                    if (sscanf(p + 1, "%2x", &v) != 1 || !p[1] || !p[2])
                        return -1;
                    PUT(v);
                    p += 3;
                } else {
                    return -1;
                }
                continue;
            }
            PUT(*p);
            p++;
        }
        if (*p != '\0' && *p != ' ')
            return -1;
    } else {
        while (*p && *p != ' ') {
            if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                return -1; /* bare values are printable ASCII without these */
            PUT(*p);
            p++;
        }
    }
#undef PUT
    if (outlen)
        out[o < outlen ? o : outlen - 1] = '\0';
    *pp = p;
    return 0;
}

/* Walk the fields; for each call fn(key, keylen, value). */
static int walk(const struct syslog_rec *r, int (*fn)(void *, const char *, size_t, const char *),
                void *ctx)
{
    const char *p = r->msg;
    static char val[16384];

    if (strncmp(p, "tlspin: ", 8) != 0)
        return -1;
    p += 8;
    while (*p) {
        const char *k = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        if (*p != '=' || p == k)
            return -1;
        size_t klen = (size_t)(p - k);
        p++;
        if (parse_value(&p, val, sizeof val) != 0)
            return -1;
        if (fn(ctx, k, klen, val))
            return 0;
        if (*p == ' ')
            p++;
    }
    return 0;
}

struct find_ctx {
    const char *key;
    char *out;
    size_t outlen;
    int found;
};

static int find_cb(void *v, const char *k, size_t klen, const char *val)
{
    struct find_ctx *c = v;
    if (strlen(c->key) == klen && memcmp(c->key, k, klen) == 0) {
        snprintf(c->out, c->outlen, "%s", val);
        c->found = 1;
        return 1;
    }
    return 0;
}

int rec_field(const struct syslog_rec *r, const char *key, char *out, size_t outlen)
{
    struct find_ctx c = {key, out, outlen, 0};
    if (walk(r, find_cb, &c) != 0 || !c.found)
        return -1;
    return 0;
}

struct keys_ctx {
    char *out;
    size_t outlen, off;
};

static int keys_cb(void *v, const char *k, size_t klen, const char *val)
{
    struct keys_ctx *c = v;
    (void)val;
    int w = snprintf(c->out + c->off, c->outlen - c->off, "%s%.*s", c->off ? " " : "",
                     (int)klen, k);
    if (w > 0 && (size_t)w < c->outlen - c->off)
        c->off += (size_t)w;
    return 0;
}

int rec_keys(const struct syslog_rec *r, char *out, size_t outlen)
{
    struct keys_ctx c = {out, outlen, 0};
    out[0] = '\0';
    return walk(r, keys_cb, &c);
}
