/* Unit tests for cidr and textsplit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cidr.h"
#include "base/textsplit.h"

static void test_cidr_v4(void **state)
{
    (void)state;
    struct cidr c;
    struct str err = STR_INIT;
    assert_int_equal(cidr_parse("192.168.88.0/24", &c, &err), 0);
    assert_true(cidr_match_text(&c, "192.168.88.7"));
    assert_false(cidr_match_text(&c, "192.168.89.7"));
    assert_true(cidr_match_text(&c, "::ffff:192.168.88.1"));
    assert_false(cidr_match_text(&c, "garbage"));
    assert_int_equal(cidr_parse("10.0.0.1/8", &c, &err), -1);
    assert_string_equal(str_cstr(&err), "non-null host address bits in \"10.0.0.1/8\"");
    assert_int_equal(cidr_parse("10.0.0.0/33", &c, &err), -1);
    assert_int_equal(cidr_parse("10.0.0.0/", &c, &err), -1);
    assert_int_equal(cidr_parse("0.0.0.0/0", &c, &err), 0);
    assert_true(cidr_match_text(&c, "1.2.3.4"));
    assert_false(cidr_match_text(&c, "::1"));
    str_release(&err);
}

static void test_cidr_v6(void **state)
{
    (void)state;
    struct cidr c;
    struct str err = STR_INIT;
    assert_int_equal(cidr_parse("[2001:db8::]/32", &c, &err), 0);
    assert_true(cidr_match_text(&c, "2001:db8:1::5"));
    assert_false(cidr_match_text(&c, "2001:db9::5"));
    assert_int_equal(cidr_parse("::1", &c, &err), 0);
    assert_int_equal(c.prefix, 128);
    assert_true(cidr_match_text(&c, "[::1]"));
    str_release(&err);
}

static void test_split_braces(void **state)
{
    (void)state;
    struct argv *a = argv_new();
    struct str err = STR_INIT;
    assert_int_equal(split_words("a, { b c, d }, e{x y}z , f", ", ", SPLIT_STRIP_BRACES, a, &err),
                     0);
    assert_int_equal(a->n, 4);
    assert_string_equal(a->v[1], "b c, d");
    assert_string_equal(a->v[2], "e{x y}z");
    assert_int_equal(split_words("a { b", ", ", SPLIT_KEEP_BRACES, a, &err), -1);
    struct str in = STR_INIT;
    assert_int_equal(strip_braces("  { x = y }  ", &in, &err), 1);
    assert_string_equal(str_cstr(&in), "x = y");
    assert_int_equal(strip_braces("{ x } y", &in, &err), -1);
    assert_int_equal(strip_braces("x", &in, &err), 0);
    argv_free(a);
    str_release(&in);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_v4),
        cmocka_unit_test(test_cidr_v6),
        cmocka_unit_test(test_split_braces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
