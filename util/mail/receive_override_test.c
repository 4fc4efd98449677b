/* Unit tests for receive_override: each option clears its cleanup flag, unknown words are
 * ignored, and a changed value is parsed again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/cleanup_client.h"
#include "mail/config.h"
#include "mail/receive_override.h"

#include <string.h>

static void load(const char *text)
{
    struct str err = STR_INIT;
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    str_release(&err);
}

static void test_options(void **state)
{
    (void)state;
    const int all = CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MILTER;
    load("");
    assert_int_equal(receive_override_flags(all), all);
    assert_false(receive_override_has("no_milters"));
    load("receive_override_options = no_header_body_checks, bogus,no_milters\n");
    assert_int_equal(receive_override_flags(all), CLEANUP_FLAG_MAP_OK);
    assert_true(receive_override_has("no_milters"));
    assert_false(receive_override_has("no_unknown_recipient_checks"));
    assert_false(receive_override_has("bogus"));
    load("receive_override_options = no_address_mappings no_unknown_recipient_checks\n");
    assert_int_equal(receive_override_flags(all), CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MILTER);
    assert_true(receive_override_has("no_unknown_recipient_checks"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_options)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
