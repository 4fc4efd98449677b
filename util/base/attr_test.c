/* Unit tests for the attribute protocol codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/attr.h"

#include <string.h>

static void test_roundtrip_escapes(void **state)
{
    (void)state;
    struct attr_list *a = attr_list_new();
    attr_add(a, "sender", "a@b");
    attr_add(a, "text", "line1\r\nline2 100% \x7f");
    attr_add_long(a, "size", 1234);
    struct str wire = STR_INIT;
    attr_encode(a, &wire);
    assert_string_equal(str_cstr(&wire),
                        "sender=a@b\ntext=line1%0D%0Aline2 100%25 %7F\nsize=1234\n\n");
    struct str name = STR_INIT, value = STR_INIT, err = STR_INIT;
    const char *line = "text=line1%0D%0Aline2 100%25 %7F";
    assert_int_equal(attr_decode_line(line, strlen(line), &name, &value, &err), 0);
    assert_string_equal(str_cstr(&name), "text");
    assert_string_equal(str_cstr(&value), "line1\r\nline2 100% \x7f");
    long n;
    assert_int_equal(attr_get_long(a, "size", 0, 10000, &n), 0);
    assert_int_equal(n, 1234);
    assert_int_equal(attr_get_long(a, "size", 0, 100, &n), -1);
    assert_int_equal(attr_get_long(a, "sender", 0, 100, &n), -1);
    attr_list_free(a);
    str_release(&wire);
    str_release(&name);
    str_release(&value);
    str_release(&err);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    struct str name = STR_INIT, value = STR_INIT, err = STR_INIT;
    const char *bad[] = {"noequals", "=value", "Bad=x", "a=%4", "a=%zz", "a=tab\there", "a-b=c"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(attr_decode_line(bad[i], strlen(bad[i]), &name, &value, &err), -1);
    assert_int_equal(attr_decode_line("a=%00", 5, &name, &value, &err), 0);
    assert_int_equal(value.len, 1);
    str_release(&name);
    str_release(&value);
    str_release(&err);
}

static void test_check(void **state)
{
    (void)state;
    struct attr_list *a = attr_list_new();
    attr_add(a, "queue_id", "ABC");
    struct str err = STR_INIT;
    const char *allowed[] = {"queue_id", "flags", NULL};
    const char *required[] = {"queue_id", NULL};
    const char *required2[] = {"flags", NULL};
    assert_int_equal(attr_check(a, allowed, required, &err), 0);
    assert_int_equal(attr_check(a, allowed, required2, &err), -1);
    assert_string_equal(str_cstr(&err), "missing attribute: flags");
    attr_add(a, "evil", "1");
    assert_int_equal(attr_check(a, allowed, required, &err), -1);
    assert_string_equal(str_cstr(&err), "unexpected attribute: evil");
    attr_list_free(a);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_escapes),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
