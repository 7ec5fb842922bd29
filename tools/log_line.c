/* log_line — tlspin records out of system log lines (see log_line.h). */
#include "log_line.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|+HHMM]; without a zone, local time. */
static const char *parse_iso(const char *s, time_t *t)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, zone = 0, off = 0;

    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return NULL;
    s += 19;
    if (*s == '.' || *s == ',')
        for (s++; isdigit((unsigned char)*s); s++)
            ;
    if (*s == 'Z') {
        zone = 1;
        s++;
    } else if (*s == '+' || *s == '-') {
        int zh, zm, sign = *s == '-' ? -1 : 1;
        if (digits(s + 1, 2, &zh))
            return NULL;
        const char *m = s + 3;
        if (*m == ':')
            m++;
        if (digits(m, 2, &zm))
            return NULL;
        zone = 1;
        off = sign * (zh * 3600 + zm * 60);
        s = m + 2;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if (zone) {
        *t = timegm(&tm) - off;
    } else {
        tm.tm_isdst = -1;
        *t = mktime(&tm);
    }
    return s;
}

/* "Mmm dd HH:MM:SS" (day space-padded), local time, year inferred. */
static const char *parse_traditional(const char *s, time_t now, time_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm = {0}, nowtm;
    const char *m;
    int d, h, mi, sec;

    if (strlen(s) < 15 || s[3] != ' ')
        return NULL;
    for (m = months; *m; m += 3)
        if (strncmp(m, s, 3) == 0)
            break;
    if (*m == '\0')
        return NULL;
    s += 4;
    if (*s == ' ')
        s++;
    if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1])) {
        digits(s, 2, &d);
        s += 2;
    } else if (isdigit((unsigned char)s[0])) {
        d = s[0] - '0';
        s += 1;
    } else {
        return NULL;
    }
    if (*s != ' ' || digits(s + 1, 2, &h) || s[3] != ':' || digits(s + 4, 2, &mi) ||
        s[6] != ':' || digits(s + 7, 2, &sec))
        return NULL;
    s += 9;
    localtime_r(&now, &nowtm);
    tm.tm_year = nowtm.tm_year;
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    *t = mktime(&tm);
    if (*t > now + 86400) { /* December's lines read in January */
        tm.tm_year--;
        tm.tm_isdst = -1;
        *t = mktime(&tm);
    }
    return s;
}

/* One space-separated token into out; returns the rest. */
static const char *token(const char *s, char *out, size_t outlen)
{
    size_t n = strcspn(s, " ");
    if (n == 0)
        return NULL;
    snprintf(out, outlen, "%.*s", (int)n, s);
    s += n;
    return s + strspn(s, " ");
}

/* "name[pid]:" or "name:". */
static int parse_tag(const char *tok, struct log_entry *e)
{
    size_t len = strlen(tok);
    if (len < 2 || tok[len - 1] != ':')
        return -1;
    const char *br = strchr(tok, '[');
    if (br && tok[len - 2] == ']') {
        snprintf(e->tag, sizeof e->tag, "%.*s", (int)(br - tok), tok);
        e->pid = strtol(br + 1, NULL, 10);
    } else {
        snprintf(e->tag, sizeof e->tag, "%.*s", (int)(len - 1), tok);
        e->pid = -1;
    }
    return 0;
}

static int is_record(const char *msg)
{
    return strncmp(msg, "tlspin:", 7) == 0 && (msg[7] == ' ' || msg[7] == '\0');
}

/* RFC 5424 after "<PRI>": "1 TS HOST APP PROCID MSGID SD MSG". */
static int parse_5424(const char *s, struct log_entry *e)
{
    char tok[256];
    const char *p;

    s += 2; /* "1 " */
    if (*s == '-') {
        e->when = (time_t)-1;
        s++;
    } else if ((p = parse_iso(s, &e->when)) == NULL) {
        return 0;
    } else {
        s = p;
    }
    s += strspn(s, " ");
    if ((s = token(s, tok, sizeof tok)) == NULL)  /* host */
        return 0;
    if ((s = token(s, tok, sizeof tok)) == NULL)  /* app */
        return 0;
    snprintf(e->tag, sizeof e->tag, "%.127s", tok);
    if ((s = token(s, tok, sizeof tok)) == NULL)  /* procid */
        return 0;
    e->pid = strcmp(tok, "-") == 0 ? -1 : strtol(tok, NULL, 10);
    if ((s = token(s, tok, sizeof tok)) == NULL)  /* msgid */
        return 0;
    if (*s == '-') {
        s++;
    } else {
        while (*s == '[') {           /* structured data elements */
            int quoted = 0;
            for (s++; *s && (quoted || *s != ']'); s++) {
                if (*s == '\\' && s[1])
                    s++;
                else if (*s == '"')
                    quoted = !quoted;
            }
            if (*s != ']')
                return 0;
            s++;
        }
    }
    s += strspn(s, " ");
    if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    if (!is_record(s))
        return 0;
    e->msg = s;
    return 1;
}

int logl_parse(const char *line, time_t now, struct log_entry *e)
{
    const char *s = line, *p;
    char tok[256];

    memset(e, 0, sizeof *e);
    e->when = (time_t)-1;
    e->pid = -1;
    if (*s == '<') {                  /* a datagram's "<PRI>" */
        p = strchr(s, '>');
        if (p == NULL || p - s > 4)
            return 0;
        s = p + 1;
        if (s[0] == '1' && s[1] == ' ')
            return parse_5424(s, e);
    }
    if ((p = parse_iso(s, &e->when)) == NULL && (p = parse_traditional(s, now, &e->when)) == NULL)
        return 0;
    s = p + strspn(p, " ");
    /* HOST TAG: or just TAG: (a datagram has no host). */
    if ((s = token(s, tok, sizeof tok)) == NULL)
        return 0;
    if (parse_tag(tok, e) != 0) {
        if ((s = token(s, tok, sizeof tok)) == NULL || parse_tag(tok, e) != 0)
            return 0;
    }
    if (!is_record(s))
        return 0;
    e->msg = s;
    return 1;
}

int logl_field(const char *msg, const char *key, char *out, size_t outlen)
{
    const char *s = msg;
    size_t klen = strlen(key);

    if (strncmp(s, "tlspin:", 7) == 0)
        s += 7;
    while (*s) {
        s += strspn(s, " ");
        if (*s == '\0')
            break;
        const char *k = s;
        s += strcspn(s, "= ");
        int want = (size_t)(s - k) == klen && strncmp(k, key, klen) == 0;
        size_t n = 0;
        if (*s != '=')
            continue;               /* a word without a value: skip it */
        s++;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                char c = *s;
                if (c == '\\' && (s[1] == '"' || s[1] == '\\'))
                    c = *++s;
                if (want && n + 1 < outlen)
                    out[n++] = c;
            }
            if (*s == '"')
                s++;
        } else {
            for (; *s && *s != ' '; s++)
                if (want && n + 1 < outlen)
                    out[n++] = *s;
        }
        if (want) {
            if (outlen)
                out[n < outlen ? n : outlen - 1] = '\0';
            return 0;
        }
    }
    return -1;
}
