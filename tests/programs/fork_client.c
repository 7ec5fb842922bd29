/*
 * fork_client — a client that forks: enforcement must hold in the parent,
 * the child and the grandchild, each deciding (and recording, with its own
 * pid) its own handshakes.
 *
 *   fork_client --cafile FILE --good PORT --icpt PORT [--fork-first]
 *
 * PORT of --good presents the pinned key, PORT of --icpt the interceptor's.
 * Without --fork-first the parent makes one handshake to the pinned host
 * first (the shim, engine and policy are initialised before the fork); with
 * it, nothing TLS happens before the fork and each process initialises on
 * its own. Then the child forks a grandchild, and each of the three runs:
 *
 *   good         --good, SNI good.test    must be allowed
 *   intercepted  --icpt, SNI good.test    must be blocked
 *   unpinned     --icpt, SNI other.test   must be allowed
 *
 * One line per handshake: "<role> pid=<pid> <check> <result> expect=<...>
 * OK|WRONG <detail>"; last line "wrong=N". Exit 0 only when N is 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tp_common.h"

static SSL_CTX *ctx;
static int good_port, icpt_port;

static int check(const char *role, const char *name, int port, const char *sni,
                 enum tp_result expect)
{
    char detail[1024];
    enum tp_result r = tp_handshake(ctx, port, sni, detail, sizeof(detail));

    printf("%s pid=%ld %s %s expect=%s %s %s\n", role, (long)getpid(), name, tp_result_name(r),
           tp_result_name(expect), r == expect ? "OK" : "WRONG", detail);
    return r != expect;
}

static int checks(const char *role)
{
    int wrong = 0;
    wrong += check(role, "good", good_port, "good.test", TP_OK);
    wrong += check(role, "intercepted", icpt_port, "good.test", TP_BLOCKED);
    wrong += check(role, "unpinned", icpt_port, "other.test", TP_OK);
    return wrong;
}

/* Fork; the child runs body(role) and exits with its count of wrong
 * outcomes. Returns the child's count (a crash counts as 100). */
static int in_child(const char *role, int (*body)(const char *))
{
    int st;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 100;
    }
    if (pid == 0) {
        int wrong = body(role);
        fflush(stdout);
        _exit(wrong > 99 ? 99 : wrong);
    }
    if (waitpid(pid, &st, 0) != pid)
        return 100;
    if (!WIFEXITED(st)) {
        printf("%s pid=%ld died: %s\n", role, (long)pid,
               WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "?");
        return 100;
    }
    return WEXITSTATUS(st);
}

static int child_body(const char *role)
{
    int wrong = checks(role);
    wrong += in_child("grandchild", checks);
    return wrong;
}

int main(int argc, char **argv)
{
    const char *cafile = NULL;
    int fork_first = 0, wrong = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fork-first") == 0)
            fork_first = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--good") == 0)
            good_port = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--icpt") == 0)
            icpt_port = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: fork_client --cafile FILE --good PORT --icpt PORT "
                            "[--fork-first]\n");
            return 2;
        }
    }
    if (!cafile || good_port <= 0 || icpt_port <= 0 || !(ctx = tp_ctx_new(cafile)))
        return 2;
    if (!fork_first)
        wrong += check("parent-before-fork", "good", good_port, "good.test", TP_OK);
    wrong += in_child("child", child_body);
    wrong += checks("parent");
    printf("wrong=%d\n", wrong);
    SSL_CTX_free(ctx);
    return wrong == 0 ? 0 : 1;
}
