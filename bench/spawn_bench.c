/*
 * spawn_bench — exec cost of a program under different LD_PRELOAD values,
 * interleaved: iteration i spawns the program once per configuration, in an
 * order rotated every iteration (A B C, B C A, ...), and times
 * posix_spawn → waitpid.
 *
 *   spawn_bench --n N --out CSV --config LABEL=PRELOAD [--config ...] -- PROG ARGS...
 *
 * PRELOAD "-" means no LD_PRELOAD. CSV rows: label,ns. Exit 0 when every
 * child exited 0.
 */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXC 8

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *labels[MAXC], *out = NULL;
    char **envs[MAXC];
    int nc = 0, n = 100, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "--n") == 0)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && nc < MAXC) {
            char *spec = argv[++i], *eq = strchr(spec, '=');
            size_t ne = 0, k = 0;
            if (eq == NULL)
                goto usage;
            *eq = '\0';
            labels[nc] = spec;
            while (environ[ne])
                ne++;
            envs[nc] = calloc(ne + 2, sizeof(char *));
            for (size_t j = 0; j < ne; j++)
                if (strncmp(environ[j], "LD_PRELOAD=", 11) != 0)
                    envs[nc][k++] = environ[j];
            if (strcmp(eq + 1, "-") != 0) {
                char *e = malloc(strlen(eq + 1) + 12);
                sprintf(e, "LD_PRELOAD=%s", eq + 1);
                envs[nc][k++] = e;
            }
            nc++;
        } else
            goto usage;
    }
    if (i >= argc || nc == 0 || n < 1 || out == NULL)
        goto usage;
    FILE *f = fopen(out, "w");
    if (f == NULL) {
        perror(out);
        return 1;
    }
    fprintf(f, "label,ns\n");
    int bad = 0;
    for (int it = 0; it < n; it++)
        for (int c0 = 0; c0 < nc; c0++) {
            int c = (c0 + it) % nc, st;
            pid_t pid;
            uint64_t t0 = now_ns();
            if (posix_spawn(&pid, argv[i], NULL, NULL, &argv[i], envs[c]) != 0) {
                perror("posix_spawn");
                return 1;
            }
            waitpid(pid, &st, 0);
            uint64_t dt = now_ns() - t0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                bad = 1;
            fprintf(f, "%s,%llu\n", labels[c], (unsigned long long)dt);
        }
    fclose(f);
    return bad;
usage:
    fprintf(stderr, "usage: spawn_bench --n N --out CSV --config LABEL=PRELOAD ... -- PROG ARGS\n");
    return 2;
}
