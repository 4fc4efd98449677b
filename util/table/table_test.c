/* Unit tests for the table interface and the inline:, static: and fail: types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"

#include <string.h>

static void test_inline(void **state)
{
    (void)state;
    struct str err = STR_INIT, v = STR_INIT;
    struct table *t = table_open("inline:{ Key1=value1, { key2 = text, with comma }, k3= }",
                                 TABLE_FLAG_FOLD_KEY, &err);
    assert_non_null(t);
    assert_int_equal(table_lookup(t, "KEY1", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "value1");
    assert_int_equal(table_lookup(t, "key2", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "text, with comma");
    assert_int_equal(table_lookup(t, "k3", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "");
    assert_int_equal(table_lookup(t, "nope", &v), TABLE_NOTFOUND);
    table_close(t);
    assert_null(table_open("inline:{ a=b", 0, &err));
    assert_null(table_open("inline:a=b", 0, &err));
    assert_null(table_open("inline:{ novalue }", 0, &err));
    assert_non_null(strstr(str_cstr(&err), "missing '='"));
    str_release(&err);
    str_release(&v);
}

static void test_static_fail_unknown(void **state)
{
    (void)state;
    struct str err = STR_INIT, v = STR_INIT;
    struct table *t = table_open("static:5000", 0, &err);
    assert_int_equal(table_lookup(t, "anything", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "5000");
    table_close(t);
    t = table_open("fail:x", 0, &err);
    assert_int_equal(table_lookup(t, "a", &v), TABLE_ERROR);
    table_close(t);
    assert_null(table_open("nosuchtype:x", 0, &err));
    assert_string_equal(str_cstr(&err), "unsupported dictionary type: nosuchtype");
    assert_null(table_open("noколон", 0, &err));
    str_release(&err);
    str_release(&v);
}

static void test_surrogate(void **state)
{
    (void)state;
    struct str v = STR_INIT;
    struct table *t = table_open_or_surrogate("nosuchtype:/x", 0);
    assert_non_null(t);
    assert_int_equal(table_lookup(t, "a", &v), TABLE_ERROR);
    assert_non_null(strstr(str_cstr(&t->error), "unsupported dictionary type"));
    table_close(t);
    str_release(&v);
}

static void test_type_names(void **state)
{
    (void)state;
    const char *const *names = table_type_names();
    int seen = 0;
    for (; *names; names++)
        seen += strcmp(*names, "inline") == 0;
    assert_int_equal(seen, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_static_fail_unknown),
        cmocka_unit_test(test_surrogate),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
