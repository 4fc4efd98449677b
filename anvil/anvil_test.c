/* Unit tests for anvil's counter table and request handler: connection counts, rate windows
 * per anvil_rate_time_unit, disconnects, lookups, bad requests and expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "anvil.h"

static void test_connect_counts(void **state)
{
    (void)state;
    struct anvil_table *t = anvil_table_new(60);
    struct anvil_counts c;
    assert_int_equal(anvil_table_event(t, "connect", "smtp:127.0.0.1", 1000, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.rate, 1);
    assert_int_equal(anvil_table_event(t, "connect", "smtp:127.0.0.1", 1010, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.rate, 2);
    assert_int_equal(anvil_table_event(t, "connect", "smtp:127.0.0.2", 1010, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(anvil_table_event(t, "disconnect", "smtp:127.0.0.1", 1020, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.rate, 2);
    /* A new window resets the rates, not the count. */
    assert_int_equal(anvil_table_event(t, "connect", "smtp:127.0.0.1", 1060, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.rate, 1);
    assert_int_equal(anvil_table_event(t, "lookup", "smtp:127.0.0.1", 1061, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.rate, 1);
    assert_int_equal(anvil_table_event(t, "lookup", "smtp:10.0.0.1", 1061, &c), 0);
    assert_int_equal(c.count, 0);
    anvil_table_free(t);
}

static void test_rates(void **state)
{
    (void)state;
    struct anvil_table *t = anvil_table_new(60);
    struct anvil_counts c;
    for (int i = 0; i < 3; i++)
        anvil_table_event(t, "message", "smtp:192.0.2.1", 100, &c);
    assert_int_equal(c.messages, 3);
    for (int i = 0; i < 5; i++)
        anvil_table_event(t, "recipient", "smtp:192.0.2.1", 101, &c);
    assert_int_equal(c.recipients, 5);
    assert_int_equal(c.messages, 3);
    anvil_table_event(t, "newtls", "smtp:192.0.2.1", 102, &c);
    anvil_table_event(t, "auth", "smtp:192.0.2.1", 102, &c);
    assert_int_equal(c.newtls, 1);
    assert_int_equal(c.auths, 1);
    assert_int_equal(c.count, 0);
    anvil_table_event(t, "message", "smtp:192.0.2.1", 160, &c);
    assert_int_equal(c.messages, 1);
    assert_int_equal(c.recipients, 0);
    anvil_table_log_stats(t, 161);
    anvil_table_free(t);
}

static void test_bad_requests_and_expiry(void **state)
{
    (void)state;
    struct anvil_table *t = anvil_table_new(60);
    struct anvil_counts c;
    assert_int_equal(anvil_table_event(t, "explode", "smtp:1.2.3.4", 1, &c), -1);
    assert_int_equal(anvil_table_event(t, "connect", "", 1, &c), -1);
    char big[ANVIL_MAX_IDENT + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(anvil_table_event(t, "connect", big, 1, &c), -1);
    anvil_table_event(t, "connect", "smtp:1.2.3.4", 1, &c);
    anvil_table_event(t, "message", "smtp:1.2.3.5", 1, &c);
    assert_int_equal(anvil_table_expire(t, 100), 1); /* the connected one stays */
    anvil_table_event(t, "disconnect", "smtp:1.2.3.4", 100, &c);
    assert_int_equal(anvil_table_expire(t, 200), 0);

    struct attr_list *req = attr_list_new(), *rep = attr_list_new();
    attr_add(req, "request", "connect");
    attr_add(req, "ident", "smtp:127.0.0.1");
    anvil_handle(t, req, rep, 300);
    assert_string_equal(attr_get(rep, "status"), "0");
    assert_string_equal(attr_get(rep, "count"), "1");
    assert_string_equal(attr_get(rep, "rate"), "1");
    attr_add(req, "extra", "x");
    anvil_handle(t, req, rep, 300);
    assert_string_equal(attr_get(rep, "status"), "1");
    attr_list_clear(req);
    attr_add(req, "request", "connect");
    anvil_handle(t, req, rep, 300);
    assert_string_equal(attr_get(rep, "status"), "1");
    attr_list_free(req);
    attr_list_free(rep);
    anvil_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_counts),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_bad_requests_and_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
