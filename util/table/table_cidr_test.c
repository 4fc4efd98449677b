/* Unit tests for cidr: (table_cidr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"
#include "table/table_test_util.h"

static void expect(struct table *t, const char *key, int status, const char *value)
{
    struct str v = STR_INIT;
    assert_int_equal(table_lookup(t, key, &v), status);
    if (value)
        assert_string_equal(str_cstr(&v), value);
    str_release(&v);
}

static void test_match(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT;
    const char *text = "# clients\n"
                       "192.168.1.1        OK host\n"
                       "192.168.0.0/16     REJECT\n"
                       "  private range\n"
                       "[2001:db8::]/32    DUNNO v6\n"
                       "2001:db8::1        never reached\n"
                       "0.0.0.0/0          DEFER all\n";
    test_write(&spec, "cidr", "c", text, strlen(text));
    struct table *t = table_open(str_cstr(&spec), TABLE_FLAG_FOLD_KEY, &err);
    assert_non_null(t);
    expect(t, "192.168.1.1", TABLE_FOUND, "OK host");
    expect(t, "192.168.7.9", TABLE_FOUND, "REJECT  private range");
    expect(t, "2001:db8::1", TABLE_FOUND, "DUNNO v6");
    expect(t, "[2001:DB8::5]", TABLE_FOUND, "DUNNO v6");
    expect(t, "10.1.2.3", TABLE_FOUND, "DEFER all");
    expect(t, "::ffff:10.1.2.3", TABLE_FOUND, "DEFER all");
    expect(t, "2001:db9::1", TABLE_NOTFOUND, NULL);
    expect(t, "not-an-address", TABLE_NOTFOUND, NULL);
    assert_int_equal(table_changed(t), 0);
    table_close(t);
    str_release(&spec);
    str_release(&err);
}

static void test_if_negation(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT;
    const char *text = "if 10.0.0.0/8\n"
                       "if !10.1.0.0/16\n"
                       "0.0.0.0/0 outside 10.1\n"
                       "endif\n"
                       "10.1.2.3 exact\n"
                       "endif\n"
                       "!192.168.0.0/16 not private\n";
    test_write(&spec, "cidr", "if", text, strlen(text));
    struct table *t = table_open(str_cstr(&spec), 0, &err);
    assert_non_null(t);
    expect(t, "10.2.3.4", TABLE_FOUND, "outside 10.1");
    expect(t, "10.1.2.3", TABLE_FOUND, "exact");
    expect(t, "10.1.2.4", TABLE_FOUND, "not private");
    expect(t, "11.0.0.1", TABLE_FOUND, "not private");
    expect(t, "192.168.1.1", TABLE_NOTFOUND, NULL);
    table_close(t);
    struct str deep = STR_INIT;
    for (int i = 0; i < 1001; i++)
        str_append(&deep, "if 0.0.0.0/0\n");
    test_write(&spec, "cidr", "deep", deep.data, deep.len);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "deep, line 1001: IF nesting deeper than 1000"));
    test_write(&spec, "cidr", "ifx", "if 10.0.0.0/8 junk\n", 19);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "ifx, line 1: text after IF"));
    str_release(&deep);
    str_release(&spec);
    str_release(&err);
}

static void test_errors(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT;
    static const char *bad[] = {"10.0.0.0/8 OK\n10.0.0.1/8 REJECT\n", "10.0.0.0/33 X\n",
                                "10.0.0.0/8\n", "bogus X\n", "1.2.3.4/8/9 X\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_write(&spec, "cidr", "bad", bad[i], strlen(bad[i]));
        assert_null(table_open(str_cstr(&spec), 0, &err));
        assert_non_null(strstr(str_cstr(&err), "/bad, line "));
    }
    test_write(&spec, "cidr", "nul", "1.2.3.4 OK\0\n", 12);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "line 1: NUL byte"));
    assert_null(table_open("cidr:/nonexistent/file", 0, &err));
    /* A 100 KB result. */
    struct str text = STR_INIT;
    str_append(&text, "1.2.3.4 ");
    for (int i = 0; i < 100000; i++)
        str_appendc(&text, 'r');
    test_write(&spec, "cidr", "long", text.data, text.len);
    struct table *t = table_open(str_cstr(&spec), 0, &err);
    assert_non_null(t);
    struct str v = STR_INIT;
    assert_int_equal(table_lookup(t, "1.2.3.4", &v), TABLE_FOUND);
    assert_int_equal(v.len, 100000);
    table_close(t);
    str_release(&v);
    str_release(&text);
    str_release(&spec);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_if_negation),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
