/* Unit tests for the back-off and lifetime computations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmgr.h"

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(qmgr_backoff(0, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(299.9, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(600, 300, 4000), 600); /* doubles: wait as long as the age */
    assert_int_equal(qmgr_backoff(1200, 300, 4000), 1200);
    assert_int_equal(qmgr_backoff(86400, 300, 4000), 4000);
    assert_int_equal(qmgr_backoff(-5, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(100, 300, 100), 300); /* max below min: min wins */
}

static void test_expired(void **state)
{
    (void)state;
    assert_false(qmgr_expired(100, 0, 432000, 432000));
    assert_true(qmgr_expired(432000, 0, 432000, 432000));
    assert_true(qmgr_expired(0, 0, 0, 432000)); /* maximal_queue_lifetime = 0: one attempt */
    assert_true(qmgr_expired(3600, 1, 432000, 3600));
    assert_false(qmgr_expired(3600, 0, 432000, 3600));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_backoff),
                                       cmocka_unit_test(test_expired)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
