/* Expiry of certificates, in warning steps (see expiry.h). */
#include "expiry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const int expiry_marks[EXPIRY_N_MARKS] = { 30, 14, 7, 1 };

#define DAY 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void expiry_compute(int64_t not_after, int64_t now, struct expiry *out)
{
    memset(out, 0, sizeof(*out));
    out->not_after = not_after;
    out->seconds_left = not_after - now;
    out->days_left = (long)floor_div(out->seconds_left, DAY);
    out->expired = out->seconds_left < 0;
    out->mark = out->expired ? 0 : -1;
    for (int i = 0; !out->expired && i < EXPIRY_N_MARKS; i++)
        if (out->seconds_left <= (int64_t)expiry_marks[i] * DAY)
            out->mark = expiry_marks[i];
}

int expiry_asn1_to_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int expiry_of_cert(X509 *cert, int64_t now, struct expiry *out)
{
    int64_t t;

    if (cert == NULL || expiry_asn1_to_epoch(X509_get0_notAfter(cert), &t) != 0)
        return -1;
    expiry_compute(t, now, out);
    return 0;
}

static void span(int64_t seconds, char *out, size_t outlen)
{
    if (seconds >= DAY)
        snprintf(out, outlen, "%lld day%s", (long long)(seconds / DAY),
                 seconds / DAY == 1 ? "" : "s");
    else if (seconds >= 3600)
        snprintf(out, outlen, "%lld hour%s", (long long)(seconds / 3600),
                 seconds / 3600 == 1 ? "" : "s");
    else
        snprintf(out, outlen, "%lld minute%s", (long long)(seconds / 60),
                 seconds / 60 == 1 ? "" : "s");
}

void expiry_describe(const struct expiry *e, char *out, size_t outlen)
{
    char s[64];

    if (e->expired) {
        span(-e->seconds_left, s, sizeof(s));
        snprintf(out, outlen, "expired %s ago", s);
    } else if (e->mark > 0) {
        span(e->seconds_left, s, sizeof(s));
        snprintf(out, outlen, "expires in %s (%d-day warning)", s, e->mark);
    } else {
        span(e->seconds_left, s, sizeof(s));
        snprintf(out, outlen, "expires in %s", s);
    }
}

static int utc_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    return gmtime_r(&tt, tm) != NULL ? 0 : -1;
}

void expiry_format_utc(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    if (utc_tm(t, &tm) != 0 || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, outlen, "%lld", (long long)t);
}

void expiry_format_iso(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    if (utc_tm(t, &tm) != 0 || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, outlen, "%lld", (long long)t);
}
