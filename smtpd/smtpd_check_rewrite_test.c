/* Unit tests for smtpd_check_rewrite: local_header_rewrite_clients decides the header rewrite
 * context (the default permit_inet_interfaces, permit_mynetworks, SASL, client certificates,
 * check_address_map and bare tables, unknown words ignored, a failing table is a 451). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/str.h"
#include "mail/config.h"
#include "smtpd_check.h"
#include "smtpd_check_fixture.h"

static const char *base_cf = "myhostname = mail.example.com\n"
                             "mydestination = $myhostname, localhost\n"
                             "mynetworks = 10.0.0.0/8\n"
                             "inet_interfaces = 127.0.0.1, 192.0.2.25\n"
                             "alias_maps =\n";

static void setup_with(const char *extra, const char *addr)
{
    fixture_setup(base_cf, extra, addr, NULL);
}

/* 1 local, 0 remote, -1 rejected. */
static int context(void)
{
    ctx.rewrite_local = -7;
    if (smtpd_check_rewrite(checker, &ctx, &reply) == SMTPD_CHECK_REJECT)
        return -1;
    return ctx.rewrite_local;
}

static void test_default_inet_interfaces(void **state)
{
    (void)state;
    setup_with("", "127.0.0.1");
    assert_int_equal(context(), 1);
    ctx.client_addr = "192.0.2.25";
    assert_int_equal(context(), 1);
    ctx.client_addr = "10.1.2.3"; /* in mynetworks, but the default does not list it */
    assert_int_equal(context(), 0);
    ctx.client_addr = "198.51.100.1";
    assert_int_equal(context(), 0);
}

static void test_mynetworks_and_sasl(void **state)
{
    (void)state;
    setup_with("local_header_rewrite_clients = permit_mynetworks, permit_sasl_authenticated\n",
               "10.1.2.3");
    assert_int_equal(context(), 1);
    ctx.client_addr = "127.0.0.1";
    assert_int_equal(context(), 0);
    ctx.sasl_username = "joe";
    assert_int_equal(context(), 1);
}

static void test_client_certificates(void **state)
{
    (void)state;
    setup_with("local_header_rewrite_clients = permit_tls_clientcerts\n"
               "relay_clientcerts = inline:{ AA:BB=ok }\n",
               "198.51.100.1");
    assert_int_equal(context(), 0);
    ctx.tls_active = 1;
    ctx.ccert_fingerprint = "CC:DD";
    assert_int_equal(context(), 0);
    ctx.ccert_fingerprint = "AA:BB";
    assert_int_equal(context(), 1);
    setup_with("local_header_rewrite_clients = permit_tls_all_clientcerts\n", "198.51.100.1");
    assert_int_equal(context(), 0);
    ctx.tls_active = 1;
    ctx.ccert_fingerprint = "CC:DD";
    assert_int_equal(context(), 1);
}

static void test_address_maps(void **state)
{
    (void)state;
    setup_with("local_header_rewrite_clients = check_address_map inline:{ 198.51.100.1=x }, "
               "inline:{ 198.51.100.2=y }, no_such_thing\n",
               "198.51.100.1");
    assert_int_equal(context(), 1);
    ctx.client_addr = "198.51.100.2";
    assert_int_equal(context(), 1);
    ctx.client_addr = "198.51.100.3";
    assert_int_equal(context(), 0);
}

static void test_empty_and_failing_table(void **state)
{
    (void)state;
    setup_with("local_header_rewrite_clients =\n", "127.0.0.1");
    assert_int_equal(context(), 0);
    setup_with("local_header_rewrite_clients = fail:broken, permit_inet_interfaces\n", "127.0.0.1");
    assert_int_equal(context(), -1);
    assert_string_equal(reply.data, "451 4.3.0 Temporary lookup error");
    /* a match before the failing table decides first */
    setup_with("local_header_rewrite_clients = permit_inet_interfaces, fail:broken\n", "127.0.0.1");
    assert_int_equal(context(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_default_inet_interfaces, teardown),
        cmocka_unit_test_teardown(test_mynetworks_and_sasl, teardown),
        cmocka_unit_test_teardown(test_client_certificates, teardown),
        cmocka_unit_test_teardown(test_address_maps, teardown),
        cmocka_unit_test_teardown(test_empty_and_failing_table, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
