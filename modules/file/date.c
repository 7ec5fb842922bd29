/* Calendar dates of pinset expiry. Strict on purpose: "2027-6-30" or
 * "2027-02-30" is a typo that would otherwise silently move an expiry. */
#include "date.h"

#include <string.h>

static int is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return (m == 2 && is_leap_year(y)) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n decimal digits at s, or -1. */
static int64_t read_digits(const char *s, int n)
{
    int64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int date_parse(const char *text, int64_t *day)
{
    int64_t y, m, d;

    if (text == NULL || day == NULL || strnlen(text, 11) != 10 || text[4] != '-' ||
        text[7] != '-')
        return -1;
    y = read_digits(text, 4);
    m = read_digits(text + 5, 2);
    d = read_digits(text + 8, 2);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
        return -1;
    *day = days_from_civil(y, (int)m, (int)d);
    return 0;
}

int64_t date_day_of(int64_t seconds)
{
    int64_t day = seconds / 86400;

    if (seconds % 86400 < 0)
        day--; /* floor, for times before 1970 */
    return day;
}
