/* Error and diagnostic text for the file module: "file:line: message",
 * bounded, with untrusted text quoted. */
#ifndef FILE_DIAG_H
#define FILE_DIAG_H

#include <stddef.h>

/* Room for a quoted config value in a message (see diag_quote). */
#define DIAG_QUOTE_MAX 300

/* Write "file:line: <fmt...>" into err (just "file: " when line is 0, no
 * prefix when file is NULL). err may be NULL or errlen 0. */
void diag_errf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copy text for a message: printable ASCII as is, '"', '\\' and the rest as
 * \xNN, cut with "..." after 64 characters. out holds DIAG_QUOTE_MAX. */
void diag_quote(const char *text, char out[DIAG_QUOTE_MAX]);

/* libconfig 1.5 keeps setting lines in an unsigned short. Settings visited in
 * document order have non-decreasing lines, so the lost high bits can be
 * recovered as for any wrapping counter (exact unless 65,536 lines pass
 * without a single setting). */
struct line_unwrap {
    unsigned last;
};

unsigned line_unwrap(struct line_unwrap *u, unsigned short line16);

#endif
