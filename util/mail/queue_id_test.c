/* Unit tests for queue IDs and queue paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/queue_id.h"

#include <string.h>

static void test_short_ids(void **state)
{
    (void)state;
    struct str id = STR_INIT;
    queue_id_make(&id, 0xA1F0F, 1700000000, 0x0C261, 0);
    assert_string_equal(str_cstr(&id), "0C261A1F0F");
    assert_true(queue_id_valid("0C261A1F0F"));
    assert_false(queue_id_valid("0c261a1f0f"));
    assert_false(queue_id_valid("../etc/passwd"));
    assert_false(queue_id_valid("ABC"));
    assert_false(queue_id_valid(""));
    str_release(&id);
}

static void test_long_ids(void **state)
{
    (void)state;
    struct str id = STR_INIT, id2 = STR_INIT;
    queue_id_make(&id, 123456, 1700000000, 999999, 1);
    assert_int_equal(id.data[10], 'z');
    assert_true(queue_id_valid(str_cstr(&id)));
    queue_id_make(&id2, 123456, 1700000001, 0, 1);
    assert_true(strcmp(str_cstr(&id), str_cstr(&id2)) < 0); /* sorts by time */
    assert_false(queue_id_valid("0000000000z"));
    assert_false(queue_id_valid("00000/0000zB"));
    str_release(&id);
    str_release(&id2);
}

static void test_paths(void **state)
{
    (void)state;
    struct str p = STR_INIT;
    queue_path(&p, "deferred", "0C261A1F0F", "deferred, defer", 1);
    assert_string_equal(str_cstr(&p), "deferred/0/0C261A1F0F");
    queue_path(&p, "deferred", "0C261A1F0F", "deferred, defer", 2);
    assert_string_equal(str_cstr(&p), "deferred/0/C/0C261A1F0F");
    queue_path(&p, "incoming", "0C261A1F0F", "deferred, defer", 1);
    assert_string_equal(str_cstr(&p), "incoming/0C261A1F0F");
    str_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_ids),
        cmocka_unit_test(test_long_ids),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
