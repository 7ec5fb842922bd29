/* tlspin enable-system / disable-system / status — the shim in
 * /etc/ld.so.preload, for every program on the machine (setuid ones and
 * those that clear their environment included). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_opts.h"
#include "policy_path.h"
#include "commands.h"
#include "elf_inspect.h"
#include "preload_file.h"
#include "shim_path.h"
#include "engine_api.h"
#include "engine_probe.h"
#include "term.h"

#define ENGINE_REL TLSPIN_ENGINE_FILE /* next to the shim, as it looks for it */

/* Options shared by the three: --library, --config, --help. */
struct sys_opts {
    const char *library, *config;
};

static int parse(const char *cmd, int argc, char **argv, int allow_library, int allow_config,
                 void (*usage)(FILE *), struct sys_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (allow_library && (v = cli_opt_value(argc, argv, &i, "--library", &missing)) != NULL) {
            o->library = v;
            continue;
        }
        if (allow_config && (v = cli_opt_value(argc, argv, &i, "--config", &missing)) != NULL) {
            o->config = v;
            continue;
        }
        if (missing)
            fprintf(stderr, "tlspin %s: %s needs a value\nTry 'tlspin %s --help'.\n", cmd, argv[i],
                    cmd);
        else if (argv[i][0] == '-')
            fprintf(stderr, "tlspin %s: unknown option \"%s\"\nTry 'tlspin %s --help'.\n", cmd,
                    argv[i], cmd);
        else
            fprintf(stderr, "tlspin %s: unexpected argument \"%s\"\nTry 'tlspin %s --help'.\n", cmd,
                    argv[i], cmd);
        return 2;
    }
    return -1; /* go on */
}

static void enable_usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin enable-system [--library PATH] [--config PATH]\n"
            "\n"
            "List the tlspin shim in %s, so that every program started\n"
            "afterwards loads it: setuid programs and programs that clear their\n"
            "environment included. Other entries of the file are kept; the file is\n"
            "replaced atomically; enabling twice changes nothing.\n"
            "\n"
            "Refuses when the policy has errors (listed with file:line; what tlspin\n"
            "check calls errors refuses too, its warnings are shown), and a library\n"
            "that is not an absolute path to a regular file owned by root and writable\n"
            "by no one else, in directories likewise; the same for its engine,\n"
            "<dir>/%s. After writing the file, a program is started\n"
            "to prove that programs still start; if not, the change is undone.\n"
            "\n"
            "  --library PATH  the shim (default: %s)\n"
            "  --config PATH   the policy to check (default: $TLSPIN_CONFIG, else\n"
            "                  %s, which setuid programs always read)\n"
            "  -h, --help      this text\n"
            "\n"
            "Exit status: 0 enabled (or already); 1 refused or failed; 2 usage error.\n",
            PRELOAD_FILE, ENGINE_REL, shim_default_path(), TLSPIN_DEFAULT_CONFIG);
}

static void disable_usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin disable-system [--library PATH]\n"
            "\n"
            "Remove the tlspin shim from %s: every entry named\n"
            "libtlspin.so (or only PATH, with --library). Other entries are kept; the file\n"
            "is replaced atomically, or removed when no entry is left. Disabling when\n"
            "it is not enabled changes nothing. Nothing is loaded: not the policy, not\n"
            "the engine, not a module, not OpenSSL (this command is in bin/tlspin,\n"
            "which links only libc), so disabling works whatever of them is broken.\n"
            "\n"
            "  --library PATH  remove only this entry (or entries naming the same file)\n"
            "  -h, --help      this text\n"
            "\n"
            "Exit status: 0 disabled (or was not enabled); 1 failed; 2 usage error.\n",
            PRELOAD_FILE);
}

static void status_usage(FILE *f)
{
    fprintf(f,
            "usage: tlspin status [--config PATH]\n"
            "\n"
            "Say whether the tlspin shim is enabled system-wide (%s),\n"
            "which library, whether that library and its engine are safe to preload\n"
            "(root-owned, writable by no one else), and what a process started now\n"
            "would do: status loads the engine that library loads and the policy with\n"
            "that engine's modules, as a new process does (in a child process, as a\n"
            "damaged engine can kill whoever loads it), and says which of these\n"
            "follows: decided by the policy; every client handshake refused (the\n"
            "engine does not load: fail closed); decided by on_error, or by the last\n"
            "good policy (the policy file is unusable); on_error for the handshakes a\n"
            "stack entry that cannot run takes part in (a module that does not load).\n"
            "It needs nothing but libc itself: it runs whatever is broken.\n"
            "\n"
            "  --config PATH   the policy to check (default: $TLSPIN_CONFIG, else\n"
            "                  %s)\n"
            "  -h, --help      this text\n"
            "\n"
            "Exit status: 0 enabled and healthy; 1 not enabled; 2 enabled but broken\n"
            "(library missing or unsafe, engine that does not load, policy or module\n"
            "with errors); 3 the state cannot be read.\n",
            PRELOAD_FILE, TLSPIN_DEFAULT_CONFIG);
}

/* ------------------------------------------------------------------ */
/* Is a file safe to load into every process?                           */
/* ------------------------------------------------------------------ */

static const char *owner_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

/* snprintf for messages that may be cut (paths can be long). */
static void say(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

/* 0 when path (absolute) is a regular file owned by root, writable by no
 * one else, and so is every directory above it (a sticky directory above
 * the file's own is accepted: no one else can replace what root owns in
 * it). real gets the canonical path. Else -1 with why. */
static int check_trusted(const char *path, char *real, size_t reallen, char *why, size_t whylen)
{
    struct stat st;
    char buf[PATH_MAX], who[64];

    if (path[0] != '/') {
        say(why, whylen, "%s is not an absolute path", path);
        return -1;
    }
    if (realpath(path, buf) == NULL) {
        say(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(real, reallen, "%s", buf);
    if (stat(buf, &st) != 0) {
        say(why, whylen, "%s: %s", buf, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        say(why, whylen, "%s is not a regular file", buf);
        return -1;
    }
    if (st.st_uid != 0) {
        say(why, whylen, "%s is owned by %s, not root", buf,
                 owner_name(st.st_uid, who, sizeof who));
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        say(why, whylen, "%s is writable by %s (mode %04o)", buf,
                 st.st_mode & S_IWOTH ? "everyone" : "its group",
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    for (int first = 1;; first = 0) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL)
            break;
        if (slash == buf)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (stat(buf, &st) != 0) {
            say(why, whylen, "%s: %s", buf, strerror(errno));
            return -1;
        }
        if (st.st_uid != 0) {
            say(why, whylen, "its directory %s is owned by %s, not root", buf,
                     owner_name(st.st_uid, who, sizeof who));
            return -1;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (first || !(st.st_mode & S_ISVTX))) {
            say(why, whylen, "its directory %s is writable by %s (mode %04o)", buf,
                     st.st_mode & S_IWOTH ? "everyone" : "its group",
                     (unsigned)(st.st_mode & 07777));
            return -1;
        }
        if (strcmp(buf, "/") == 0)
            break;
    }
    return 0;
}

/* The shim at lib: trusted, an ELF shared object of this machine named
 * libtlspin.so that defines the hooks, with a trusted engine next to it.
 * real gets its canonical path. 0, or -1 with why. */
static int check_shim(const char *lib, char *real, size_t reallen, char *why, size_t whylen)
{
    struct elfi_object obj, self;
    char err[256], engine[PATH_MAX + 64], engine_real[PATH_MAX];
    int ok;

    if (check_trusted(lib, real, reallen, why, whylen) != 0)
        return -1;
    if (elfi_read(real, &obj, err, sizeof err) != 0) {
        snprintf(why, whylen, "%s is %s", real, err);
        return -1;
    }
    ok = obj.type == ET_DYN && obj.soname && strcmp(obj.soname, "libtlspin.so") == 0 &&
         obj.defines_ssl;
    if (ok && elfi_read("/proc/self/exe", &self, err, sizeof err) == 0) {
        ok = self.elf_class == obj.elf_class && self.machine == obj.machine;
        elfi_free(&self);
        if (!ok) {
            snprintf(why, whylen, "%s is built for %s, not this machine", real,
                     elfi_machine_name(obj.machine));
            elfi_free(&obj);
            return -1;
        }
    }
    elfi_free(&obj);
    if (!ok) {
        snprintf(why, whylen, "%s is not the tlspin shim (no libtlspin.so defining SSL_connect)",
                 real);
        return -1;
    }
    snprintf(engine, sizeof engine, "%.*s/%s", (int)(strrchr(real, '/') - real), real, ENGINE_REL);
    if (check_trusted(engine, engine_real, sizeof engine_real, err, sizeof err) != 0) {
        snprintf(why, whylen, "its engine: %s", err);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The engine and the policy, as a new process would load them          */
/* ------------------------------------------------------------------ */

/* Print every fault the probe found, indented, on f: the policy file's,
 * then each stack entry's. Returns their number. Meaningful only when the
 * engine loaded (pr->engine_ok): without it nothing of the policy is read. */
static int probe_faults(const struct engine_probe *pr, FILE *f, const char *indent)
{
    int n = 0;

    if (pr->killed_in_policy) {
        fprintf(f, "%s%s\n", indent, pr->engine_error);
        return 1;
    }
    if (pr->policy_fault) {
        fprintf(f, "%s%s\n", indent, pr->policy_fault);
        n++;
    }
    for (size_t i = 0; i < pr->n_entries; i++)
        if (pr->entries[i].fault) {
            fprintf(f, "%s%s\n", indent, pr->entries[i].fault);
            n++;
        }
    return n;
}

/* "mode enforce, 1 module: file" for a policy that loads. */
static void probe_summary(const struct engine_probe *pr, char *out, size_t outlen)
{
    size_t len = (size_t)snprintf(out, outlen, "mode %s, %zu module%s",
                                  pr->mode_report ? "report" : "enforce", pr->n_entries,
                                  pr->n_entries == 1 ? "" : "s");
    for (size_t i = 0; i < pr->n_entries && len < outlen; i++)
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? ", " : ": ",
                                pr->entries[i].module);
}

/* What a process started now does with its TLS, in one paragraph on f: the
 * answer to "is anything blocked, and why" at 3 a.m. Each case follows the
 * code that decides it: loader/resolve.c (no engine: every client handshake
 * refused), decide.c decide_broken_policy (an unusable policy file:
 * on_error, which is deny when the file cannot be read), a faulty stack
 * entry (on_error for the handshakes that reach it). */
static void new_process_says(const struct engine_probe *pr, FILE *f, const char *lead)
{
    if (pr->killed_by && !pr->killed_in_policy) {
        fprintf(f, "%sDIES at its first TLS handshake as a client (OpenSSL programs: curl,\n"
                   "  python, ...): loading the engine kills it (%s). Programs that do not use\n"
                   "  OpenSSL (sh, sed, an editor) are not affected.\n", lead,
                strsignal(pr->killed_by));
        return;
    }
    if (!pr->engine_ok) {
        fprintf(f, "%sREFUSES EVERY TLS HANDSHAKE it makes as a client (fail closed: without\n"
                   "  its engine the shim decides nothing; curl says \"(60) ... application\n"
                   "  verification failure\", the record says event=policy-error\n"
                   "  action=blocked). Programs that do not use OpenSSL (sh, sed, an editor)\n"
                   "  are not affected.\n", lead);
        return;
    }
    if (pr->killed_in_policy) {
        fprintf(f, "%s%s at its first TLS handshake as a client: %s.\n", lead,
                pr->killed_by == SIGALRM ? "HANGS" : "DIES", pr->engine_error);
        return;
    }
    if ((pr->policy_fault || pr->n_faulty > 0) && pr->last_good == 1) {
        /* The seam for issue 12 point 1: an engine that keeps a last good
         * policy (engine_probe.h, TLSPIN_PROBE_LAST_GOOD) enforces it in
         * place of a faulty one. */
        fprintf(f, "%senforces the LAST GOOD policy in place of the broken one, with the\n"
                   "  record event=policy-error action=using-last-good (%s).\n", lead,
                pr->last_good_text);
        return;
    }
    if ((pr->policy_fault || pr->n_faulty > 0) && pr->last_good < 0)
        fprintf(f, "%shas no last good policy to fall back on: %s\n", lead,
                pr->last_good_text);
    if (pr->policy_fault) {
        if (pr->have_config && pr->on_error_allow)
            fprintf(f, "%slets every TLS handshake through UNCHECKED (the policy is unusable and\n"
                       "  its on_error is allow; record event=policy-error action=allowed).\n",
                    lead);
        else
            fprintf(f, "%sREFUSES EVERY TLS HANDSHAKE it makes as a client: the policy is unusable\n"
                       "  and on_error is deny%s. curl says \"(60) ... application verification\n"
                       "  failure\"; the record says event=policy-error action=blocked.\n",
                    lead, pr->have_config ? "" : " (a file that cannot be read has no on_error of\n"
                                                 "  its own)");
        return;
    }
    if (pr->n_faulty > 0) {
        for (size_t i = 0; i < pr->n_entries; i++)
            if (pr->entries[i].fault)
                fprintf(f, "%sruns with stack entry %zu (module %s, %s) broken: every handshake\n"
                           "  that reaches it is decided by on_error = %s%s.\n", lead, i + 1,
                        pr->entries[i].module, pr->entries[i].control,
                        pr->on_error_allow ? "allow" : "deny",
                        pr->on_error_allow ? " (let through unchecked)" : " (refused)");
        return;
    }
    fprintf(f, "%sdecides its TLS handshakes by the policy (%s).\n", lead,
            pr->mode_report ? "report mode: records, never blocks" : "enforced");
}

/* --config made absolute, or the policy the shim reads. NULL after saying
 * why on stderr. */
static const char *policy_path(const char *cmd, const struct sys_opts *o)
{
    static char path[PATH_MAX];
    char err[256];
    if (policy_path_resolve(o->config, path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "tlspin %s: %s\n", cmd, err);
        return NULL;
    }
    return path;
}

/* ------------------------------------------------------------------ */
/* Matching entries                                                     */
/* ------------------------------------------------------------------ */

static int match_tlspin(const char *entry, void *arg)
{
    return shim_is_tlspin_entry(entry, arg);
}

/* --library for disable-system: that path, or the same file. */
static int match_exact(const char *entry, void *arg)
{
    const char *lib = arg;
    struct stat a, b;
    if (strcmp(entry, lib) == 0)
        return 1;
    return stat(entry, &a) == 0 && stat(lib, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* ------------------------------------------------------------------ */
/* After the edit: do programs still start?                             */
/* ------------------------------------------------------------------ */

/* Start this command (--version) with the new /etc/ld.so.preload in
 * force. 0 when it ran cleanly; else -1 with what the loader said. */
static int programs_still_start(char *why, size_t whylen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int pfd[2], status;
    size_t got = 0;
    pid_t pid;

    if (n <= 0 || pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "cannot start a test program: %s", strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "cannot start a test program: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(pfd[1], 2);
        char *const args[] = {exe, "--version", NULL};
        char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        execve(exe, args, env);
        _exit(127);
    }
    close(pfd[1]);
    why[0] = '\0';
    for (;;) {
        ssize_t r = read(pfd[0], why + got, got + 1 < whylen ? whylen - got - 1 : 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    why[got < whylen ? got : whylen - 1] = '\0';
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *nl = strchr(why, '\n');
    if (nl)
        *nl = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == 0)
        return 0;
    if (got == 0)
        snprintf(why, whylen, "a test program failed (%s %d)",
                 WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return -1;
}

#ifdef TLSPIN_HAVE_CMD_CHECK
/* Run this command with args (after argv[0]); stdout and stderr into
 * *out (malloc'ed). Returns its exit status, or -1 when it could not run
 * or died. */
static int run_self_capture(const char *const args[], char **out)
{
    char exe[PATH_MAX], *argv[16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t len = 0, cap = 0, k = 0;
    int pfd[2], status;
    pid_t pid;

    *out = NULL;
    if (n <= 0 || pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    exe[n] = '\0';
    argv[k++] = exe;
    for (size_t i = 0; args[i] && k < 15; i++)
        argv[k++] = (char *)args[i];
    argv[k] = NULL;
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        execv(exe, argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        if (cap - len < 4096) {
            char *more = realloc(*out, cap + 8192);
            if (more == NULL)
                break;
            *out = more;
            cap += 8192;
        }
        ssize_t r = read(pfd[0], *out + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    if (*out)
        (*out)[len] = '\0';
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

/* ------------------------------------------------------------------ */
/* The commands                                                         */
/* ------------------------------------------------------------------ */

int cmd_enable_system(int argc, char **argv)
{
    struct sys_opts o;
    char real[PATH_MAX], why[1024], err[1024];
    int rc = parse("enable-system", argc, argv, 1, 1, enable_usage, &o), changed, faults;

    if (rc >= 0)
        return rc;
    const char *lib = o.library ? o.library : shim_default_path();

    if (check_shim(lib, real, sizeof real, why, sizeof why) != 0) {
        fprintf(stderr, "tlspin enable-system: %srefusing%s the library: %s\n",
                term_on(stderr, TERM_RED), term_off(stderr), why);
        return 1;
    }
    const char *path = policy_path("enable-system", &o);
    if (path == NULL)
        return 2;
    {
        /* The engine and the policy as every program would load them once
         * `real` is listed: a library whose engine does not load would
         * refuse (or kill) every OpenSSL client on the machine. Faults go
         * to stderr under the refusal line: print them after it. */
        struct engine_probe pr;
        char *buf = NULL;
        size_t len = 0;
        FILE *mem;

        if (engine_probe_run(real, path, &pr, err, sizeof err) != 0) {
            fprintf(stderr, "tlspin enable-system: %s\n", err);
            return 1;
        }
        if (!pr.engine_ok) {
            fprintf(stderr, "tlspin enable-system: %srefusing%s the library: its engine %s "
                            "does not load: %s\n",
                    term_on(stderr, TERM_RED), term_off(stderr), pr.engine, pr.engine_error);
            engine_probe_free(&pr);
            return 1;
        }
        if ((mem = open_memstream(&buf, &len)) == NULL) {
            fprintf(stderr, "tlspin enable-system: out of memory\n");
            engine_probe_free(&pr);
            return 1;
        }
        faults = probe_faults(&pr, mem, "  ");
        fclose(mem);
        engine_probe_free(&pr);
        if (faults > 0) {
            fprintf(stderr,
                    "tlspin enable-system: %srefusing%s: the policy %s has %d error%s:\n%s"
                    "Every program on the machine would decide its handshakes by on_error;\n"
                    "fix the policy (tlspin check), then enable.\n",
                    term_on(stderr, TERM_RED), term_off(stderr), path, faults,
                    faults == 1 ? "" : "s", buf);
            free(buf);
            return 1;
        }
        free(buf);
    }
#ifdef TLSPIN_HAVE_CMD_CHECK
    /* Then everything `tlspin check` validates (permissions, pinset
     * expiry, shadowed patterns): its errors refuse too, its warnings are
     * shown. */
    {
        char *out = NULL;
        int st = run_self_capture((const char *[]){"check", "--config", path, "-q", NULL}, &out);
        if (st != 0 && st != 1) {
            fprintf(stderr,
                    "tlspin enable-system: %srefusing%s: tlspin check finds errors in %s:\n%s"
                    "Fix them, then enable.\n",
                    term_on(stderr, TERM_RED), term_off(stderr), path, out ? out : "");
            free(out);
            return 1;
        }
        if (st == 1 && out && *out)
            fprintf(stderr, "tlspin enable-system: %swarning%s: tlspin check says:\n%s",
                    term_on(stderr, TERM_YELLOW), term_off(stderr), out);
        free(out);
    }
#endif

    /* Other entries of ours (another path to a shim) are replaced. */
    char **entries;
    size_t n;
    int exists;
    if (preload_list(PRELOAD_FILE, &entries, &n, &exists, err, sizeof err) != 0) {
        fprintf(stderr, "tlspin enable-system: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (match_tlspin(entries[i], real) && strcmp(entries[i], real) != 0)
            printf("replacing %s in %s\n", entries[i], PRELOAD_FILE);
    preload_list_free(entries, n);

    if (preload_add(PRELOAD_FILE, real, match_tlspin, real, &changed, err, sizeof err) != 0) {
        fprintf(stderr, "tlspin enable-system: %s\n", err);
        return 1;
    }
    if (!changed) {
        printf("already enabled: %s lists %s\n", PRELOAD_FILE, real);
        return 0;
    }
    if (programs_still_start(why, sizeof why) != 0) {
        int removed;
        preload_remove(PRELOAD_FILE, match_exact, real, &removed, err, sizeof err);
        fprintf(stderr, "tlspin enable-system: %sundone%s: with %s preloaded, %s\n",
                term_on(stderr, TERM_RED), term_off(stderr), real, why);
        return 1;
    }
    printf("%senabled%s: %s lists %s; programs started from now on load it\n",
           term_on(stdout, TERM_GREEN), term_off(stdout), PRELOAD_FILE, real);
    if (strcmp(real, lib) != 0)
        printf("(%s is %s)\n", lib, real);
    printf("policy: %s\n", path);
    return 0;
}

int cmd_disable_system(int argc, char **argv)
{
    struct sys_opts o;
    char err[1024];
    int removed, rc = parse("disable-system", argc, argv, 1, 0, disable_usage, &o);

    if (rc >= 0)
        return rc;
    if (o.library && o.library[0] != '/') {
        fprintf(stderr, "tlspin disable-system: --library must be an absolute path: %s\n",
                o.library);
        return 2;
    }
    if (preload_remove(PRELOAD_FILE, o.library ? match_exact : match_tlspin,
                       (void *)(o.library ? o.library : shim_default_path()), &removed, err,
                       sizeof err) != 0) {
        fprintf(stderr, "tlspin disable-system: %s\n", err);
        return 1;
    }
    if (removed == 0)
        printf("not enabled: %s lists no %s\n", PRELOAD_FILE,
               o.library ? o.library : "tlspin shim");
    else
        printf("%sdisabled%s: removed %d entr%s from %s; programs started from now on run "
               "without tlspin (running ones keep it)\n",
               term_on(stdout, TERM_YELLOW), term_off(stdout), removed, removed == 1 ? "y" : "ies",
               PRELOAD_FILE);
    return 0;
}

int cmd_status(int argc, char **argv)
{
    struct sys_opts o;
    struct engine_probe pr;
    char err[1024], why[1024], real[PATH_MAX], summary[512] = "", first_entry[PATH_MAX] = "";
    char **entries, *details = NULL, *faults_text = NULL;
    size_t n, ours = 0, dlen = 0, flen = 0;
    int exists, broken = 0, faults = 0, shim_missing = 0;
    int rc = parse("status", argc, argv, 0, 1, status_usage, &o);
    const char *shim = shim_default_path();
    FILE *d, *f;

    if (rc >= 0)
        return rc;
    if (preload_list(PRELOAD_FILE, &entries, &n, &exists, err, sizeof err) != 0) {
        fprintf(stderr, "tlspin status: %s\n", err);
        return 3;
    }
    if ((d = open_memstream(&details, &dlen)) == NULL ||
        (f = open_memstream(&faults_text, &flen)) == NULL) {
        fprintf(stderr, "tlspin status: out of memory\n");
        return 3;
    }
    /* The shims listed, and whether they are safe to preload. */
    for (size_t i = 0; i < n; i++) {
        if (!match_tlspin(entries[i], (void *)shim)) {
            if (access(entries[i], F_OK) != 0)
                fprintf(d, "  note: %s also lists %s, which does not exist (the loader "
                        "complains in every program)\n", PRELOAD_FILE, entries[i]);
            continue;
        }
        ours++;
        /* The first one listed is the one every program loads first: its
         * engine is what they use. As written, not resolved: the shim finds
         * its engine next to the path the loader was given. */
        if (first_entry[0] == '\0') {
            snprintf(first_entry, sizeof first_entry, "%s", entries[i]);
            shim_missing = access(entries[i], F_OK) != 0;
        }
        if (check_shim(entries[i], real, sizeof real, why, sizeof why) != 0) {
            fprintf(d, "  library: %s: %sbroken%s: %s\n", entries[i], term_on(stdout, TERM_RED),
                    term_off(stdout), why);
            broken = 1;
        } else {
            fprintf(d, "  library: %s (root-owned, writable by no one else; engine next to it)\n",
                    entries[i]);
        }
    }
    if (ours > 1)
        fprintf(d, "  note: %zu tlspin entries; tlspin enable-system leaves exactly one\n", ours);

    const char *path = policy_path("status", &o);
    if (path == NULL)
        return 3;
    /* The engine that shim loads, and the policy with that engine's modules,
     * loaded as a new process would (in a child: a broken engine may kill
     * whoever loads it). Not enabled: the shim enable-system would list. */
    if (engine_probe_run(first_entry[0] ? first_entry : shim, path, &pr, err, sizeof err) != 0) {
        fprintf(stderr, "tlspin status: %s\n", err);
        return 3;
    }
    if (pr.engine_ok) {
        fprintf(d, "  engine: %s loads (modules from %s)\n", pr.engine, pr.moduledir);
    } else {
        fprintf(d, "  engine: %s: %sbroken%s: %s\n", pr.engine, term_on(stdout, TERM_RED),
                term_off(stdout), pr.engine_error);
        broken = 1;
    }
    if (!pr.engine_ok) {
        fprintf(d, "  policy: %s: not read (only the engine reads it)\n", path);
    } else {
        faults = probe_faults(&pr, f, "    ");
        if (faults == 0) {
            probe_summary(&pr, summary, sizeof summary);
            fprintf(d, "  policy: %s loads (%s)\n", path, summary);
        } else {
            fflush(f);
            fprintf(d, "  policy: %s: %s%d error%s%s\n%s", path, term_on(stdout, TERM_RED),
                    faults, faults == 1 ? "" : "s", term_off(stdout), faults_text);
            broken = 1;
        }
    }
    fclose(f);
    for (size_t i = 0; i < pr.n_warnings; i++)
        fprintf(d, "  %swarning%s: %s\n", term_on(stdout, TERM_YELLOW), term_off(stdout),
                pr.warnings[i]);
    if (ours > 0 && shim_missing)
        fprintf(d, "  a new process is NOT covered: the loader cannot preload %s, says so on\n"
                   "  every program's stderr and runs it without tlspin.\n", first_entry);
    else
        new_process_says(&pr, d, ours > 0 ? "  a new process " : "  under the shim, a process ");
    if (ours > 0 && broken)
        fprintf(d, "  the way back: tlspin disable-system (it needs nothing of the above), or\n"
                   "  from a root shell remove the line naming libtlspin.so from %s;\n"
                   "  then fix what is broken (tlspin check, reinstall) and tlspin enable-system\n",
                PRELOAD_FILE);
    fclose(d);
    engine_probe_free(&pr);

    if (ours == 0) {
        printf("system-wide: %snot enabled%s (%s %s)\n", term_on(stdout, TERM_YELLOW),
               term_off(stdout), PRELOAD_FILE, exists ? "lists no tlspin shim" : "does not exist");
        rc = 1;
    } else if (broken) {
        printf("system-wide: %senabled, but broken%s\n", term_on(stdout, TERM_RED),
               term_off(stdout));
        rc = 2;
    } else {
        printf("system-wide: %senabled%s, healthy\n", term_on(stdout, TERM_GREEN),
               term_off(stdout));
        rc = 0;
    }
    fputs(details, stdout);
    if (ours == 0)
        printf("  programs are covered only when run under the shim: tlspin run, or "
               "LD_PRELOAD=%s\n", shim);
    free(details);
    free(faults_text);
    preload_list_free(entries, n);
    return rc;
}
