/* Streaming JSON (see json_out.h). */
#include "json_out.h"

#include "utf8.h"

#include <stddef.h>
#include <string.h>

void json_write_string(FILE *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;

    fputc('"', out);
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\\ufffd", out);
            s++;
        } else if (n > 1) {
            fwrite(s, 1, n, out);
            s += n;
        } else {
            switch (*s) {
            case '"': fputs("\\\"", out); break;
            case '\\': fputs("\\\\", out); break;
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default:
                if (*s < 0x20 || *s == 0x7f)
                    fprintf(out, "\\u%04x", *s);
                else
                    fputc(*s, out);
            }
            s++;
        }
    }
    fputc('"', out);
}

static void indent(struct json *j)
{
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Comma, newline and indentation before a value, then its key if the
 * enclosing container is an object (key given). */
static void prefix(struct json *j, const char *key)
{
    int level = j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH;
    if (j->depth > 0) {
        if (j->members[level])
            fputc(',', j->out);
        indent(j);
    }
    j->members[level] = 1;
    if (key != NULL && j->depth > 0 && !j->array[level]) {
        json_write_string(j->out, key);
        fputs(": ", j->out);
    }
}

static void open_container(struct json *j, const char *key, char c)
{
    prefix(j, key);
    fputc(c, j->out);
    j->depth++;
    if (j->depth <= JSON_MAX_DEPTH) {
        j->members[j->depth] = 0;
        j->array[j->depth] = c == '[';
    }
}

static void close_container(struct json *j, char c)
{
    int level = j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH;
    int had = j->members[level];
    if (j->depth > 0)
        j->depth--;
    if (had)
        indent(j);
    fputc(c, j->out);
}

void json_begin(struct json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

void json_end(struct json *j)
{
    fputc('\n', j->out);
    fflush(j->out);
}

void json_object_open(struct json *j, const char *key) { open_container(j, key, '{'); }
void json_object_close(struct json *j) { close_container(j, '}'); }
void json_array_open(struct json *j, const char *key) { open_container(j, key, '['); }
void json_array_close(struct json *j) { close_container(j, ']'); }

void json_str(struct json *j, const char *key, const char *value)
{
    prefix(j, key);
    if (value == NULL)
        fputs("null", j->out);
    else
        json_write_string(j->out, value);
}

void json_int(struct json *j, const char *key, long long value)
{
    prefix(j, key);
    fprintf(j->out, "%lld", value);
}

void json_bool(struct json *j, const char *key, int value)
{
    prefix(j, key);
    fputs(value ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
    prefix(j, key);
    fputs("null", j->out);
}
