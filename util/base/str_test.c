/* Unit tests for str and argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/argv.h"
#include "base/str.h"

#include <stdlib.h>
#include <string.h>

static void test_append_grows(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    for (int i = 0; i < 10000; i++)
        str_append(&s, "abc");
    assert_int_equal(s.len, 30000);
    assert_int_equal(s.data[s.len], 0);
    str_setf(&s, "%d-%s", 42, "x");
    assert_string_equal(str_cstr(&s), "42-x");
    str_release(&s);
    assert_string_equal(str_cstr(&s), "");
}

static void test_binary_and_trim(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    str_appendn(&s, "a\0b", 3);
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.data, "a\0b", 3);
    str_set(&s, "Hello \t\r\n");
    str_trim_right(&s);
    str_lower(&s);
    assert_string_equal(s.data, "hello");
    char *p = str_steal(&s);
    assert_string_equal(p, "hello");
    free(p);
}

static void test_argv_split(void **state)
{
    (void)state;
    struct argv *a = argv_split(" a,b ,, c ", ", ");
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[0], "a");
    assert_string_equal(a->v[2], "c");
    assert_null(a->v[3]);
    argv_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows),
        cmocka_unit_test(test_binary_and_trim),
        cmocka_unit_test(test_argv_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
