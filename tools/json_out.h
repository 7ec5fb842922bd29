/* json_out — a small streaming JSON writer for the tlspin command's --json.
 *
 * Writes indented JSON straight to a FILE. Commas, nesting and string
 * escaping are handled here; bytes that are not valid UTF-8 (certificate
 * subjects carry anything) become U+FFFD, control characters \uXXXX, so the
 * output is always valid JSON.
 *
 *     struct json j;
 *     json_begin(&j, stdout);
 *     json_object_open(&j, NULL);          // key NULL: top level / in arrays
 *     json_str(&j, "host", "example.com");
 *     json_int(&j, "port", 443);
 *     json_array_open(&j, "pins");
 *     json_str(&j, NULL, "sha256/...");
 *     json_array_close(&j);
 *     json_object_close(&j);
 *     json_end(&j);                        // final newline
 *
 * Inside an object every value needs a key; inside an array keys are
 * ignored. Nesting deeper than JSON_MAX_DEPTH is silently flattened (never
 * needed by the command). */
#ifndef TLSPIN_JSON_OUT_H
#define TLSPIN_JSON_OUT_H

#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
    FILE *out;
    int depth;
    unsigned char members[JSON_MAX_DEPTH + 1];   /* values written at each level */
    unsigned char array[JSON_MAX_DEPTH + 1];     /* 1: that level is an array */
};

void json_begin(struct json *j, FILE *out);
void json_end(struct json *j);

void json_object_open(struct json *j, const char *key);
void json_object_close(struct json *j);
void json_array_open(struct json *j, const char *key);
void json_array_close(struct json *j);

/* A string; NULL writes null. */
void json_str(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, long long value);
void json_bool(struct json *j, const char *key, int value);
void json_null(struct json *j, const char *key);

/* Writes `text` as a quoted, escaped JSON string (no key, no comma). */
void json_write_string(FILE *out, const char *text);

#endif
