/* The PAM-style combination of module verdicts, and what the policy makes of
 * the result. Pure functions: the truth table in README.md is tested here. */
#ifndef TLSPIN_STACK_H
#define TLSPIN_STACK_H

#include "engine_export.h"

#include <stddef.h>
#include <tlspin/module.h>

#include "config.h"

enum stack_result { STACK_ALLOW, STACK_DENY, STACK_NO_OPINION };

struct stack_eval {
    int hard_failed, hard_failed_genuine;   /* required/requisite FAIL or ERROR */
    int soft_failed, soft_failed_genuine;   /* sufficient/optional FAIL or ERROR */
    int passed;
    int done;                               /* decided before the end */
    enum stack_result early;
    int has_hard_blame, has_soft_blame;
    size_t hard_blame, soft_blame;          /* first genuine FAIL of each kind, else
                                               the first ERROR */
};

struct stack_outcome {
    enum stack_result result;
    int from_error;     /* a DENY caused by ERROR verdicts alone (on_error applies) */
    int has_blame;
    size_t blame;       /* the entry whose finding explains a DENY: the first
                           genuine FAIL, else the first ERROR */
};

void stack_begin(struct stack_eval *eval);
/* Feeds the verdict of entry `index`. Returns 1 to go on with the next entry,
 * 0 when the stack is decided (requisite failure, sufficient success). */
int stack_step(struct stack_eval *eval, size_t index, enum control_flag control,
               tlspin_verdict verdict);
struct stack_outcome stack_finish(const struct stack_eval *eval);

enum decision_action {
    ACTION_ALLOW,               /* let the handshake go on */
    ACTION_BLOCK,               /* refuse it */
    ACTION_ALLOW_REPORT_ONLY,   /* would block, but mode = report */
    ACTION_ALLOW_POLICY_ERROR   /* would block for an error, but on_error = allow */
};

/* What the policy does with a stack outcome. */
enum decision_action decision_action(struct stack_outcome outcome, enum policy_mode mode,
                                     int unpinned_deny, int on_error_allow);
TLSPIN_ENGINE_API const char *action_name(enum decision_action action);

#endif
