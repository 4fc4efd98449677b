/* Unit tests for dns: reverse names, DNS list reply filters, host name and literal syntax (no
 * network; the lookups themselves are tested under with-test-dns by smtpd_check_dns_test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/str.h"
#include "mail/dns.h"

static void test_reverse_name(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    assert_int_equal(dns_reverse_name("192.0.2.1", NULL, &s), 0);
    assert_string_equal(s.data, "1.2.0.192.in-addr.arpa");
    assert_int_equal(dns_reverse_name("192.0.2.1", "zen.example", &s), 0);
    assert_string_equal(s.data, "1.2.0.192.zen.example");
    assert_int_equal(dns_reverse_name("2001:db8::1", "bl.example", &s), 0);
    assert_string_equal(s.data, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
                                "bl.example");
    assert_int_equal(dns_reverse_name("2001:db8::1", NULL, &s), 0);
    assert_string_equal(s.data, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
                                "ip6.arpa");
    assert_int_equal(dns_reverse_name("not-an-ip", NULL, &s), -1);
    str_release(&s);
}

static void test_filters(void **state)
{
    (void)state;
    assert_int_equal(dns_filter_match("127.0.0.2", "127.0.0.2"), 1);
    assert_int_equal(dns_filter_match("127.0.0.2", "127.0.0.3"), 0);
    assert_int_equal(dns_filter_match("127.0.0.[2..11]", "127.0.0.10"), 1);
    assert_int_equal(dns_filter_match("127.0.0.[2..11]", "127.0.0.12"), 0);
    assert_int_equal(dns_filter_match("127.0.[0;1].[2;4..5]", "127.0.1.5"), 1);
    assert_int_equal(dns_filter_match("127.0.[0;1].[2;4..5]", "127.0.1.3"), 0);
    assert_int_equal(dns_filter_match("127.0.0", "127.0.0.2"), -1);
    assert_int_equal(dns_filter_match("127.0.0.[2", "127.0.0.2"), -1);
    assert_int_equal(dns_filter_match("127.0.0.256", "127.0.0.2"), -1);
    assert_int_equal(dns_filter_match("127.0.0.2", "::1"), 0);
}

static void test_hostname_syntax(void **state)
{
    (void)state;
    assert_int_equal(dns_valid_hostname("mail.example.com"), 1);
    assert_int_equal(dns_valid_hostname("mail.example.com."), 1);
    assert_int_equal(dns_valid_hostname("localhost"), 1);
    assert_int_equal(dns_valid_hostname("a-b.c_d.example"), 1);
    assert_int_equal(dns_valid_hostname("-a.example"), 0);
    assert_int_equal(dns_valid_hostname("a-.example"), 0);
    assert_int_equal(dns_valid_hostname("a..example"), 0);
    assert_int_equal(dns_valid_hostname(".example"), 0);
    assert_int_equal(dns_valid_hostname("1.2.3.4"), 0);
    assert_int_equal(dns_valid_hostname("bad name"), 0);
    assert_int_equal(dns_valid_hostname(""), 0);
    char label[80];
    memset(label, 'a', 64);
    label[64] = 0;
    assert_int_equal(dns_valid_hostname(label), 0);
    label[63] = 0;
    assert_int_equal(dns_valid_hostname(label), 1);
    assert_int_equal(dns_valid_literal("[192.0.2.1]"), 1);
    assert_int_equal(dns_valid_literal("[IPv6:2001:db8::1]"), 1);
    assert_int_equal(dns_valid_literal("[2001:db8::1]"), 0);
    assert_int_equal(dns_valid_literal("[192.0.2]"), 0);
    assert_int_equal(dns_valid_literal("192.0.2.1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse_name),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_hostname_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
