/*
 * stack_client — how much of a program's stack tlspin's decision path uses.
 *
 *   stack_client --cafile FILE [--stack KIB] --target NAME,PORT,SNI,allow|block ...
 *
 * Each handshake runs in a thread of its own whose stack is only KIB KiB
 * (default 64, with the usual guard page below it), as a program that runs
 * TLS on small stacks (coroutines, small pthread stacks) does.
 *
 * Two figures per handshake, both by painting: the thread's stack is filled
 * with a pattern before the handshake, and the lowest byte no longer
 * holding it afterwards is how deep the stack went.
 *   thread_peak   the whole handshake (OpenSSL's own frames included);
 *   verify_depth  what a call of X509_verify_cert uses below its caller:
 *                 this program defines X509_verify_cert itself, so libssl's
 *                 call reaches it first; it paints everything below its own
 *                 frame, calls the next definition (tlspin's shim when it is
 *                 preloaded, else libcrypto's) and measures. tlspin decides
 *                 inside that call (chain, modules, the refusal record), so
 *                 the depth with the shim minus the depth without it is the
 *                 stack tlspin's decision puts on the program's thread.
 *
 * Output, one line per target, then the maxima:
 *   target NAME result=ok|blocked|other thread_peak=N verify_depth=N
 *   max thread_peak=N verify_depth=N verify_calls=N
 * Exit 0 when every target had its expected result.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "tp_common.h"

#define MAX_TARGETS 8
#define PATTERN 0xa5
/* Room left untouched just below the frame that paints: the painting
 * memset's own frame and a signal's red zone live there. */
#define GAP 512

static __thread char *stack_lo;       /* lowest usable byte of this thread's stack */
static __thread size_t verify_depth;  /* deepest X509_verify_cert call of this thread */
static unsigned long verify_calls;

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

/* Interposes libssl's call (see above); only ever called with the thread's
 * stack bounds known, else it just forwards. */
__attribute__((visibility("default"))) int X509_verify_cert(X509_STORE_CTX *ctx)
{
    static int (*next)(X509_STORE_CTX *);
    char *top = __builtin_frame_address(0), *hi = top - GAP, *low;
    int r;

    if (next == NULL)
        next = (int (*)(X509_STORE_CTX *))dlsym(RTLD_NEXT, "X509_verify_cert");
    if (next == NULL)
        return -1;
    if (stack_lo == NULL)
        return next(ctx);
    paint(stack_lo, hi);
    r = next(ctx);
    low = first_touched(stack_lo, hi);
    if ((size_t)(top - low) > verify_depth)
        verify_depth = (size_t)(top - low);
    __atomic_add_fetch(&verify_calls, 1, __ATOMIC_RELAXED);
    return r;
}

struct job {
    SSL_CTX *ctx;
    const struct tp_target *t;
    enum tp_result r;
    size_t peak, verify;
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
    j->r = tp_handshake(j->ctx, j->t->port, j->t->sni, j->detail, sizeof(j->detail));
    j->peak = (size_t)(top - first_touched(stack_lo, top - GAP));
    j->verify = verify_depth;
    stack_lo = NULL;
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: stack_client --cafile FILE [--stack KIB] "
                    "--target NAME,PORT,SNI,allow|block ...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct tp_target targets[MAX_TARGETS];
    const char *cafile = NULL;
    int n = 0, bad = 0;
    size_t kib = 64, max_peak = 0, max_verify = 0;
    SSL_CTX *ctx;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a server closing on us is a result */
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--stack") == 0)
            kib = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--target") == 0) {
            if (n == MAX_TARGETS || tp_parse_target(argv[++i], &targets[n]) != 0 ||
                targets[n].expect == TP_EXPECT_ANY)
                usage();
            n++;
        } else
            usage();
    }
    if (!cafile || n == 0 || kib < 16)
        usage();
    if ((ctx = tp_ctx_new(cafile)) == NULL)
        return 2;
    for (int k = 0; k < n; k++) {
        struct job j = {.ctx = ctx, .t = &targets[k]};
        pthread_attr_t a;
        pthread_t tid;

        pthread_attr_init(&a);
        if (pthread_attr_setstacksize(&a, kib * 1024) != 0 ||
            pthread_create(&tid, &a, run, &j) != 0) {
            fprintf(stderr, "cannot start a thread with a %zu KiB stack\n", kib);
            return 2;
        }
        pthread_attr_destroy(&a);
        pthread_join(tid, NULL);
        printf("target %s result=%s thread_peak=%zu verify_depth=%zu\n", targets[k].name,
               tp_result_name(j.r), j.peak, j.verify);
        if ((int)j.r != targets[k].expect) {
            fprintf(stderr, "target %s: %s (expected %s): %s\n", targets[k].name,
                    tp_result_name(j.r), tp_result_name((enum tp_result)targets[k].expect),
                    j.detail);
            bad = 1;
        }
        if (j.peak > max_peak)
            max_peak = j.peak;
        if (j.verify > max_verify)
            max_verify = j.verify;
    }
    printf("max thread_peak=%zu verify_depth=%zu verify_calls=%lu\n", max_peak, max_verify,
           __atomic_load_n(&verify_calls, __ATOMIC_RELAXED));
    SSL_CTX_free(ctx);
    return bad;
}
