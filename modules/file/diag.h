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

#endif
