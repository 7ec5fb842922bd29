/* hostport.c — split "HOST:PORT" / "[V6]:PORT" (see hostport.h). */
#include "hostport.h"

#include <stdlib.h>
#include <string.h>

int hostport_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon, *h = text;
    size_t hl;
    char *end;
    unsigned long p;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (!close || close[1] != ':')
            return -1;
        h = text + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - text);
        /* An unbracketed IPv6 literal is ambiguous: refuse it. */
        if (memchr(text, ':', hl))
            return -1;
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) >= portlen || colon[1] == '\0')
        return -1;
    p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535 || colon[1] == '-' || colon[1] == '+')
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    return 0;
}
