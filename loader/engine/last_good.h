/* The last good policy on disk (issue 12): a snapshot of a policy that
 * loaded cleanly, committed by root with `tlspin check --commit`, which a new
 * process enforces when the policy itself cannot be loaded.
 *
 * Layout, one snapshot per policy path:
 *   <statedir>/last-good/<sha256 of the policy path, hex>/
 *       current -> gen-<n>          (symlink, replaced with rename(2))
 *       gen-<n>/info                (path=..., committed=<epoch seconds>)
 *       gen-<n>/root/<absolute path> for the policy, every module's .so and
 *                                    every file and directory a module's
 *                                    watch() reports (what it reads)
 *       gen-<n-1>/                  (the previous generation, kept)
 * A generation is written whole under gen-<n>.tmp, synced, renamed, and only
 * then named by `current`: a reader follows `current` once and reads one
 * generation, never a mix. A generation is never modified after the rename.
 * Before use every directory from the state directory down and every file
 * must be owned by root and not writable by group or others, and only
 * directories and regular files may be in a generation (a symlink is
 * refused): whoever can write the snapshot could unpin every host.
 *
 * Why these choices:
 * - Written by an explicit root command, never by the engine: the shim does
 *   no work and no writes at load time, and "loaded cleanly" is not "is what
 *   the administrator wants" (a policy that dropped every pinset loads
 *   cleanly); committing is a deliberate act, like `nginx -t && reload`.
 * - Not under /etc: it is state, kept by tlspin, and must survive the very
 *   mistakes made in /etc (a whole pins.d removed, a package's conffile
 *   prompt answered wrong).
 * - Keyed by the policy path as the shim names it: every policy
 *   (TLSPIN_CONFIG ones too) falls back on its own last good state, never
 *   on another policy's.
 * - The module .so files are copied too: "a module that no longer loads" is
 *   one of the faults to survive (a package upgrade removed or broke it).
 * - The snapshot's modules read the snapshot because every absolute path in
 *   the policy that the snapshot holds is pointed into it before the
 *   modules open (last_good.c, rewrite_paths): no module needs to know.
 *   What a module reads without naming it in its args or its watch() is
 *   read live; an @include given by an absolute path is read live too. */
#ifndef TLSPIN_LAST_GOOD_H
#define TLSPIN_LAST_GOOD_H

#include "engine_export.h"

#include <stddef.h>
#include <time.h>

#include "policy.h"

/* $TLSPIN_STATE_DIR when the environment may be trusted (secure_getenv:
 * never in setuid/setcap programs; a test and packaging knob), else the
 * built-in <localstatedir>/lib/tlspin. */
TLSPIN_ENGINE_API const char *last_good_statedir(void);

/* Snapshots `p`, loaded from `path` and free of faults, as the new
 * generation for `path`. Root only. Returns 0, or -1 with why in err (the
 * previous snapshot is then untouched). */
TLSPIN_ENGINE_API int last_good_commit(const char *path, const struct policy *p,
                                       char *err, size_t errlen);

/* The last good policy of `path`, loaded from its snapshot with its
 * modules reading the snapshot's copies, or NULL: without a snapshot
 * `why` is "" ; with one that fails its checks or does not load cleanly,
 * `why` says why. Never returns a policy with a fault. */
TLSPIN_ENGINE_API struct policy *last_good_load(const char *path, const char *moduledir,
                                                char *why, size_t whylen);

/* Whether `path` has a usable snapshot: 1 with its commit time and its
 * generation directory, 0 without one, -1 with why when one exists but
 * fails its checks. Reads no module. */
TLSPIN_ENGINE_API int last_good_info(const char *path, time_t *committed, char *gendir,
                                     size_t gendirlen, char *why, size_t whylen);

#endif
