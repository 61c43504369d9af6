/* The LBS attempt budgets (src/osapd/lbs/lbs_budget.c) and their table: N
 * failures per window, growing refusals, reservations of attempts under way,
 * forgiveness, independence of keys, the size limit. Time is passed in. */
#include "testutil.h"

#include "lbs/lbs_internal.h"

#include <stdio.h>
#include <string.h>

#define MINUTE 60000

static struct lbs_budget *budget(int64_t failures, size_t entries)
{
    struct lbs_budget_config c = {failures, 10 * MINUTE, MINUTE, 60 * MINUTE, entries};
    struct lbs_budget *b = NULL;
    assert_int_equal(lbs_budget_new(&c, &b), OSAP_OK);
    return b;
}

static void test_n_failures_then_refusal(void **state)
{
    struct lbs_budget *b = budget(3, 100);
    int64_t t = 1000;
    (void)state;

    assert_int_equal(lbs_budget_refused(b, "Q1", t), 0);
    assert_int_equal(lbs_budget_fail(b, "Q1", t), 0);
    assert_int_equal(lbs_budget_fail(b, "Q1", t), 0);
    assert_int_equal(lbs_budget_refused(b, "Q1", t), 0);
    /* the third failure spends the budget: refused for 1 min */
    assert_int_equal(lbs_budget_fail(b, "Q1", t), MINUTE);
    assert_int_equal(lbs_budget_refused(b, "Q1", t), MINUTE);
    assert_int_equal(lbs_budget_refused(b, "Q1", t + MINUTE - 1), 1);
    assert_int_equal(lbs_budget_refused(b, "Q1", t + MINUTE), 0);
    /* one token has refilled (3 per 10 min: 1 per 200 s)... after 200 s */
    t += 200000;
    assert_int_equal(lbs_budget_refused(b, "Q1", t), 0);
    /* ...and the next failure refuses for twice as long, then four times */
    assert_int_equal(lbs_budget_fail(b, "Q1", t), 2 * MINUTE);
    t += 2 * MINUTE + 200000;
    assert_int_equal(lbs_budget_fail(b, "Q1", t), 4 * MINUTE);
    /* once the bucket is full again, the next refusal starts from 1 min */
    t += 60 * MINUTE;
    for (int i = 0; i < 2; i++)
        assert_int_equal(lbs_budget_fail(b, "Q1", t), 0);
    assert_int_equal(lbs_budget_fail(b, "Q1", t), MINUTE);
    lbs_budget_free(b);
}

static void test_refusal_is_capped(void **state)
{
    struct lbs_budget *b = budget(1, 100);
    int64_t t = 0, last = 0;
    (void)state;

    for (int i = 0; i < 20; i++) {
        last = lbs_budget_fail(b, "Q1", t);
        t += last;
    }
    assert_int_equal(last, 60 * MINUTE);
    lbs_budget_free(b);
}

static void test_keys_are_independent_and_forgiven(void **state)
{
    struct lbs_budget *b = budget(2, 100);
    (void)state;

    lbs_budget_fail(b, "Q1", 0);
    assert_int_equal(lbs_budget_fail(b, "Q1", 0), MINUTE);
    assert_int_equal(lbs_budget_refused(b, "Q2", 0), 0);
    assert_int_equal(lbs_budget_fail(b, "Q2", 0), 0);
    lbs_budget_forgive(b, "Q1");
    assert_int_equal(lbs_budget_refused(b, "Q1", 1), 0);
    assert_int_equal(lbs_budget_fail(b, "Q1", 1), 0);
    lbs_budget_forgive(b, "never-seen"); /* no-op */
    lbs_budget_free(b);
}

static void test_reservations_of_attempts_under_way(void **state)
{
    struct lbs_budget *b = budget(3, 100);
    (void)state;

    /* three attempts in parallel may spend the whole budget: a fourth waits */
    assert_int_equal(lbs_budget_admit(b, "Q1", 0), 0);
    assert_int_equal(lbs_budget_admit(b, "Q1", 0), 0);
    assert_int_equal(lbs_budget_admit(b, "Q1", 0), 0);
    assert_true(lbs_budget_admit(b, "Q1", 0) > 0);
    /* one ends well: room again */
    assert_int_equal(lbs_budget_done(b, "Q1", 0, false), 0);
    assert_int_equal(lbs_budget_admit(b, "Q1", 0), 0);
    /* all fail: the third failure refuses */
    assert_int_equal(lbs_budget_done(b, "Q1", 0, true), 0);
    assert_int_equal(lbs_budget_done(b, "Q1", 0, true), 0);
    assert_int_equal(lbs_budget_done(b, "Q1", 0, true), MINUTE);
    assert_int_equal(lbs_budget_admit(b, "Q1", 1), MINUTE - 1);
    lbs_budget_free(b);
}

static void test_table_size_is_bounded(void **state)
{
    struct lbs_budget *b = budget(1, 100);
    char key[32];
    (void)state;

    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
        lbs_budget_fail(b, key, 0);
        assert_true(lbs_budget_count(b) <= 100);
    }
    /* the most recent ones are still refused, the oldest forgotten */
    assert_true(lbs_budget_refused(b, "10.0.3.231", 0) > 0);
    assert_int_equal(lbs_budget_refused(b, "10.0.0.0", 0), 0);
    lbs_budget_free(b);
}

static void test_table(void **state)
{
    struct lbs_table *t = NULL;
    bool created;
    int *v;
    char key[200];
    (void)state;

    assert_int_equal(lbs_table_new(sizeof(int), 0, &t), OSAP_OK);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        v = lbs_table_get(t, key, &created);
        assert_non_null(v);
        assert_true(created);
        *v = i;
    }
    assert_int_equal(lbs_table_count(t), 5000);
    for (int i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof(key), "k%d", i);
        v = lbs_table_find(t, key);
        assert_non_null(v);
        assert_int_equal(*v, i);
        v = lbs_table_get(t, key, &created);
        assert_false(created);
        lbs_table_remove(t, key);
        assert_null(lbs_table_find(t, key));
    }
    /* over-long keys are cut to LBS_KEY_MAX - 1 bytes */
    memset(key, 'x', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    v = lbs_table_get(t, key, &created);
    assert_true(created);
    key[LBS_KEY_MAX - 1] = '\0';
    assert_ptr_equal(lbs_table_find(t, key), v);
    lbs_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_n_failures_then_refusal),
        cmocka_unit_test(test_refusal_is_capped),
        cmocka_unit_test(test_keys_are_independent_and_forgiven),
        cmocka_unit_test(test_reservations_of_attempts_under_way),
        cmocka_unit_test(test_table_size_is_bounded),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
