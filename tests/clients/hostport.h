/* hostport.h — split "HOST:PORT" / "[V6]:PORT" for the test programs. */
#ifndef TLSC_HOSTPORT_H
#define TLSC_HOSTPORT_H

#include <stddef.h>

/* Split text into host (brackets removed) and port. The port must be
 * decimal 0..65535. Returns 0, or -1 for a malformed or oversized input. */
int hostport_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen);

#endif
