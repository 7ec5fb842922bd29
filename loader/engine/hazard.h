/* Hazard pointers: how a thread says "I am using this object" without a
 * shared lock, so a reloaded policy can be freed only when nobody uses it. */
#ifndef TLSPIN_HAZARD_H
#define TLSPIN_HAZARD_H

#include <stdatomic.h>

/* Publishes and returns the object *shared points to, protected until
 * hazard_release(). Nested calls in one thread return the object the
 * outermost call published. NULL only if *shared is NULL or no slot could be
 * allocated (then the caller must not rely on protection: see
 * policy_current.c). */
const void *hazard_acquire(const void *_Atomic *shared);
void hazard_release(void);

/* 1 if some thread has `object` published. */
int hazard_in_use(const void *object);

#endif
