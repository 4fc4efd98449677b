/* Unit tests for user_acl: static:anyone, names, negation, the first match decides, unknown
 * uids, and a table error reported as an error, not a refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/config.h"
#include "mail/user_acl.h"

#include <string.h>

static void load(const char *text)
{
    struct str err = STR_INIT;
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    str_release(&err);
}

static int allowed(uid_t uid, const char *expect_name)
{
    struct str name = STR_INIT, why = STR_INIT;
    int rc = user_acl_allowed("authorized_submit_users", uid, &name, &why);
    if (expect_name)
        assert_string_equal(name.data, expect_name);
    str_release(&name);
    str_release(&why);
    return rc;
}

static void test_lists(void **state)
{
    (void)state;
    load("");
    assert_int_equal(allowed(0, "root"), 1); /* default static:anyone */
    load("authorized_submit_users = root\n");
    assert_int_equal(allowed(0, "root"), 1);
    assert_int_equal(allowed(65534, NULL), 0);
    load("authorized_submit_users = !root, static:anyone\n");
    assert_int_equal(allowed(0, "root"), 0);
    assert_int_equal(allowed(65534, NULL), 1);
    load("authorized_submit_users = root\n");
    assert_int_equal(allowed(4000000, "unknown"), 0);
}

static void test_table_error(void **state)
{
    (void)state;
    load("authorized_submit_users = fail:broken\n");
    struct str name = STR_INIT, why = STR_INIT;
    assert_int_equal(user_acl_allowed("authorized_submit_users", 0, &name, &why), -1);
    assert_true(why.len > 0);
    str_release(&name);
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_table_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
