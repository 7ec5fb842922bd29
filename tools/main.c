/* tlspin — live with pins: compute them, check the policy, probe hosts, run
 * programs under the shim, enable it system-wide. Every subcommand uses the
 * same engine as the shim, so what it says is what the shim will do.
 *
 * This file is bin/tlspin's main(), which links only libc: the commands
 * that take the shim out of /etc/ld.so.preload or say what state it is in
 * are compiled in here and must start whatever is broken (the engine file,
 * a module, the policy). Every other command lives in tlspin-commands.so,
 * which links the engine and OpenSSL; it is dlopen'ed only when one of them
 * is asked for, so a damaged engine costs those commands, never the way
 * back (see tools/CMakeLists.txt). */
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#ifndef TLSPIN_COMMANDS_INSTALLED
#define TLSPIN_COMMANDS_INSTALLED "/usr/lib/x86_64-linux-gnu/tlspin/tlspin-commands.so"
#endif
#ifndef TLSPIN_COMMANDS_BUILD
#define TLSPIN_COMMANDS_BUILD TLSPIN_COMMANDS_INSTALLED
#endif

typedef int command_fn(int argc, char **argv);

struct command {
    const char *name;
    command_fn *run;          /* compiled into bin/tlspin; or NULL: */
    const char *symbol;       /* its name in tlspin-commands.so */
    int cannot_run;           /* exit status when that object cannot be loaded */
    const char *summary;
};

/* cannot_run follows each command's own exit codes for "could not do it":
 * check's errors (2), probe's Nagios UNKNOWN (3), a plain failure (1). */
static const struct command commands[] = {
#ifdef TLSPIN_HAVE_CMD_PIN
    { "pin", NULL, "cmd_pin", 1, "print the SPKI pins of certificates, keys, CSRs or a live server" },
#endif
#ifdef TLSPIN_HAVE_CMD_CHECK
    { "check", NULL, "cmd_check", 2, "validate the whole policy (exit 0 ok, 1 warnings, 2 errors)" },
#endif
#ifdef TLSPIN_HAVE_CMD_PROBE
    { "probe", NULL, "cmd_probe", 3, "connect, show the chain, run the policy, warn of expiry (Nagios codes)" },
#endif
#ifdef TLSPIN_HAVE_CMD_RUN
    { "run", NULL, "cmd_run", 1, "run a program under the shim (after checking it can be covered)" },
    { "doctor", NULL, "cmd_doctor", 1, "tell whether a program can be covered by the shim" },
#endif
#ifdef TLSPIN_HAVE_CMD_SYSTEM
    { "enable-system", cmd_enable_system, NULL, 1, "add the shim to /etc/ld.so.preload" },
    { "disable-system", cmd_disable_system, NULL, 1, "remove the shim from /etc/ld.so.preload" },
    { "status", cmd_status, NULL, 3, "say whether the shim is enabled system-wide and what a new process would do" },
#endif
#ifdef TLSPIN_HAVE_CMD_LOG
    { "log", NULL, "cmd_log", 1, "show recent tlspin records from the system log" },
#endif
#ifdef TLSPIN_HAVE_CMD_SIGNED
    { "keygen", NULL, "cmd_keygen", 1, "make an Ed25519 key pair for signing pinsets" },
    { "sign", NULL, "cmd_sign", 1, "sign a pinset file (offline) with a serial and an expiry" },
    { "verify", NULL, "cmd_verify", 1, "verify a signed pinset against the trusted keys" },
#endif
#ifdef TLSPIN_HAVE_CMD_UPDATE
    { "update", NULL, "cmd_update", 1, "fetch, verify and install the signed pinset from its mirrors" },
#endif
    { NULL, NULL, NULL, 0, NULL },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tlspin COMMAND [ARGS...]\n       tlspin COMMAND --help\n\n"
                 "commands:\n");
    for (size_t i = 0; commands[i].name != NULL; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nman tlspin for the whole story.\n");
}

/* tlspin-commands.so: the build tree's when this is <build>/bin/tlspin (the
 * same test as shim_default_path()), else the installed one. An absolute
 * path either way: never a search through LD_LIBRARY_PATH for code that
 * root runs. */
static const char *commands_path(void)
{
    char exe[PATH_MAX], bin[PATH_MAX], real_bin[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (n <= 0)
        return TLSPIN_COMMANDS_INSTALLED;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return TLSPIN_COMMANDS_INSTALLED;
    *slash = '\0';
    /* <build>/lib/tlspin/tlspin-commands.so  ->  <build>/bin */
    snprintf(bin, sizeof bin, "%s", TLSPIN_COMMANDS_BUILD);
    for (int i = 0; i < 3 && (slash = strrchr(bin, '/')) != NULL; i++)
        *slash = '\0';
    strncat(bin, "/bin", sizeof bin - strlen(bin) - 1);
    if (realpath(bin, real_bin) != NULL && strcmp(real_bin, exe) == 0 &&
        access(TLSPIN_COMMANDS_BUILD, F_OK) == 0)
        return TLSPIN_COMMANDS_BUILD;
    return TLSPIN_COMMANDS_INSTALLED;
}

/* What the fault handler says and the status it exits with, prepared
 * before the dlopen: the handler may only write(2) and _exit. */
static char crash_text[512];
static size_t crash_len;
static int crash_status;

static void loading_crashed(int sig)
{
    (void)sig;
    if (write(2, crash_text, crash_len) < 0) {
        /* nothing more to do from a signal handler */
    }
    _exit(crash_status);
}

/* Load the object the command is in and run it. RTLD_NOW: a missing symbol
 * is an error here, not a crash half-way through the command. The handle is
 * kept until exit (the command may leave threads or atexit handlers).
 *
 * A file cut short inside a segment (the engine, after an interrupted copy)
 * passes dlopen's checks and raises SIGBUS when its missing page is touched:
 * while the object loads, that fault ends tlspin with a message saying what
 * happened and what still works, instead of "Bus error". The handlers are
 * put back before the command runs: its own faults are its own. */
static int run_from_object(const struct command *c, int argc, char **argv)
{
    const char *path = commands_path();
    struct sigaction sa, old_bus, old_segv;
    void *handle;
    command_fn *fn;
    int n;

    n = snprintf(crash_text, sizeof crash_text,
                 "tlspin %s: loading the tlspin commands (%s, the engine or a library they\n"
                 "need) crashed: a file is damaged, cut short perhaps. Reinstall tlspin.\n"
                 "Meanwhile `tlspin status` says what programs do, and `tlspin disable-system`\n"
                 "works without any of these files.\n", c->name, path);
    crash_len = n < 0 ? 0 : (size_t)n < sizeof crash_text ? (size_t)n : sizeof crash_text - 1;
    crash_status = c->cannot_run;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = loading_crashed;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old_bus);
    sigaction(SIGSEGV, &sa, &old_segv);
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    sigaction(SIGBUS, &old_bus, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
    if (handle == NULL) {
        fprintf(stderr,
                "tlspin %s: cannot load the tlspin commands: %s\n"
                "The tlspin installation is damaged (the engine, OpenSSL or libconfig as\n"
                "well, perhaps): reinstall it. Meanwhile `tlspin status` says what programs\n"
                "do, and `tlspin disable-system` works without any of these files.\n",
                c->name, dlerror());
        return c->cannot_run;
    }
    *(void **)&fn = dlsym(handle, c->symbol);
    if (fn == NULL) {
        fprintf(stderr, "tlspin %s: %s has no %s: the tlspin installation is damaged or mixed "
                        "(reinstall it)\n", c->name, path, c->symbol);
        return c->cannot_run;
    }
    return fn(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tlspin %s\n", TLSPIN_VERSION);
        return 0;
    }
    for (size_t i = 0; commands[i].name != NULL; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run ? commands[i].run(argc - 1, argv + 1)
                                   : run_from_object(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "tlspin: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
