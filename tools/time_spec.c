/* time_spec — see time_spec.h. */
#include "time_spec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* "2h", "90 min ago", "-3 days", "1w". */
static int relative(const char *s, time_t now, time_t *out)
{
    static const struct {
        const char *name;
        long secs;
    } units[] = {
        {"s", 1},         {"sec", 1},       {"secs", 1},      {"second", 1},
        {"seconds", 1},   {"m", 60},        {"min", 60},      {"mins", 60},
        {"minute", 60},   {"minutes", 60},  {"h", 3600},      {"hr", 3600},
        {"hour", 3600},   {"hours", 3600},  {"d", 86400},     {"day", 86400},
        {"days", 86400},  {"w", 604800},    {"week", 604800}, {"weeks", 604800},
    };
    char *end;
    char unit[16];
    size_t n;

    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    long v = strtol(s, &end, 10);
    if (v < 0 || v > 100L * 366 * 86400)
        return -1;
    s = end + strspn(end, " ");
    n = strcspn(s, " ");
    if (n == 0 || n >= sizeof unit)
        return -1;
    memcpy(unit, s, n);
    unit[n] = '\0';
    s += n;
    s += strspn(s, " ");
    if (strcasecmp(s, "ago") != 0 && *s != '\0')
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(unit, units[i].name) == 0) {
            *out = now - (time_t)(v * units[i].secs);
            return 0;
        }
    return -1;
}

static time_t midnight(time_t now, int days_back)
{
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_mday -= days_back;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

int time_spec_parse(const char *text, time_t now, time_t *out)
{
    struct tm tm;
    size_t len = strlen(text);
    int y, mo, d, h = 0, mi = 0, sec = 0;

    while (len > 0 && text[len - 1] == ' ')
        len--;
    if (len == 0)
        return -1;
    if (strcasecmp(text, "now") == 0) {
        *out = now;
        return 0;
    }
    if (strcasecmp(text, "today") == 0) {
        *out = midnight(now, 0);
        return 0;
    }
    if (strcasecmp(text, "yesterday") == 0) {
        *out = midnight(now, 1);
        return 0;
    }
    if (text[0] == '@' && all_digits(text + 1, len - 1)) {
        *out = (time_t)strtoll(text + 1, NULL, 10);
        return 0;
    }
    /* HH:MM[:SS] today */
    if ((len == 5 || len == 8) && all_digits(text, 2) && text[2] == ':' &&
        all_digits(text + 3, 2) && (len == 5 || (text[5] == ':' && all_digits(text + 6, 2)))) {
        localtime_r(&now, &tm);
        tm.tm_hour = atoi(text);
        tm.tm_min = atoi(text + 3);
        tm.tm_sec = len == 8 ? atoi(text + 6) : 0;
        tm.tm_isdst = -1;
        if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
            return -1;
        *out = mktime(&tm);
        return 0;
    }
    /* YYYY-MM-DD[( |T)HH:MM[:SS][zone]] */
    if (len >= 10 && all_digits(text, 4) && text[4] == '-' && all_digits(text + 5, 2) &&
        text[7] == '-' && all_digits(text + 8, 2)) {
        const char *s = text + 10;
        int zone = 0;
        long off = 0;
        y = atoi(text);
        mo = atoi(text + 5);
        d = atoi(text + 8);
        if (*s == ' ' || *s == 'T') {
            s++;
            if (!all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2))
                return -1;
            h = atoi(s);
            mi = atoi(s + 3);
            s += 5;
            if (*s == ':') {
                if (!all_digits(s + 1, 2))
                    return -1;
                sec = atoi(s + 1);
                s += 3;
            }
            if (*s == 'Z') {
                zone = 1;
                s++;
            } else if ((*s == '+' || *s == '-') && all_digits(s + 1, 2)) {
                int sign = *s == '-' ? -1 : 1;
                const char *m = s + 3;
                if (*m == ':')
                    m++;
                if (!all_digits(m, 2))
                    return -1;
                zone = 1;
                off = sign * (atoi(s + 1) * 3600L + atoi(m) * 60L);
                s = m + 2;
            }
        }
        while (*s == ' ')
            s++;
        if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
            return -1;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        if (zone) {
            *out = timegm(&tm) - off;
        } else {
            tm.tm_isdst = -1;
            *out = mktime(&tm);
        }
        return 0;
    }
    return relative(text, now, out);
}
