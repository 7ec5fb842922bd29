/* der.h — walking DER by hand, for the few places where OpenSSL's template
 * decoder would take the program's stack too deep (issue 13, point 5: the
 * module's open() and check() run on the program's thread). Only headers
 * and lengths are read here; what a caller takes from the content it
 * checks itself. */
#ifndef TLSPIN_CT_DER_H
#define TLSPIN_CT_DER_H

/* One DER element in [p, end): its tag, class and content
 * [*c, *c + *clen) (a definite length, within end). 0, or -1 when
 * malformed. */
int der_elem(const unsigned char *p, const unsigned char *end, int *tag, int *cls,
             const unsigned char **c, long *clen);

/* The content of the first element of [p, end) with this tag and class
 * (the others skipped), or -1. */
int der_find(const unsigned char *p, const unsigned char *end, int tag, int cls,
             const unsigned char **c, long *clen);

/* 1 when the OBJECT IDENTIFIER content [c, c + len) names nid. */
int der_oid_is(const unsigned char *c, long len, int nid);

#endif
