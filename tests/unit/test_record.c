/*
 * test_record.c — the syslog records: record_format/record_append (field
 * order, "-" for missing values, bare or quoted values, escaping, truncation
 * that never overflows) and record_emit_line/record_emit through a real
 * syslog(3) (rate limiting, the <PRI> of the datagram).
 *
 * The syslog tests run as root: each one (in its own CK_FORK child) enters a
 * private mount namespace, mounts a tmpfs on /dev and binds a datagram socket
 * at /dev/log, which is where glibc's syslog() sends. tlspin never calls
 * openlog(), so neither do these tests (closelog() only drops a connection
 * to an older /dev/log).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "engine/record.h"

#define FIELDS_MAX 32

static const char *const field_order[] = { "event", "action", "program", "pid", "host", "port",
                                           "peer", "pinset", "module", "control", "verdict",
                                           "trust", "chain", "expected", "reason" };
#define N_FIELDS (sizeof(field_order) / sizeof(field_order[0]))

/* ---------------------------------------------------------------------- */
/* A strict reader of record lines                                          */
/* ---------------------------------------------------------------------- */

struct field {
    char key[32];
    char value[RECORD_MAX];   /* decoded */
    int quoted;
};

static struct field fields[FIELDS_MAX];

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Parses "tlspin: k=v k=v ...": keys [a-z_]+, values bare (printable ASCII
 * without space, '"' or '\') or quoted (\" \\ \xNN, no raw control byte).
 * Returns the number of fields, or -1 and a reason. */
static int parse_record(const char *line, char *why, size_t whylen)
{
    const char *p = line;
    int n = 0;

    if (strncmp(p, "tlspin:", 7) != 0) {
        say(why, whylen, "does not start with \"tlspin:\"");
        return -1;
    }
    p += 7;
    while (*p) {
        struct field *f;
        size_t k = 0, v = 0;
        if (n == FIELDS_MAX) {
            say(why, whylen, "too many fields");
            return -1;
        }
        f = &fields[n];
        memset(f->key, 0, sizeof(f->key));
        if (*p++ != ' ') {
            say(why, whylen, "no space before field %d (offset %td)", n, p - 1 - line);
            return -1;
        }
        while ((*p >= 'a' && *p <= 'z') || *p == '_') {
            if (k + 1 == sizeof(f->key)) {
                say(why, whylen, "key too long");
                return -1;
            }
            f->key[k++] = *p++;
        }
        if (k == 0 || *p++ != '=') {
            say(why, whylen, "field %d has no key=", n);
            return -1;
        }
        f->quoted = *p == '"';
        if (f->quoted) {
            p++;
            for (;;) {
                unsigned char c = (unsigned char)*p;
                if (c == '\0') {
                    say(why, whylen, "%s: unterminated quoted value", f->key);
                    return -1;
                }
                if (c < 0x20 || c >= 0x7f) {
                    say(why, whylen, "%s: raw byte 0x%02x in a quoted value", f->key, c);
                    return -1;
                }
                if (c == '"') {
                    p++;
                    break;
                }
                if (c == '\\') {
                    if (p[1] == '"' || p[1] == '\\') {
                        f->value[v++] = p[1];
                        p += 2;
                    } else if (p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                        f->value[v++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                        p += 4;
                    } else {
                        say(why, whylen, "%s: bad escape", f->key);
                        return -1;
                    }
                } else {
                    f->value[v++] = (char)c;
                    p++;
                }
                if (v + 1 >= sizeof(f->value)) {
                    say(why, whylen, "%s: value too long", f->key);
                    return -1;
                }
            }
            if (*p != '\0' && *p != ' ') {
                say(why, whylen, "%s: text after the closing quote", f->key);
                return -1;
            }
        } else {
            while (*p != '\0' && *p != ' ') {
                unsigned char c = (unsigned char)*p;
                if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                    say(why, whylen, "%s: byte 0x%02x in a bare value", f->key, c);
                    return -1;
                }
                f->value[v++] = *p++;
            }
            if (v == 0) {
                say(why, whylen, "%s= has no value", f->key);
                return -1;
            }
        }
        f->value[v] = '\0';
        n++;
    }
    return n;
}

/* The parsed fields must be a prefix of the documented order. */
static void assert_order(int n, const char *line)
{
    ck_assert_msg(n >= 0 && (size_t)n <= N_FIELDS, "%d fields in: %s", n, line);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strcmp(fields[i].key, field_order[i]) == 0,
                      "field %d is \"%s\", expected \"%s\" in: %s", i, fields[i].key,
                      field_order[i], line);
}

/* Independent encoder: what a value must look like in a record. */
static void encode(const char *v, char *out, size_t outlen)
{
    size_t n = 0, len;
    int bare = 1;

    if (v == NULL || v[0] == '\0')
        v = "-";
    len = strlen(v);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            bare = 0;
    }
    if (bare) {
        snprintf(out, outlen, "%s", v);
        return;
    }
    out[n++] = '"';
    for (size_t i = 0; i < len && n + 6 < outlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, outlen - n, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Formatting                                                              */
/* ---------------------------------------------------------------------- */

START_TEST(field_order_and_values)
{
    struct record r = {
        .event = "pin-mismatch", .action = "blocked", .host = "api.example.com", .port = 443,
        .peer = "192.0.2.10:443", .pinset = "api", .module = "file", .control = "required",
        .verdict = "fail", .trust = "app-verified", .chain = "CN=api.example.com <- CN=R3",
        .expected = "sha256/AAAA,sha256/BBBB", .reason = "no pin of the pinset matches",
    };
    char line[RECORD_MAX], want[RECORD_MAX];
    size_t len = record_format(&r, line, sizeof(line));

    snprintf(want, sizeof(want),
             "tlspin: event=pin-mismatch action=blocked program=%s pid=%ld host=api.example.com "
             "port=443 peer=192.0.2.10:443 pinset=api module=file control=required verdict=fail "
             "trust=app-verified chain=\"CN=api.example.com <- CN=R3\" "
             "expected=sha256/AAAA,sha256/BBBB reason=\"no pin of the pinset matches\"",
             program_invocation_short_name, (long)getpid());
    ck_assert_str_eq(line, want);
    ck_assert_uint_eq(len, strlen(want));

    char why[128] = "";
    int n = parse_record(line, why, sizeof(why));
    ck_assert_msg(n == (int)N_FIELDS, "parse: %s", why);
    assert_order(n, line);
}
END_TEST

START_TEST(null_and_empty_are_dash)
{
    struct record nulls = { 0 };
    struct record empties = { "", "", "", 0, "", "", "", "", "", "", "", "", "" };
    char line[RECORD_MAX], want[RECORD_MAX];

    snprintf(want, sizeof(want),
             "tlspin: event=- action=- program=%s pid=%ld host=- port=- peer=- pinset=- module=- "
             "control=- verdict=- trust=- chain=- expected=- reason=-",
             program_invocation_short_name, (long)getpid());
    ck_assert_uint_eq(record_format(&nulls, line, sizeof(line)), strlen(want));
    ck_assert_str_eq(line, want);
    ck_assert_uint_eq(record_format(&empties, line, sizeof(line)), strlen(want));
    ck_assert_str_eq(line, want);

    size_t len = record_append(line, sizeof(line), 0, "k", NULL);
    ck_assert_str_eq(line, " k=-");
    ck_assert_uint_eq(len, 4);
    len = record_append(line, sizeof(line), len, "e", "");
    ck_assert_str_eq(line, " k=- e=-");
    ck_assert_uint_eq(len, 8);
}
END_TEST

static const struct {
    const char *value;
    const char *encoded;
} value_rows[] = {
    { "abc", "abc" },
    { "a=b", "a=b" },
    { "sha256/AAAA+/==,sha256/BB", "sha256/AAAA+/==,sha256/BB" },
    { "-", "-" },
    { "!~", "!~" },
    { "192.0.2.1:443", "192.0.2.1:443" },
    { "[2001:db8::1]:443", "[2001:db8::1]:443" },
    { "a b", "\"a b\"" },
    { " ", "\" \"" },
    { "\"", "\"\\\"\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "a\\b", "\"a\\\\b\"" },
    { "line1\nline2", "\"line1\\x0aline2\"" },
    { "cr\r", "\"cr\\x0d\"" },
    { "tab\there", "\"tab\\x09here\"" },
    { "\x01\x1f", "\"\\x01\\x1f\"" },
    { "\x1b[31mred", "\"\\x1b[31mred\"" },
    { "del\x7f", "\"del\\x7f\"" },
    { "\x80", "\"\\x80\"" },
    { "\xff", "\"\\xff\"" },
    { "caf\xc3\xa9", "\"caf\\xc3\\xa9\"" },
    { "\"\\\n\r\t", "\"\\\"\\\\\\x0a\\x0d\\x09\"" },
};
#define N_VALUES (int)(sizeof(value_rows) / sizeof(value_rows[0]))

START_TEST(value_encoding)
{
    char out[256], want[256];
    size_t len = record_append(out, sizeof(out), 0, "k", value_rows[_i].value);

    snprintf(want, sizeof(want), " k=%s", value_rows[_i].encoded);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(len, strlen(want));
    encode(value_rows[_i].value, want, sizeof(want));   /* the table agrees with the model */
    ck_assert_str_eq(want, value_rows[_i].encoded);
}
END_TEST

/* Every byte 1..255, alone and between letters, against the model. */
START_TEST(every_byte)
{
    char v1[2] = { (char)_i, 0 }, v3[4] = { 'a', (char)_i, 'b', 0 };
    const char *values[] = { v1, v3 };
    char out[64], want[128], enc[64], why[128];

    for (size_t k = 0; k < 2; k++) {
        size_t len;
        strcpy(out, "tlspin:");
        len = record_append(out, sizeof(out), 7, "event", values[k]);
        encode(values[k], enc, sizeof(enc));
        snprintf(want, sizeof(want), "tlspin: event=%s", enc);
        ck_assert_msg(strcmp(out, want) == 0, "byte 0x%02x: %s, expected %s", _i, out, want);
        ck_assert_uint_eq(len, strlen(want));
        ck_assert_msg(parse_record(out, why, sizeof(why)) == 1, "byte 0x%02x: %s", _i, why);
        ck_assert_str_eq(fields[0].value, values[k]);   /* decodes back */
    }
}
END_TEST

/* A host name chosen by an attacker must not forge a second record. */
START_TEST(attacker_host_cannot_forge_a_record)
{
    static const char *const evil[] = {
        "evil.example\n<13>tlspin: event=fake action=allowed",
        "evil.example\r\n<13>Jan  1 00:00:00 host tlspin: event=fake",
        "x event=fake action=allowed",
        "x\" event=\"fake",
        "x\\\" event=fake",
        "\n",
    };
    for (size_t k = 0; k < sizeof(evil) / sizeof(evil[0]); k++) {
        struct record r = { .event = "pin-mismatch", .action = "blocked", .host = evil[k],
                            .reason = evil[k] };
        char line[RECORD_MAX], why[128] = "";
        size_t len = record_format(&r, line, sizeof(line));

        ck_assert_uint_eq(len, strlen(line));
        for (size_t i = 0; i < len; i++)
            ck_assert_msg((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f,
                          "raw byte 0x%02x at %zu in: %s", (unsigned char)line[i], i, line);
        int n = parse_record(line, why, sizeof(why));
        ck_assert_msg(n == (int)N_FIELDS, "[%zu] parse: %s in: %s", k, why, line);
        assert_order(n, line);
        ck_assert_str_eq(fields[0].value, "pin-mismatch");
        ck_assert_str_eq(fields[1].value, "blocked");
        ck_assert_str_eq(fields[4].value, evil[k]);
        ck_assert_str_eq(fields[14].value, evil[k]);
        ck_assert(fields[4].quoted);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Truncation                                                               */
/* ---------------------------------------------------------------------- */

#define GUARD 64
#define CANARY 0xa5

static void assert_canary(const unsigned char *buf, size_t from, size_t to, const char *what)
{
    for (size_t i = from; i < to; i++)
        ck_assert_msg(buf[i] == CANARY, "%s: byte %zu past the end (size %zu) written", what,
                      i - from, from);
}

static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(ten_kilobyte_values)
{
    char *as = filled(10240, 'a'), *nl = filled(10240, '\n'), *sp = filled(10240, ' ');
    static unsigned char buf[RECORD_MAX + GUARD];
    char why[128] = "";
    const char *cases[][2] = { { "reason", as }, { "reason", nl }, { "host", sp },
                               { "all", as }, { "all", nl } };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *v = cases[k][1];
        struct record r = { .event = "pin-mismatch", .action = "blocked" };
        if (strcmp(cases[k][0], "host") == 0) {
            r.host = v;
        } else if (strcmp(cases[k][0], "reason") == 0) {
            r.reason = v;
        } else {
            r.host = r.peer = r.pinset = r.module = r.control = r.verdict = r.trust = v;
            r.chain = r.expected = r.reason = v;
        }
        memset(buf, CANARY, sizeof(buf));
        size_t len = record_format(&r, (char *)buf, RECORD_MAX);
        assert_canary(buf, RECORD_MAX, sizeof(buf), cases[k][0]);
        ck_assert_msg(len < RECORD_MAX, "[%zu] length %zu", k, len);
        ck_assert_uint_eq(len, strlen((char *)buf));

        int n = parse_record((char *)buf, why, sizeof(why));
        ck_assert_msg(n > 0, "[%zu] parse: %s", k, why);
        assert_order(n, (char *)buf);
        if (strcmp(cases[k][0], "reason") == 0) {
            ck_assert_int_eq(n, (int)N_FIELDS);
            ck_assert_msg(len > 5 && strcmp((char *)buf + len - 4, "...\"") == 0,
                          "[%zu] does not end in ...\": %s", k, (char *)buf + len - 20);
        } else if (strcmp(cases[k][0], "host") == 0) {
            /* The rest of the record survives a huge host. */
            ck_assert_int_eq(n, (int)N_FIELDS);
            ck_assert_msg(strstr((char *)buf, "...\" port=-") != NULL, "host not cut with ...\"");
        } else {
            ck_assert_msg(strcmp((char *)buf + len - 4, "...\"") == 0,
                          "[%zu] does not end in ...\"", k);
        }
        /* One value never takes more than its share. */
        for (int i = 0; i < n; i++)
            ck_assert_msg(strlen(fields[i].value) <= 4096, "%s holds %zu bytes", fields[i].key,
                          strlen(fields[i].value));
    }
    free(as);
    free(nl);
    free(sp);
}
END_TEST

/* A record whose values need quoting, for the small-buffer tests. */
static const struct record small_record = {
    .event = "a b", .action = "blocked", .host = "x\ny", .port = 443, .reason = "\"q\"",
};

START_TEST(record_format_small_buffers)
{
    size_t size = (size_t)_i;
    unsigned char buf[64 + GUARD];
    char what[64];

    snprintf(what, sizeof(what), "record_format into %zu bytes", size);
    memset(buf, CANARY, sizeof(buf));
    size_t len = record_format(&small_record, (char *)buf, size);
    assert_canary(buf, size, sizeof(buf), what);
    if (size == 0) {
        ck_assert_uint_eq(len, 0);
        return;
    }
    ck_assert_msg(len < size, "%s: returned length %zu", what, len);
    ck_assert_msg(memchr(buf, '\0', size) != NULL, "%s: not NUL-terminated", what);
    ck_assert_msg(strlen((char *)buf) == len, "%s: returned %zu, strlen %zu", what, len,
                  strlen((char *)buf));
}
END_TEST

/* record_append from every starting length, with bare and quoted values. */
START_TEST(record_append_small_buffers)
{
    static const char *const values[] = { "bare", "a b", "\n\n\n\n", "\"\\", NULL,
                                          "0123456789abcdefghijklmnopqrstuvwxyz" };
    size_t size = (size_t)_i;
    unsigned char buf[64 + GUARD];
    char what[128];

    for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++)
        for (size_t start = 0; start < size || (size == 0 && start == 0); start++) {
            memset(buf, CANARY, sizeof(buf));
            if (size > 0) {
                memset(buf, 'p', start);
                buf[start] = '\0';
            }
            snprintf(what, sizeof(what), "record_append(size %zu, len %zu, \"%s\")", size, start,
                     values[k] ? values[k] : "(null)");
            size_t len = record_append((char *)buf, size, start, "key", values[k]);
            assert_canary(buf, size, sizeof(buf), what);
            if (size == 0)
                break;
            ck_assert_msg(len >= start && len < size, "%s: returned %zu", what, len);
            ck_assert_msg(strlen((char *)buf) == len, "%s: returned %zu, strlen %zu", what, len,
                          strlen((char *)buf));
        }
}
END_TEST

/* What does fit is a readable record: fields in order, none left without a
 * value, a cut value closed with ..." */
START_TEST(record_format_small_buffers_well_formed)
{
    size_t size = (size_t)_i;
    char buf[64], why[128] = "";

    record_format(&small_record, buf, size);
    int n = parse_record(buf, why, sizeof(why));
    ck_assert_msg(n >= 0, "size %zu: %s: %s", size, why, buf);
    assert_order(n, buf);
}
END_TEST

/* Near RECORD_MAX: make the last value (a quoted reason) start at every
 * offset close to the end of a RECORD_MAX buffer. */
START_TEST(full_size_record_never_overflows)
{
    static unsigned char buf[RECORD_MAX + GUARD];
    char *chain = filled(4000, 'c'), *expected = filled(4095, 'e');
    char what[128];

    for (size_t cut = 3700; cut < 4095; cut++) {
        struct record r = { .event = "pin-mismatch", .action = "blocked", .chain = chain,
                            .expected = expected + 4095 - cut, .reason = "x y" };
        memset(buf, CANARY, sizeof(buf));
        size_t len = record_format(&r, (char *)buf, RECORD_MAX);
        snprintf(what, sizeof(what), "expected of %zu bytes", cut);
        assert_canary(buf, RECORD_MAX, sizeof(buf), what);
        ck_assert_msg(len < RECORD_MAX, "%s: length %zu", what, len);
        ck_assert_uint_eq(len, strlen((char *)buf));
    }
    free(chain);
    free(expected);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Through syslog(3): a private /dev/log                                    */
/* ---------------------------------------------------------------------- */

static int devlog = -1;

static void private_dev_log(void)
{
    struct sockaddr_un sa;

    ck_assert_msg(unshare(CLONE_NEWNS) == 0,
                  "unshare(CLONE_NEWNS): %s: the syslog tests need root (CAP_SYS_ADMIN) to "
                  "bind their own /dev/log", strerror(errno));
    ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private: %s",
                  strerror(errno));
    ck_assert_msg(mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") == 0,
                  "tmpfs on /dev: %s", strerror(errno));
    devlog = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(devlog, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, "/dev/log");
    ck_assert_msg(bind(devlog, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind /dev/log: %s",
                  strerror(errno));
    closelog();
}

struct datagram {
    int pri;
    char tag[64];
    char msg[RECORD_MAX + 64];
};

/* Waits up to timeout_ms for the next datagram; 0 when one came. glibc
 * sends "<PRI>Mmm dd hh:mm:ss TAG: MSG". */
static int next_datagram(struct datagram *d, int timeout_ms)
{
    char raw[RECORD_MAX + 256];
    struct pollfd pfd = { devlog, POLLIN, 0 };
    ssize_t n;
    const char *p, *colon;

    if (poll(&pfd, 1, timeout_ms) != 1)
        return -1;
    n = recv(devlog, raw, sizeof(raw) - 1, 0);
    ck_assert_int_gt(n, 0);
    while (n > 0 && (raw[n - 1] == '\0' || raw[n - 1] == '\n'))
        n--;
    raw[n] = '\0';
    ck_assert_msg(memchr(raw, '\0', (size_t)n) == NULL, "NUL inside a datagram");
    ck_assert_msg(strchr(raw, '\n') == NULL && strchr(raw, '\r') == NULL,
                  "line break inside a datagram: %s", raw);
    ck_assert_msg(sscanf(raw, "<%d>", &d->pri) == 1, "no <PRI>: %s", raw);
    p = strchr(raw, '>') + 1;
    ck_assert_msg(strlen(p) > 16 && p[3] == ' ' && p[6] == ' ' && p[15] == ' ',
                  "no timestamp: %s", raw);
    p += 16;
    colon = strstr(p, ": ");
    ck_assert_msg(colon != NULL, "no tag: %s", raw);
    snprintf(d->tag, sizeof(d->tag), "%.*s", (int)(colon - p), p);
    snprintf(d->msg, sizeof(d->msg), "%s", colon + 2);
    return 0;
}

static void expect_datagram(const char *msg, int pri)
{
    struct datagram d;
    ck_assert_msg(next_datagram(&d, 2000) == 0, "nothing sent, expected: %s", msg);
    ck_assert_str_eq(d.msg, msg);
    ck_assert_int_eq(d.pri, pri);
    ck_assert_str_eq(d.tag, program_invocation_short_name);
}

static void expect_silence(void)
{
    struct datagram d;
    ck_assert_msg(next_datagram(&d, 200) != 0, "unexpected datagram: %s", d.msg);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The limiter counts whole CLOCK_MONOTONIC seconds: start right after one
 * begins so that a burst stays inside one second. */
static void start_of_a_second(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    sleep_ms((1000000000L - now.tv_nsec) / 1000000L + 5);
}

START_TEST(rate_limit_window)
{
    const struct log_settings s = { LOG_LOCAL3, LOG_NOTICE, 1 };
    const int pri = LOG_LOCAL3 | LOG_WARNING;
    const char *a = "tlspin: event=rate-a host=a.example";
    const char *b = "tlspin: event=rate-b host=b.example";
    char want[256];

    private_dev_log();
    start_of_a_second();
    record_emit_line(&s, LOG_WARNING, a);           /* goes out */
    for (int i = 0; i < 4; i++)
        record_emit_line(&s, LOG_WARNING, a);       /* dropped, counted */
    record_emit_line(&s, LOG_WARNING, b);           /* a different line goes out */
    record_emit_line(&s, LOG_WARNING, b);           /* dropped */
    expect_datagram(a, pri);
    expect_datagram(b, pri);
    expect_silence();

    sleep_ms(1200);                                 /* the window has passed */
    record_emit_line(&s, LOG_WARNING, a);
    record_emit_line(&s, LOG_WARNING, a);           /* a new window: dropped */
    record_emit_line(&s, LOG_WARNING, b);
    snprintf(want, sizeof(want), "%s suppressed=4", a);
    expect_datagram(want, pri);
    snprintf(want, sizeof(want), "%s suppressed=1", b);
    expect_datagram(want, pri);
    expect_silence();

    sleep_ms(1000);
    record_emit_line(&s, LOG_WARNING, a);           /* the count starts again */
    record_emit_line(&s, LOG_WARNING, b);           /* nothing was dropped since */
    snprintf(want, sizeof(want), "%s suppressed=1", a);
    expect_datagram(want, pri);
    expect_datagram(b, pri);
    expect_silence();
}
END_TEST

START_TEST(rate_limit_zero_disables)
{
    const struct log_settings s = { LOG_AUTHPRIV, LOG_WARNING, 0 };
    const char *a = "tlspin: event=no-limit host=a.example";

    private_dev_log();
    /* Read as we go: a unix datagram socket queues only max_dgram_qlen
     * datagrams (10 by default) before syslog() blocks. */
    for (int i = 0; i < 20; i++) {
        record_emit_line(&s, LOG_ERR, a);
        expect_datagram(a, LOG_AUTHPRIV | LOG_ERR);
    }
    expect_silence();
}
END_TEST

START_TEST(rate_limit_longer_window)
{
    const struct log_settings s = { LOG_DAEMON, LOG_WARNING, 60 };
    const char *a = "tlspin: event=long-window";

    private_dev_log();
    record_emit_line(&s, LOG_WARNING, a);
    expect_datagram(a, LOG_DAEMON | LOG_WARNING);
    sleep_ms(1500);
    record_emit_line(&s, LOG_WARNING, a);   /* well inside 60 s: dropped */
    expect_silence();
}
END_TEST

static const struct {
    int facility, level;
} pri_rows[] = {
    { LOG_AUTHPRIV, LOG_WARNING }, { LOG_AUTH, LOG_ERR }, { LOG_LOCAL3, LOG_NOTICE },
    { LOG_DAEMON, LOG_DEBUG }, { LOG_USER, LOG_INFO }, { LOG_SYSLOG, LOG_CRIT },
    { LOG_LOCAL0, LOG_ALERT }, { LOG_LOCAL7, LOG_EMERG },
};
#define N_PRI (int)(sizeof(pri_rows) / sizeof(pri_rows[0]))

START_TEST(priority_in_the_datagram)
{
    const struct log_settings s = { pri_rows[_i].facility, LOG_INFO, 1 };
    const struct log_settings r_settings = { pri_rows[_i].facility, pri_rows[_i].level, 1 };
    const struct record r = { .event = "pin-mismatch", .action = "blocked",
                              .host = "evil\n<13>tlspin: event=fake", .port = 443 };
    char line[RECORD_MAX];

    private_dev_log();
    /* record_emit_line: the level argument, the settings' facility */
    record_emit_line(&s, pri_rows[_i].level, "tlspin: event=pri-line");
    expect_datagram("tlspin: event=pri-line", pri_rows[_i].facility | pri_rows[_i].level);
    /* record_emit: the settings' level, and exactly record_format's line */
    record_format(&r, line, sizeof(line));
    record_emit(&r_settings, &r);
    expect_datagram(line, pri_rows[_i].facility | pri_rows[_i].level);
    expect_silence();
}
END_TEST

START_TEST(emit_keeps_errno)
{
    const struct log_settings s = { LOG_AUTHPRIV, LOG_WARNING, 0 };

    private_dev_log();
    errno = EPIPE;
    record_emit_line(&s, LOG_WARNING, "tlspin: event=errno");
    ck_assert_int_eq(errno, EPIPE);
    expect_datagram("tlspin: event=errno", LOG_AUTHPRIV | LOG_WARNING);
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc;

    tc = tcase_create("format");
    tcase_add_test(tc, field_order_and_values);
    tcase_add_test(tc, null_and_empty_are_dash);
    tcase_add_loop_test(tc, value_encoding, 0, N_VALUES);
    tcase_add_loop_test(tc, every_byte, 1, 256);
    tcase_add_test(tc, attacker_host_cannot_forge_a_record);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncate");
    tcase_add_test(tc, ten_kilobyte_values);
    tcase_add_loop_test(tc, record_format_small_buffers, 0, 65);
    tcase_add_loop_test(tc, record_append_small_buffers, 0, 65);
    tcase_add_loop_test(tc, record_format_small_buffers_well_formed, 8, 65);
    tcase_add_test(tc, full_size_record_never_overflows);
    suite_add_tcase(s, tc);

    tc = tcase_create("syslog");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, rate_limit_window);
    tcase_add_test(tc, rate_limit_zero_disables);
    tcase_add_test(tc, rate_limit_longer_window);
    tcase_add_loop_test(tc, priority_in_the_datagram, 0, N_PRI);
    tcase_add_test(tc, emit_keeps_errno);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(record_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
