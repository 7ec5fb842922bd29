/*
 * test_record.c — the syslog records: record_format/record_append (field
 * order, "-" for missing values, bare or quoted values, escaping, truncation
 * that never overflows) and record_emit_line/record_emit through a real
 * /dev/log (rate limiting, the <PRI> and tag of the datagram), whatever the
 * program did to its own syslog(3) state, across fork, threads, descriptors
 * the program takes back, a daemon that restarts, does not read, listens
 * on a stream socket or is not there at all.
 *
 * The syslog tests run as root: each one (in its own CK_FORK child) enters a
 * private mount namespace, mounts a tmpfs on /dev and binds a datagram socket
 * at /dev/log, where tlspin (and glibc's syslog()) send. tlspin never calls
 * openlog(); the tests that do play the program (closelog() also drops
 * glibc's connection to an older /dev/log).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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

static void bind_dev_log(int type)
{
    struct sockaddr_un sa;

    devlog = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(devlog, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, "/dev/log");
    ck_assert_msg(bind(devlog, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind /dev/log: %s",
                  strerror(errno));
    if (type == SOCK_STREAM)
        ck_assert_int_eq(listen(devlog, 8), 0);
}

/* A private /dev with nothing in it yet. */
static void private_dev(void)
{
    ck_assert_msg(unshare(CLONE_NEWNS) == 0,
                  "unshare(CLONE_NEWNS): %s: the syslog tests need root (CAP_SYS_ADMIN) to "
                  "bind their own /dev/log", strerror(errno));
    ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private: %s",
                  strerror(errno));
    ck_assert_msg(mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") == 0,
                  "tmpfs on /dev: %s", strerror(errno));
    closelog();
}

static void private_dev_log(void)
{
    private_dev();
    bind_dev_log(SOCK_DGRAM);
}

struct datagram {
    int pri;
    char tag[64];
    long pid;
    char msg[RECORD_MAX + 64];
};

/* Reads "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG" (TAG: MSG without a pid, as
 * glibc sends the program's own lines without LOG_PID) from raw. */
static void parse_datagram(struct datagram *d, char *raw, ssize_t n)
{
    const char *p, *colon, *br;

    while (n > 0 && (raw[n - 1] == '\0' || raw[n - 1] == '\n'))
        n--;
    raw[n] = '\0';
    ck_assert_msg(memchr(raw, '\0', (size_t)n) == NULL, "NUL inside a datagram");
    ck_assert_msg(strchr(raw, '\n') == NULL && strchr(raw, '\r') == NULL,
                  "line break inside a datagram: %s", raw);
    ck_assert_msg(sscanf(raw, "<%d>", &d->pri) == 1, "no <PRI>: %s", raw);
    p = strchr(raw, '>') + 1;
    ck_assert_msg(strlen(p) > 16 && p[3] == ' ' && p[6] == ' ' && p[9] == ':' && p[12] == ':' &&
                      p[15] == ' ',
                  "no timestamp: %s", raw);
    p += 16;
    colon = strstr(p, ": ");
    ck_assert_msg(colon != NULL, "no tag: %s", raw);
    br = memchr(p, '[', (size_t)(colon - p));
    snprintf(d->tag, sizeof(d->tag), "%.*s", (int)((br ? br : colon) - p), p);
    d->pid = br ? strtol(br + 1, NULL, 10) : -1;
    ck_assert_msg(br == NULL || colon[-1] == ']', "bad [pid]: %s", raw);
    snprintf(d->msg, sizeof(d->msg), "%s", colon + 2);
}

/* Waits up to timeout_ms for the next datagram; 0 when one came. */
static int next_datagram(struct datagram *d, int timeout_ms)
{
    char raw[RECORD_MAX + 256];
    struct pollfd pfd = { devlog, POLLIN, 0 };
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) != 1)
        return -1;
    n = recv(devlog, raw, sizeof(raw) - 1, 0);
    ck_assert_int_gt(n, 0);
    parse_datagram(d, raw, n);
    return 0;
}

/* A tlspin record: the program's name and pid as tag, whatever ident the
 * program gave syslog(3). */
static void expect_datagram_from(const char *msg, int pri, pid_t pid)
{
    struct datagram d;
    ck_assert_msg(next_datagram(&d, 2000) == 0, "nothing sent, expected: %s", msg);
    ck_assert_str_eq(d.msg, msg);
    ck_assert_int_eq(d.pri, pri);
    ck_assert_str_eq(d.tag, program_invocation_short_name);
    ck_assert_int_eq(d.pid, pid);
}

static void expect_datagram(const char *msg, int pri)
{
    expect_datagram_from(msg, pri, getpid());
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

/* ---------------------------------------------------------------------- */
/* The program's own syslog(3) state is neither used nor changed           */
/* ---------------------------------------------------------------------- */

static const struct log_settings plain = { LOG_AUTHPRIV, LOG_WARNING, 0 };

/* The case: a program that masks its warnings used to drop every
 * tlspin record at the default level. */
START_TEST(program_mask_does_not_drop_records)
{
    struct datagram d;

    private_dev_log();
    setlogmask(LOG_UPTO(LOG_ERR));
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=masked");
    expect_datagram("tlspin: event=masked", LOG_AUTHPRIV | LOG_WARNING);
    /* The mask is still the program's, and still works for its lines. */
    ck_assert_int_eq(setlogmask(0), LOG_UPTO(LOG_ERR));
    syslog(LOG_WARNING, "own-warning");
    syslog(LOG_ERR, "own-err");
    ck_assert_int_eq(next_datagram(&d, 2000), 0);
    ck_assert_str_eq(d.msg, "own-err");
    expect_silence();
}
END_TEST

START_TEST(program_ident_and_facility_untouched)
{
    struct datagram d;

    private_dev_log();
    openlog("other", LOG_PID, LOG_LOCAL5);
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=ident");
    expect_datagram("tlspin: event=ident", LOG_AUTHPRIV | LOG_WARNING);
    syslog(LOG_NOTICE, "own");
    ck_assert_int_eq(next_datagram(&d, 2000), 0);
    ck_assert_str_eq(d.msg, "own");
    ck_assert_str_eq(d.tag, "other");
    ck_assert_int_eq(d.pid, getpid());
    ck_assert_int_eq(d.pri, LOG_LOCAL5 | LOG_NOTICE);
    closelog();
    record_emit_line(&plain, LOG_ERR, "tlspin: event=after-closelog");
    expect_datagram("tlspin: event=after-closelog", LOG_AUTHPRIV | LOG_ERR);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The socket across fork, threads, and descriptors the program takes back */
/* ---------------------------------------------------------------------- */

START_TEST(forked_child_records_with_its_pid)
{
    pid_t child;
    int status;

    private_dev_log();
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=parent");
    expect_datagram("tlspin: event=parent", LOG_AUTHPRIV | LOG_WARNING);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        record_emit_line(&plain, LOG_WARNING, "tlspin: event=child");
        _exit(0);
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_datagram_from("tlspin: event=child", LOG_AUTHPRIV | LOG_WARNING, child);
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=parent-again");
    expect_datagram("tlspin: event=parent-again", LOG_AUTHPRIV | LOG_WARNING);
}
END_TEST

#define THREADS 4
#define PER_THREAD 2    /* THREADS * PER_THREAD fits the default queue of 10 */

static void *emit_thread(void *arg)
{
    long t = (long)arg;
    char line[64];

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(line, sizeof(line), "tlspin: event=thread-%ld-%d", t, i);
        record_emit_line(&plain, LOG_WARNING, line);
    }
    return NULL;
}

START_TEST(threads_each_record_arrives_whole)
{
    pthread_t t[THREADS];
    int seen[THREADS][PER_THREAD] = { { 0 } };
    struct datagram d;

    private_dev_log();
    for (long i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, emit_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        int th, n;
        ck_assert_msg(next_datagram(&d, 2000) == 0, "only %d of %d records", i,
                      THREADS * PER_THREAD);
        ck_assert_msg(sscanf(d.msg, "tlspin: event=thread-%d-%d", &th, &n) == 2 && th >= 0 &&
                          th < THREADS && n >= 0 && n < PER_THREAD && !seen[th][n]++,
                      "unexpected: %s", d.msg);
    }
    expect_silence();
}
END_TEST

/* The daemon side of descriptor_taken_back_by_the_program, in a child (it
 * closes Check's descriptors too): closes everything but the test's
 * /dev/log, opens `victim` on every freed number up to 63, records, and
 * exits 0 when every one of them still holds victim, empty. */
static int daemon_child(const char *victim)
{
    int held[64], n_held = 0;
    struct stat want, st;

    for (int fd = 3; fd < 1024; fd++)
        if (fd != devlog)
            close(fd);
    for (int fd = 3; fd < 64; fd++) {
        if (fd == devlog)
            continue;
        if (open(victim, O_WRONLY | O_APPEND) != fd)
            return 2;
        held[n_held++] = fd;
    }
    if (stat(victim, &want) != 0)
        return 2;
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=after");
    for (int i = 0; i < n_held; i++)
        if (fstat(held[i], &st) != 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev ||
            st.st_size != 0)
            return 1;
    return 0;
}

/* A daemon closes every descriptor after fork and opens its own files on
 * the freed numbers: tlspin must neither write into nor close them (glibc's
 * syslog(3) closes the one it thought was its socket). */
START_TEST(descriptor_taken_back_by_the_program)
{
    char victim[] = "/tmp/tlspin-record-victimXXXXXX";
    int fd = mkstemp(victim), status;
    pid_t child;

    ck_assert_int_ge(fd, 0);
    close(fd);
    private_dev_log();
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=before");
    expect_datagram("tlspin: event=before", LOG_AUTHPRIV | LOG_WARNING);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(daemon_child(victim));
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    unlink(victim);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 2, "the child could not set up");
    ck_assert_msg(WEXITSTATUS(status) == 0,
                  "a descriptor of the program was closed, replaced or written");
    expect_datagram_from("tlspin: event=after", LOG_AUTHPRIV | LOG_WARNING, child);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The daemon: restarted, not reading, a stream socket, absent              */
/* ---------------------------------------------------------------------- */

START_TEST(daemon_restarted)
{
    private_dev_log();
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=first");
    expect_datagram("tlspin: event=first", LOG_AUTHPRIV | LOG_WARNING);
    close(devlog);
    ck_assert_int_eq(unlink("/dev/log"), 0);
    bind_dev_log(SOCK_DGRAM);
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=second");
    expect_datagram("tlspin: event=second", LOG_AUTHPRIV | LOG_WARNING);
}
END_TEST

/* The queue holds max_dgram_qlen datagrams (10 by default): the rest are
 * lost, but the caller is not held; once the daemon reads, records flow. */
START_TEST(daemon_that_does_not_read)
{
    struct datagram d;
    int got = 0;

    private_dev_log();
    for (int i = 0; i < 30; i++) {
        char line[64];
        snprintf(line, sizeof(line), "tlspin: event=queued-%d", i);
        record_emit_line(&plain, LOG_WARNING, line);
    }
    while (next_datagram(&d, 200) == 0) {
        ck_assert_str_eq(d.msg, got == 0 ? "tlspin: event=queued-0" : d.msg);
        got++;
    }
    ck_assert_msg(got > 0 && got < 30, "%d of 30 queued", got);
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=reading-again");
    expect_datagram("tlspin: event=reading-again", LOG_AUTHPRIV | LOG_WARNING);
}
END_TEST

START_TEST(stream_dev_log)
{
    char raw[512];
    size_t n = 0;
    ssize_t r;
    struct datagram d;
    int conn;

    private_dev();
    bind_dev_log(SOCK_STREAM);
    record_emit_line(&plain, LOG_ERR, "tlspin: event=stream");
    conn = accept(devlog, NULL, NULL);
    ck_assert_int_ge(conn, 0);
    while (n < sizeof(raw) - 1 && (r = read(conn, raw + n, sizeof(raw) - 1 - n)) > 0)
        n += (size_t)r;
    close(conn);
    ck_assert_msg(n > 0 && raw[n - 1] == '\0', "not one NUL-terminated record");
    parse_datagram(&d, raw, (ssize_t)n);
    ck_assert_str_eq(d.msg, "tlspin: event=stream");
    ck_assert_int_eq(d.pri, LOG_AUTHPRIV | LOG_ERR);
    ck_assert_int_eq(d.pid, getpid());
}
END_TEST

/* No /dev/log: the record goes through syslog(3), where the program's own
 * lines go (here its LOG_PERROR stderr); errno is kept. */
START_TEST(no_daemon_goes_where_the_program_logs)
{
    char err_file[] = "/tmp/tlspin-record-stderrXXXXXX";
    int fd = mkstemp(err_file);
    char text[1024] = "";
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    private_dev();
    ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    openlog("prog", LOG_PERROR, LOG_USER);
    errno = EPIPE;
    record_emit_line(&plain, LOG_WARNING, "tlspin: event=no-daemon");
    ck_assert_int_eq(errno, EPIPE);
    n = pread(fd, text, sizeof(text) - 1, 0);
    unlink(err_file);
    ck_assert_int_gt(n, 0);
    text[n] = '\0';
    ck_assert_msg(strstr(text, "tlspin: event=no-daemon"), "stderr: %s", text);
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

    tc = tcase_create("socket");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, program_mask_does_not_drop_records);
    tcase_add_test(tc, program_ident_and_facility_untouched);
    tcase_add_test(tc, forked_child_records_with_its_pid);
    tcase_add_test(tc, threads_each_record_arrives_whole);
    tcase_add_test(tc, descriptor_taken_back_by_the_program);
    tcase_add_test(tc, daemon_restarted);
    tcase_add_test(tc, daemon_that_does_not_read);
    tcase_add_test(tc, stream_dev_log);
    tcase_add_test(tc, no_daemon_goes_where_the_program_logs);
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
