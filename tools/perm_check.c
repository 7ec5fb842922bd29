/* Who besides root can change a file (see perm_check.h). */
#include "perm_check.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void user_name(uid_t uid, char *out, size_t outlen)
{
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL)
        snprintf(out, outlen, "%s, uid %u", pw->pw_name, (unsigned)uid);
    else
        snprintf(out, outlen, "uid %u", (unsigned)uid);
}

static void group_name(gid_t gid, char *out, size_t outlen)
{
    struct group *gr = getgrgid(gid);
    if (gr != NULL)
        snprintf(out, outlen, "%s, gid %u", gr->gr_name, (unsigned)gid);
    else
        snprintf(out, outlen, "gid %u", (unsigned)gid);
}

enum perm_verdict perm_check(const char *path, const char *what, char *msg, size_t msglen)
{
    struct stat st;
    char who[160], grp[160];

    if (msglen > 0)
        msg[0] = '\0';
    if (stat(path, &st) != 0)
        return PERM_OK;   /* a missing file is someone else's finding */
    if (st.st_mode & S_IWOTH) {
        snprintf(msg, msglen, "the %s is writable by everybody (mode %04o%s): anyone on this "
                 "machine can change which keys are trusted", what,
                 (unsigned)(st.st_mode & 07777),
                 S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) ? ", sticky" : "");
        return PERM_ERROR;
    }
    user_name(st.st_uid, who, sizeof(who));
    group_name(st.st_gid, grp, sizeof(grp));
    if (st.st_uid != 0 && (st.st_mode & S_IWGRP) && st.st_gid != 0) {
        snprintf(msg, msglen, "the %s is owned by %s and writable by group %s (mode %04o), "
                 "not only by root: they can change which keys are trusted", what, who, grp,
                 (unsigned)(st.st_mode & 07777));
        return PERM_WARNING;
    }
    if (st.st_uid != 0) {
        snprintf(msg, msglen, "the %s is owned by %s, not root: that user can change which "
                 "keys are trusted (chown root)", what, who);
        return PERM_WARNING;
    }
    if ((st.st_mode & S_IWGRP) && st.st_gid != 0) {
        snprintf(msg, msglen, "the %s is writable by group %s (mode %04o): its members can "
                 "change which keys are trusted (chmod g-w)", what, grp,
                 (unsigned)(st.st_mode & 07777));
        return PERM_WARNING;
    }
    return PERM_OK;
}
