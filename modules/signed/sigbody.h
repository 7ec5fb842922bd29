/* The pinsets inside a verified signed file, read with the file module's own
 * parser and host index (one pinset language, one parser). */
#ifndef SIGNED_SIGBODY_H
#define SIGNED_SIGBODY_H

#include <stddef.h>
#include <tlspin/module.h>

#include "../file/file_state.h"

/* Parse body (body_len bytes, any bytes after it ignored) as a pinsets file
 * named `name` in messages, and index it into st (zeroed by the caller; freed
 * with sigbody_free either way). Returns 0, or -1 with "name:line: reason". */
int sigbody_build(struct file_state *st, const struct tlspin_host *host, const char *name,
                  const char *body, size_t body_len, char *err, size_t errlen);

void sigbody_free(struct file_state *st);

#endif
