/*
 * tp_threads.c — threads and --show-maps of the threaded clients (see
 * tp_threads.h).
 */
#include "tp_threads.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_opts_arg(struct tp_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    struct tp_target *t;

    if (strcmp(a, "--show-maps") == 0) {
        o->show_maps = 1;
        return 1;
    }
    if (strcmp(a, "--cafile") != 0 && strcmp(a, "--threads") != 0 &&
        strcmp(a, "--per-thread") != 0 && strcmp(a, "--target") != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    ++*i;
    if (strcmp(a, "--cafile") == 0)
        o->cafile = argv[*i];
    else if (strcmp(a, "--threads") == 0)
        o->threads = atoi(argv[*i]);
    else if (strcmp(a, "--per-thread") == 0)
        o->per_thread = atoi(argv[*i]);
    else {
        if (o->n_targets == TP_MAX_TARGETS)
            return -1;
        t = &o->targets[o->n_targets];
        if (tp_parse_target(argv[*i], t) != 0 || t->expect == TP_EXPECT_ANY)
            return -1;
        o->n_targets++;
    }
    return 1;
}

int tp_opts_check(const struct tp_opts *o)
{
    return o->cafile && o->n_targets > 0 && o->threads >= 1 && o->threads <= TP_MAX_THREADS &&
                   o->per_thread >= 1
               ? 0
               : -1;
}

int tp_run_threads(int n, void *(*fn)(void *), pthread_barrier_t *start, long long *t0)
{
    pthread_t tids[TP_MAX_THREADS];

    if (n < 1 || n > TP_MAX_THREADS) {
        fprintf(stderr, "thread count %d out of 1..%d\n", n, TP_MAX_THREADS);
        return -1;
    }
    pthread_barrier_init(start, NULL, (unsigned)n);
    *t0 = tp_now_ms();
    for (int t = 0; t < n; t++)
        if (pthread_create(&tids[t], NULL, fn, (void *)(long)t) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return -1;
        }
    for (int t = 0; t < n; t++)
        pthread_join(tids[t], NULL);
    pthread_barrier_destroy(start);
    return 0;
}

int tp_count(struct tp_counts *c, const struct tp_target *t, enum tp_result r, int resumed)
{
    switch (r) {
    case TP_OK: atomic_fetch_add(&c->ok, 1); break;
    case TP_BLOCKED: atomic_fetch_add(&c->blocked, 1); break;
    case TP_OTHER: atomic_fetch_add(&c->other, 1); break;
    }
    if (resumed)
        atomic_fetch_add(&c->resumed, 1);
    return (int)r == t->expect;
}

int tp_report(const struct tp_target *t, struct tp_counts *c, int n, int with_resumed,
              long long t0)
{
    unsigned long total = 0, misdecided = 0, other = 0, resumed = 0;
    char re[48] = "";

    for (int k = 0; k < n; k++) {
        unsigned long ok = atomic_load(&c[k].ok), bl = atomic_load(&c[k].blocked),
                      ot = atomic_load(&c[k].other), rs = atomic_load(&c[k].resumed);
        if (with_resumed)
            snprintf(re, sizeof(re), " resumed=%lu", rs);
        printf("target %s expect=%s handshakes=%lu ok=%lu blocked=%lu other=%lu%s\n", t[k].name,
               t[k].expect == TP_EXPECT_ALLOW ? "allow" : "block", ok + bl + ot, ok, bl, ot, re);
        total += ok + bl + ot;
        other += ot;
        resumed += rs;
        misdecided += t[k].expect == TP_EXPECT_ALLOW ? bl : ok;
    }
    if (with_resumed)
        snprintf(re, sizeof(re), " resumed=%lu", resumed);
    printf("total handshakes=%lu misdecided=%lu other=%lu%s elapsed_ms=%lld\n", total, misdecided,
           other, re, tp_now_ms() - t0);
    return misdecided == 0 && other == 0 ? 0 : 1;
}

int tp_show_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096], seen[32][1024];
    int n_seen = 0;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        int dup = 0;
        if (!path || !strstr(path, "tlspin"))
            continue;
        path[strcspn(path, "\n")] = '\0';
        for (int i = 0; i < n_seen; i++)
            dup |= strcmp(seen[i], path) == 0;
        if (dup || n_seen == 32)
            continue;
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", path);
        printf("mapped %s\n", path);
    }
    fclose(f);
    return 0;
}
