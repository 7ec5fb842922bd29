/* shim_path — see shim_path.h. */
#include "shim_path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TLSPIN_SHIM_INSTALLED
#define TLSPIN_SHIM_INSTALLED "/usr/lib/x86_64-linux-gnu/tlspin/libtlspin.so"
#endif
#ifndef TLSPIN_SHIM_BUILD
#define TLSPIN_SHIM_BUILD TLSPIN_SHIM_INSTALLED
#endif

const char *shim_default_path(void)
{
    static char build_bin[PATH_MAX];
    char exe[PATH_MAX], real_bin[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (n <= 0)
        return TLSPIN_SHIM_INSTALLED;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return TLSPIN_SHIM_INSTALLED;
    *slash = '\0';
    /* <build>/lib/tlspin/libtlspin.so  ->  <build>/bin */
    snprintf(build_bin, sizeof build_bin, "%s", TLSPIN_SHIM_BUILD);
    for (int i = 0; i < 3 && (slash = strrchr(build_bin, '/')) != NULL; i++)
        *slash = '\0';
    strncat(build_bin, "/bin", sizeof build_bin - strlen(build_bin) - 1);
    if (realpath(build_bin, real_bin) != NULL && strcmp(real_bin, exe) == 0 &&
        access(TLSPIN_SHIM_BUILD, F_OK) == 0)
        return TLSPIN_SHIM_BUILD;
    return TLSPIN_SHIM_INSTALLED;
}

int shim_is_tlspin_entry(const char *entry, const char *lib)
{
    const char *base = strrchr(entry, '/');
    struct stat a, b;

    base = base ? base + 1 : entry;
    if (strcmp(base, "libtlspin.so") == 0)
        return 1;
    if (lib == NULL)
        return 0;
    if (strcmp(entry, lib) == 0)
        return 1;
    return stat(entry, &a) == 0 && stat(lib, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}
