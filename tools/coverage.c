/* coverage — can the shim cover this program? (see coverage.h) */
#include "coverage.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "elf_inspect.h"
#include "preload_file.h"
#include "shim_path.h"

#define MAX_SCRIPT_DEPTH 4 /* the kernel's binfmt_script nesting limit */

static void add_note(struct cov_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_note(struct cov_report *r, const char *fmt, ...)
{
    va_list ap;
    if (r->n_notes >= COV_MAX_NOTES)
        return;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->n_notes++], sizeof r->notes[0], fmt, ap);
    va_end(ap);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ------------------------------------------------------------------ */
/* Finding the program                                                  */
/* ------------------------------------------------------------------ */

int cov_find_program(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    int saw_eacces = 0;
    struct stat st;

    if (name[0] == '\0')
        return ENOENT;
    if (strchr(name, '/') != NULL) {
        snprintf(out, outlen, "%s", name);
        if (stat(name, &st) != 0)
            return errno;
        return 0;
    }
    if (path == NULL)
        path = "/bin:/usr/bin"; /* execvp's default */
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char cand[PATH_MAX];
        if (snprintf(cand, sizeof cand, "%.*s%s%s", (int)len, len ? p : "", len ? "/" : "",
                     name) < (int)sizeof cand &&
            stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                snprintf(out, outlen, "%s", cand);
                return 0;
            }
            if (!saw_eacces)
                snprintf(out, outlen, "%s", cand);
            saw_eacces = 1;
        }
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    return saw_eacces ? EACCES : ENOENT;
}

/* ------------------------------------------------------------------ */
/* Scripts                                                              */
/* ------------------------------------------------------------------ */

/* The interpreter named by a "#!" line, env(1) followed to its command.
 * Returns 1 when path is a script (interp filled), 0 when it is not, -1
 * when its interpreter cannot be found (why filled). */
static int script_interpreter(const char *path, char *interp, size_t interplen, char *why,
                              size_t whylen)
{
    char buf[257], *line, *end, *arg;
    ssize_t n;
    struct stat st;
    /* Never blocks: a FIFO named as the program would wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return 0;
    n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
    close(fd);
    if (n < 2 || buf[0] != '#' || buf[1] != '!')
        return 0;
    buf[n] = '\0';
    end = strchr(buf, '\n');
    if (end)
        *end = '\0';
    line = buf + 2;
    line += strspn(line, " \t");
    end = line + strcspn(line, " \t");
    arg = *end ? end + 1 : end;
    *end = '\0';
    arg += strspn(arg, " \t");
    for (char *t = arg + strlen(arg); t > arg && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r');)
        *--t = '\0';
    if (*line == '\0') {
        snprintf(why, whylen, "its \"#!\" line names no interpreter");
        return -1;
    }
    if (strcmp(base_name(line), "env") != 0 || *arg == '\0') {
        snprintf(interp, interplen, "%s", line);
        return 1;
    }
    /* #!/usr/bin/env [-S] [-i] [-u NAME] [NAME=VALUE]... COMMAND [ARGS] */
    char *save = NULL, *w, *cmd = NULL;
    for (w = strtok_r(arg, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (strcmp(w, "-u") == 0 || strcmp(w, "--unset") == 0 || strcmp(w, "-C") == 0 ||
            strcmp(w, "--chdir") == 0) {
            strtok_r(NULL, " \t", &save);
            continue;
        }
        if (w[0] == '-' || strchr(w, '=') != NULL)
            continue;
        cmd = w;
        break;
    }
    if (cmd == NULL) {
        snprintf(why, whylen, "its \"#!%s\" line names no command for env", line);
        return -1;
    }
    int e = cov_find_program(cmd, interp, interplen);
    if (e != 0) {
        snprintf(why, whylen, "its interpreter \"%s\" (through env) %s", cmd,
                 e == ENOENT ? "is not in PATH" : strerror(e));
        return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* setuid, setgid, file capabilities                                    */
/* ------------------------------------------------------------------ */

static const char *const cap_names[] = {
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
    "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
    "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
    "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
    "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
    "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
    "cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
    "cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
    "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

/* The capabilities the security.capability xattr grants, as names, into
 * out; 0 when it grants none (or there is none). */
static int file_caps(const char *path, char *out, size_t outlen)
{
    unsigned char buf[64];
    ssize_t n = getxattr(path, "security.capability", buf, sizeof buf);
    uint32_t magic, perm[2] = {0, 0}, inh[2] = {0, 0};
    size_t len = 0;
    int any = 0;

    out[0] = '\0';
    if (n < (ssize_t)(sizeof(uint32_t) * 3))
        return 0;
    memcpy(&magic, buf, 4);
    memcpy(&perm[0], buf + 4, 4);
    memcpy(&inh[0], buf + 8, 4);
    if ((magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_1 && n >= 20) {
        memcpy(&perm[1], buf + 12, 4);
        memcpy(&inh[1], buf + 16, 4);
    }
    for (unsigned c = 0; c < 64; c++) {
        uint32_t bit = 1u << (c % 32);
        if (!((perm[c / 32] | inh[c / 32]) & bit))
            continue;
        char num[24];
        const char *name = c < sizeof cap_names / sizeof cap_names[0] ? cap_names[c] : NULL;
        if (name == NULL) {
            snprintf(num, sizeof num, "cap_%u", c);
            name = num;
        }
        if (len < outlen)
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", any ? "," : "", name);
        any = 1;
    }
    return any;
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t len)
{
    struct group *gr = getgrgid(gid);
    if (gr)
        snprintf(buf, len, "%s", gr->gr_name);
    else
        snprintf(buf, len, "gid %u", (unsigned)gid);
    return buf;
}

/* Sets r->secure and describes the privilege into what (empty when none). */
static void privilege(const char *path, const struct cov_options *o, struct cov_report *r,
                      char *what, size_t whatlen)
{
    struct stat st;
    struct statvfs vfs;
    char caps[512], name[64];
    int setuid_, setgid_, capped;
    size_t len = 0;

    what[0] = '\0';
    r->secure = 0;
    if (stat(path, &st) != 0)
        return;
    setuid_ = (st.st_mode & S_ISUID) != 0;
    setgid_ = (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP); /* S_ISGID alone: locking */
    capped = file_caps(path, caps, sizeof caps);
    if (!setuid_ && !setgid_ && !capped)
        return;
    if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
        add_note(r, "%s is setuid/setgid or has file capabilities, but its filesystem is "
                 "mounted nosuid: they have no effect", path);
        return;
    }
    if (setuid_)
        len += (size_t)snprintf(what + len, whatlen - len, "is setuid %s",
                                user_name(st.st_uid, name, sizeof name));
    if (setgid_ && len < whatlen)
        len += (size_t)snprintf(what + len, whatlen - len, "%sis setgid %s", len ? " and " : "",
                                group_name(st.st_gid, name, sizeof name));
    if (capped && len < whatlen)
        snprintf(what + len, whatlen - len, "%shas file capabilities (%s)", len ? " and " : "",
                 caps);

    if (!o->this_execution) {
        r->secure = 1;
        return;
    }
    /* What the kernel does (commoncap: a privilege-elevated exec is
     * AT_SECURE): the new effective ids differ from the real ones, or file
     * capabilities are granted to someone who is not root. */
    r->secure = (setuid_ && st.st_uid != getuid()) || (setgid_ && st.st_gid != getgid()) ||
                (capped && getuid() != 0);
    if (!r->secure)
        add_note(r, "%s %s, but not for you (its owner, or root): LD_PRELOAD applies to "
                 "this run", path, what);
}

/* Does /etc/ld.so.preload list the shim (an existing file)? */
static int listed_system_wide(const char *shim, char *entry, size_t entrylen)
{
    char **e, err[256];
    size_t n;
    int exists, found = 0;

    if (preload_list(PRELOAD_FILE, &e, &n, &exists, err, sizeof err) != 0)
        return 0;
    for (size_t i = 0; i < n && !found; i++)
        if (shim_is_tlspin_entry(e[i], shim) && access(e[i], R_OK) == 0) {
            snprintf(entry, entrylen, "%s", e[i]);
            found = 1;
        }
    preload_list_free(e, n);
    return found;
}

/* ------------------------------------------------------------------ */
/* TLS libraries                                                        */
/* ------------------------------------------------------------------ */

enum family { F_NONE, F_OSSL3, F_OSSL_OTHER, F_GNUTLS, F_NSS, F_OTHER, F_COUNT };

static enum family family_of(const char *lib, const char **label)
{
    const char *b = base_name(lib);
    static const struct {
        const char *prefix;
        int exact;
        enum family f;
        const char *label;
    } table[] = {
        {"libssl.so.3", 1, F_OSSL3, "OpenSSL 3"},
        {"libssl.so", 0, F_OSSL_OTHER, "an older OpenSSL"},
        {"libgnutls", 0, F_GNUTLS, "GnuTLS"},
        {"libnss3.so", 1, F_NSS, "NSS"},
        {"libssl3.so", 1, F_NSS, "NSS"},
        {"libsmime3.so", 1, F_NSS, "NSS"},
        {"libmbedtls.so", 0, F_OTHER, "mbed TLS"},
        {"libwolfssl.so", 0, F_OTHER, "wolfSSL"},
        {"libtls.so", 0, F_OTHER, "LibreSSL's libtls"},
        {"libs2n.so", 0, F_OTHER, "s2n-tls"},
        {"libbotan-", 0, F_OTHER, "Botan"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t len = strlen(table[i].prefix);
        if (table[i].exact ? strcmp(b, table[i].prefix) == 0
                           : strncmp(b, table[i].prefix, len) == 0) {
            *label = table[i].label;
            return table[i].f;
        }
    }
    *label = NULL;
    return F_NONE;
}

/* "libssl.so.3 via libcurl.so.4" or "libssl.so.3" into out. */
static void describe_lib(const struct elfi_closure *c, size_t i, char *out, size_t outlen)
{
    char via[512];
    elfi_via(c, i, via, sizeof via);
    if (via[0])
        snprintf(out, outlen, "%s via %s", c->libs[i].name, via);
    else
        snprintf(out, outlen, "%s", c->libs[i].name);
}

/* An interpreter's TLS extension module (python's _ssl, perl's
 * Net::SSLeay), found next to the interpreter's prefix. */
static int tls_module(const char *interp_real, char *mod, size_t modlen, const char **what)
{
    char prefix[PATH_MAX], pattern[PATH_MAX + 128];
    const char *b = base_name(interp_real);
    const char *const *pats;
    /* Patterns under the interpreter's prefix; python's take its version. */
    static const char *const py_pats[] = {"/lib/python", "/lib64/python", NULL};
    static const char *const pl_pats[] = {"/lib/*/perl5/*/auto/Net/SSLeay/SSLeay.so",
                                          "/lib/*/perl/*/auto/Net/SSLeay/SSLeay.so",
                                          "/lib/perl5/*/auto/Net/SSLeay/SSLeay.so",
                                          "/local/lib/*/perl/*/auto/Net/SSLeay/SSLeay.so",
                                          NULL};
    char version[32] = "3*";
    char *slash;

    if (strncmp(b, "python", 6) == 0) {
        const char *v = b + 6;
        if (strchr(v, '.') != NULL && strlen(v) < sizeof version &&
            strspn(v, "0123456789.") == strlen(v))
            snprintf(version, sizeof version, "%s", v);
        pats = py_pats;
        *what = "_ssl module";
    } else if (strncmp(b, "perl", 4) == 0) {
        pats = pl_pats;
        *what = "Net::SSLeay module";
    } else {
        return 0;
    }
    snprintf(prefix, sizeof prefix, "%s", interp_real);
    for (int i = 0; i < 2 && (slash = strrchr(prefix, '/')) != NULL; i++)
        *slash = '\0';
    for (size_t i = 0; pats[i]; i++) {
        glob_t g;
        if (pats == py_pats)
            snprintf(pattern, sizeof pattern, "%s%s%s/lib-dynload/_ssl*.so", prefix, pats[i],
                     version);
        else
            snprintf(pattern, sizeof pattern, "%s%s", prefix, pats[i]);
        if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
            snprintf(mod, modlen, "%s", g.gl_pathv[g.gl_pathc - 1]);
            globfree(&g);
            return 1;
        }
        globfree(&g);
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* The analysis                                                         */
/* ------------------------------------------------------------------ */

static int verdict(struct cov_report *r, enum cov_kind kind, const char *todo, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static int verdict(struct cov_report *r, enum cov_kind kind, const char *todo, const char *fmt,
                   ...)
{
    va_list ap;
    r->kind = kind;
    r->covered = kind == COV_OPENSSL || kind == COV_LAZY_OPENSSL || kind == COV_NO_TLS;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    snprintf(r->todo, sizeof r->todo, "%s", todo ? todo : "");
    return r->covered;
}

static const char TODO_OWN_PINNING[] =
    "Use the program's own pinning (curl --pinnedpubkey, for one), or an OpenSSL 3 build of it";
static const char TODO_NOTHING[] =
    "Nothing can cover it from outside the process: use the program's own pinning";

/* The machine of the shim (or of this command when the shim is missing). */
static void shim_machine(const char *shim, int *cls, int *machine)
{
    struct elfi_object s;
    char err[128];
    if ((shim && elfi_read(shim, &s, err, sizeof err) == 0) ||
        elfi_read("/proc/self/exe", &s, err, sizeof err) == 0) {
        *cls = s.elf_class;
        *machine = s.machine;
        elfi_free(&s);
        return;
    }
    *cls = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
    *machine = EM_NONE;
}

/* Judge the TLS libraries of an ELF program. Returns 1 when the verdict
 * is final (r filled), 0 when the program links no TLS library. */
static int judge_libraries(const char *elf, const struct elfi_object *obj,
                           const struct cov_options *o, struct cov_report *r, const char *subj)
{
    struct elfi_closure c;
    int best[F_COUNT];
    const char *labels[F_COUNT] = {0};
    size_t missing = 0;

    for (int f = 0; f < F_COUNT; f++)
        best[f] = -1;
    if (elfi_closure(elf, obj, o->ld_library_path, r->secure, &c) != 0) {
        verdict(r, COV_UNKNOWN, NULL, "out of memory while reading its libraries");
        return 1;
    }
    for (size_t i = 0; i < c.n; i++) {
        const char *label;
        enum family f = family_of(c.libs[i].name, &label);
        if (c.libs[i].path == NULL) {
            if (missing++ < 3)
                add_note(r, "%s is not found: the program will not start as it is", c.libs[i].name);
        }
        if (f != F_NONE && (best[f] < 0 || c.libs[best[f]].depth > c.libs[i].depth)) {
            best[f] = (int)i;
            labels[f] = label;
        }
    }
    char d[768];
    for (int f = F_OSSL3; f < F_COUNT; f++)
        if (best[f] >= 0) {
            describe_lib(&c, (size_t)best[f], d, sizeof d);
            add_note(r, "TLS library: %s (%s)", d, labels[f]);
        }

    /* The TLS library nearest to the program is the one it uses. */
    int main_f = F_NONE;
    for (int f = F_OSSL3; f < F_COUNT; f++)
        if (best[f] >= 0 &&
            (main_f == F_NONE || c.libs[best[f]].depth < c.libs[best[main_f]].depth))
            main_f = f;
    if (main_f == F_OSSL3) {
        describe_lib(&c, (size_t)best[F_OSSL3], d, sizeof d);
        verdict(r, COV_OPENSSL, NULL, "%slinks OpenSSL 3 (%s)", subj, d);
        for (int f = F_OSSL_OTHER; f < F_COUNT; f++)
            if (best[f] >= 0) {
                char other[768];
                describe_lib(&c, (size_t)best[f], other, sizeof other);
                add_note(r, "it also loads %s (%s): TLS made through it is not covered", labels[f],
                         other);
            }
        elfi_closure_free(&c);
        return 1;
    }
    if (main_f != F_NONE) {
        static const enum cov_kind kinds[F_COUNT] = {
            [F_OSSL_OTHER] = COV_OLD_OPENSSL, [F_GNUTLS] = COV_GNUTLS, [F_NSS] = COV_NSS,
            [F_OTHER] = COV_OTHER_TLS};
        char extra[900] = "";
        describe_lib(&c, (size_t)best[main_f], d, sizeof d);
        if (best[F_OSSL3] >= 0) {
            char ossl[768];
            describe_lib(&c, (size_t)best[F_OSSL3], ossl, sizeof ossl);
            snprintf(extra, sizeof extra, "; OpenSSL 3 only through %s", ossl);
        }
        if (main_f == F_OSSL_OTHER)
            verdict(r, kinds[main_f],
                    "Use an OpenSSL 3 build of the program (the shim hooks only libssl.so.3)",
                    "%slinks %s (%s), not OpenSSL 3%s", subj, labels[main_f], d, extra);
        else
            verdict(r, kinds[main_f], TODO_OWN_PINNING, "%suses %s (%s), not OpenSSL%s", subj,
                    labels[main_f], d, extra);
        elfi_closure_free(&c);
        return 1;
    }
    /* No TLS library: one bundled in the program or a library? */
    const char *bundler = obj->defines_ssl ? base_name(elf) : NULL;
    for (size_t i = 0; i < c.n && !bundler; i++)
        if (c.libs[i].defines_ssl && strncmp(c.libs[i].name, "libtlspin", 9) != 0)
            bundler = c.libs[i].name;
    if (bundler) {
        verdict(r, COV_BUNDLED_OPENSSL, TODO_NOTHING,
                "%sbundles its own OpenSSL (%s defines SSL_connect), which the shim cannot hook",
                subj, bundler);
        elfi_closure_free(&c);
        return 1;
    }
    elfi_closure_free(&c);
    return 0;
}

int cov_analyse(const char *program, const struct cov_options *o, struct cov_report *r)
{
    char cur[PATH_MAX], next[PATH_MAX], why[768], err[256], priv[768] = "";
    char script_desc[PATH_MAX + 64] = "";
    struct elfi_object obj;
    int e, depth;

    memset(r, 0, sizeof *r);
    e = cov_find_program(program, r->path, sizeof r->path);
    if (e != 0) {
        r->not_found = e == ENOENT;
        snprintf(r->path, sizeof r->path, "%s", program);
        return verdict(r, COV_UNKNOWN, NULL, "%s",
                       e == ENOENT ? (strchr(program, '/') ? "no such file" : "command not found")
                                   : strerror(e));
    }
    /* Scripts: the kernel runs their interpreter, which is what counts. */
    snprintf(cur, sizeof cur, "%s", r->path);
    for (depth = 0;; depth++) {
        int s = script_interpreter(cur, next, sizeof next, why, sizeof why);
        if (s == 0)
            break;
        if (s < 0) {
            r->not_found = 1;
            return verdict(r, COV_UNKNOWN, NULL, "a script, but %s", why);
        }
        if (depth == MAX_SCRIPT_DEPTH)
            return verdict(r, COV_UNKNOWN, NULL,
                           "a script whose interpreters nest more than %d deep", MAX_SCRIPT_DEPTH);
        if (depth == 0) {
            struct stat st;
            if (stat(cur, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
                add_note(r, "%s is a setuid/setgid script: Linux ignores those bits on scripts",
                         cur);
        }
        add_note(r, "%s is a script run by %s", cur, next);
        if (access(next, F_OK) != 0) {
            r->not_found = 1;
            return verdict(r, COV_UNKNOWN, NULL, "a script, but its interpreter %s does not exist",
                           next);
        }
        snprintf(cur, sizeof cur, "%s", next);
    }
    snprintf(r->analysed, sizeof r->analysed, "%s", cur);
    if (depth > 0)
        snprintf(script_desc, sizeof script_desc, "it is a script for %s, which ", cur);
    else
        snprintf(script_desc, sizeof script_desc, "it ");

    if (elfi_read(cur, &obj, err, sizeof err) != 0)
        return verdict(r, COV_UNKNOWN, NULL, "%s%s%s%s", depth ? "its interpreter " : "",
                       depth ? cur : "", depth ? ": " : "", err);

    int cls, machine;
    shim_machine(o->shim, &cls, &machine);
    if (obj.elf_class != cls || (machine != EM_NONE && obj.machine != machine)) {
        verdict(r, COV_WRONG_MACHINE, "Use a build of the program for the shim's machine",
                "%sis a %d-bit %s program; the shim is %d-bit %s and cannot be loaded into it",
                script_desc, obj.elf_class == ELFCLASS64 ? 64 : 32,
                elfi_machine_name(obj.machine), cls == ELFCLASS64 ? 64 : 32,
                elfi_machine_name(machine));
        elfi_free(&obj);
        return 0;
    }
    if (!obj.has_interp) {
        verdict(r, COV_STATIC, TODO_NOTHING,
                "%sis statically linked%s: no dynamic loader runs, so neither LD_PRELOAD nor "
                "/etc/ld.so.preload applies",
                script_desc, obj.has_dynamic ? " (static-pie)" : "");
        elfi_free(&obj);
        return 0;
    }
    if (obj.is_go) {
        verdict(r, COV_GO, TODO_NOTHING,
                "%sis a Go program: Go's own crypto/tls makes its connections, never OpenSSL",
                script_desc);
        elfi_free(&obj);
        return 0;
    }

    privilege(cur, o, r, priv, sizeof priv);

    if (!judge_libraries(cur, &obj, o, r, script_desc)) {
        char mod[PATH_MAX], real[PATH_MAX];
        const char *what = NULL;
        int m = tls_module(realpath(cur, real) ? real : cur, mod, sizeof mod, &what);
        verdict(r, COV_NO_TLS, NULL,
                "%slinks no TLS library (covered whenever it loads OpenSSL 3 at run time)",
                script_desc);
        if (m > 0) {
            struct elfi_object mo;
            struct cov_report sub;
            memset(&sub, 0, sizeof sub);
            sub.secure = r->secure;
            if (elfi_read(mod, &mo, err, sizeof err) == 0) {
                if (judge_libraries(mod, &mo, o, &sub, "") && sub.kind == COV_OPENSSL)
                    verdict(r, COV_LAZY_OPENSSL, NULL, "%s%s%s %s (%s) %s",
                            depth ? "it is a script for " : "", depth ? cur : "",
                            depth ? ", whose" : "its", what, mod, sub.why);
                else if (sub.kind != COV_OPENSSL && sub.why[0])
                    verdict(r, sub.kind, sub.todo,
                            "%smakes its TLS connections through its %s (%s), which %s",
                            script_desc, what, mod, sub.why);
                elfi_free(&mo);
            }
        } else if (m < 0) {
            add_note(r, "no TLS module was found for %s: it may not make TLS connections at all",
                     base_name(cur));
        }
    }
    elfi_free(&obj);
    if (!r->covered)
        return 0;

    /* The loader's secure mode: LD_PRELOAD ignored. */
    if (r->secure) {
        char entry[PATH_MAX];
        if (listed_system_wide(o->shim, entry, sizeof entry)) {
            r->system_wide = 1;
            add_note(r, "%s %s: LD_PRELOAD is ignored, but /etc/ld.so.preload lists %s; the "
                     "system policy applies (TLSPIN_CONFIG and --config are ignored)",
                     cur, priv, entry);
            size_t len = strlen(r->why);
            if (len < sizeof r->why)
                snprintf(r->why + len, sizeof r->why - len, "; through /etc/ld.so.preload, as it "
                         "%.200s", priv);
            return 1;
        }
        add_note(r, "otherwise it would be covered: %s", r->why);
        verdict(r, COV_SECURE,
                "List the shim in /etc/ld.so.preload: tlspin enable-system (as root)",
                "%s%s, so the dynamic loader ignores LD_PRELOAD for it%s", script_desc, priv,
                o->this_execution ? " when you run it" : "");
        return 0;
    }
    return 1;
}
