/*
 * loop_client — a long-running client: one process, one SSL_CTX, a loop of
 * handshakes for as long as the test wants, while the test changes the
 * policy's files on disk underneath it.
 *
 *   loop_client --cafile FILE --target NAME,PORT,SNI [--target ...]
 *               [--interval-ms 20] [--stop FILE] [--max-ms 120000]
 *
 * Each round makes one handshake per target, in order, then sleeps the
 * interval. One line per handshake, flushed at once:
 *
 *   <start_ms> <end_ms> <target> <ok|blocked|other> <detail>
 *
 * with CLOCK_MONOTONIC milliseconds (the suites' clock). Stops when FILE
 * exists or after --max-ms; prints "done rounds=N" and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tp_common.h"

#define MAX_TARGETS 8

int main(int argc, char **argv)
{
    struct tp_target targets[MAX_TARGETS];
    const char *cafile = NULL, *stop = NULL;
    int n = 0, interval = 20;
    long long max_ms = 120000, t0;
    unsigned long rounds = 0;
    SSL_CTX *ctx;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--stop") == 0)
            stop = argv[++i];
        else if (strcmp(argv[i], "--interval-ms") == 0)
            interval = atoi(argv[++i]);
        else if (strcmp(argv[i], "--max-ms") == 0)
            max_ms = atoll(argv[++i]);
        else if (strcmp(argv[i], "--target") == 0 && n < MAX_TARGETS) {
            if (tp_parse_target(argv[++i], &targets[n]) != 0)
                goto usage;
            n++;
        } else
            goto usage;
    }
    if (!cafile || n == 0 || interval < 0 || !(ctx = tp_ctx_new(cafile)))
        goto usage;

    printf("ready pid=%ld\n", (long)getpid());
    t0 = tp_now_ms();
    while (tp_now_ms() - t0 < max_ms && !(stop && access(stop, F_OK) == 0)) {
        for (int k = 0; k < n; k++) {
            char detail[1024];
            long long start = tp_now_ms();
            enum tp_result r = tp_handshake(ctx, targets[k].port, targets[k].sni, detail,
                                            sizeof(detail));
            printf("%lld %lld %s %s %s\n", start, tp_now_ms(), targets[k].name, tp_result_name(r),
                   detail);
        }
        rounds++;
        if (interval > 0) {
            struct timespec ts = {interval / 1000, (long)(interval % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    printf("done rounds=%lu\n", rounds);
    SSL_CTX_free(ctx);
    return 0;
usage:
    fprintf(stderr, "usage: loop_client --cafile FILE --target NAME,PORT,SNI [--target ...]\n"
                    "       [--interval-ms N] [--stop FILE] [--max-ms N]\n");
    return 2;
}
