/* Linux-PAM's control flags, applied to pinning verdicts:
 *  required   FAIL/ERROR: the stack fails, the rest still runs.
 *  requisite  FAIL/ERROR: the stack fails now.
 *  sufficient PASS with no earlier required failure: the stack passes now;
 *             FAIL/ERROR: counts only if nothing else had an opinion.
 *  optional   PASS counts as a pass; FAIL/ERROR counts only if nothing else
 *             had an opinion.
 *  IGNORE under any flag: as if the entry were not there.
 * A stack where nobody had an opinion (all IGNORE, or empty) has no result;
 * the policy's `unpinned` decides. */
#include "stack.h"

#include <string.h>

void stack_begin(struct stack_eval *eval)
{
    memset(eval, 0, sizeof(*eval));
}

/* The entry that explains a DENY: the first genuine FAIL (a pin mismatch
 * says more than a broken neighbour), else the first ERROR. */
static void blame(int *has, size_t *where, int *blamed_genuine, size_t index, int genuine)
{
    if (!*has || (genuine && !*blamed_genuine)) {
        *has = 1;
        *where = index;
        *blamed_genuine = genuine;
    }
}

int stack_step(struct stack_eval *e, size_t index, enum control_flag control,
               tlspin_verdict verdict)
{
    int genuine = verdict == TLSPIN_FAIL;

    if (e->done || verdict == TLSPIN_IGNORE)
        return !e->done;
    if (verdict == TLSPIN_PASS) {
        if (control == CONTROL_SUFFICIENT) {
            if (!e->hard_failed) {
                e->done = 1;
                e->early = STACK_ALLOW;
                return 0;
            }
            return 1;   /* PAM: a sufficient success after a required failure is ignored */
        }
        e->passed = 1;
        return 1;
    }
    /* FAIL or ERROR (any other value a module returns counts as ERROR) */
    switch (control) {
    case CONTROL_REQUIRED:
    case CONTROL_REQUISITE:
        e->hard_failed = 1;
        blame(&e->has_hard_blame, &e->hard_blame, &e->hard_failed_genuine, index, genuine);
        if (control == CONTROL_REQUISITE) {
            e->done = 1;
            e->early = STACK_DENY;
            return 0;
        }
        return 1;
    case CONTROL_SUFFICIENT:
    case CONTROL_OPTIONAL:
    default:
        e->soft_failed = 1;
        blame(&e->has_soft_blame, &e->soft_blame, &e->soft_failed_genuine, index, genuine);
        return 1;
    }
}

struct stack_outcome stack_finish(const struct stack_eval *e)
{
    struct stack_outcome o = { STACK_NO_OPINION, 0, 0, 0 };

    if (e->hard_failed) {
        o.result = STACK_DENY;
        o.from_error = !e->hard_failed_genuine;
        o.has_blame = 1;
        o.blame = e->hard_blame;
    } else if (e->done) {
        o.result = e->early;   /* sufficient success */
    } else if (e->passed) {
        o.result = STACK_ALLOW;
    } else if (e->soft_failed) {
        o.result = STACK_DENY;
        o.from_error = !e->soft_failed_genuine;
        o.has_blame = 1;
        o.blame = e->soft_blame;
    }
    return o;
}

enum decision_action decision_action(struct stack_outcome o, enum policy_mode mode,
                                     int unpinned_deny, int on_error_allow)
{
    enum decision_action refuse = mode == MODE_REPORT ? ACTION_ALLOW_REPORT_ONLY : ACTION_BLOCK;

    switch (o.result) {
    case STACK_ALLOW:
        return ACTION_ALLOW;
    case STACK_NO_OPINION:
        return unpinned_deny ? refuse : ACTION_ALLOW;
    case STACK_DENY:
    default:
        if (o.from_error && on_error_allow)
            return ACTION_ALLOW_POLICY_ERROR;
        return refuse;
    }
}

const char *action_name(enum decision_action action)
{
    switch (action) {
    case ACTION_ALLOW: return "allowed";
    case ACTION_BLOCK: return "blocked";
    case ACTION_ALLOW_REPORT_ONLY: return "allowed-report-only";
    case ACTION_ALLOW_POLICY_ERROR: return "allowed-policy-error";
    }
    return "?";
}
