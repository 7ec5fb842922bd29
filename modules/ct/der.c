/* See der.h. */
#include "der.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

int der_elem(const unsigned char *p, const unsigned char *end, int *tag, int *cls,
             const unsigned char **c, long *clen)
{
    const unsigned char *q = p;
    int ret;

    if (p >= end)
        return -1;
    ret = ASN1_get_object(&q, clen, tag, cls, end - p);
    /* 0x80: an error; 0x01: an indefinite length (not DER) */
    if ((ret & 0x80) != 0 || (ret & 0x01) != 0 || *clen < 0 || *clen > end - q)
        return -1;
    *c = q;
    return 0;
}

int der_find(const unsigned char *p, const unsigned char *end, int tag, int cls,
             const unsigned char **c, long *clen)
{
    while (p < end) {
        int t, k;
        if (der_elem(p, end, &t, &k, c, clen) != 0)
            return -1;
        if (t == tag && k == cls)
            return 0;
        p = *c + *clen;
    }
    return -1;
}

int der_oid_is(const unsigned char *c, long len, int nid)
{
    const ASN1_OBJECT *o = OBJ_nid2obj(nid);

    return o != NULL && len >= 0 && OBJ_length(o) == (size_t)len &&
           memcmp(OBJ_get0_data(o), c, (size_t)len) == 0;
}
