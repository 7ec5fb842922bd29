/* See sigbody.h. */
#include "sigbody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../file/host_index.h"
#include "../file/pinset.h"
#include "../file/pinset_parse.h"
#include "../file/strmap.h"

int sigbody_build(struct file_state *st, const struct tlspin_host *host, const char *name,
                  const char *body, size_t body_len, char *err, size_t errlen)
{
    const char *file;
    char *text;
    int r = -1;
    size_t i, j;

    st->host = host;
    file = pinset_list_add_file(&st->pinsets, name);
    text = malloc(body_len + 1);
    if (file == NULL || text == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        free(text);
        return -1;
    }
    memcpy(text, body, body_len);
    text[body_len] = '\0';
    if (pinset_parse_text(&st->pinsets, host, file, text, body_len, err, errlen) != 0)
        goto out;
    for (i = 0; i < st->pinsets.n; i++)
        for (j = 0; j < i; j++)
            if (strcmp(st->pinsets.items[i].name, st->pinsets.items[j].name) == 0) {
                snprintf(err, errlen, "%s:%u: pinset name \"%.128s\" is already used at line %u",
                         file, st->pinsets.items[i].line, st->pinsets.items[i].name,
                         st->pinsets.items[j].line);
                goto out;
            }
    if (host_index_build(&st->index, &st->pinsets, err, errlen) != 0)
        goto out;
    r = 0;
out:
    free(text);
    return r;
}

void sigbody_free(struct file_state *st)
{
    if (st == NULL)
        return;
    host_index_free(&st->index);
    pinset_list_free(&st->pinsets);
}
