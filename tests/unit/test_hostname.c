/* Unit tests: host names and patterns (loader/engine/hostname.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/hostname.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A label of 63 and one of 64 characters. */
#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L64 L63 "a"
/* 4 * 63 + 3 dots = 255 > 253; 3 * 63 + 61 + 3 dots = 253 */
#define L61 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME_253 L63 "." L63 "." L63 "." L61
#define NAME_255 L63 "." L63 "." L63 "." L63

static const struct {
    const char *in;
    const char *out;
} normalize_good[] = {
    { "example.com", "example.com" },
    { "Example.COM", "example.com" },
    { "example.com.", "example.com" },
    { "API.Example.Com.", "api.example.com" },
    { "localhost", "localhost" },
    { "_acme-challenge.example.com", "_acme-challenge.example.com" },
    { "xn--bcher-kva.example", "xn--bcher-kva.example" },
    { "a1.b2.c3", "a1.b2.c3" },
    { "*.example.com", "*.example.com" },
    { "*.Pay.Example.com.", "*.pay.example.com" },
    { "**.example.net", "**.example.net" },
    { "**.EXAMPLE.net.", "**.example.net" },
    { "*.co.uk", "*.co.uk" },
    { "10.0.0.7", "10.0.0.7" },
    { "10.0.0.7.", "10.0.0.7" },
    { "255.255.255.255", "255.255.255.255" },
    { "0.0.0.0", "0.0.0.0" },
    { "::1", "::1" },
    { "[::1]", "::1" },
    { "[2001:DB8::1]", "2001:db8::1" },
    { "2001:db8:0:0:0:0:0:1", "2001:db8::1" },
    { "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
    { "[2001:db8:0:0:1:0:0:1]", "2001:db8::1:0:0:1" },
    { "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
    { "::", "::" },
    { L63 ".com", L63 ".com" },
    { NAME_253, NAME_253 },
    { NAME_253 ".", NAME_253 },
};

START_TEST(normalize_accepts)
{
    char out[TLSPIN_HOST_MAX], again[TLSPIN_HOST_MAX], err[256];

    ck_assert_msg(tlspin_host_normalize(normalize_good[_i].in, out, sizeof(out), err,
                                        sizeof(err)) == 0,
                  "\"%s\" refused: %s", normalize_good[_i].in, err);
    ck_assert_str_eq(out, normalize_good[_i].out);
    /* the normal form is a fixed point */
    ck_assert_int_eq(tlspin_host_normalize(out, again, sizeof(again), err, sizeof(err)), 0);
    ck_assert_str_eq(again, out);
}
END_TEST

static const struct {
    const char *in;
    const char *why; /* must appear in the error */
} normalize_bad[] = {
    { "", "empty host name" },
    { ".", "empty label" },
    { "..", "empty label" },
    { "a..b", "empty label" },
    { ".example.com", "empty label" },
    { "example.com..", "empty label" },
    /* wildcards anywhere but a whole first label */
    { "*", "'*' is only allowed as the whole first label" },
    { "**", "'*' is only allowed as the whole first label" },
    { "*.", "'*' is only allowed as the whole first label" },
    { "**.", "'*' is only allowed as the whole first label" },
    { "a*.example.com", "'*' is only allowed as the whole first label" },
    { "*a.example.com", "'*' is only allowed as the whole first label" },
    { "f*o.example.com", "'*' is only allowed as the whole first label" },
    { "*.*.example.com", "'*' is only allowed as the whole first label" },
    { "foo.*.com", "'*' is only allowed as the whole first label" },
    { "example.*", "'*' is only allowed as the whole first label" },
    { "***.example.com", "'*' is only allowed as the whole first label" },
    { "*.**.example.com", "'*' is only allowed as the whole first label" },
    /* a wildcard over a single label */
    { "*.com", "at least two labels after it" },
    { "**.com", "at least two labels after it" },
    { "*.com.", "at least two labels after it" },
    { "**.LOCALHOST", "at least two labels after it" },
    /* IP literals */
    { "*.10.0.0.7", "no wildcard is allowed on an IP address" },
    { "**.10.0.0.7", "no wildcard is allowed on an IP address" },
    { "*.::1", "no wildcard is allowed on an IP address" },
    { "[*::1]", "no wildcard is allowed on an IP address" },
    { "01.2.3.4", "nor a dotted-quad IPv4 address" },
    { "1.2.3", "nor a dotted-quad IPv4 address" },
    { "256.1.1.1", "nor a dotted-quad IPv4 address" },
    { "1.2.3.4.5", "nor a dotted-quad IPv4 address" },
    { "example.123", "nor a dotted-quad IPv4 address" },
    { "a.0x7f", "nor a dotted-quad IPv4 address" },
    { "0x7f000001", "nor a dotted-quad IPv4 address" },
    { "*.1.2.3", "nor a dotted-quad IPv4 address" },
    { "[::1", "not an IPv6 address in brackets" },
    { "[]", "not an IPv6 address in brackets" },
    { "[example.com]", "not an IPv6 address" },
    { "1::2::3", "not an IPv6 address" },
    { "fe80::1%eth0", "not an IPv6 address" },
    { "[fe80::1%25eth0]", "not an IPv6 address" },
    { "example.com:443", "':' belongs only in an IPv6 address" },
    { "10.0.0.7:443", "':' belongs only in an IPv6 address" },
    { "[::1]:443", "not an IPv6 address in brackets" },
    /* characters */
    { "exa mple.com", "contains byte 0x20" },
    { " example.com", "contains byte 0x20" },
    { "example.com ", "contains byte 0x20" },
    { "a/b.example.com", "contains '/'" },
    { "a\\b.example.com", "contains '\\'" },
    { "exa\x01mple.com", "\"exa\\x01mple.com\" contains byte 0x01" },
    { "ex\xc3\xa4mple.com", "contains byte 0xc3" },
    { "example.com\n", "contains byte 0x0a" },
    /* lengths */
    { L64 ".com", "label longer than 63" },
    { NAME_255, "longer than 253" },
    { "*." NAME_253, "longer than 253" },
};

START_TEST(normalize_rejects)
{
    char out[TLSPIN_HOST_MAX], err[512];

    ck_assert_msg(tlspin_host_normalize(normalize_bad[_i].in, out, sizeof(out), err,
                                        sizeof(err)) == -1,
                  "\"%s\" accepted as \"%s\"", normalize_bad[_i].in, out);
    ck_assert_msg(strstr(err, normalize_bad[_i].why) != NULL, "\"%s\": error \"%s\" lacks \"%s\"",
                  normalize_bad[_i].in, err, normalize_bad[_i].why);
}
END_TEST

START_TEST(normalize_long_input)
{
    char in[5000], out[TLSPIN_HOST_MAX], err[512];

    memset(in, 'a', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    ck_assert_int_eq(tlspin_host_normalize(in, out, sizeof(out), err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
    ck_assert_ptr_nonnull(strstr(err, "...")); /* the quote is cut */
}
END_TEST

START_TEST(normalize_null_and_small_buffers)
{
    char out[8], err[16];

    ck_assert_int_eq(tlspin_host_normalize(NULL, out, sizeof(out), err, sizeof(err)), -1);
    ck_assert_int_eq(tlspin_host_normalize("example.com", out, sizeof(out), err, sizeof(err)),
                     -1); /* 12 bytes do not fit in 8 */
    ck_assert_int_eq(tlspin_host_normalize("example.com", NULL, 0, err, sizeof(err)), -1);
    ck_assert_int_eq(tlspin_host_normalize("a.b", out, sizeof(out), NULL, 0), 0);
    ck_assert_str_eq(out, "a.b");
    ck_assert_int_eq(tlspin_host_normalize("*.com", out, sizeof(out), err, 1), -1);
    ck_assert_str_eq(err, "");
}
END_TEST

/* Random bytes never crash the normaliser, and whatever it accepts is a
 * fixed point that matches itself. */
START_TEST(normalize_random_input)
{
    static const char alphabet[] = "aZ09.-_*:[]%/ \x01\xff.";
    uint32_t seed = 12345;
    int round;

    for (round = 0; round < 20000; round++) {
        char in[64], out[TLSPIN_HOST_MAX], again[TLSPIN_HOST_MAX], err[512];
        size_t len, i;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % (sizeof(in) - 1);
        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        in[len] = '\0';
        if (tlspin_host_normalize(in, out, sizeof(out), err, sizeof(err)) != 0)
            continue;
        ck_assert_int_eq(tlspin_host_normalize(out, again, sizeof(again), err, sizeof(err)), 0);
        ck_assert_str_eq(again, out);
        if (out[0] != '*')
            ck_assert_int_eq(tlspin_host_match(out, out), 1);
    }
}
END_TEST

static const struct {
    const char *pattern;
    const char *host;
    int match;
} match_table[] = {
    /* exact */
    { "api.example.com", "api.example.com", 1 },
    { "api.example.com", "x.api.example.com", 0 },
    { "api.example.com", "api.example.co", 0 },
    { "api.example.com", "api.example.comm", 0 },
    { "api.example.com", "example.com", 0 },
    { "api.example.com", "API.Example.COM", 1 }, /* case-insensitive */
    { "api.example.com", "api.example.com.", 1 }, /* trailing dot */
    { "api.example.com.", "api.example.com", 1 },
    /* "*." is exactly one label */
    { "*.foo.com", "bar.foo.com", 1 },
    { "*.foo.com", "BAR.FOO.COM", 1 },
    { "*.foo.com", "bar.foo.com.", 1 },
    { "*.foo.com", "foo.com", 0 },
    { "*.foo.com", "a.bar.foo.com", 0 },
    { "*.foo.com", "bar.foo.com.evil", 0 },
    { "*.foo.com", "barfoo.com", 0 },
    { "*.foo.com", "bar.xfoo.com", 0 },
    { "*.foo.com", ".foo.com", 0 },
    { "*.foo.com", "*.foo.com", 0 }, /* a host is never a pattern */
    { "*.foo.com", "bar.foo.co", 0 },
    /* "**." is any depth, the apex included */
    { "**.example.net", "example.net", 1 },
    { "**.example.net", "a.example.net", 1 },
    { "**.example.net", "a.b.example.net", 1 },
    { "**.example.net", "a.b.c.d.e.example.net", 1 },
    { "**.example.net", "A.Example.NET.", 1 },
    { "**.example.net", "aexample.net", 0 },
    { "**.example.net", "a.bexample.net", 0 },
    { "**.example.net", "example.net.evil", 0 },
    { "**.example.net", "a.example.net.evil", 0 },
    { "**.example.net", "net", 0 },
    { "**.example.net", "example.ne", 0 },
    { "**.example.net", "", 0 },
    /* IP literals match only themselves */
    { "10.0.0.7", "10.0.0.7", 1 },
    { "10.0.0.7", "10.0.0.70", 0 },
    { "10.0.0.7", "110.0.0.7", 0 },
    { "*.0.0.7", "10.0.0.7", 0 },
    { "**.0.0.7", "10.0.0.7", 0 },
    { "2001:db8::1", "2001:db8::1", 1 },
    { "2001:db8::1", "2001:db8::10", 0 },
    /* anything else matches only itself */
    { "example.com", "*.example.com", 0 },
};

START_TEST(match_table_cases)
{
    ck_assert_msg(tlspin_host_match(match_table[_i].pattern, match_table[_i].host) ==
                      match_table[_i].match,
                  "match(\"%s\", \"%s\") != %d", match_table[_i].pattern, match_table[_i].host,
                  match_table[_i].match);
}
END_TEST

START_TEST(match_null_and_long)
{
    char longname[600];

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(tlspin_host_match(NULL, "a.b"), 0);
    ck_assert_int_eq(tlspin_host_match("a.b", NULL), 0);
    ck_assert_int_eq(tlspin_host_match(NULL, NULL), 0);
    ck_assert_int_eq(tlspin_host_match(longname, longname), 0);
    ck_assert_int_eq(tlspin_host_match("**.a", longname), 0);
}
END_TEST

static const struct {
    const char *text;
    int is_ip;
} ip_table[] = {
    { "10.0.0.7", 1 },   { "255.255.255.255", 1 }, { "::1", 1 },
    { "[::1]", 1 },      { "2001:db8::1", 1 },     { "::ffff:1.2.3.4", 1 },
    { "example.com", 0 }, { "1.2.3", 0 },          { "01.2.3.4", 0 },
    { "", 0 },           { "[]", 0 },              { "[::1", 0 },
    { "fe80::1%eth0", 0 }, { "*.1.2.3.4", 0 },
};

START_TEST(is_ip_cases)
{
    ck_assert_msg(tlspin_host_is_ip(ip_table[_i].text) == ip_table[_i].is_ip, "is_ip(\"%s\")",
                  ip_table[_i].text);
}
END_TEST

START_TEST(is_ip_null)
{
    ck_assert_int_eq(tlspin_host_is_ip(NULL), 0);
}
END_TEST

static Suite *hostname_suite(void)
{
    Suite *s = suite_create("hostname");
    TCase *norm = tcase_create("normalize");
    TCase *match = tcase_create("match");

    tcase_add_loop_test(norm, normalize_accepts, 0, (int)N_ELEMS(normalize_good));
    tcase_add_loop_test(norm, normalize_rejects, 0, (int)N_ELEMS(normalize_bad));
    tcase_add_test(norm, normalize_long_input);
    tcase_add_test(norm, normalize_null_and_small_buffers);
    tcase_add_test(norm, normalize_random_input);
    suite_add_tcase(s, norm);

    tcase_add_loop_test(match, match_table_cases, 0, (int)N_ELEMS(match_table));
    tcase_add_test(match, match_null_and_long);
    tcase_add_loop_test(match, is_ip_cases, 0, (int)N_ELEMS(ip_table));
    tcase_add_test(match, is_ip_null);
    suite_add_tcase(s, match);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hostname_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
