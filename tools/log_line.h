/* log_line — tlspin records out of system log lines.
 *
 * A line is accepted in the formats tlspin's records end up in:
 *   2026-11-26T20:30:00.123456+00:00 host curl[4242]: tlspin: event=...
 *                                    (rsyslog's default file format on
 *                                    Debian 12, journalctl -o short-iso)
 *   Nov 26 20:30:00 host curl[4242]: tlspin: event=...
 *                                    (RSYSLOG_TraditionalFileFormat)
 *   <84>Nov 26 20:30:00 curl[4242]: tlspin: event=...
 *                                    (the datagram syslog(3) sends)
 *   <84>1 2026-11-26T20:30:00Z host curl 4242 - - tlspin: event=...
 *                                    (RFC 5424)
 * Only messages that start with "tlspin:" are records: tlspin never calls
 * openlog(), so the tag is the program's own name. */
#ifndef TLSPIN_LOG_LINE_H
#define TLSPIN_LOG_LINE_H

#include <stddef.h>
#include <time.h>

struct log_entry {
    time_t when;            /* (time_t)-1 when the line has no readable time */
    char tag[128];          /* the syslog tag: the program's name */
    long pid;               /* from "tag[pid]", or -1 */
    const char *msg;        /* into the line: "tlspin: ..." */
};

/* 1 when line holds a tlspin record (e filled), 0 when it does not. now
 * dates a timestamp without a year (the latest such time not after now,
 * give or take a day). */
int logl_parse(const char *line, time_t now, struct log_entry *e);

/* The value of `key` in a "tlspin: k=v k=\"v w\" ..." message, with \" and
 * \\ unescaped; \xNN escapes are kept as written (never a raw control byte
 * on a terminal). 0, or -1 when the key is absent. */
int logl_field(const char *msg, const char *key, char *out, size_t outlen);

#endif
