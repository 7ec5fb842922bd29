/* Loads that would bind libssl around the shim (issue 11, case 3).
 *
 * The decision lives in the shim's X509_verify_cert, which libssl reaches
 * through its PLT because the shim comes first in the global scope. Two
 * ways of loading libssl.so.3 give it a scope where the shim is not first:
 *
 *   RTLD_DEEPBIND (python's sys.setdlopenflags, php's extension loader,
 *   plugin hosts): every object a DEEPBIND dlopen *newly* loads searches the
 *   loaded tree first, so libssl binds X509_verify_cert and SSL_clear to
 *   libcrypto and to itself. An object loaded before keeps its scope.
 *
 *   dlmopen(LM_ID_NEWLM): a namespace of its own, without LD_PRELOAD
 *   objects; its "global scope" is the searchlist of the first object
 *   loaded into it.
 *
 * libssl.so.3 and libcrypto.so.3 are NODELETE and BIND_NOW on Debian 12:
 * once loaded with the wrong scope they are bound for good and can never be
 * unloaded, so looking after the load and undoing is impossible. Both cases
 * are therefore handled before the load:
 *
 *   RTLD_DEEPBIND: unless libssl.so.3 is already in the namespace, or the
 *   target provably brings nothing new (given by path, its soname is not
 *   libssl.so.3, and each of its DT_NEEDED names an object already loaded),
 *   libssl.so.3 is first loaded the normal way (RTLD_LOCAL, global scope
 *   first), so the DEEPBIND load finds it by soname and libssl keeps
 *   calling the shim. Covered, not refused: the program's own calls into
 *   libssl then bind directly, as for programs that use dlsym(handle). If
 *   that load fails (no system libssl.so.3), the DEEPBIND load is refused;
 *   so is a libssl.so.3 given by path that is not the loaded one (found by
 *   file, not soname: a second copy).
 *
 *   dlmopen(LM_ID_NEWLM): the namespace is created by loading the shim
 *   itself into it first, so it heads that namespace's global scope and
 *   everything loaded there binds to it: its hooks (and its own engine)
 *   decide there as in the base namespace, or refuse if the engine cannot
 *   load. dlmopen into an existing namespace is allowed only when the shim
 *   heads it; otherwise (a namespace made by calling libc's dlmopen through
 *   a handle) the load is refused. A namespace the shim made is closed again
 *   when nothing else is left in it (dlclose hook), so programs that create
 *   and drop namespaces do not run out of them.
 *   Refusing libssl in a namespace instead would not be enough: code inside
 *   the namespace (an interpreter importing its ssl module) loads through
 *   that namespace's own libc, where no hook of ours runs unless the shim
 *   is there. The price of heading it: the namespace's global scope is the
 *   shim's searchlist (the shim, libc, ld.so) instead of the first object's,
 *   so an object loaded second no longer sees the first one's symbols, and
 *   libc comes before the first object's own libraries in every lookup
 *   there. (glibc crashes on RTLD_GLOBAL promotion inside a secondary
 *   namespace, so the first object cannot be added to that scope.)
 *
 * Why prepare-then-tail-call: glibc's dlopen/dlmopen take the caller's link
 * map from their return address (DT_RUNPATH/DT_RPATH, $ORIGIN, and dlopen's
 * namespace). Each hook ends in `return real(...)`, compiled to a jump, so
 * the program's code stays the caller. The common path (no RTLD_DEEPBIND,
 * the base namespace) is a test of the flags and that jump; everything else
 * lives in out-of-line functions that run before it.
 *
 * A refusal returns NULL with a message for the program's next dlerror()
 * (see refuse()), and leaves a record.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define TLSPIN_HOOK __attribute__((visibility("default")))
#define COLD __attribute__((noinline, cold))
/* The hooks must end in a jump whatever the build's optimisation level:
 * GCC makes sibling calls only from -O2 on (a Debug build would otherwise
 * make the shim every program's dlopen caller). test_bypass_binding checks
 * the jump in the built shim. */
#if defined(__GNUC__) && !defined(__clang__)
#define SIBCALLS __attribute__((optimize("O2")))
#else
#define SIBCALLS
#endif

#define LIBSSL_SONAME "libssl.so.3"

typedef void *dlopen_fn(const char *file, int flags);
typedef void *dlmopen_fn(Lmid_t ns, const char *file, int flags);
typedef int dlclose_fn(void *handle);

/* ------------------------------------------------------------------ */
/* The real functions                                                  */
/* ------------------------------------------------------------------ */

static _Atomic(dlopen_fn *) real_dlopen_p;
static _Atomic(dlmopen_fn *) real_dlmopen_p;
static _Atomic(dlclose_fn *) real_dlclose_p;

/* dlsym(RTLD_NEXT) is thread-safe and always answers the same: a race only
 * stores the same pointer twice. libc's compat versions (dlopen@GLIBC_2.2.5)
 * are aliases of the default ones, so one real function serves both. */
static COLD void *next(const char *name)
{
    int saved_errno = errno;
    void *fn = dlsym(RTLD_NEXT, name);
    errno = saved_errno;
    return fn;
}

static inline dlopen_fn *real_dlopen(void)
{
    dlopen_fn *fn = atomic_load_explicit(&real_dlopen_p, memory_order_relaxed);
    if (__builtin_expect(fn == NULL, 0)) {
        *(void **)&fn = next("dlopen");
        atomic_store_explicit(&real_dlopen_p, fn, memory_order_relaxed);
    }
    return fn;
}

static inline dlmopen_fn *real_dlmopen(void)
{
    dlmopen_fn *fn = atomic_load_explicit(&real_dlmopen_p, memory_order_relaxed);
    if (__builtin_expect(fn == NULL, 0)) {
        *(void **)&fn = next("dlmopen");
        atomic_store_explicit(&real_dlmopen_p, fn, memory_order_relaxed);
    }
    return fn;
}

static inline dlclose_fn *real_dlclose(void)
{
    dlclose_fn *fn = atomic_load_explicit(&real_dlclose_p, memory_order_relaxed);
    if (__builtin_expect(fn == NULL, 0)) {
        *(void **)&fn = next("dlclose");
        atomic_store_explicit(&real_dlclose_p, fn, memory_order_relaxed);
    }
    return fn;
}

/* ------------------------------------------------------------------ */
/* Refusals: the message dlerror() returns, and the record             */
/* ------------------------------------------------------------------ */

/* value as a record field: bare when printable ASCII without space, quote or
 * backslash; otherwise quoted with \" \\ and \xNN (README, Syslog records). */
static void field(char *out, size_t outlen, const char *value)
{
    size_t n = 0;
    int bare = *value != '\0';

    for (const char *p = value; *p && bare; p++)
        bare = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
    if (bare) {
        snprintf(out, outlen, "%s", value);
        return;
    }
    if (outlen < 8) {
        out[0] = '\0';
        return;
    }
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; *p && n + 6 < outlen; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20 || *p >= 0x7f) {
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02X", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* The record of a refused load. Records are being reworked (issue 11,
 * case 8): this is the only place that writes one. */
static void guard_record(const char *file, const char *reason)
{
    char program[128], library[600], why[600];

    field(program, sizeof program, program_invocation_short_name);
    field(library, sizeof library, file ? file : "");
    field(why, sizeof why, reason);
    syslog(LOG_AUTHPRIV | LOG_ERR,
           "tlspin: event=load-refused action=blocked program=%s pid=%ld library=%s reason=%s",
           program, (long)getpid(), library, why);
}

/* Refuse the load of file: record it, and leave the reason where the
 * program's next dlerror() finds it.
 *
 * libc keeps dlerror's text per thread and lets no one else write it; every
 * dl* call first clears it. So the last dl* call made here is one that
 * fails with our text: a lookup of a symbol named by the reason, which can
 * load nothing and open no file. glibc names the caller (the shim) in the
 * message: dlerror() says
 * "<shim>: undefined symbol: <file>: tlspin refused to load it: <reason>".
 * (A dlerror hook would have to find libc's dlerror without a dl* call:
 * dlsym(RTLD_NEXT) clears the very error a program is about to read.) */
static COLD __attribute__((format(printf, 2, 3))) void refuse(const char *file, const char *fmt,
                                                                ...)
{
    char reason[300], msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    guard_record(file, reason);
    snprintf(msg, sizeof msg, "%.150s: tlspin refused to load it: %s", file ? file : "(null)",
             reason);
    dlsym(RTLD_DEFAULT, msg);
}

/* ------------------------------------------------------------------ */
/* Namespaces: walking a link map under the loader's lock              */
/* ------------------------------------------------------------------ */

/* The shim's own link map: its file, and an object of its namespace. (Not
 * a handle: a preloaded object has no searchlist for dlsym to use.) */
static const struct link_map *self_map(void)
{
    Dl_info info;
    struct link_map *map = NULL;

    if (dladdr1((void *)&self_map, &info, (void **)&map, RTLD_DL_LINKMAP) == 0)
        return NULL;
    return map;
}

/* An object's soname, from its dynamic section. glibc relocates DT_STRTAB in
 * place for ordinary objects but not for read-only dynamic sections (the
 * vDSO): a value below the load address is still an offset. */
static const char *soname_of(const struct link_map *l)
{
    ElfW(Addr) strtab = 0;
    ElfW(Xword) soname = 0;
    int has_soname = 0;

    if (l->l_ld == NULL)
        return NULL;
    for (const ElfW(Dyn) *d = l->l_ld; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_STRTAB)
            strtab = d->d_un.d_ptr;
        else if (d->d_tag == DT_SONAME) {
            soname = d->d_un.d_val;
            has_soname = 1;
        }
    }
    if (!has_soname || strtab == 0)
        return NULL;
    if (strtab < l->l_addr)
        strtab += l->l_addr;
    return (const char *)(strtab + soname);
}

struct walk {
    const struct link_map *from;   /* any object of the namespace */
    int (*visit)(const struct link_map *l, struct walk *w);
    const char *name;              /* visit's argument */
    const struct stat *id;         /* visit's argument */
    int result;
};

static int walk_locked(struct dl_phdr_info *info, size_t size, void *data)
{
    struct walk *w = data;
    const struct link_map *l = w->from;

    (void)info;
    (void)size;
    while (l->l_prev != NULL)
        l = l->l_prev;
    for (; l != NULL; l = l->l_next)
        if (w->visit(l, w))
            break;
    return 1;   /* one call: the walk is done */
}

/* dl_iterate_phdr holds the loader's write lock while it calls back, and
 * every change to a namespace's list takes that lock: the walk cannot meet
 * an object being unloaded by another thread. */
static int walk_namespace(struct walk *w)
{
    w->result = 0;
    dl_iterate_phdr(walk_locked, w);
    return w->result;
}

/* glibc reuses a loaded object for a needed name that equals its l_name or
 * its soname (or a name it was loaded under, which is not public: missing
 * it only makes us do more). */
static int visit_named(const struct link_map *l, struct walk *w)
{
    const char *soname = soname_of(l);

    if ((l->l_name && strcmp(l->l_name, w->name) == 0) ||
        (soname && strcmp(soname, w->name) == 0))
        w->result = 1;
    return w->result;
}

static int visit_count(const struct link_map *l, struct walk *w)
{
    (void)l;
    w->result++;
    return 0;
}

static int visit_is_head(const struct link_map *l, struct walk *w)
{
    w->result = l == w->from;
    return 1;
}

/* A libssl.so.3 whose file is w->id. */
static int visit_libssl_file(const struct link_map *l, struct walk *w)
{
    const char *soname = soname_of(l);
    struct stat st;

    w->result = soname && strcmp(soname, LIBSSL_SONAME) == 0 && l->l_name &&
                stat(l->l_name, &st) == 0 && st.st_dev == w->id->st_dev &&
                st.st_ino == w->id->st_ino;
    return w->result;
}

static int libssl_file_loaded(const struct link_map *ns_map, const struct stat *id)
{
    struct walk w = {.from = ns_map, .visit = visit_libssl_file, .id = id};
    return walk_namespace(&w);
}

static int loaded_by_name(const struct link_map *ns_map, const char *name)
{
    struct walk w = {.from = ns_map, .visit = visit_named, .name = name};
    return walk_namespace(&w);
}

static int objects_in(const struct link_map *ns_map)
{
    struct walk w = {.from = ns_map, .visit = visit_count};
    return walk_namespace(&w);
}

static const struct link_map *map_of(void *handle)
{
    struct link_map *map = NULL;
    return dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 ? map : NULL;
}

/* ------------------------------------------------------------------ */
/* What a load brings: the target's own dynamic section                */
/* ------------------------------------------------------------------ */

#if __ELF_NATIVE_CLASS == 64
#define NATIVE_CLASS ELFCLASS64
#else
#define NATIVE_CLASS ELFCLASS32
#endif
/* Caps that keep the rare path's stack small (3 KB); a file beyond them
 * only shows nothing. */
#define MAX_PHDRS 24
#define MAX_DYN 96
#define MAX_NAME 256

static int read_at(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* The file offset of virtual address vaddr (its PT_LOAD), or -1. */
static off_t file_offset(const ElfW(Phdr) *ph, int n, ElfW(Addr) vaddr)
{
    for (int i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
            vaddr - ph[i].p_vaddr < ph[i].p_filesz)
            return (off_t)(ph[i].p_offset + (vaddr - ph[i].p_vaddr));
    return -1;
}

/* What a DEEPBIND load of file (a path) into the namespace of ns_map would
 * bring, from file's own dynamic section. Every read is bounded; a file
 * that cannot be read or parsed shows nothing. */
enum target {
    TARGET_UNKNOWN,      /* may bring anything (only costs loading libssl first) */
    TARGET_NOTHING_NEW,  /* file alone: each object it names (DT_NEEDED,
                            DT_AUXILIARY, DT_FILTER) is a bare name an object
                            already in the namespace answers to */
    TARGET_LIBSSL,       /* file's soname is libssl.so.3: *id is its file */
};

static enum target inspect(const struct link_map *ns_map, const char *file, struct stat *id)
{
    ElfW(Ehdr) eh;
    ElfW(Phdr) ph[MAX_PHDRS];
    ElfW(Dyn) dyn[MAX_DYN];
    ElfW(Addr) strtab = 0;
    ElfW(Xword) strsz = 0;
    off_t strtab_off;
    size_t ndyn = 0;
    enum target t = TARGET_UNKNOWN;
    int fd, alone = 1;

    if (strchr(file, '/') == NULL || strchr(file, '$') != NULL)
        return TARGET_UNKNOWN;   /* searched or expanded relative to the caller */
    fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return TARGET_UNKNOWN;
    if (fstat(fd, id) != 0 || !S_ISREG(id->st_mode) || read_at(fd, &eh, sizeof eh, 0) != 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS ||
        read_at(fd, ph, (size_t)eh.e_phnum * sizeof ph[0], (off_t)eh.e_phoff) != 0)
        goto out;
    for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC) {
            ndyn = ph[i].p_filesz / sizeof dyn[0];
            if (ndyn == 0 || ndyn > MAX_DYN ||
                read_at(fd, dyn, ndyn * sizeof dyn[0], (off_t)ph[i].p_offset) != 0)
                goto out;
            break;
        }
    for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
        if (dyn[i].d_tag == DT_STRTAB)
            strtab = dyn[i].d_un.d_ptr;
        else if (dyn[i].d_tag == DT_STRSZ)
            strsz = dyn[i].d_un.d_val;
    }
    if (strtab == 0 || strsz == 0 || (strtab_off = file_offset(ph, eh.e_phnum, strtab)) < 0)
        goto out;
    for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
        ElfW(Sxword) tag = dyn[i].d_tag;
        char name[MAX_NAME];
        ssize_t got;

        if (tag != DT_NEEDED && tag != DT_AUXILIARY && tag != DT_FILTER && tag != DT_SONAME)
            continue;
        if (dyn[i].d_un.d_val >= strsz)
            goto out;
        got = pread(fd, name, sizeof name, strtab_off + (off_t)dyn[i].d_un.d_val);
        if (got <= 0 || memchr(name, '\0', (size_t)got) == NULL)
            goto out;
        if (tag == DT_SONAME) {
            if (strcmp(name, LIBSSL_SONAME) == 0) {
                t = TARGET_LIBSSL;
                goto out;
            }
        } else if (strchr(name, '/') != NULL || !loaded_by_name(ns_map, name)) {
            alone = 0;
        }
    }
    t = alone ? TARGET_NOTHING_NEW : TARGET_UNKNOWN;
out:
    close(fd);
    return t;
}

/* ------------------------------------------------------------------ */
/* RTLD_DEEPBIND                                                       */
/* ------------------------------------------------------------------ */

/* Before a DEEPBIND load of file into the namespace of ns_map (ns: its id;
 * NULL for the shim's own namespace, which plain dlopen reaches): make sure
 * that load cannot be what brings libssl.so.3 in. Returns 0, or -1 after a
 * refusal. */
static COLD int deepbind_prepare(const struct link_map *ns_map, const Lmid_t *ns,
                                 const char *file)
{
    struct stat id;
    enum target t;

    if (ns_map == NULL) {
        refuse(file, "RTLD_DEEPBIND: tlspin cannot see the namespace");
        return -1;
    }
    if (loaded_by_name(ns_map, file))
        return 0;   /* already there: nothing is loaded */
    t = inspect(ns_map, file, &id);
    if (t == TARGET_NOTHING_NEW)
        return 0;
    if (!loaded_by_name(ns_map, LIBSSL_SONAME)) {
        /* Loaded normally, libssl searches the global scope first (the
         * shim); the DEEPBIND load then finds it by soname instead of
         * binding a copy of its own. NODELETE: the handle is never closed. */
        void *ssl = ns == NULL ? real_dlopen()(LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL)
                               : real_dlmopen()(*ns, LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (ssl == NULL) {
            const char *e = dlerror();
            refuse(file,
                   "RTLD_DEEPBIND may bring libssl.so.3, which would then bind around the pin "
                   "check, and it cannot be loaded first (%.120s)",
                   e ? e : "?");
            return -1;
        }
    }
    /* A libssl.so.3 by path is found by file, not by soname: unless it is
     * the one loaded, it would be a second copy, bound around the shim. */
    if (t == TARGET_LIBSSL && !libssl_file_loaded(ns_map, &id)) {
        refuse(file, "a libssl.so.3 of its own, loaded with RTLD_DEEPBIND, would bind around "
                     "the pin check");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Namespaces the shim heads                                           */
/* ------------------------------------------------------------------ */

/* The shim's file, to load it into a new namespace: its l_name, absolute
 * when it came from LD_PRELOAD or /etc/ld.so.preload with a path. */
static const char *self_path(void)
{
    const struct link_map *self = self_map();
    return self && self->l_name && self->l_name[0] == '/' ? self->l_name : NULL;
}

/* Namespaces this copy of the shim created: the handle that keeps the shim
 * in each, and how many objects it held right after (the shim and what it
 * needs). glibc has 16 namespaces. A slot is claimed with a compare-and-swap
 * and no lock is ever held: nothing here can wait on the loader's lock
 * while holding one of ours (a constructor that calls dlclose runs under
 * the loader's lock), and a fork cannot leave one taken. */
enum { SLOT_FREE, SLOT_BUSY, SLOT_USED };
struct made_ns {
    atomic_int state;
    Lmid_t ns;
    void *shim;
    int objects;
    pid_t creator;
};
static struct made_ns made[16];
static atomic_int made_count;   /* slots not free: dlclose's fast path */

/* Close the namespaces that hold nothing but the shim any more, among those
 * of namespace ns (a handle in it was just closed) and those this thread
 * made before (its call has returned, so nothing is on its way in: a load
 * that failed left the shim alone there). */
static void collect(Lmid_t ns, pid_t tid)
{
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
        struct made_ns *m = &made[i];
        int used = SLOT_USED;
        const struct link_map *map;

        if (!atomic_compare_exchange_strong(&m->state, &used, SLOT_BUSY))
            continue;
        if ((m->ns == ns || m->creator == tid) && (map = map_of(m->shim)) != NULL &&
            objects_in(map) <= m->objects) {
            real_dlclose()(m->shim);
            atomic_fetch_sub(&made_count, 1);
            atomic_store(&m->state, SLOT_FREE);
        } else {
            atomic_store(&m->state, SLOT_USED);
        }
    }
}

/* A new namespace with the shim loaded first: its global scope. Returns
 * its id, or -1 after a refusal. */
static Lmid_t new_namespace(const char *file)
{
    const char *shim = self_path();
    pid_t tid = gettid();
    Lmid_t ns = -1;
    void *h;

    if (shim == NULL) {
        refuse(file, "dlmopen(LM_ID_NEWLM): the shim's own path is not absolute");
        return -1;
    }
    collect(LM_ID_NEWLM, tid);
    h = real_dlmopen()(LM_ID_NEWLM, shim, RTLD_LAZY | RTLD_LOCAL);
    if (h == NULL || dlinfo(h, RTLD_DI_LMID, &ns) != 0) {
        const char *e = dlerror();
        if (h != NULL)
            real_dlclose()(h);
        refuse(file, "dlmopen(LM_ID_NEWLM): tlspin cannot head the new namespace (%.120s)",
               e ? e : "?");
        return -1;
    }
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
        int free_slot = SLOT_FREE;

        if (atomic_compare_exchange_strong(&made[i].state, &free_slot, SLOT_BUSY)) {
            made[i].ns = ns;
            made[i].shim = h;
            made[i].objects = objects_in(map_of(h));
            made[i].creator = tid;
            atomic_fetch_add(&made_count, 1);
            atomic_store(&made[i].state, SLOT_USED);
            return ns;
        }
    }
    /* Not reachable while glibc has 16 namespaces; the namespace stays. */
    return ns;
}

/* An object of namespace ns to walk it from: the shim's copy there, found
 * by its path (NOLOAD); NULL when the shim is not in it. heads: also NULL
 * unless that copy is the namespace's first object, whose searchlist is
 * the namespace's global scope. */
static const struct link_map *shim_in(Lmid_t ns, int heads)
{
    const char *shim = self_path();
    void *h;
    const struct link_map *map;
    struct walk w = {.visit = visit_is_head};

    if (shim == NULL)   /* a relative LD_PRELOAD path: only the base copy has one */
        return ns == LM_ID_BASE && !heads ? self_map() : NULL;
    h = real_dlmopen()(ns, shim, RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return NULL;
    map = map_of(h);
    w.from = map;
    if (map != NULL && heads && !walk_namespace(&w))
        map = NULL;
    real_dlclose()(h);   /* the copy stays: the namespace's own reference keeps it */
    return map;
}

/* Before dlmopen(ns, file, flags) loads something, with ns not the base
 * namespace or with RTLD_DEEPBIND: the namespace to load into (a new one
 * for LM_ID_NEWLM), or LM_ID_NEWLM after a refusal, which a prepared load
 * never goes to. (A value, not an out-parameter: a local whose address is
 * taken keeps GCC from the jump that ends dlmopen_slow.) */
static COLD Lmid_t dlmopen_prepare(Lmid_t ns, const char *file, int flags)
{
    const struct link_map *ns_map;
    int saved_errno = errno;
    Lmid_t to = LM_ID_NEWLM;

    if (ns == LM_ID_NEWLM && (ns = new_namespace(file)) == -1) {
        /* refused */
    } else if ((ns_map = shim_in(ns, ns != LM_ID_BASE)) == NULL) {
        const char *e = dlerror();
        refuse(file,
               "dlmopen into namespace %ld, which tlspin did not make: libssl.so.3 there would "
               "bind around the pin check%s%.100s",
               (long)ns, e ? ": " : "", e ? e : "");
    } else if (!(flags & RTLD_DEEPBIND) || deepbind_prepare(ns_map, &ns, file) == 0) {
        to = ns;
    }
    errno = saved_errno;
    return to;
}

static COLD int dlopen_prepare(const char *file)
{
    int saved_errno = errno;
    int rc = deepbind_prepare(self_map(), NULL, file);

    errno = saved_errno;
    return rc;
}

/* ------------------------------------------------------------------ */
/* The hooks                                                           */
/* ------------------------------------------------------------------ */

/* Each hook's common path is a flag test, a load and a jump to libc; the
 * rest (the first call, RTLD_DEEPBIND, another namespace) jumps to a cold
 * function that prepares and then jumps to libc itself. Jumps all the way:
 * the program's return address is the one libc sees. */

static COLD SIBCALLS void *dlopen_slow(const char *file, int flags)
{
    if ((flags & RTLD_DEEPBIND) && file != NULL && !(flags & RTLD_NOLOAD) &&
        dlopen_prepare(file) != 0)
        return NULL;
    return real_dlopen()(file, flags);
}

TLSPIN_HOOK SIBCALLS void *dlopen(const char *file, int flags)
{
    dlopen_fn *real = atomic_load_explicit(&real_dlopen_p, memory_order_relaxed);

    if (__builtin_expect(real == NULL || (flags & RTLD_DEEPBIND) != 0, 0))
        return dlopen_slow(file, flags);
    return real(file, flags);
}

static COLD SIBCALLS void *dlmopen_slow(Lmid_t ns, const char *file, int flags)
{
    if (file != NULL && !(flags & RTLD_NOLOAD) &&
        (ns != LM_ID_BASE || (flags & RTLD_DEEPBIND) != 0) &&
        (ns = dlmopen_prepare(ns, file, flags)) == LM_ID_NEWLM)
        return NULL;
    return real_dlmopen()(ns, file, flags);
}

TLSPIN_HOOK SIBCALLS void *dlmopen(Lmid_t ns, const char *file, int flags)
{
    dlmopen_fn *real = atomic_load_explicit(&real_dlmopen_p, memory_order_relaxed);

    if (__builtin_expect(real == NULL || ns != LM_ID_BASE || (flags & RTLD_DEEPBIND) != 0, 0))
        return dlmopen_slow(ns, file, flags);
    return real(ns, file, flags);
}

/* dlclose does not depend on its caller: this path may call normally. Only
 * when the shim made namespaces does closing a handle need a look. */
static COLD int dlclose_slow(void *handle)
{
    Lmid_t ns = LM_ID_BASE;
    int saved_errno, rc;

    if (atomic_load(&made_count) == 0 || handle == NULL ||
        dlinfo(handle, RTLD_DI_LMID, &ns) != 0 || ns == LM_ID_BASE)
        return real_dlclose()(handle);   /* a bad handle: dlclose says so itself */
    rc = real_dlclose()(handle);
    if (rc != 0)
        return rc;   /* and its error stays for dlerror: no dl* call after it */
    saved_errno = errno;
    collect(ns, 0);
    errno = saved_errno;
    return rc;
}

TLSPIN_HOOK SIBCALLS int dlclose(void *handle)
{
    dlclose_fn *real = atomic_load_explicit(&real_dlclose_p, memory_order_relaxed);

    if (__builtin_expect(real == NULL ||
                             atomic_load_explicit(&made_count, memory_order_relaxed) != 0,
                         0))
        return dlclose_slow(handle);
    return real(handle);
}
