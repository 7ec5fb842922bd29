/* tlspin — live with pins: compute them, check the policy, probe hosts, run
 * programs under the shim, enable it system-wide. Every subcommand uses the
 * same engine as the shim, so what it says is what the shim will do. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#ifdef TLSPIN_HAVE_CMD_PIN
    { "pin", cmd_pin, "print the SPKI pins of certificates, keys, CSRs or a live server" },
#endif
#ifdef TLSPIN_HAVE_CMD_CHECK
    { "check", cmd_check, "validate the whole policy (exit 0 ok, 1 warnings, 2 errors)" },
#endif
#ifdef TLSPIN_HAVE_CMD_PROBE
    { "probe", cmd_probe, "connect, show the chain, run the policy, warn of expiry (Nagios codes)" },
#endif
#ifdef TLSPIN_HAVE_CMD_RUN
    { "run", cmd_run, "run a program under the shim (after checking it can be covered)" },
    { "doctor", cmd_doctor, "tell whether a program can be covered by the shim" },
#endif
#ifdef TLSPIN_HAVE_CMD_SYSTEM
    { "enable-system", cmd_enable_system, "add the shim to /etc/ld.so.preload" },
    { "disable-system", cmd_disable_system, "remove the shim from /etc/ld.so.preload" },
    { "status", cmd_status, "say whether the shim is enabled system-wide and the policy loads" },
#endif
#ifdef TLSPIN_HAVE_CMD_LOG
    { "log", cmd_log, "show recent tlspin records from the system log" },
#endif
#ifdef TLSPIN_HAVE_CMD_SIGNED
    { "keygen", cmd_keygen, "make an Ed25519 key pair for signing pinsets" },
    { "sign", cmd_sign, "sign a pinset file (offline) with a serial and an expiry" },
    { "verify", cmd_verify, "verify a signed pinset against the trusted keys" },
#endif
#ifdef TLSPIN_HAVE_CMD_UPDATE
    { "update", cmd_update, "fetch, verify and install the signed pinset from its mirrors" },
#endif
    { NULL, NULL, NULL },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tlspin COMMAND [ARGS...]\n       tlspin COMMAND --help\n\n"
                 "commands:\n");
    for (size_t i = 0; commands[i].name != NULL; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nman tlspin for the whole story.\n");
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
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tlspin: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
