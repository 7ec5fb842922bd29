/* Record formatting and emission. Host names, subjects and reasons may come
 * from a certificate an attacker chose: nothing unescaped reaches a log. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define VALUE_MAX 4096          /* cap on one escaped value */
#define RATE_SLOTS 64
#define DEVLOG_PATH "/dev/log"
#define DEVLOG_WAIT_MS 1000     /* longest wait on a log daemon that does not read */
#define TAG_MAX 48

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

/* The syslog socket: ours, never the program's (see record_send). */
static pthread_mutex_t devlog_lock = PTHREAD_MUTEX_INITIALIZER;
static int devlog_fd = -1;
static dev_t devlog_dev;        /* what devlog_fd was when we opened it */
static ino_t devlog_ino;
static int devlog_stalled;      /* the last send timed out: do not wait again */

/* A child forked while another thread held a lock must not hang on its
 * first record. The socket itself is shared with the parent: datagrams are
 * whole, so both may write to it. */
static void locks_reset(void)
{
    pthread_mutex_init(&slots_lock, NULL);
    pthread_mutex_init(&devlog_lock, NULL);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, locks_reset);
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

/* ---------------------------------------------------------------------- */
/* Writing to the syslog socket                                           */
/* ---------------------------------------------------------------------- */

/* The tag: the program's name up to the first byte a syslog parser would
 * read as the end of a tag (space, ':', '[') or that is not printable
 * ASCII. nginx workers overwrite argv[0] with "nginx: worker process". */
static void record_tag(char *out, size_t outlen)
{
    char name[64];
    size_t i;

    program_name(name, sizeof(name));
    for (i = 0; name[i] != '\0' && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c >= 0x7f || c == ':' || c == '[' || c == ']')
            break;
        out[i] = (char)c;
    }
    out[i] = '\0';
    if (i == 0)
        snprintf(out, outlen, "tlspin");
}

/* "<PRI>Mmm dd hh:mm:ss TAG[PID]: ", the framing of glibc's syslog(3)
 * (RFC 3164, local time, C locale month names, day padded with a space). */
static size_t record_header(char *out, size_t outlen, int pri)
{
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char tag[TAG_MAX];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    record_tag(tag, sizeof(tag));
    if (localtime_r(&now, &tm) == NULL || tm.tm_mon < 0 || tm.tm_mon > 11)
        memset(&tm, 0, sizeof(tm));
    n = snprintf(out, outlen, "<%d>%s %2d %02d:%02d:%02d %s[%ld]: ", pri, months[tm.tm_mon],
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tag, (long)getpid());
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* A new socket connected to /dev/log, or -1 with errno. Sends wait at most
 * DEVLOG_WAIT_MS for a daemon whose queue is full. */
static int devlog_connect(int type)
{
    static const struct timeval wait = { DEVLOG_WAIT_MS / 1000, (DEVLOG_WAIT_MS % 1000) * 1000 };
    struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = DEVLOG_PATH };
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait)) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* 1 when devlog_fd is still the socket we opened. A program may close
 * descriptors it does not know (a daemon after fork) and get the number
 * back for a file of its own: that number is then the program's, to be
 * neither written nor closed, and tlspin forgets it. */
static int devlog_still_ours(void)
{
    struct stat st;

    if (devlog_fd < 0)
        return 0;
    if (fstat(devlog_fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == devlog_dev &&
        st.st_ino == devlog_ino)
        return 1;
    devlog_fd = -1;
    return 0;
}

static int devlog_open(void)
{
    struct stat st;
    int fd = devlog_connect(SOCK_DGRAM);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    devlog_fd = fd;
    devlog_dev = st.st_dev;
    devlog_ino = st.st_ino;
    devlog_stalled = 0;
    return 0;
}

static ssize_t send_iov(int fd, struct iovec *iov, int n, int flags)
{
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
    ssize_t r;

    do
        r = sendmsg(fd, &m, flags | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r;
}

/* A /dev/log that is a stream socket (some syslog-ng setups): one
 * connection per record, the record ended by a NUL as glibc does. */
static int devlog_send_stream(struct iovec *iov, int n)
{
    static char nul[1];
    struct iovec all[4];
    int fd = devlog_connect(SOCK_STREAM), r;

    if (fd < 0)
        return -1;
    memcpy(all, iov, (size_t)n * sizeof(*iov));
    all[n].iov_base = nul;
    all[n].iov_len = 1;
    r = send_iov(fd, all, n + 1, 0) < 0 ? -1 : 0;
    close(fd);
    return r;
}

/* Sends one datagram on our socket, reconnecting once (the daemon may have
 * restarted). After a send timed out, later ones do not wait until one
 * gets through: a stuck daemon costs one wait, not one per record. Returns
 * 0, or -1 with errno (EAGAIN: the daemon does not read). Called locked. */
static int devlog_send_locked(struct iovec *iov, int n)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!devlog_still_ours() && devlog_open() != 0)
            return errno == EPROTOTYPE ? devlog_send_stream(iov, n) : -1;
        if (send_iov(devlog_fd, iov, n, devlog_stalled ? MSG_DONTWAIT : 0) >= 0) {
            devlog_stalled = 0;
            return 0;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            devlog_stalled = 1;
            return -1;
        }
        close(devlog_fd);
        devlog_fd = -1;
    }
    return -1;
}

/* Writes one record to /dev/log with tlspin's own socket, so that the
 * program's syslog(3) state (setlogmask, openlog ident and facility,
 * LOG_PERROR) neither drops nor changes it, and tlspin never touches that
 * state. When no daemon listens (no /dev/log, or it refuses), the record
 * goes through syslog(3) after all: that is where the program's own lines
 * go (its LOG_CONS console or LOG_PERROR stderr). A daemon that does not
 * read loses the record rather than hold the handshake. */
static void record_send(int pri, const char *line, const char *suffix)
{
    char header[128];
    struct iovec iov[3];
    int cancel, r, e;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    iov[0].iov_base = header;
    iov[0].iov_len = record_header(header, sizeof(header), pri);
    iov[1].iov_base = (void *)line;
    iov[1].iov_len = strlen(line);
    iov[2].iov_base = (void *)suffix;
    iov[2].iov_len = strlen(suffix);
    pthread_mutex_lock(&devlog_lock);
    r = devlog_send_locked(iov, 3);
    e = errno;
    pthread_mutex_unlock(&devlog_lock);
    if (r != 0 && e != EAGAIN && e != EWOULDBLOCK)
        syslog(pri, "%s%s", line, suffix);
    pthread_setcancelstate(cancel, NULL);
}

void record_emit_line(const struct log_settings *s, int level, const char *line)
{
    unsigned long suppressed;
    int saved_errno = errno;
    char suffix[40] = "";

    pthread_once(&atfork_once, register_atfork);
    if (rate_admit(line, s->rate_limit_seconds, &suppressed)) {
        if (suppressed)
            snprintf(suffix, sizeof(suffix), " suppressed=%lu", suppressed);
        record_send((s->facility & LOG_FACMASK) | LOG_PRI(level), line, suffix);
    }
    errno = saved_errno;
}

/* The line lives on the heap: programs run TLS on small thread stacks. A
 * failed allocation still records, cut short. */
void record_emit(const struct log_settings *s, const struct record *r)
{
    char small[512];
    char *line = malloc(RECORD_MAX);
    int saved_errno = errno;

    if (line != NULL)
        record_format(r, line, RECORD_MAX);
    else
        record_format(r, small, sizeof(small));
    record_emit_line(s, s->level, line != NULL ? line : small);
    free(line);
    errno = saved_errno;
}
