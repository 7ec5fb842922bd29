/* Lazy, thread-safe resolution of the real OpenSSL functions and of the
 * engine. Nothing here runs at load time: a program that never uses TLS pays
 * only for mapping the shim.
 *
 * python3 and perl load libssl RTLD_LOCAL, so dlsym(RTLD_NEXT) finds nothing
 * there; dlopen(RTLD_NOLOAD) on the soname finds the copy the process already
 * has without ever loading one it did not, and dlvsym pins the OpenSSL 3
 * version node. */
#include "resolve.h"

#include <openssl/objects.h>

#include <dlfcn.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define OPENSSL_VERSION_NODE "OPENSSL_3.0.0"
#define LIBSSL_SONAME "libssl.so.3"
#define LIBCRYPTO_SONAME "libcrypto.so.3"

#ifndef TLSPIN_ENGINE_INSTALLED
#define TLSPIN_ENGINE_INSTALLED "/usr/lib/x86_64-linux-gnu/tlspin/libtlspin-engine.so"
#endif

static struct shim the_shim;
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;
static atomic_int shim_ready;          /* 1: the_shim is complete */
static atomic_int resolve_failed;      /* 1: OpenSSL 3 loaded but unusable */
static atomic_int resolve_done;        /* 1: resolve_all has run */
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int (*real_x509_verify_cert)(X509_STORE_CTX *);

/* Address inside the shim, to find the shim's own file. */
static void shim_anchor(void) {}

void *shim_next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* A pointer back into the shim would loop forever. */
static void *checked(void *fn, void *self)
{
    return fn == self ? NULL : fn;
}

static void *versioned(void *handle, const char *name)
{
    void *fn = handle ? dlvsym(handle, name, OPENSSL_VERSION_NODE) : NULL;
    return fn ? fn : dlsym(RTLD_NEXT, name);
}

static int resolve_one(void *handle, const char *name, void **out, void *self)
{
    *out = checked(versioned(handle, name), self);
    return *out != NULL;
}

static int engine_path(char *out, size_t outlen)
{
    Dl_info info;
    const char *slash;

    if (dladdr((void *)&shim_anchor, &info) == 0 || info.dli_fname == NULL ||
        info.dli_fname[0] != '/' || (slash = strrchr(info.dli_fname, '/')) == NULL)
        return snprintf(out, outlen, "%s", TLSPIN_ENGINE_INSTALLED) < (int)outlen ? 0 : -1;
    int n = snprintf(out, outlen, "%.*s/%s", (int)(slash - info.dli_fname),
                     info.dli_fname, TLSPIN_ENGINE_FILE);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* dlopen() maps an engine file cut short (an interrupted copy, a full disk)
 * without complaint, and the program then dies of SIGBUS on the first page
 * past the end, at its first TLS handshake. Every loadable segment must lie
 * inside the file: otherwise the engine is refused (fail closed, recorded). */
static int engine_whole(const char *path, char *why, size_t whylen)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int ok = 0;

    if (fd < 0)
        return 1;   /* dlopen says why */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%.200s is not a regular file", path);
        goto out;
    }
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(ph) || eh.e_phnum == 0 || eh.e_phnum > 64) {
        ok = 1;   /* not an object this check understands: dlopen says why */
        goto out;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof(ph))) !=
            (ssize_t)sizeof(ph)) {
            snprintf(why, whylen, "%.200s is cut short (its program headers are missing)", path);
            goto out;
        }
        if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > (Elf64_Off)st.st_size) {
            snprintf(why, whylen, "%.200s is cut short (%lld of %llu bytes): reinstall tlspin",
                     path, (long long)st.st_size,
                     (unsigned long long)(ph.p_offset + ph.p_filesz));
            goto out;
        }
    }
    ok = 1;
out:
    close(fd);
    return ok;
}

/* The load itself: whole-file check, dlopen (glibc maps the engine and
 * libconfig, runs their constructors), attach. */
static void load_engine_at(struct shim *s, const char *path)
{
    void *handle;
    tlspin_engine_attach_fn *attach;

    if (!engine_whole(path, s->engine_error, sizeof(s->engine_error)))
        return;
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(s->engine_error, sizeof(s->engine_error), "cannot load %.200s: %.100s", path,
                 dlerror());
        return;
    }
    *(void **)&attach = dlsym(handle, TLSPIN_ENGINE_ENTRY);
    if (attach == NULL) {
        snprintf(s->engine_error, sizeof(s->engine_error),
                 "%.200s is not an engine of this shim's interface (%d): tlspin was "
                 "upgraded while this program ran; restart it", path, TLSPIN_ENGINE_INTERFACE);
        return;
    }
    if ((s->engine = attach(&s->reals)) == NULL)
        snprintf(s->engine_error, sizeof(s->engine_error), "%.200s: engine refused to attach",
                 path);
}

/* The shim's own records (no usable libssl, no engine) go straight to the
 * syslog socket in glibc's framing, tagged "<program>[<pid>]": syslog(3)
 * would drop them under the program's setlogmask. A socket per record (at
 * most two a process): nothing is kept across fork or threads. With no
 * daemon listening, syslog(3) after all (the program's LOG_CONS or
 * LOG_PERROR); a daemon that does not read loses it after a second. */
static void shim_record(const char *msg)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
    struct timeval wait = { 1, 0 };
    char head[128], tag[48];
    struct iovec iov[2] = { { head, 0 }, { (void *)msg, strlen(msg) } };
    struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov,
                        .msg_iovlen = 2 };
    time_t now = time(NULL);
    struct tm tm;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), sent = -1, n;
    size_t i;

    for (i = 0; program_invocation_short_name[i] > ' ' && program_invocation_short_name[i] < 0x7f &&
                !strchr(":[]", program_invocation_short_name[i]) && i + 1 < sizeof(tag); i++)
        tag[i] = program_invocation_short_name[i];
    tag[i] = '\0';
    if (localtime_r(&now, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    n = snprintf(head, sizeof(head), "<%d>%.3s %2d %02d:%02d:%02d %s[%ld]: ",
                 LOG_AUTHPRIV | LOG_ERR, months + 3 * (tm.tm_mon % 12), tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, i ? tag : "tlspin", (long)getpid());
    iov[0].iov_len = n > 0 && (size_t)n < sizeof(head) ? (size_t)n : 0;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait)) == 0)
        sent = sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
    if (sent != 0 && errno != EAGAIN)
        syslog(LOG_AUTHPRIV | LOG_ERR, "%s", msg);
    if (fd >= 0)
        close(fd);
}

/* An OpenSSL 3 without the functions tlspin needs: nothing can be decided.
 * Say so once; X509_verify_cert then refuses (fail closed). Out of line:
 * its buffer stays off the stack of every other first handshake. */
static __attribute__((noinline, cold)) void resolve_failure(void)
{
    char msg[256];

    atomic_store(&resolve_failed, 1);
    snprintf(msg, sizeof(msg), "tlspin: event=policy-error action=blocked program=%s "
             "pid=%ld reason=\"libssl.so.3 lacks a function tlspin needs\"",
             program_invocation_short_name, (long)getpid());
    shim_record(msg);
}

/* The interposed names below are the shim's own definitions (interpose.c):
 * a resolution that lands on them is refused. */
static void resolve(void)
{
    struct shim *s = &the_shim;
    void *ssl = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_NOLOAD);
    void *crypto = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_NOLOAD);
    char *path;
    int ok = 1;

    if (ssl == NULL || crypto == NULL)
        return;   /* not an OpenSSL 3 process (yet): shim_ready stays 0 */
    ok &= resolve_one(ssl, "SSL_connect", (void **)&s->reals.SSL_connect, (void *)&SSL_connect);
    ok &= resolve_one(ssl, "SSL_do_handshake", (void **)&s->reals.SSL_do_handshake,
                      (void *)&SSL_do_handshake);
    ok &= resolve_one(ssl, "SSL_set_connect_state", (void **)&s->reals.SSL_set_connect_state,
                      (void *)&SSL_set_connect_state);
    ok &= resolve_one(ssl, "SSL_set_session", (void **)&s->reals.SSL_set_session,
                      (void *)&SSL_set_session);
    ok &= resolve_one(ssl, "SSL_CTX_set_cert_verify_callback",
                      (void **)&s->reals.SSL_CTX_set_cert_verify_callback,
                      (void *)&SSL_CTX_set_cert_verify_callback);
    ok &= resolve_one(crypto, "X509_verify_cert", (void **)&s->reals.X509_verify_cert,
                      (void *)&X509_verify_cert);
    ok &= resolve_one(ssl, "SSL_clear", (void **)&s->reals.SSL_clear, (void *)&SSL_clear);
    ok &= resolve_one(ssl, "SSL_set_security_callback",
                      (void **)&s->reals.SSL_set_security_callback,
                      (void *)&SSL_set_security_callback);
    ok &= resolve_one(ssl, "SSL_set_SSL_CTX", (void **)&s->reals.SSL_set_SSL_CTX,
                      (void *)&SSL_set_SSL_CTX);
    ok &= resolve_one(ssl, "SSL_set_psk_use_session_callback",
                      (void **)&s->reals.SSL_set_psk_use_session_callback,
                      (void *)&SSL_set_psk_use_session_callback);
    ok &= resolve_one(ssl, "SSL_CTX_set_psk_use_session_callback",
                      (void **)&s->reals.SSL_CTX_set_psk_use_session_callback,
                      (void *)&SSL_CTX_set_psk_use_session_callback);
    ok &= resolve_one(ssl, "SSL_get_ex_data_X509_STORE_CTX_idx",
                      (void **)&s->SSL_get_ex_data_X509_STORE_CTX_idx, NULL);
    ok &= resolve_one(crypto, "X509_STORE_CTX_get_ex_data",
                      (void **)&s->X509_STORE_CTX_get_ex_data, NULL);
    ok &= resolve_one(crypto, "X509_STORE_CTX_set_error", (void **)&s->X509_STORE_CTX_set_error,
                      NULL);
    ok &= resolve_one(ssl, "SSL_is_server", (void **)&s->SSL_is_server, NULL);
    ok &= resolve_one(ssl, "SSL_set_verify", (void **)&s->SSL_set_verify, NULL);
    ok &= resolve_one(ssl, "SSL_get_verify_mode", (void **)&s->SSL_get_verify_mode, NULL);
    ok &= resolve_one(ssl, "SSL_CIPHER_get_auth_nid", (void **)&s->SSL_CIPHER_get_auth_nid, NULL);
    ok &= resolve_one(ssl, "SSL_session_reused", (void **)&s->SSL_session_reused, NULL);
    ok &= resolve_one(ssl, "SSL_set_verify_result", (void **)&s->SSL_set_verify_result, NULL);
    if (!ok) {
        resolve_failure();
        return;
    }
    /* The path on the heap (PATH_MAX): without memory for it, no engine,
     * and the shim's fail-closed path refuses client handshakes, recorded. */
    path = malloc(PATH_MAX);
    if (path == NULL)
        snprintf(s->engine_error, sizeof(s->engine_error), "out of memory loading the engine");
    else if (engine_path(path, PATH_MAX) != 0)
        snprintf(s->engine_error, sizeof(s->engine_error), "engine path too long");
    else
        load_engine_at(s, path);
    free(path);
    atomic_store_explicit(&shim_ready, 1, memory_order_release);
}

/* pthread_once's routine. Once it has run, shim_get's answer is final. */
static void resolve_all(void)
{
    resolve();
    atomic_store_explicit(&resolve_done, 1, memory_order_release);
}

/* libssl may be loaded later (python imports _ssl lazily): only latch once
 * it is there, found by soname as glibc finds it. */
static int libssl_loaded(void)
{
    void *probe = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_NOLOAD);

    if (probe == NULL)
        return 0;
    dlclose(probe);
    return 1;
}

static void load_once(void)
{
    pthread_once(&shim_once, resolve_all);
}

static void first_use(void)
{
    if (libssl_loaded())
        load_once();
}

/* Issue 13, point 5: tlspin may put at most 4 KB on the program's stack,
 * and programs run TLS on 64 KiB threads and coroutines. The first
 * handshake goes deeper than that: glibc's dlopen of the engine and
 * libconfig ~5 KB, its first dlopen and dlsym lookups ~3 KB (lazy binding
 * inside libc saves the whole vector state). So the probe, the resolution
 * and the engine's load run on a stack of their own, on the same thread:
 * makecontext/swapcontext onto an mmap'ed stack with a guard page below it.
 * Not a helper thread: the first SSL_new may happen in a library
 * constructor that dlopen is running, with glibc's dl_load_lock held by
 * this thread; a dlopen from another thread would wait for it forever.
 * A signal arriving meanwhile runs its handler on that stack (128 KiB:
 * deeper than the program's own small threads); a backtrace taken there
 * ends at glibc's __start_context, which marks the outermost frame.
 * swapcontext saves the signal mask, and uc_link's setcontext restores it
 * (getcontext took the same one); shim_get keeps errno. The stack is
 * unmapped once back on the program's. Sanitized builds of the shim stay
 * on the program's stack (the sanitizers warn on swapcontext), as do
 * processes under a checker (scan_loaded) and any process where the mmap or
 * getcontext fails: a deeper stack, never a refusal. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OWN_STACK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OWN_STACK 0
#endif
#endif
#ifndef OWN_STACK
#define OWN_STACK 1
#endif
#define OWN_STACK_SIZE (128 * 1024)

#if OWN_STACK
/* On the heap, not the program's stack: two ucontext_t are ~1 KB each
 * (registers, FPU state, signal mask). */
struct own_stack {
    ucontext_t back, there;
    void (*fn)(void);
};

/* makecontext passes int arguments only: the pointer comes in two halves
 * (threads may switch at the same time, so no shared variable; the high
 * half is 0 on 32-bit targets). */
static void own_stack_entry(unsigned int hi, unsigned int lo)
{
    struct own_stack *o = (struct own_stack *)(uintptr_t)(((uint64_t)hi << 32) | lo);

    o->fn();
}   /* returns through uc_link into switch_stacks's swapcontext */

/* Back here when own_stack_entry returns; -1 only if it never ran. Out of
 * line: swapcontext returns twice, run_on_own_stack's locals stay clear of
 * it. No cancellation meanwhile: an unwind would stop at the private
 * stack's outermost frame and never reach the program's own handlers. */
static __attribute__((noinline)) int switch_stacks(struct own_stack *o)
{
    int cancel, ret;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    ret = swapcontext(&o->back, &o->there) == 0 ? 0 : -1;
    pthread_setcancelstate(cancel, &cancel);
    return ret;
}
#endif

/* 0: fn ran on a private stack; -1: nothing was done (no stack). */
static int run_on_own_stack(void (*fn)(void))
{
#if OWN_STACK
    long page = sysconf(_SC_PAGESIZE);
    struct own_stack *o;
    size_t len;
    char *map;
    int ret = -1;

    if (page <= 0 || (o = calloc(1, sizeof(*o))) == NULL)
        return -1;
    o->fn = fn;
    len = OWN_STACK_SIZE + (size_t)page;
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
               0);
    if (map != MAP_FAILED && mprotect(map, (size_t)page, PROT_NONE) == 0 &&
        getcontext(&o->there) == 0) {
        uint64_t p = (uintptr_t)o;   /* 64 bits wide on every target */

        o->there.uc_stack.ss_sp = map + page;
        o->there.uc_stack.ss_size = OWN_STACK_SIZE;
        o->there.uc_stack.ss_flags = 0;
        o->there.uc_link = &o->back;
        makecontext(&o->there, (void (*)(void))own_stack_entry, 2,
                    (unsigned int)(p >> 32), (unsigned int)(p & 0xffffffffu));
        ret = switch_stacks(o);
    }
    if (map != MAP_FAILED)
        munmap(map, len);   /* only now: fn's frames lived there */
    free(o);
    return ret;
#else
    (void)fn;
    return -1;
#endif
}

/* fn on a private stack when own, else (or without one) here. */
static void run(void (*fn)(void), int own)
{
    if (!own || run_on_own_stack(fn) != 0)
        fn();
}

/* What shim_get needs to know of the loaded objects, by file name. */
struct loaded {
    int libssl;    /* a file named libssl.so.3 */
    int checker;   /* valgrind's or a sanitizer's runtime */
};

/* dl_iterate_phdr is shallow and makes no system call, where glibc's
 * dlopen probe goes ~3 KB deep: a process without libssl.so.3 (libcrypto
 * alone, another libssl) probes on its own stack at each hooked call, as
 * before, without mapping a stack each time. Under valgrind and the
 * sanitizers the first use stays on the program's stack too: memcheck takes
 * a jump of the stack pointer under 2 MB for frames pushed or popped (and
 * marks the thread's TLS above its stack unaddressable), ASan warns on
 * swapcontext. */
static int scan_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct loaded *l = arg;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;

    (void)size;
    base = base ? base + 1 : info->dlpi_name;
    if (base == NULL)
        return 0;
    if (strcmp(base, LIBSSL_SONAME) == 0)
        l->libssl = 1;
    else if (strncmp(base, "vgpreload_", 10) == 0 || strncmp(base, "libasan.so", 10) == 0 ||
             strncmp(base, "libtsan.so", 10) == 0 || strncmp(base, "libhwasan.so", 12) == 0)
        l->checker = 1;
    return 0;
}

const struct shim *shim_get(void)
{
    struct loaded l = {0, 0};
    int saved_errno;

    if (atomic_load_explicit(&shim_ready, memory_order_acquire))
        return &the_shim;
    /* Resolution ran and failed: nothing would change. */
    if (atomic_load_explicit(&resolve_done, memory_order_acquire))
        return NULL;
    /* dlopen, mmap and a failed engine load set errno: the program must not
     * see it. */
    saved_errno = errno;
#if OWN_STACK
    dl_iterate_phdr(scan_loaded, &l);
    if (l.libssl)
        run(first_use, !l.checker);
    else if (libssl_loaded())   /* by soname, under another file name */
        run(load_once, !l.checker);
#else
    /* A sanitized shim never switches stacks, so it has nothing to scan
     * for; TSan would also take the scan's read of a name that another
     * thread's dlopen just wrote for a race (glibc's loader lock is not a
     * lock it sees). */
    (void)l;
    (void)scan_loaded;
    (void)run;
    first_use();
#endif
    errno = saved_errno;
    return atomic_load_explicit(&shim_ready, memory_order_acquire) ? &the_shim : NULL;
}

static void resolve_crypto(void)
{
    void *crypto = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_NOLOAD);
    resolve_one(crypto, "X509_verify_cert", (void **)&real_x509_verify_cert,
                (void *)&X509_verify_cert);
}

int shim_real_x509_verify_cert(X509_STORE_CTX *ctx)
{
    if (atomic_load(&resolve_failed))
        return 0;
    pthread_once(&crypto_once, resolve_crypto);
    return real_x509_verify_cert ? real_x509_verify_cert(ctx) : 0;
}

/* One record per process for the refusals of an engine-less shim. */
static void fail_closed_record(const struct shim *s)
{
    static atomic_int logged;

    if (atomic_exchange(&logged, 1) == 0) {
        char reason[sizeof(s->engine_error)];
        size_t i;
        for (i = 0; s->engine_error[i] != '\0' && i + 1 < sizeof(reason); i++) {
            unsigned char c = (unsigned char)s->engine_error[i];
            reason[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
        }
        char msg[sizeof(reason) + 160];
        reason[i] = '\0';
        snprintf(msg, sizeof(msg),
                 "tlspin: event=policy-error action=blocked program=%.64s pid=%ld reason=\"%s\"",
                 program_invocation_short_name, (long)getpid(), reason);
        shim_record(msg);
    }
}

/* Without its engine the shim cannot evaluate any policy: every client
 * handshake is refused, with one record saying why. */
int shim_fail_closed_verify(const struct shim *s, X509_STORE_CTX *ctx)
{
    SSL *ssl = s->X509_STORE_CTX_get_ex_data(ctx, s->SSL_get_ex_data_X509_STORE_CTX_idx());
    int saved_errno = errno;

    if (ssl == NULL || s->SSL_is_server(ssl))
        return s->reals.X509_verify_cert(ctx);
    fail_closed_record(s);
    s->reals.X509_verify_cert(ctx);
    s->X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    s->SSL_set_verify(ssl, s->SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER, NULL);
    errno = saved_errno;
    return 0;
}

/* Handshakes that show no certificate never reach X509_verify_cert: without
 * the engine, the server's choice of such a suite (or a resumption) is
 * refused instead, when libssl asks the security callback about it, so that
 * they fail closed too. A certificate still goes on to X509_verify_cert,
 * which refuses it with the usual certificate error. Every other question
 * gets OpenSSL's default answer at the lowest level: every client handshake
 * ends in a refusal anyway. */
static int fail_closed_security(const SSL *ssl, const SSL_CTX *ctx, int op, int bits, int nid,
                                void *other, void *ex)
{
    const struct shim *s = &the_shim;
    int auth;

    (void)ctx; (void)bits; (void)nid; (void)ex;
    if (op != SSL_SECOP_CIPHER_CHECK || ssl == NULL || other == NULL || s->SSL_is_server(ssl))
        return 1;
    auth = s->SSL_CIPHER_get_auth_nid(other);
    if (auth != NID_auth_null && auth != NID_auth_psk && auth != NID_auth_srp &&
        !s->SSL_session_reused(ssl))
        return 1;
    fail_closed_record(s);
    s->SSL_set_verify_result((SSL *)ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

void shim_fail_closed_guard(const struct shim *s, SSL *ssl)
{
    if (!s->SSL_is_server(ssl))
        s->reals.SSL_set_security_callback(ssl, fail_closed_security);
}
