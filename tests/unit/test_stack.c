/*
 * test_stack.c — the PAM-style stack (stack_begin/stack_step/stack_finish)
 * and what the policy makes of its outcome (decision_action).
 *
 * docs/stack.md is the operator's copy of these tables: every row there is a
 * row of single_rows[], named_rows[], example_rows[] or action_rows[] below.
 * Change both or neither.
 *
 * The exhaustive two- and three-entry tests compare the engine with
 * reference_model(), written here from the rules at the top of
 * loader/engine/stack.c (and the blame rule of stack.h) and deliberately
 * shaped differently from the engine: it first finds where the stack stops,
 * then looks at the entries that were consulted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stack.h"

#define ANY_VALUE 7   /* a verdict no module should return: counts as ERROR */

struct entry {
    enum control_flag control;
    int verdict;              /* tlspin_verdict, or an out-of-range value */
};

/* Everything observable about one evaluation. */
struct expect {
    enum stack_result result;
    int from_error;
    int has_blame;
    size_t blame;
    size_t consulted;         /* entries fed before stack_step said "stop" */
    int stopped;              /* stack_step returned 0 (decided early) */
};

static const char *result_text(enum stack_result r)
{
    switch (r) {
    case STACK_ALLOW: return "ALLOW";
    case STACK_DENY: return "DENY";
    case STACK_NO_OPINION: return "NO_OPINION";
    }
    return "?";
}

static const char *verdict_text(int v)
{
    switch (v) {
    case TLSPIN_PASS: return "PASS";
    case TLSPIN_FAIL: return "FAIL";
    case TLSPIN_IGNORE: return "IGNORE";
    case TLSPIN_ERROR: return "ERROR";
    default: return "out-of-range";
    }
}

static void describe(char *buf, size_t len, const struct entry *e, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0)
        snprintf(buf, len, "(empty stack)");
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s %s(%d)", i ? ", " : "",
                         control_name(e[i].control), verdict_text(e[i].verdict), e[i].verdict);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Feeds the entries the way decide() does: stop at the first 0. Then keeps
 * feeding the rest to check that a decided stack stays decided. */
static struct expect run_engine(const struct entry *e, size_t n)
{
    struct stack_eval ev;
    struct stack_outcome o, again;
    struct expect got = { STACK_NO_OPINION, 0, 0, 0, 0, 0 };
    char what[512];

    describe(what, sizeof(what), e, n);
    stack_begin(&ev);
    for (size_t i = 0; i < n; i++) {
        got.consulted = i + 1;
        if (!stack_step(&ev, i, e[i].control, (tlspin_verdict)e[i].verdict)) {
            got.stopped = 1;
            break;
        }
    }
    o = stack_finish(&ev);
    got.result = o.result;
    got.from_error = o.from_error;
    got.has_blame = o.has_blame;
    got.blame = o.blame;

    if (got.stopped) {
        for (size_t i = got.consulted; i < n; i++)
            ck_assert_msg(stack_step(&ev, i, e[i].control, (tlspin_verdict)e[i].verdict) == 0,
                          "[%s] stack_step went on after the stack was decided", what);
        again = stack_finish(&ev);
        ck_assert_msg(again.result == o.result && again.from_error == o.from_error &&
                      again.has_blame == o.has_blame && again.blame == o.blame,
                      "[%s] entries fed after the stop changed the outcome", what);
    }
    return got;
}

static void assert_same(const char *what, struct expect got, struct expect want)
{
    ck_assert_msg(got.result == want.result, "[%s] result %s, expected %s", what,
                  result_text(got.result), result_text(want.result));
    ck_assert_msg(got.from_error == want.from_error, "[%s] from_error %d, expected %d", what,
                  got.from_error, want.from_error);
    ck_assert_msg(got.has_blame == want.has_blame, "[%s] has_blame %d, expected %d", what,
                  got.has_blame, want.has_blame);
    if (want.has_blame)
        ck_assert_msg(got.blame == want.blame, "[%s] blame %zu, expected %zu", what, got.blame,
                      want.blame);
    ck_assert_msg(got.consulted == want.consulted, "[%s] consulted %zu entries, expected %zu",
                  what, got.consulted, want.consulted);
    ck_assert_msg(got.stopped == want.stopped, "[%s] stopped %d, expected %d", what,
                  got.stopped, want.stopped);
}

/* ---------------------------------------------------------------------- */
/* The reference model                                                     */
/* ---------------------------------------------------------------------- */

static int model_verdict(int v)
{
    return v == TLSPIN_PASS || v == TLSPIN_FAIL || v == TLSPIN_IGNORE ? v : TLSPIN_ERROR;
}

static int is_failure(int v)
{
    v = model_verdict(v);
    return v == TLSPIN_FAIL || v == TLSPIN_ERROR;
}

static int is_hard(enum control_flag c)
{
    return c == CONTROL_REQUIRED || c == CONTROL_REQUISITE;
}

static struct expect reference_model(const struct entry *e, size_t n)
{
    struct expect x = { STACK_NO_OPINION, 0, 0, 0, n, 0 };
    size_t stop = n;
    int sufficient_pass = 0;

    /* 1. Where does the stack stop? At the first requisite FAIL/ERROR, or at
     *    the first sufficient PASS that has no required/requisite failure
     *    before it. IGNORE never stops anything. */
    for (size_t i = 0; i < n && stop == n; i++) {
        int hard_before = 0;
        for (size_t j = 0; j < i; j++)
            if (is_hard(e[j].control) && is_failure(e[j].verdict))
                hard_before = 1;
        if (e[i].control == CONTROL_REQUISITE && is_failure(e[i].verdict))
            stop = i;
        else if (e[i].control == CONTROL_SUFFICIENT && model_verdict(e[i].verdict) == TLSPIN_PASS &&
                 !hard_before) {
            stop = i;
            sufficient_pass = 1;
        }
    }
    if (stop < n) {
        x.stopped = 1;
        x.consulted = stop + 1;
    }

    /* 2. A required/requisite failure among the consulted entries denies;
     *    it is "from error" when every such failure was an ERROR. */
    int any_hard = 0, hard_genuine = 0, any_soft = 0, soft_genuine = 0, any_pass = 0;
    size_t first_hard = 0, first_soft = 0;
    for (size_t i = 0; i < x.consulted; i++) {
        int v = model_verdict(e[i].verdict);
        if (v == TLSPIN_IGNORE)
            continue;
        if (v == TLSPIN_PASS) {
            any_pass = 1;
        } else if (is_hard(e[i].control)) {
            /* blame: the first genuine FAIL, else the first ERROR */
            if (!any_hard || (v == TLSPIN_FAIL && !hard_genuine))
                first_hard = i;
            any_hard = 1;
            hard_genuine |= v == TLSPIN_FAIL;
        } else {
            if (!any_soft || (v == TLSPIN_FAIL && !soft_genuine))
                first_soft = i;
            any_soft = 1;
            soft_genuine |= v == TLSPIN_FAIL;
        }
    }
    if (any_hard) {
        x.result = STACK_DENY;
        x.from_error = !hard_genuine;
        x.has_blame = 1;
        x.blame = first_hard;
    } else if (sufficient_pass || any_pass) {
        /* 3. Otherwise any pass allows (a sufficient PASS after a required
         *    failure cannot get here: that stack is denied above). */
        x.result = STACK_ALLOW;
    } else if (any_soft) {
        /* 4. Sufficient/optional failures count only when nobody passed. */
        x.result = STACK_DENY;
        x.from_error = !soft_genuine;
        x.has_blame = 1;
        x.blame = first_soft;
    }
    /* 5. Nobody had an opinion: no result, `unpinned` decides. */
    return x;
}

/* ---------------------------------------------------------------------- */
/* One entry: every control x every verdict (docs/stack.md, per-flag tables) */
/* ---------------------------------------------------------------------- */

#define ALLOW_ROW(stop) { STACK_ALLOW, 0, 0, 0, 1, stop }
#define DENY_ROW(err, stop) { STACK_DENY, err, 1, 0, 1, stop }
#define NONE_ROW { STACK_NO_OPINION, 0, 0, 0, 1, 0 }

static const struct {
    struct entry e;
    struct expect want;
} single_rows[] = {
    { { CONTROL_REQUIRED, TLSPIN_PASS }, ALLOW_ROW(0) },
    { { CONTROL_REQUIRED, TLSPIN_FAIL }, DENY_ROW(0, 0) },
    { { CONTROL_REQUIRED, TLSPIN_IGNORE }, NONE_ROW },
    { { CONTROL_REQUIRED, TLSPIN_ERROR }, DENY_ROW(1, 0) },
    { { CONTROL_REQUIRED, ANY_VALUE }, DENY_ROW(1, 0) },

    { { CONTROL_REQUISITE, TLSPIN_PASS }, ALLOW_ROW(0) },
    { { CONTROL_REQUISITE, TLSPIN_FAIL }, DENY_ROW(0, 1) },
    { { CONTROL_REQUISITE, TLSPIN_IGNORE }, NONE_ROW },
    { { CONTROL_REQUISITE, TLSPIN_ERROR }, DENY_ROW(1, 1) },
    { { CONTROL_REQUISITE, ANY_VALUE }, DENY_ROW(1, 1) },

    { { CONTROL_SUFFICIENT, TLSPIN_PASS }, ALLOW_ROW(1) },
    { { CONTROL_SUFFICIENT, TLSPIN_FAIL }, DENY_ROW(0, 0) },
    { { CONTROL_SUFFICIENT, TLSPIN_IGNORE }, NONE_ROW },
    { { CONTROL_SUFFICIENT, TLSPIN_ERROR }, DENY_ROW(1, 0) },
    { { CONTROL_SUFFICIENT, ANY_VALUE }, DENY_ROW(1, 0) },

    { { CONTROL_OPTIONAL, TLSPIN_PASS }, ALLOW_ROW(0) },
    { { CONTROL_OPTIONAL, TLSPIN_FAIL }, DENY_ROW(0, 0) },
    { { CONTROL_OPTIONAL, TLSPIN_IGNORE }, NONE_ROW },
    { { CONTROL_OPTIONAL, TLSPIN_ERROR }, DENY_ROW(1, 0) },
    { { CONTROL_OPTIONAL, ANY_VALUE }, DENY_ROW(1, 0) },
};
#define N_SINGLE (int)(sizeof(single_rows) / sizeof(single_rows[0]))

START_TEST(single_entry)
{
    char what[128];
    describe(what, sizeof(what), &single_rows[_i].e, 1);
    assert_same(what, run_engine(&single_rows[_i].e, 1), single_rows[_i].want);
    /* The hand-written row also checks the model the big tables rely on. */
    assert_same("reference model", reference_model(&single_rows[_i].e, 1), single_rows[_i].want);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Two and three entries, every combination, against the model             */
/* ---------------------------------------------------------------------- */

static struct entry pair_entry(int k)   /* k in 0..15: control x verdict */
{
    struct entry e = { (enum control_flag)(k / 4), k % 4 };
    return e;
}

START_TEST(two_entries)
{
    struct entry e[2] = { pair_entry(_i / 16), pair_entry(_i % 16) };
    char what[256];

    describe(what, sizeof(what), e, 2);
    assert_same(what, run_engine(e, 2), reference_model(e, 2));
}
END_TEST

/* A value outside the enum behaves exactly like ERROR wherever it stands. */
START_TEST(two_entries_out_of_range_is_error)
{
    struct entry e[2] = { pair_entry(_i / 16), pair_entry(_i % 16) };
    struct entry odd[2] = { e[0], e[1] };
    char what[256];

    for (int k = 0; k < 2; k++)
        if (odd[k].verdict == TLSPIN_ERROR)
            odd[k].verdict = k ? -1 : ANY_VALUE;
    describe(what, sizeof(what), odd, 2);
    assert_same(what, run_engine(odd, 2), run_engine(e, 2));
}
END_TEST

START_TEST(three_entries)
{
    char what[256];
    for (int a = 0; a < 16; a++)
        for (int b = 0; b < 16; b++)
            for (int c = 0; c < 16; c++) {
                struct entry e[3] = { pair_entry(a), pair_entry(b), pair_entry(c) };
                describe(what, sizeof(what), e, 3);
                assert_same(what, run_engine(e, 3), reference_model(e, 3));
            }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The cases people ask about (docs/stack.md, end-of-stack rules)          */
/* ---------------------------------------------------------------------- */

#define REQ CONTROL_REQUIRED
#define RQS CONTROL_REQUISITE
#define SUF CONTROL_SUFFICIENT
#define OPT CONTROL_OPTIONAL
#define P TLSPIN_PASS
#define F TLSPIN_FAIL
#define I TLSPIN_IGNORE
#define E TLSPIN_ERROR

static const struct {
    const char *name;
    size_t n;
    struct entry e[3];
    struct expect want;
} named_rows[] = {
    { "a module failed to load, required", 1, { { REQ, E } },
      { STACK_DENY, 1, 1, 0, 1, 0 } },
    { "a module failed to load, requisite", 1, { { RQS, E } },
      { STACK_DENY, 1, 1, 0, 1, 1 } },
    { "a module failed to load, sufficient", 1, { { SUF, E } },
      { STACK_DENY, 1, 1, 0, 1, 0 } },
    { "a module failed to load, optional", 1, { { OPT, E } },
      { STACK_DENY, 1, 1, 0, 1, 0 } },
    { "a module failed to load, required, another required passes", 2, { { REQ, E }, { REQ, P } },
      { STACK_DENY, 1, 1, 0, 2, 0 } },
    { "a module failed to load, optional, another optional passes", 2, { { OPT, E }, { OPT, P } },
      { STACK_ALLOW, 0, 0, 0, 2, 0 } },
    { "all IGNORE", 3, { { REQ, I }, { SUF, I }, { OPT, I } },
      { STACK_NO_OPINION, 0, 0, 0, 3, 0 } },
    { "empty stack", 0, { { REQ, P } },
      { STACK_NO_OPINION, 0, 0, 0, 0, 0 } },
    { "required FAIL then sufficient PASS: still DENY", 2, { { REQ, F }, { SUF, P } },
      { STACK_DENY, 0, 1, 0, 2, 0 } },
    { "sufficient PASS stops before a later required FAIL", 2, { { SUF, P }, { REQ, F } },
      { STACK_ALLOW, 0, 0, 0, 1, 1 } },
    { "requisite FAIL stops", 3, { { RQS, F }, { REQ, P }, { SUF, P } },
      { STACK_DENY, 0, 1, 0, 1, 1 } },
    { "optional FAIL alone denies", 1, { { OPT, F } },
      { STACK_DENY, 0, 1, 0, 1, 0 } },
    { "optional FAIL + optional PASS allows", 2, { { OPT, F }, { OPT, P } },
      { STACK_ALLOW, 0, 0, 0, 2, 0 } },
    { "required ERROR + required FAIL is a genuine deny, blamed on the FAIL", 2,
      { { REQ, E }, { REQ, F } }, { STACK_DENY, 0, 1, 1, 2, 0 } },
    { "sufficient FAIL + required PASS allows", 2, { { SUF, F }, { REQ, P } },
      { STACK_ALLOW, 0, 0, 0, 2, 0 } },
    { "optional FAIL + sufficient PASS allows early", 3, { { OPT, F }, { SUF, P }, { REQ, F } },
      { STACK_ALLOW, 0, 0, 0, 2, 1 } },
    { "optional ERROR + optional FAIL is a genuine deny, blamed on the FAIL", 2,
      { { OPT, E }, { OPT, F } }, { STACK_DENY, 0, 1, 1, 2, 0 } },
    { "a soft failure does not decide when a required entry failed", 2,
      { { OPT, F }, { REQ, E } }, { STACK_DENY, 1, 1, 1, 2, 0 } },
    { "IGNORE between failures changes nothing", 3, { { OPT, I }, { REQ, F }, { OPT, I } },
      { STACK_DENY, 0, 1, 1, 3, 0 } },
};
#define N_NAMED (int)(sizeof(named_rows) / sizeof(named_rows[0]))

START_TEST(named_cases)
{
    assert_same(named_rows[_i].name, run_engine(named_rows[_i].e, named_rows[_i].n),
                named_rows[_i].want);
    assert_same(named_rows[_i].name, reference_model(named_rows[_i].e, named_rows[_i].n),
                named_rows[_i].want);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* What the policy does with the outcome (docs/stack.md, final action)     */
/* ---------------------------------------------------------------------- */

enum outcome_kind { OUT_ALLOW, OUT_NO_OPINION, OUT_DENY, OUT_DENY_ERROR };

static struct stack_outcome make_outcome(enum outcome_kind k)
{
    struct stack_outcome o = { STACK_ALLOW, 0, 0, 0 };
    switch (k) {
    case OUT_ALLOW: break;
    case OUT_NO_OPINION: o.result = STACK_NO_OPINION; break;
    case OUT_DENY: o.result = STACK_DENY; o.has_blame = 1; break;
    case OUT_DENY_ERROR: o.result = STACK_DENY; o.from_error = 1; o.has_blame = 1; break;
    }
    return o;
}

#define ENF MODE_ENFORCE
#define REP MODE_REPORT
#define U_ALLOW 0
#define U_DENY 1
#define ERR_DENY 0
#define ERR_ALLOW 1

static const struct {
    enum outcome_kind outcome;
    enum policy_mode mode;
    int unpinned_deny, on_error_allow;
    enum decision_action want;
} action_rows[] = {
    { OUT_ALLOW, ENF, U_ALLOW, ERR_DENY, ACTION_ALLOW },
    { OUT_ALLOW, ENF, U_ALLOW, ERR_ALLOW, ACTION_ALLOW },
    { OUT_ALLOW, ENF, U_DENY, ERR_DENY, ACTION_ALLOW },
    { OUT_ALLOW, ENF, U_DENY, ERR_ALLOW, ACTION_ALLOW },
    { OUT_ALLOW, REP, U_ALLOW, ERR_DENY, ACTION_ALLOW },
    { OUT_ALLOW, REP, U_ALLOW, ERR_ALLOW, ACTION_ALLOW },
    { OUT_ALLOW, REP, U_DENY, ERR_DENY, ACTION_ALLOW },
    { OUT_ALLOW, REP, U_DENY, ERR_ALLOW, ACTION_ALLOW },

    { OUT_NO_OPINION, ENF, U_ALLOW, ERR_DENY, ACTION_ALLOW },
    { OUT_NO_OPINION, ENF, U_ALLOW, ERR_ALLOW, ACTION_ALLOW },
    { OUT_NO_OPINION, ENF, U_DENY, ERR_DENY, ACTION_BLOCK },
    { OUT_NO_OPINION, ENF, U_DENY, ERR_ALLOW, ACTION_BLOCK },
    { OUT_NO_OPINION, REP, U_ALLOW, ERR_DENY, ACTION_ALLOW },
    { OUT_NO_OPINION, REP, U_ALLOW, ERR_ALLOW, ACTION_ALLOW },
    { OUT_NO_OPINION, REP, U_DENY, ERR_DENY, ACTION_ALLOW_REPORT_ONLY },
    { OUT_NO_OPINION, REP, U_DENY, ERR_ALLOW, ACTION_ALLOW_REPORT_ONLY },

    { OUT_DENY, ENF, U_ALLOW, ERR_DENY, ACTION_BLOCK },
    { OUT_DENY, ENF, U_ALLOW, ERR_ALLOW, ACTION_BLOCK },
    { OUT_DENY, ENF, U_DENY, ERR_DENY, ACTION_BLOCK },
    { OUT_DENY, ENF, U_DENY, ERR_ALLOW, ACTION_BLOCK },
    { OUT_DENY, REP, U_ALLOW, ERR_DENY, ACTION_ALLOW_REPORT_ONLY },
    { OUT_DENY, REP, U_ALLOW, ERR_ALLOW, ACTION_ALLOW_REPORT_ONLY },
    { OUT_DENY, REP, U_DENY, ERR_DENY, ACTION_ALLOW_REPORT_ONLY },
    { OUT_DENY, REP, U_DENY, ERR_ALLOW, ACTION_ALLOW_REPORT_ONLY },

    { OUT_DENY_ERROR, ENF, U_ALLOW, ERR_DENY, ACTION_BLOCK },
    { OUT_DENY_ERROR, ENF, U_ALLOW, ERR_ALLOW, ACTION_ALLOW_POLICY_ERROR },
    { OUT_DENY_ERROR, ENF, U_DENY, ERR_DENY, ACTION_BLOCK },
    { OUT_DENY_ERROR, ENF, U_DENY, ERR_ALLOW, ACTION_ALLOW_POLICY_ERROR },
    { OUT_DENY_ERROR, REP, U_ALLOW, ERR_DENY, ACTION_ALLOW_REPORT_ONLY },
    { OUT_DENY_ERROR, REP, U_ALLOW, ERR_ALLOW, ACTION_ALLOW_POLICY_ERROR },
    { OUT_DENY_ERROR, REP, U_DENY, ERR_DENY, ACTION_ALLOW_REPORT_ONLY },
    { OUT_DENY_ERROR, REP, U_DENY, ERR_ALLOW, ACTION_ALLOW_POLICY_ERROR },
};
#define N_ACTION (int)(sizeof(action_rows) / sizeof(action_rows[0]))

START_TEST(final_action)
{
    static const char *const outcome_names[] = { "ALLOW", "NO_OPINION", "DENY", "DENY(error)" };
    enum decision_action got = decision_action(make_outcome(action_rows[_i].outcome),
                                               action_rows[_i].mode,
                                               action_rows[_i].unpinned_deny,
                                               action_rows[_i].on_error_allow);
    ck_assert_msg(got == action_rows[_i].want,
                  "%s mode=%s unpinned=%s on_error=%s: %s, expected %s",
                  outcome_names[action_rows[_i].outcome],
                  action_rows[_i].mode == MODE_REPORT ? "report" : "enforce",
                  action_rows[_i].unpinned_deny ? "deny" : "allow",
                  action_rows[_i].on_error_allow ? "allow" : "deny", action_name(got),
                  action_name(action_rows[_i].want));
}
END_TEST

/* The table covers every combination exactly once. */
START_TEST(final_action_table_is_complete)
{
    int seen[4][2][2][2];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N_ACTION; i++)
        seen[action_rows[i].outcome][action_rows[i].mode][action_rows[i].unpinned_deny]
            [action_rows[i].on_error_allow]++;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int d = 0; d < 2; d++)
                    ck_assert_msg(seen[a][b][c][d] == 1, "combination %d/%d/%d/%d listed %d times",
                                  a, b, c, d, seen[a][b][c][d]);
}
END_TEST

START_TEST(action_names)
{
    ck_assert_str_eq(action_name(ACTION_ALLOW), "allowed");
    ck_assert_str_eq(action_name(ACTION_BLOCK), "blocked");
    ck_assert_str_eq(action_name(ACTION_ALLOW_REPORT_ONLY), "allowed-report-only");
    ck_assert_str_eq(action_name(ACTION_ALLOW_POLICY_ERROR), "allowed-policy-error");
    ck_assert_str_eq(action_name((enum decision_action)42), "?");
    ck_assert_str_eq(control_name(CONTROL_REQUIRED), "required");
    ck_assert_str_eq(control_name(CONTROL_REQUISITE), "requisite");
    ck_assert_str_eq(control_name(CONTROL_SUFFICIENT), "sufficient");
    ck_assert_str_eq(control_name(CONTROL_OPTIONAL), "optional");
    ck_assert_str_eq(control_name((enum control_flag)9), "?");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Worked example stacks (docs/stack.md, "Worked examples")                */
/* ---------------------------------------------------------------------- */

/* `file` is the pin-file module: PASS on a pinned match, FAIL on a pinned
 * mismatch, IGNORE for a host without a pinset, ERROR when it failed to
 * load. `ct` stands for any second module; its verdict is given per row. */
static const struct {
    const char *example;
    const char *scenario;
    size_t n;
    struct entry e[2];
    enum policy_mode mode;
    int unpinned_deny, on_error_allow;
    struct expect want;
    enum decision_action action;
} example_rows[] = {
    /* 1. file required (the shipped default) */
    { "1", "pinned-match", 1, { { REQ, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 1, 0 }, ACTION_ALLOW },
    { "1", "pinned-mismatch", 1, { { REQ, F } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_DENY, 0, 1, 0, 1, 0 }, ACTION_BLOCK },
    { "1", "unpinned", 1, { { REQ, I } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_NO_OPINION, 0, 0, 0, 1, 0 }, ACTION_ALLOW },
    { "1", "module-failed-to-load", 1, { { REQ, E } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_DENY, 1, 1, 0, 1, 0 }, ACTION_BLOCK },

    /* 2. file required, unpinned = "deny", on_error = "allow" */
    { "2", "pinned-match", 1, { { REQ, P } }, ENF, U_DENY, ERR_ALLOW,
      { STACK_ALLOW, 0, 0, 0, 1, 0 }, ACTION_ALLOW },
    { "2", "pinned-mismatch", 1, { { REQ, F } }, ENF, U_DENY, ERR_ALLOW,
      { STACK_DENY, 0, 1, 0, 1, 0 }, ACTION_BLOCK },
    { "2", "unpinned", 1, { { REQ, I } }, ENF, U_DENY, ERR_ALLOW,
      { STACK_NO_OPINION, 0, 0, 0, 1, 0 }, ACTION_BLOCK },
    { "2", "module-failed-to-load", 1, { { REQ, E } }, ENF, U_DENY, ERR_ALLOW,
      { STACK_DENY, 1, 1, 0, 1, 0 }, ACTION_ALLOW_POLICY_ERROR },

    /* 3. file required, mode = "report" */
    { "3", "pinned-match", 1, { { REQ, P } }, REP, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 1, 0 }, ACTION_ALLOW },
    { "3", "pinned-mismatch", 1, { { REQ, F } }, REP, U_ALLOW, ERR_DENY,
      { STACK_DENY, 0, 1, 0, 1, 0 }, ACTION_ALLOW_REPORT_ONLY },
    { "3", "unpinned", 1, { { REQ, I } }, REP, U_ALLOW, ERR_DENY,
      { STACK_NO_OPINION, 0, 0, 0, 1, 0 }, ACTION_ALLOW },
    { "3", "module-failed-to-load", 1, { { REQ, E } }, REP, U_ALLOW, ERR_DENY,
      { STACK_DENY, 1, 1, 0, 1, 0 }, ACTION_ALLOW_REPORT_ONLY },

    /* 4. file sufficient + ct required (ct passes) */
    { "4", "pinned-match", 2, { { SUF, P }, { REQ, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 1, 1 }, ACTION_ALLOW },
    { "4", "pinned-mismatch", 2, { { SUF, F }, { REQ, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "4", "unpinned", 2, { { SUF, I }, { REQ, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "4", "module-failed-to-load", 2, { { SUF, E }, { REQ, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "4", "pinned-mismatch, ct fails", 2, { { SUF, F }, { REQ, F } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_DENY, 0, 1, 1, 2, 0 }, ACTION_BLOCK },

    /* 5. file requisite + ct optional (ct passes) */
    { "5", "pinned-match", 2, { { RQS, P }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "5", "pinned-mismatch", 2, { { RQS, F }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_DENY, 0, 1, 0, 1, 1 }, ACTION_BLOCK },
    { "5", "unpinned", 2, { { RQS, I }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "5", "module-failed-to-load", 2, { { RQS, E }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_DENY, 1, 1, 0, 1, 1 }, ACTION_BLOCK },

    /* 6. file optional + ct optional (ct passes) */
    { "6", "pinned-match", 2, { { OPT, P }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "6", "pinned-mismatch", 2, { { OPT, F }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "6", "unpinned", 2, { { OPT, I }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "6", "module-failed-to-load", 2, { { OPT, E }, { OPT, P } }, ENF, U_ALLOW, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },

    /* 7. ct required + file required, on_error = "allow" (ct passes) */
    { "7", "pinned-match", 2, { { REQ, P }, { REQ, P } }, ENF, U_ALLOW, ERR_ALLOW,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "7", "pinned-mismatch", 2, { { REQ, P }, { REQ, F } }, ENF, U_ALLOW, ERR_ALLOW,
      { STACK_DENY, 0, 1, 1, 2, 0 }, ACTION_BLOCK },
    { "7", "unpinned", 2, { { REQ, P }, { REQ, I } }, ENF, U_ALLOW, ERR_ALLOW,
      { STACK_ALLOW, 0, 0, 0, 2, 0 }, ACTION_ALLOW },
    { "7", "module-failed-to-load", 2, { { REQ, P }, { REQ, E } }, ENF, U_ALLOW, ERR_ALLOW,
      { STACK_DENY, 1, 1, 1, 2, 0 }, ACTION_ALLOW_POLICY_ERROR },
    { "7", "pinned-mismatch, ct failed to load", 2, { { REQ, E }, { REQ, F } }, ENF, U_ALLOW,
      ERR_ALLOW, { STACK_DENY, 0, 1, 1, 2, 0 }, ACTION_BLOCK },

    /* 8. file sufficient + ct requisite, unpinned = "deny" (ct has no opinion) */
    { "8", "pinned-match", 2, { { SUF, P }, { RQS, I } }, ENF, U_DENY, ERR_DENY,
      { STACK_ALLOW, 0, 0, 0, 1, 1 }, ACTION_ALLOW },
    { "8", "pinned-mismatch", 2, { { SUF, F }, { RQS, I } }, ENF, U_DENY, ERR_DENY,
      { STACK_DENY, 0, 1, 0, 2, 0 }, ACTION_BLOCK },
    { "8", "unpinned", 2, { { SUF, I }, { RQS, I } }, ENF, U_DENY, ERR_DENY,
      { STACK_NO_OPINION, 0, 0, 0, 2, 0 }, ACTION_BLOCK },
    { "8", "module-failed-to-load", 2, { { SUF, E }, { RQS, I } }, ENF, U_DENY, ERR_DENY,
      { STACK_DENY, 1, 1, 0, 2, 0 }, ACTION_BLOCK },
};
#define N_EXAMPLE (int)(sizeof(example_rows) / sizeof(example_rows[0]))

START_TEST(worked_examples)
{
    char what[256];
    snprintf(what, sizeof(what), "example %s, %s", example_rows[_i].example,
             example_rows[_i].scenario);
    struct expect got = run_engine(example_rows[_i].e, example_rows[_i].n);
    assert_same(what, got, example_rows[_i].want);
    assert_same(what, reference_model(example_rows[_i].e, example_rows[_i].n),
                example_rows[_i].want);

    struct stack_outcome o = { got.result, got.from_error, got.has_blame, got.blame };
    enum decision_action a = decision_action(o, example_rows[_i].mode,
                                             example_rows[_i].unpinned_deny,
                                             example_rows[_i].on_error_allow);
    ck_assert_msg(a == example_rows[_i].action, "[%s] %s, expected %s", what, action_name(a),
                  action_name(example_rows[_i].action));
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc;

    tc = tcase_create("single_entry");
    tcase_add_loop_test(tc, single_entry, 0, N_SINGLE);
    suite_add_tcase(s, tc);

    tc = tcase_create("combinations");
    tcase_add_loop_test(tc, two_entries, 0, 256);
    tcase_add_loop_test(tc, two_entries_out_of_range_is_error, 0, 256);
    tcase_add_test(tc, three_entries);
    suite_add_tcase(s, tc);

    tc = tcase_create("named");
    tcase_add_loop_test(tc, named_cases, 0, N_NAMED);
    suite_add_tcase(s, tc);

    tc = tcase_create("action");
    tcase_add_loop_test(tc, final_action, 0, N_ACTION);
    tcase_add_test(tc, final_action_table_is_complete);
    tcase_add_test(tc, action_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("examples");
    tcase_add_loop_test(tc, worked_examples, 0, N_EXAMPLE);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stack_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
