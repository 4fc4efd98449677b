/* Unit tests for xforward: the announced attributes, commands split under 512 bytes with
 * [UNAVAILABLE] for unknown values, and parsing with xtext decoding and per-attribute
 * validation (bad names, bad values, unknown attributes, empty commands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/xforward.h"

#include <string.h>

static void test_features_and_commands(void **state)
{
    (void)state;
    struct argv *ehlo = argv_new();
    argv_add(ehlo, "filter.example");
    argv_add(ehlo, "PIPELINING");
    argv_add(ehlo, "XFORWARD NAME ADDR IDENT");
    assert_int_equal(xforward_features(ehlo), XF_NAME | XF_ADDR | XF_IDENT);
    struct xforward_attrs a = {.name = "mail.example.org", .addr = "192.0.2.5", .ident = NULL};
    struct argv *out = argv_new();
    xforward_cmds(XF_NAME | XF_ADDR | XF_IDENT, &a, out);
    assert_int_equal(out->n, 1);
    assert_string_equal(out->v[0],
                        "XFORWARD NAME=mail.example.org ADDR=192.0.2.5 IDENT=[UNAVAILABLE]");
    char big[400];
    memset(big, 'h', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    a.ident = "ABC";
    a.helo = big;
    argv_free(out);
    out = argv_new();
    xforward_cmds(XF_ALL, &a, out);
    assert_true(out->n >= 2);
    for (size_t i = 0; i < out->n; i++)
        assert_true(strlen(out->v[i]) + 2 <= 512);
    argv_free(out);
    argv_free(ehlo);
}

static void test_parse(void **state)
{
    (void)state;
    struct str v[7] = {STR_INIT, STR_INIT, STR_INIT, STR_INIT, STR_INIT, STR_INIT, STR_INIT};
    struct str why = STR_INIT;
    int m = xforward_parse("name=mail.example.org ADDR=IPv6:2001:db8::1 HELO=a+20b "
                           "IDENT=4AB3 SOURCE=remote PORT=25",
                           v, &why);
    assert_int_equal(m, XF_NAME | XF_ADDR | XF_HELO | XF_IDENT | XF_SOURCE | XF_PORT);
    assert_string_equal(v[0].data, "mail.example.org");
    assert_string_equal(v[1].data, "IPv6:2001:db8::1");
    assert_string_equal(v[4].data, "a b"); /* xtext decoded */
    assert_int_equal(xforward_parse("NAME=[TEMPUNAVAIL] ADDR=[UNAVAILABLE]", v, &why),
                     XF_NAME | XF_ADDR);
    assert_string_equal(v[0].data, "");
    assert_int_equal(xforward_parse("NAME=bad..name", v, &why), -1);
    assert_string_equal(why.data, "Bad NAME syntax: bad..name");
    assert_int_equal(xforward_parse("ADDR=not-an-address", v, &why), -1);
    assert_int_equal(xforward_parse("PORT=123456", v, &why), -1);
    assert_int_equal(xforward_parse("SOURCE=SOMEWHERE", v, &why), -1);
    assert_int_equal(xforward_parse("HELO=a+0Db", v, &why), -1); /* CR smuggled in xtext */
    assert_int_equal(xforward_parse("COLOR=blue", v, &why), -1);
    assert_string_equal(why.data, "Bad XFORWARD attribute name: COLOR=blue");
    assert_int_equal(xforward_parse("", v, &why), -1);
    for (int i = 0; i < 7; i++)
        str_release(&v[i]);
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_and_commands),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
