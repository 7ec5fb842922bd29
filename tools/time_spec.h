/* time_spec — the times `tlspin log --since` accepts, as journalctl does:
 *   2026-11-26, 2026-11-26 14:00[:05], 2026-11-26T14:00:05[Z|+01:00]
 *   14:00[:05] (today), today, yesterday, now, @1764166805 (epoch)
 *   2h, 90min, "3 days ago", -1w  (s, m/min, h, d, w and their long names)
 * Local time unless a zone is given. */
#ifndef TLSPIN_TIME_SPEC_H
#define TLSPIN_TIME_SPEC_H

#include <time.h>

/* 0 with *out, or -1 when text is not a time. now anchors relative ones. */
int time_spec_parse(const char *text, time_t now, time_t *out);

#endif
