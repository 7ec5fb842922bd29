/*
 * harness_ns.c — a private mount namespace whose /dev is a fresh tmpfs with
 * the usual nodes bound back and a real unix datagram socket at /dev/log.
 *
 * glibc's syslog(3) sends each record as one datagram to /dev/log; binding
 * that path ourselves means the records the tests assert on are exactly what
 * the client process sent, with no daemon and nothing on the host touched.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int ns_fail(const char *what)
{
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    return -1;
}

/* Bind old/<name> onto /dev/<name> when the old one exists. */
static int bind_node(const char *old, const char *name)
{
    char src[PATH_MAX], dst[PATH_MAX];
    struct stat st;

    snprintf(src, sizeof src, "%s/%s", old, name);
    snprintf(dst, sizeof dst, "/dev/%s", name);
    if (lstat(src, &st) != 0)
        return 0; /* not on this machine (e.g. /dev/tty in a container) */
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0755) != 0 && errno != EEXIST)
            return ns_fail(dst);
    } else {
        int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
            return ns_fail(dst);
        close(fd);
    }
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
        return ns_fail(dst);
    return 0;
}

static int make_symlink(const char *target, const char *path)
{
    if (symlink(target, path) != 0)
        return ns_fail(path);
    return 0;
}

static int bind_dev_log(void)
{
    struct sockaddr_un sa;
    int fd, sz = 4 << 20;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ns_fail("socket(AF_UNIX, SOCK_DGRAM)");
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, "/dev/log");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        ns_fail("bind /dev/log");
        close(fd);
        return -1;
    }
    chmod("/dev/log", 0666);
    /* Best effort: more room for bursts (the queue length limit is the
     * per-socket max_dgram_qlen; run_argv() drains while a client runs). */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    return fd;
}

int harness_enter_namespace(void)
{
    static const char *const nodes[] = {"null", "zero", "full", "random",
                                        "urandom", "tty", "pts", NULL};
    char old[] = "/tmp/tlspin-olddev-XXXXXX";
    int fd;

    if (unshare(CLONE_NEWNS) != 0) {
        fprintf(stderr,
                "harness: unshare(CLONE_NEWNS) failed: %s\n"
                "harness: the integration suites need root (CAP_SYS_ADMIN) to bind\n"
                "harness: their own /dev/log; refusing to run rather than skip.\n",
                strerror(errno));
        return -1;
    }
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return ns_fail("make / private");

    if (mkdtemp(old) == NULL)
        return ns_fail("mkdtemp");
    if (mount("/dev", old, NULL, MS_BIND | MS_REC, NULL) != 0)
        return ns_fail("bind /dev aside");
    if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") != 0)
        return ns_fail("tmpfs on /dev");

    for (size_t i = 0; nodes[i]; i++)
        if (bind_node(old, nodes[i]) != 0)
            return -1;
    if (mkdir("/dev/shm", 01777) != 0 || chmod("/dev/shm", 01777) != 0)
        return ns_fail("/dev/shm");
    if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
        return ns_fail("tmpfs on /dev/shm");
    if (make_symlink("/proc/self/fd", "/dev/fd") || make_symlink("/proc/self/fd/0", "/dev/stdin") ||
        make_symlink("/proc/self/fd/1", "/dev/stdout") ||
        make_symlink("/proc/self/fd/2", "/dev/stderr") || make_symlink("pts/ptmx", "/dev/ptmx"))
        return -1;

    if (umount2(old, MNT_DETACH) != 0)
        return ns_fail("umount old /dev");
    rmdir(old);

    fd = bind_dev_log();
    return fd;
}

void test_private_mounts(void)
{
    ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
    ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private /: %s",
                  strerror(errno));
}

void overlay_over(const char *dir)
{
    static unsigned seq;
    char upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];

    seq++;
    snprintf(upper, sizeof upper, "%s/overlay%u-upper", H.tmp, seq);
    snprintf(work, sizeof work, "%s/overlay%u-work", H.tmp, seq);
    ck_assert_msg(mkdir(upper, 0755) == 0 && mkdir(work, 0755) == 0, "mkdir: %s", strerror(errno));
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", dir, upper, work);
    ck_assert_msg(mount("overlay", dir, "overlay", 0, opts) == 0, "overlay on %s: %s", dir,
                  strerror(errno));
}
