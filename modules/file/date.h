/* Calendar dates of pinset expiry: strict "YYYY-MM-DD", UTC days. */
#ifndef FILE_DATE_H
#define FILE_DATE_H

#include <stdint.h>

/* "YYYY-MM-DD" (exactly 10 characters, a real date, year 1970..9999) to the
 * number of days since 1970-01-01. Returns 0, or -1 for anything else. */
int date_parse(const char *text, int64_t *day) __attribute__((warn_unused_result));

/* The UTC day (days since 1970-01-01) that contains `seconds` since the epoch. */
int64_t date_day_of(int64_t seconds);

#endif
