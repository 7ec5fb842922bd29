/* client_session.h — sessions saved to and loaded from PEM files, to
 * resume across processes (--sess-in / --sess-out). */
#ifndef TLSC_CLIENT_SESSION_H
#define TLSC_CLIENT_SESSION_H

#include "client_ossl.h"

/* NULL with a message on stderr when the file is missing or not a session. */
SSL_SESSION *tlsc_session_load(const char *path);

/* Returns 0, or -1 with a message on stderr. */
int tlsc_session_save(const char *path, SSL_SESSION *session);

#endif
