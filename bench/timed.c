/*
 * timed — run a program once and append its wall time and CPU time (user +
 * system, from wait4) to a CSV line: LABEL,wall_ns,cpu_ns.
 *
 *   timed CSV LABEL -- PROG ARGS...
 *
 * Exits with the program's status (128+signal when killed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec a, b;
    struct rusage ru;
    int st;

    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: timed CSV LABEL -- PROG ARGS...\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[4], &argv[4]);
        perror(argv[4]);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid) {
        perror("timed");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long wall = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    FILE *f = fopen(argv[1], "a");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "%s,%lld,%lld\n", argv[2], wall, cpu);
    fclose(f);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}
