/* Unit tests: base64 and pins (loader/engine/pin.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pin.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* base64                                                                  */
/* ---------------------------------------------------------------------- */

/* RFC 4648, section 10. */
static const struct {
    const char *plain;
    const char *b64;
} rfc4648[] = {
    { "", "" },           { "f", "Zg==" },          { "fo", "Zm8=" },
    { "foo", "Zm9v" },    { "foob", "Zm9vYg==" },   { "fooba", "Zm9vYmE=" },
    { "foobar", "Zm9vYmFy" },
};

START_TEST(base64_rfc4648_vectors)
{
    const char *plain = rfc4648[_i].plain, *b64 = rfc4648[_i].b64;
    char enc[64];
    unsigned char dec[64];
    int n;

    n = tlspin_base64_encode((const unsigned char *)plain, strlen(plain), enc, sizeof(enc));
    ck_assert_int_eq(n, (int)strlen(b64));
    ck_assert_str_eq(enc, b64);
    n = tlspin_base64_decode(b64, strlen(b64), dec, sizeof(dec));
    ck_assert_int_eq(n, (int)strlen(plain));
    ck_assert(memcmp(dec, plain, strlen(plain)) == 0);
}
END_TEST

/* Everything strict decoding must refuse. */
static const char *const base64_bad[] = {
    "Zg=",        /* length not a multiple of 4 */
    "Zg",         /* padding missing */
    "Zm9vY",      /* padding missing */
    "Z===",       /* three pads */
    "====",       /* nothing but pads */
    "Zg==Zg==",   /* pad in the middle */
    "Zm=v",       /* pad before data */
    "Zh==",       /* padding bits not zero ('h' = 33) */
    "Zm9=",       /* padding bits not zero ('9' = 61) */
    "Zm 9",       /* space */
    "Zm9v\n",     /* newline */
    "Zm-v",       /* URL-safe alphabet */
    "Zm_v",       /* URL-safe alphabet */
    "Zm9\x80",    /* high byte */
    "Zm9\xff",    /* high byte */
};

START_TEST(base64_decode_rejects)
{
    unsigned char out[64];
    const char *in = base64_bad[_i];

    ck_assert_int_eq(tlspin_base64_decode(in, strlen(in), out, sizeof(out)), -1);
}
END_TEST

START_TEST(base64_decode_embedded_nul)
{
    unsigned char out[8];

    ck_assert_int_eq(tlspin_base64_decode("Zm\0v", 4, out, sizeof(out)), -1);
}
END_TEST

START_TEST(base64_decode_bounds)
{
    unsigned char out[8];

    ck_assert_int_eq(tlspin_base64_decode("Zm9vYmFy", 8, out, 5), -1);
    ck_assert_int_eq(tlspin_base64_decode("Zm9vYmFy", 8, out, 6), 6);
    ck_assert_int_eq(tlspin_base64_decode("Zm9vYmE=", 8, out, 5), 5);
    ck_assert_int_eq(tlspin_base64_decode("", 0, NULL, 0), 0);
    ck_assert_int_eq(tlspin_base64_decode(NULL, 4, out, sizeof(out)), -1);
    ck_assert_int_eq(tlspin_base64_decode("Zm9v", 4, NULL, 0), -1);
}
END_TEST

START_TEST(base64_encode_bounds)
{
    char out[16];
    const unsigned char in[] = "foobar";

    /* 8 characters and a NUL */
    ck_assert_int_eq(tlspin_base64_encode(in, 6, out, 8), -1);
    ck_assert_int_eq(tlspin_base64_encode(in, 6, out, 9), 8);
    ck_assert_int_eq(tlspin_base64_encode(in, 6, NULL, 9), -1);
    ck_assert_int_eq(tlspin_base64_encode(NULL, 1, out, sizeof(out)), -1);
    ck_assert_int_eq(tlspin_base64_encode(NULL, 0, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(tlspin_base64_encode(in, SIZE_MAX, out, sizeof(out)), -1);
}
END_TEST

START_TEST(base64_roundtrip_all_lengths)
{
    unsigned char in[200], back[200];
    char enc[300];
    size_t len, i;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 151 + 7);
    for (len = 0; len <= sizeof(in); len++) {
        int n = tlspin_base64_encode(in, len, enc, sizeof(enc));
        ck_assert_int_eq(n, (int)(((len + 2) / 3) * 4));
        ck_assert_int_eq(tlspin_base64_decode(enc, (size_t)n, back, sizeof(back)), (int)len);
        ck_assert(memcmp(in, back, len) == 0);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* pins                                                                    */
/* ---------------------------------------------------------------------- */

/* A pin and its base64: bytes 0, 1, 2, ... 31. */
static const char pin_seq_b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/* A pin whose base64 starts with '/' (first byte 0xfc), the case where
 * "sha256//..." has two readings. */
static const char pin_slash_b64[] = "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

static void seq_pin(unsigned char pin[TLSPIN_PIN_LEN])
{
    int i;

    for (i = 0; i < TLSPIN_PIN_LEN; i++)
        pin[i] = (unsigned char)i;
}

static const char *const pin_good[] = {
    "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "pin-sha256=\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"",
    "  sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\t\n",
    "\tpin-sha256=\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\" ",
};

START_TEST(pin_parse_accepts_spellings)
{
    unsigned char pin[TLSPIN_PIN_LEN], want[TLSPIN_PIN_LEN];
    char err[256] = "unchanged";

    seq_pin(want);
    memset(pin, 0xee, sizeof(pin));
    ck_assert_int_eq(tlspin_pin_parse(pin_good[_i], pin, err, sizeof(err)), 0);
    ck_assert(memcmp(pin, want, TLSPIN_PIN_LEN) == 0);
    ck_assert_str_eq(err, "");
}
END_TEST

/* Base64 that begins with '/' under both slash spellings. */
START_TEST(pin_parse_slash_ambiguity)
{
    unsigned char pin[TLSPIN_PIN_LEN], want[TLSPIN_PIN_LEN] = { 0xfc };
    char text[128], err[256];

    snprintf(text, sizeof(text), "sha256/%s", pin_slash_b64);
    ck_assert_int_eq(tlspin_pin_parse(text, pin, err, sizeof(err)), 0);
    ck_assert(memcmp(pin, want, TLSPIN_PIN_LEN) == 0);
    snprintf(text, sizeof(text), "sha256//%s", pin_slash_b64);
    ck_assert_int_eq(tlspin_pin_parse(text, pin, err, sizeof(err)), 0);
    ck_assert(memcmp(pin, want, TLSPIN_PIN_LEN) == 0);
    /* and the formatter writes the single-slash spelling */
    tlspin_pin_format(want, text, sizeof(text));
    ck_assert_str_eq(text, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
}
END_TEST

static const struct {
    const char *text;
    const char *why; /* must appear in the error */
} pin_bad[] = {
    { "sha256/abc=", "pin \"sha256/abc=\" is 2 bytes, a SHA-256 pin is 32" },
    { "sha256/abc", "pin \"sha256/abc\" is not valid base64: its length (3) is not a multiple of 4" },
    { "sha256/", "is 0 bytes, a SHA-256 pin is 32" },
    { "sha256//", "is 0 bytes" },
    /* 31 and 33 bytes */
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "is 31 bytes" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", "is 33 bytes" },
    /* 64 bytes: a SHA-512 pin */
    { "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
      "is 64 bytes" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "multiple of 4" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", "padding must be zero" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=", "'-' is not in the standard alphabet" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd_h8=", "'_' is not in the standard alphabet" },
    { "sha256/AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8=", "not valid base64" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=h8=", "'=' may only end it" },
    { "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=;"
      "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "not valid base64" },
    { "sha256///AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "not valid base64" },
    { "sha1/AAECAwQFBgcICQoLDA0ODxAREhM=", "is not a SHA-256 pin" },
    { "SHA256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "is not a SHA-256 pin" },
    { "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "is not a SHA-256 pin" },
    { "sha256 /AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "is not a SHA-256 pin" },
    { "pin-sha256=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "must quote its base64" },
    { "pin-sha256=\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "must quote its base64" },
    { "pin-sha256='AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='", "must quote its base64" },
    { "pin-sha256=\"\"", "is 0 bytes" },
    { "pin-sha256=\"", "must quote its base64" },
    { "pin-sha256 = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"", "is not a SHA-256 pin" },
    { "", "empty pin" },
    { " \t\n ", "empty pin" },
    /* control bytes are quoted, never copied raw into a message */
    { "sha256/\x01\x1b[31m==", "\\x01\\x1b[31m==" },
};

START_TEST(pin_parse_rejects)
{
    unsigned char pin[TLSPIN_PIN_LEN], before[TLSPIN_PIN_LEN];
    char err[512];

    memset(pin, 0x5a, sizeof(pin));
    memcpy(before, pin, sizeof(pin));
    ck_assert_int_eq(tlspin_pin_parse(pin_bad[_i].text, pin, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, pin_bad[_i].why) != NULL, "error \"%s\" lacks \"%s\"", err,
                  pin_bad[_i].why);
    ck_assert(memcmp(pin, before, sizeof(pin)) == 0); /* untouched on failure */
}
END_TEST

START_TEST(pin_parse_long_input)
{
    size_t len = 100000;
    char *text = malloc(len + 1);
    unsigned char pin[TLSPIN_PIN_LEN];
    char err[512];

    ck_assert_ptr_nonnull(text);
    memcpy(text, "sha256/", 7);
    memset(text + 7, 'A', len - 7);
    text[len] = '\0';
    ck_assert_int_eq(tlspin_pin_parse(text, pin, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    /* just past the pin length, but under the text cap */
    text[7 + 48] = '\0';
    ck_assert_int_eq(tlspin_pin_parse(text, pin, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "is 36 bytes"));
    free(text);
}
END_TEST

START_TEST(pin_parse_null_and_small_buffers)
{
    unsigned char pin[TLSPIN_PIN_LEN];
    char err[8];

    ck_assert_int_eq(tlspin_pin_parse(NULL, pin, err, sizeof(err)), -1);
    ck_assert_int_eq(tlspin_pin_parse("sha256/abc=", NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(tlspin_pin_parse("sha256/abc=", pin, NULL, 0), -1);
    ck_assert_int_eq(tlspin_pin_parse("sha256/abc=", pin, err, 0), -1);
    ck_assert_int_eq(tlspin_pin_parse("sha256/abc=", pin, err, sizeof(err)), -1);
    ck_assert_int_eq((int)strlen(err), (int)sizeof(err) - 1); /* cut, terminated */
    ck_assert_int_eq(tlspin_pin_parse(pin_good[0], pin, NULL, 0), 0);
}
END_TEST

START_TEST(pin_format_roundtrip)
{
    unsigned char pin[TLSPIN_PIN_LEN], back[TLSPIN_PIN_LEN];
    char text[TLSPIN_PIN_TEXT_MAX], err[256];
    char want[TLSPIN_PIN_TEXT_MAX];
    int round;

    seq_pin(pin);
    tlspin_pin_format(pin, text, sizeof(text));
    snprintf(want, sizeof(want), "sha256/%s", pin_seq_b64);
    ck_assert_str_eq(text, want);
    ck_assert_int_eq((int)strlen(text), 51);
    for (round = 0; round < 256; round++) {
        int i;
        for (i = 0; i < TLSPIN_PIN_LEN; i++)
            pin[i] = (unsigned char)(round * 37 + i * 101);
        tlspin_pin_format(pin, text, sizeof(text));
        ck_assert_int_eq(tlspin_pin_parse(text, back, err, sizeof(err)), 0);
        ck_assert(memcmp(pin, back, TLSPIN_PIN_LEN) == 0);
    }
}
END_TEST

START_TEST(pin_format_small_buffers)
{
    unsigned char pin[TLSPIN_PIN_LEN] = { 0 };
    char text[TLSPIN_PIN_TEXT_MAX];

    memset(text, 'x', sizeof(text));
    tlspin_pin_format(pin, text, 51); /* one short of the NUL */
    ck_assert_str_eq(text, "");
    tlspin_pin_format(pin, text, 52);
    ck_assert_int_eq((int)strlen(text), 51);
    tlspin_pin_format(NULL, text, sizeof(text));
    ck_assert_str_eq(text, "");
    tlspin_pin_format(pin, NULL, 64);
    tlspin_pin_format(pin, text, 0);
}
END_TEST

static Suite *pin_suite(void)
{
    Suite *s = suite_create("pin");
    TCase *b64 = tcase_create("base64");
    TCase *pins = tcase_create("pins");

    tcase_add_loop_test(b64, base64_rfc4648_vectors, 0, (int)N_ELEMS(rfc4648));
    tcase_add_loop_test(b64, base64_decode_rejects, 0, (int)N_ELEMS(base64_bad));
    tcase_add_test(b64, base64_decode_embedded_nul);
    tcase_add_test(b64, base64_decode_bounds);
    tcase_add_test(b64, base64_encode_bounds);
    tcase_add_test(b64, base64_roundtrip_all_lengths);
    suite_add_tcase(s, b64);

    tcase_add_loop_test(pins, pin_parse_accepts_spellings, 0, (int)N_ELEMS(pin_good));
    tcase_add_test(pins, pin_parse_slash_ambiguity);
    tcase_add_loop_test(pins, pin_parse_rejects, 0, (int)N_ELEMS(pin_bad));
    tcase_add_test(pins, pin_parse_long_input);
    tcase_add_test(pins, pin_parse_null_and_small_buffers);
    tcase_add_test(pins, pin_format_roundtrip);
    tcase_add_test(pins, pin_format_small_buffers);
    suite_add_tcase(s, pins);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pin_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
