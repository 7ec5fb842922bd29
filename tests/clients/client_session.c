/* client_session.c — PEM session files for --sess-in / --sess-out. */
#include "client_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

SSL_SESSION *tlsc_session_load(const char *path)
{
    FILE *f = fopen(path, "r");
    SSL_SESSION *s;

    if (!f) {
        fprintf(stderr, "sess-in %s: %s\n", path, strerror(errno));
        return NULL;
    }
    s = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
    fclose(f);
    if (!s)
        fprintf(stderr, "sess-in %s: not a PEM SSL session\n", path);
    return s;
}

int tlsc_session_save(const char *path, SSL_SESSION *session)
{
    FILE *f;
    int ok;

    if (!session) {
        fprintf(stderr, "sess-out %s: no resumable session to save\n", path);
        return -1;
    }
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sess-out %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = PEM_write_SSL_SESSION(f, session);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "sess-out %s: write failed\n", path);
    return ok ? 0 : -1;
}
