/*
 * stack_client — how much of a program's stack tlspin uses.
 *
 *   stack_client --cafile FILE [--stack KIB]
 *                { --target NAME,PORT,SNI,allow|block | --rename FROM,TO
 *                  | --pause-ms N } ... [--handshake-only]
 *
 * Each handshake runs in a thread of its own whose stack is only KIB KiB
 * (default 64, with the usual guard page below it), as a program that runs
 * TLS on small stacks (coroutines, small pthread stacks) does. --rename and
 * --pause-ms run between the handshakes, in order: a pinset renamed into
 * place and a pause past the reload interval make the next handshake the
 * one that reloads the policy. --handshake-only: a completed handshake is
 * "ok" whatever the server answers (openssl s_server -www, which staples).
 *
 * The figures are by painting: a stack is filled with a pattern before a
 * call, and the lowest byte no longer holding it afterwards is how deep the
 * stack went.
 *   thread_peak   the whole handshake (OpenSSL's own frames included);
 *   verify_depth  what a call of X509_verify_cert uses below its caller:
 *                 this program defines X509_verify_cert itself, so libssl's
 *                 call reaches it first; it paints everything below its own
 *                 frame, calls the next definition (tlspin's shim when it is
 *                 preloaded, else libcrypto's) and measures. tlspin decides
 *                 inside that call (chain, modules, the refusal record), so
 *                 the depth with the shim minus the depth without it is the
 *                 stack tlspin's decision puts on the program's thread;
 *   clear_depth   the same for SSL_clear, which libssl calls as a handshake
 *                 starts (and SSL_new): where the shim loads the engine, and
 *                 the engine loads the policy and its modules (the first
 *                 handshake) or reloads them (a handshake after a change);
 *   ct_depth      what the CT validation callback uses (a module's, set with
 *                 SSL_set_ct_validation_callback, which this program defines
 *                 too, wrapping the callback): in TLS 1.2 tlspin holds the
 *                 decision for the server's flight (a stapled OCSP response)
 *                 and takes it there. Without tlspin no callback runs: the
 *                 whole depth is tlspin's.
 *
 * Output, one line per target, then the maxima:
 *   target NAME result=ok|blocked|other thread_peak=N verify_depth=N
 *          clear_depth=N ct_depth=N
 *   max thread_peak=N verify_depth=N verify_calls=N clear_depth=N
 *       clear_calls=N ct_depth=N ct_calls=N
 * Exit 0 when every target had its expected result.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <openssl/ct.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tp_common.h"

#define MAX_STEPS 16
#define PATTERN 0xa5
/* Room left untouched just below the frame that paints: the painting
 * memset's own frame and a signal's red zone live there. */
#define GAP 512

enum probe { P_VERIFY, P_CLEAR, P_CT, P_START, N_PROBES };

static __thread char *stack_lo;           /* lowest usable byte of this thread's stack */
static __thread size_t depth[N_PROBES];   /* deepest call of each probe, this thread */
static __thread char *thread_low;         /* deepest byte seen touched, this thread */
static __thread char *connect_top;        /* the frame of SSL_connect, while in it */
static unsigned long calls[N_PROBES];
static int handshake_only;

/* The lowest address of [lo, hi) that lost the pattern, or hi. */
static char *first_touched(char *lo, char *hi)
{
    while (lo < hi && (unsigned char)*lo == PATTERN)
        lo++;
    return lo;
}

__attribute__((noinline)) static void paint(char *lo, char *hi)
{
    if (hi > lo)
        memset(lo, PATTERN, (size_t)(hi - lo));
}

/* Keeps what the stack below top reached so far for the thread's peak,
 * before a probe paints over it. */
static void note_low(char *top)
{
    char *low = first_touched(stack_lo, top - GAP);

    if (thread_low == NULL || low < thread_low)
        thread_low = low;
}

/* A probe's call: top is the caller's frame; paint below it. */
__attribute__((noinline)) static void probe_start(char *top)
{
    note_low(top);
    paint(stack_lo, top - GAP);
}

__attribute__((noinline)) static void probe_end(enum probe p, char *top)
{
    char *low = first_touched(stack_lo, top - GAP);

    if (thread_low == NULL || low < thread_low)
        thread_low = low;
    if ((size_t)(top - low) > depth[p])
        depth[p] = (size_t)(top - low);
    __atomic_add_fetch(&calls[p], 1, __ATOMIC_RELAXED);
}

/* Interposes libssl's call (see above); only ever called with the thread's
 * stack bounds known, else it just forwards. */
__attribute__((visibility("default"))) int X509_verify_cert(X509_STORE_CTX *ctx)
{
    static int (*next)(X509_STORE_CTX *);
    char *top = __builtin_frame_address(0);
    int r;

    if (next == NULL)
        next = (int (*)(X509_STORE_CTX *))dlsym(RTLD_NEXT, "X509_verify_cert");
    if (next == NULL)
        return -1;
    if (stack_lo == NULL)
        return next(ctx);
    probe_start(top);
    r = next(ctx);
    probe_end(P_VERIFY, top);
    return r;
}

/* libssl calls SSL_clear through its PLT at the start of every handshake:
 * the shim's hook (engine and policy load, reload) runs below this. */
__attribute__((visibility("default"))) int SSL_clear(SSL *s)
{
    static int (*next)(SSL *);
    char *top = __builtin_frame_address(0);
    int r;

    if (next == NULL)
        next = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    if (next == NULL)
        return 0;
    if (stack_lo == NULL)
        return next(s);
    probe_start(top);
    r = next(s);
    probe_end(P_CLEAR, top);
    return r;
}

/* The program's SSL_connect: the shim prepares the handshake (loads the
 * policy at the first one, reloads it after a change) before libssl's
 * SSL_connect runs, which calls SSL_do_handshake through its PLT. So the
 * stack used below SSL_connect before SSL_do_handshake is reached is the
 * start of the handshake: tlspin's prepare (with the shim) or libssl's own
 * few frames (without). */
__attribute__((visibility("default"))) int SSL_connect(SSL *s)
{
    static int (*next)(SSL *);
    char *top = __builtin_frame_address(0);
    int r;

    if (next == NULL)
        next = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    if (next == NULL)
        return -1;
    if (stack_lo == NULL || connect_top != NULL)
        return next(s);
    probe_start(top);
    connect_top = top;
    r = next(s);
    if (connect_top != NULL) {   /* SSL_do_handshake never came */
        probe_end(P_START, top);
        connect_top = NULL;
    }
    return r;
}

__attribute__((visibility("default"))) int SSL_do_handshake(SSL *s)
{
    static int (*next)(SSL *);
    char *top = connect_top;

    if (next == NULL)
        next = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_do_handshake");
    if (next == NULL)
        return -1;
    if (stack_lo != NULL && top != NULL) {
        /* the start of SSL_connect is over: how deep did it go */
        probe_end(P_START, top);
        connect_top = NULL;
    }
    return next(s);
}

/* The CT callback of this thread's handshake (one SSL per thread here). */
static __thread ssl_ct_validation_cb ct_cb;
static __thread void *ct_arg;

static int measured_ct_cb(const CT_POLICY_EVAL_CTX *ctx, const STACK_OF(SCT) *scts, void *arg)
{
    char *top = __builtin_frame_address(0);
    int r;

    (void)arg;
    if (ct_cb == NULL)
        return 0;
    if (stack_lo == NULL)
        return ct_cb(ctx, scts, ct_arg);
    probe_start(top);
    r = ct_cb(ctx, scts, ct_arg);
    probe_end(P_CT, top);
    return r;
}

/* A module (the ct module) sets its callback: measure it. */
__attribute__((visibility("default"))) int
SSL_set_ct_validation_callback(SSL *s, ssl_ct_validation_cb cb, void *arg)
{
    static int (*next)(SSL *, ssl_ct_validation_cb, void *);

    if (next == NULL)
        next = (int (*)(SSL *, ssl_ct_validation_cb, void *))dlsym(
            RTLD_NEXT, "SSL_set_ct_validation_callback");
    if (next == NULL)
        return 0;
    if (cb == NULL || stack_lo == NULL)
        return next(s, cb, arg);
    ct_cb = cb;
    ct_arg = arg;
    return next(s, measured_ct_cb, NULL);
}

struct job {
    SSL_CTX *ctx;
    const struct tp_target *t;
    enum tp_result r;
    size_t peak, depth[N_PROBES];
    char detail[1024];
};

static void *run(void *arg)
{
    struct job *j = arg;
    pthread_attr_t a;
    void *addr;
    size_t size;
    char *top = __builtin_frame_address(0);

    if (pthread_getattr_np(pthread_self(), &a) != 0 || pthread_attr_getstack(&a, &addr, &size) != 0) {
        snprintf(j->detail, sizeof(j->detail), "no stack bounds");
        j->r = TP_OTHER;
        return NULL;
    }
    pthread_attr_destroy(&a);
    stack_lo = (char *)addr;
    paint(stack_lo, top - GAP);
    thread_low = NULL;
    memset(depth, 0, sizeof(depth));
    j->r = tp_handshake(j->ctx, j->t->port, j->t->sni, j->detail, sizeof(j->detail));
    if (handshake_only && j->r == TP_OTHER && strncmp(j->detail, "handshake ok", 12) == 0)
        j->r = TP_OK;
    note_low(top);
    j->peak = (size_t)(top - thread_low);
    thread_low = NULL;
    memcpy(j->depth, depth, sizeof(depth));
    stack_lo = NULL;
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: stack_client --cafile FILE [--stack KIB] "
                    "{ --target NAME,PORT,SNI,allow|block | --rename FROM,TO "
                    "| --pause-ms N } ... [--handshake-only]\n");
    exit(2);
}

/* What runs between handshakes, in order. */
struct step {
    enum { S_TARGET, S_RENAME, S_PAUSE } kind;
    struct tp_target t;
    char from[1024], to[1024];
    long ms;
};

static int parse_step(const char *opt, const char *val, struct step *st)
{
    const char *comma;

    if (strcmp(opt, "--target") == 0) {
        st->kind = S_TARGET;
        return tp_parse_target(val, &st->t) != 0 || st->t.expect == TP_EXPECT_ANY ? -1 : 0;
    }
    if (strcmp(opt, "--rename") == 0) {
        st->kind = S_RENAME;
        comma = strchr(val, ',');
        if (comma == NULL || (size_t)(comma - val) >= sizeof(st->from) ||
            strlen(comma + 1) >= sizeof(st->to))
            return -1;
        snprintf(st->from, sizeof(st->from), "%.*s", (int)(comma - val), val);
        snprintf(st->to, sizeof(st->to), "%s", comma + 1);
        return 0;
    }
    if (strcmp(opt, "--pause-ms") == 0) {
        st->kind = S_PAUSE;
        st->ms = strtol(val, NULL, 10);
        return st->ms > 0 ? 0 : -1;
    }
    return -1;
}

static int do_step(const struct step *st)
{
    struct timespec ts = {st->ms / 1000, (st->ms % 1000) * 1000000L};

    if (st->kind == S_RENAME) {
        if (rename(st->from, st->to) != 0) {
            perror("rename");
            return -1;
        }
        printf("renamed %s\n", st->to);
        return 0;
    }
    /* At least this long (a lower bound is all a reload needs). */
    while (nanosleep(&ts, &ts) != 0)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    static struct step steps[MAX_STEPS];
    const char *cafile = NULL;
    int n = 0, targets = 0, bad = 0;
    size_t kib = 64, max_peak = 0, max_depth[N_PROBES] = {0};
    SSL_CTX *ctx;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a server closing on us is a result */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--handshake-only") == 0) {
            handshake_only = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--stack") == 0)
            kib = strtoul(argv[++i], NULL, 10);
        else if (n < MAX_STEPS && parse_step(argv[i], argv[i + 1], &steps[n]) == 0) {
            targets += steps[n].kind == S_TARGET;
            n++;
            i++;
        } else
            usage();
    }
    if (!cafile || targets == 0 || kib < 16)
        usage();
    if ((ctx = tp_ctx_new(cafile)) == NULL)
        return 2;
    for (int k = 0; k < n; k++) {
        const struct tp_target *t = &steps[k].t;
        struct job j = {.ctx = ctx, .t = t};
        pthread_attr_t a;
        pthread_t tid;

        if (steps[k].kind != S_TARGET) {
            if (do_step(&steps[k]) != 0)
                return 2;
            continue;
        }
        pthread_attr_init(&a);
        if (pthread_attr_setstacksize(&a, kib * 1024) != 0 ||
            pthread_create(&tid, &a, run, &j) != 0) {
            fprintf(stderr, "cannot start a thread with a %zu KiB stack\n", kib);
            return 2;
        }
        pthread_attr_destroy(&a);
        pthread_join(tid, NULL);
        printf("target %s result=%s thread_peak=%zu verify_depth=%zu clear_depth=%zu "
               "ct_depth=%zu start_depth=%zu\n",
               t->name, tp_result_name(j.r), j.peak, j.depth[P_VERIFY], j.depth[P_CLEAR],
               j.depth[P_CT], j.depth[P_START]);
        if ((int)j.r != t->expect) {
            fprintf(stderr, "target %s: %s (expected %s): %s\n", t->name, tp_result_name(j.r),
                    tp_result_name((enum tp_result)t->expect), j.detail);
            bad = 1;
        }
        if (j.peak > max_peak)
            max_peak = j.peak;
        for (int p = 0; p < N_PROBES; p++)
            if (j.depth[p] > max_depth[p])
                max_depth[p] = j.depth[p];
    }
    printf("max thread_peak=%zu verify_depth=%zu verify_calls=%lu clear_depth=%zu "
           "clear_calls=%lu ct_depth=%zu ct_calls=%lu start_depth=%zu start_calls=%lu\n",
           max_peak, max_depth[P_VERIFY], __atomic_load_n(&calls[P_VERIFY], __ATOMIC_RELAXED),
           max_depth[P_CLEAR], __atomic_load_n(&calls[P_CLEAR], __ATOMIC_RELAXED),
           max_depth[P_CT], __atomic_load_n(&calls[P_CT], __ATOMIC_RELAXED),
           max_depth[P_START], __atomic_load_n(&calls[P_START], __ATOMIC_RELAXED));
    SSL_CTX_free(ctx);
    return bad;
}
