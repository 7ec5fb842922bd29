/* tlspin run — run a program under the shim, after checking that the shim
 * can cover it; tlspin doctor — that check alone. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"
#include "policy_path.h"
#include "commands.h"
#include "coverage.h"
#include "policy.h"
#include "shim_path.h"
#include "term.h"

/* Exit statuses of `tlspin run` besides the program's own (as env(1),
 * nice(1), timeout(1) do). */
#define RUN_EXIT_FAILED 125   /* tlspin itself: usage, policy errors, no shim */
#define RUN_EXIT_REFUSED 126  /* cannot be covered (no --force), or cannot be executed */
#define RUN_EXIT_NOTFOUND 127 /* PROGRAM not found */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin run [--config PATH] [--library PATH] [--force]\n"
            "                  [--] PROGRAM [ARGS...]\n"
            "\n"
            "Run PROGRAM with the tlspin shim preloaded: it is put first in LD_PRELOAD,\n"
            "whose other entries are kept. Before running it, tlspin checks that the shim\n"
            "can cover it (see tlspin doctor) and refuses when it cannot: statically\n"
            "linked or Go, GnuTLS or NSS instead of OpenSSL 3, or setuid/setgid/file\n"
            "capabilities (the loader ignores LD_PRELOAD). A script is judged by its\n"
            "interpreter. It also refuses a policy with errors, which would refuse every\n"
            "handshake.\n"
            "\n"
            "  --config PATH   the policy for this run (exported as TLSPIN_CONFIG);\n"
            "                  default: $TLSPIN_CONFIG, else %s\n"
            "  --library PATH  the shim to preload (default: %s)\n"
            "  --force         run PROGRAM even so, saying why it is not protected\n"
            "  -h, --help      this text\n"
            "\n"
            "Exit status: PROGRAM's own; 125 tlspin failed (usage, policy errors, no\n"
            "shim); 126 refused because PROGRAM cannot be covered, or PROGRAM cannot be\n"
            "executed; 127 PROGRAM not found.\n",
            TLSPIN_DEFAULT_CONFIG, shim_default_path());
}

static void doctor_usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin doctor [-v] PROGRAM...\n"
            "\n"
            "Say for each PROGRAM, in one line, whether the tlspin shim can cover it, why,\n"
            "and what to do when it cannot. Nothing is run: scripts are followed to their\n"
            "interpreter, the ELF file and its libraries are read (resolved as ld.so\n"
            "does), and setuid/setgid bits and file capabilities are checked. PROGRAM is\n"
            "a path, or a name looked up in PATH.\n"
            "\n"
            "  -v, --verbose   also print the facts behind each verdict (TLS libraries and\n"
            "                  through what they are loaded, interpreters, privileges)\n"
            "  -h, --help      this text\n"
            "\n"
            "Exit status: 0 every PROGRAM can be covered; 1 at least one cannot, or was not\n"
            "found; 2 usage error.\n");
}

/* The word for the verdict: covered, covered when..., not covered. */
static const char *verdict_word(const struct cov_report *r)
{
    if (r->system_wide)
        return "covered system-wide";
    switch (r->kind) {
    case COV_OPENSSL:
    case COV_NO_TLS:
        return "covered";
    case COV_LAZY_OPENSSL:
        return "covered when it loads OpenSSL";
    case COV_UNKNOWN:
        return r->not_found ? "not found" : "cannot tell";
    default:
        return "not covered";
    }
}

static void print_verdict(FILE *f, const char *program, const struct cov_report *r, int verbose)
{
    const char *word = verdict_word(r);
    char shown[PATH_MAX * 2 + 8];

    if (strcmp(program, r->path) != 0 && r->path[0])
        snprintf(shown, sizeof shown, "%s (%s)", program, r->path);
    else
        snprintf(shown, sizeof shown, "%s", program);
    fprintf(f, "%s%s%s: %s%s%s: %s", term_on(f, TERM_BOLD), shown, term_off(f),
            term_on(f, r->covered ? TERM_GREEN : TERM_RED), word, term_off(f), r->why);
    if (!r->covered && r->todo[0])
        fprintf(f, ". %s", r->todo);
    fprintf(f, r->covered || r->todo[0] ? ".\n" : "\n");
    if (verbose)
        for (size_t i = 0; i < r->n_notes; i++)
            fprintf(f, "    %s\n", r->notes[i]);
}

int cmd_doctor(int argc, char **argv)
{
    int verbose = 0, first = 1, all = 1, n = 0;
    struct cov_options o = {.this_execution = 0, .shim = shim_default_path(),
                            .ld_library_path = getenv("LD_LIBRARY_PATH")};

    for (; first < argc; first++) {
        if (cli_is_help(argv[first])) {
            doctor_usage(stdout);
            return 0;
        }
        if (strcmp(argv[first], "-v") == 0 || strcmp(argv[first], "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        }
        if (argv[first][0] == '-' && argv[first][1] != '\0') {
            fprintf(stderr, "tlspin doctor: unknown option \"%s\"\nTry 'tlspin doctor --help'.\n",
                    argv[first]);
            return 2;
        }
        break;
    }
    for (int i = first; i < argc; i++) {
        struct cov_report r;
        cov_analyse(argv[i], &o, &r);
        print_verdict(stdout, argv[i], &r, verbose);
        all &= r.covered;
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "tlspin doctor: name at least one program\nTry 'tlspin doctor --help'.\n");
        return 2;
    }
    return all ? 0 : 1;
}

/* LD_PRELOAD with the shim first and every other entry kept (ld.so splits
 * the list on spaces and colons; our own earlier entries are dropped). */
static char *preload_value(const char *shim, const char *old)
{
    size_t cap = strlen(shim) + (old ? strlen(old) : 0) + 2;
    char *out = malloc(cap), *copy, *save = NULL, *tok;

    if (out == NULL)
        return NULL;
    snprintf(out, cap, "%s", shim);
    if (old == NULL || (copy = strdup(old)) == NULL)
        return out;
    for (tok = strtok_r(copy, ": \t", &save); tok; tok = strtok_r(NULL, ": \t", &save)) {
        if (strcmp(tok, shim) == 0)
            continue;
        strcat(out, ":");
        strcat(out, tok);
    }
    free(copy);
    return out;
}

int cmd_run(int argc, char **argv)
{
    const char *config = NULL, *library = NULL;
    int force = 0, i, missing = 0;
    char config_abs[PATH_MAX];

    for (i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            run_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = 1;
            continue;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--config", &missing)) != NULL) {
            config = v;
            continue;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--library", &missing)) != NULL) {
            library = v;
            continue;
        }
        if (missing) {
            fprintf(stderr, "tlspin run: %s needs a value\nTry 'tlspin run --help'.\n", argv[i]);
            return RUN_EXIT_FAILED;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "tlspin run: unknown option \"%s\"\nTry 'tlspin run --help'.\n",
                    argv[i]);
            return RUN_EXIT_FAILED;
        }
        break; /* PROGRAM */
    }
    if (i >= argc) {
        fprintf(stderr, "usage: tlspin run [--config PATH] [--force] -- PROGRAM [ARGS...]\n");
        return RUN_EXIT_FAILED;
    }
    char **prog_argv = argv + i;
    const char *program = prog_argv[0];

    /* The shim. */
    if (library == NULL)
        library = shim_default_path();
    if (library[0] != '/') {
        fprintf(stderr, "tlspin run: --library must be an absolute path: %s\n", library);
        return RUN_EXIT_FAILED;
    }
    if (access(library, R_OK) != 0) {
        fprintf(stderr, "tlspin run: the shim %s: %s\n", library, strerror(errno));
        return RUN_EXIT_FAILED;
    }

    /* The program, and whether it can be covered. */
    struct cov_options o = {.this_execution = 1, .shim = library,
                            .ld_library_path = getenv("LD_LIBRARY_PATH")};
    struct cov_report r;
    cov_analyse(program, &o, &r);
    if (r.kind == COV_UNKNOWN && r.not_found && r.analysed[0] == '\0' &&
        access(r.path, F_OK) != 0) {
        fprintf(stderr, "tlspin run: %s: %s\n", program, r.why);
        return RUN_EXIT_NOTFOUND;
    }
    if (!r.covered) {
        const char *what = r.kind == COV_UNKNOWN ? "cannot tell whether it can be covered"
                                                 : "cannot be covered";
        if (!force) {
            fprintf(stderr, "tlspin: %s%s %s%s: %s.\n", term_on(stderr, TERM_RED), program, what,
                    term_off(stderr), r.why);
            if (r.todo[0])
                fprintf(stderr, "tlspin: %s.\n", r.todo);
            fprintf(stderr, "tlspin: %snot running it%s (--force runs it anyway, unprotected).\n",
                    term_on(stderr, TERM_RED), term_off(stderr));
            return RUN_EXIT_REFUSED;
        }
        fprintf(stderr, "tlspin: %swarning:%s %s %s: %s.\n", term_on(stderr, TERM_YELLOW),
                term_off(stderr), program, what, r.why);
        fprintf(stderr, "tlspin: running it anyway (--force): its TLS connections are NOT "
                        "checked against the policy.\n");
    } else if (r.system_wide && config != NULL) {
        fprintf(stderr, "tlspin: %swarning:%s %s ignores --config: %s; the system policy "
                "applies.\n", term_on(stderr, TERM_YELLOW), term_off(stderr), program, r.why);
    }

    /* The policy the shim will read (absolute: the shim ignores others). */
    if (config != NULL) {
        char perr[256];
        if (policy_path_resolve(config, config_abs, sizeof config_abs, perr, sizeof perr) != 0) {
            fprintf(stderr, "tlspin run: %s\n", perr);
            return RUN_EXIT_FAILED;
        }
        config = config_abs;
    }
    {
        /* A program covered only through /etc/ld.so.preload is AT_SECURE:
         * its shim ignores TLSPIN_CONFIG and reads the built-in default. */
        const char *path = r.system_wide ? TLSPIN_DEFAULT_CONFIG
                                         : config ? config : policy_default_path();
        struct policy *p = policy_load(path, policy_moduledir());
        const char *fault = p ? policy_first_fault(p) : "out of memory";
        if (fault != NULL) {
            if (!force) {
                fprintf(stderr, "tlspin run: %spolicy error%s: %s\n", term_on(stderr, TERM_RED),
                        term_off(stderr), fault);
                fprintf(stderr, "tlspin run: with this policy, handshakes are decided by "
                                "on_error (default: refused); fix it (tlspin check), or "
                                "--force\n");
                policy_free(p);
                return RUN_EXIT_FAILED;
            }
            fprintf(stderr, "tlspin: %swarning:%s policy error: %s; running anyway (--force)\n",
                    term_on(stderr, TERM_YELLOW), term_off(stderr), fault);
        }
        policy_free(p);
    }

    /* The environment: the shim first in LD_PRELOAD, the policy. */
    char *preload = preload_value(library, getenv("LD_PRELOAD"));
    if (preload == NULL || setenv("LD_PRELOAD", preload, 1) != 0 ||
        (config && setenv("TLSPIN_CONFIG", config, 1) != 0)) {
        fprintf(stderr, "tlspin run: cannot set the environment: %s\n", strerror(errno));
        return RUN_EXIT_FAILED;
    }
    free(preload);
    fflush(NULL);
    execv(r.path, prog_argv);
    int e = errno;
    fprintf(stderr, "tlspin run: cannot execute %s: %s\n", r.path, strerror(e));
    return e == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_REFUSED;
}
