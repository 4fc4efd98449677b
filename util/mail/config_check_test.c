/* Unit tests for config_check: each class of problem with its exact message, collection of
 * several problems, and a clean configuration giving none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/argv.h"
#include "mail/config.h"
#include "mail/config_check.h"
#include "mail/mastercf.h"
#include "mail/restriction_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load main.cf text (and optional master.cf text), check, return the messages. */
static struct argv *check(const char *main_cf, const char *master_cf, int *count)
{
    struct str err = STR_INIT;
    config_reset();
    assert_int_equal(config_load_text("main.cf", main_cf, strlen(main_cf), &err), 0);
    struct mastercf *m = NULL;
    if (master_cf) {
        m = mastercf_parse("master.cf", master_cf, strlen(master_cf), &err);
        assert_non_null(m);
    }
    struct argv *errors = argv_new();
    *count = config_check_loaded(m, errors);
    mastercf_free(m);
    str_release(&err);
    return errors;
}

static void expect_one(const char *main_cf, const char *master_cf, const char *message)
{
    int n;
    struct argv *e = check(main_cf, master_cf, &n);
    if (n != 1 || strcmp(e->v[0], message) != 0)
        for (size_t i = 0; i < e->n; i++)
            fprintf(stderr, "got: %s\n", e->v[i]);
    assert_int_equal(n, 1);
    assert_string_equal(e->v[0], message);
    argv_free(e);
}

static void test_clean_configuration(void **state)
{
    (void)state;
    int n;
    struct argv *e = check("myhostname = mail.example.com\n"
                           "smtpd_restriction_classes = friends\n"
                           "friends = permit_mynetworks, reject\n"
                           "smtpd_recipient_restrictions = permit_mynetworks,\n"
                           "  check_recipient_access inline:{ a@example.com=OK },\n"
                           "  check_policy_service unix:private/policy,\n"
                           "  check_policy_service { inet:127.0.0.1:9998, timeout=10s },\n"
                           "  reject_rbl_client zen.example.org=127.0.0.[2..11],\n"
                           "  friends, static:OK, sleep 1, reject_unauth_destination\n"
                           "smtpd_milters = inet:127.0.0.1:8891, unix:/run/milter\n"
                           "content_filter = smtp-amavis:[127.0.0.1]:10024\n"
                           "mynetworks = 127.0.0.0/8 [::1]/128 fe80::/10\n"
                           "virtual_alias_maps = inline:{ x=y }, static:z\n"
                           "smtpd_helo_required = yes\n"
                           "message_size_limit = 10240000\n"
                           "smtpd_timeout = 300s\n"
                           "default_process_limit = 100\n"
                           "smtpd_banner = $myhostname ESMTP { unbalanced\n",
                           "smtp inet n - n - - smtpd\n"
                           "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
                           "  -o smtpd_tls_security_level=encrypt\n",
                           &n);
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "unexpected: %s\n", e->v[i]);
    assert_int_equal(n, 0);
    argv_free(e);
}

static void test_bad_number(void **state)
{
    (void)state;
    expect_one("myhostname = x\ndefault_process_limit = lots\n", NULL,
               "main.cf, line 2: bad numerical configuration: default_process_limit = lots");
    expect_one("message_size_limit = 10M\n", NULL,
               "main.cf, line 1: bad numerical configuration: message_size_limit = 10M");
}

static void test_bad_boolean_and_time(void **state)
{
    (void)state;
    expect_one("smtpd_helo_required = maybe\n", NULL,
               "main.cf, line 1: bad boolean configuration: smtpd_helo_required = maybe");
    expect_one("\n\nsmtpd_timeout = 5 fortnights\n", NULL,
               "main.cf, line 3: parameter smtpd_timeout: bad time value or unit: 5 fortnights");
}

static void test_expansion_loop(void **state)
{
    (void)state;
    int n;
    struct argv *e = check("a = $b\nb = x $a\n", NULL, &n);
    assert_int_equal(n, 2);
    assert_string_equal(e->v[0],
                        "main.cf, line 1: parameter a: recursive $ expansion: $a -> $b -> $a");
    assert_string_equal(e->v[1],
                        "main.cf, line 2: parameter b: recursive $ expansion: $b -> $a -> $b");
    argv_free(e);
}

static void test_unknown_restriction(void **state)
{
    (void)state;
    expect_one("smtpd_recipient_restrictions = permit_mynetworks, foo, reject\n", NULL,
               "main.cf, line 1: unknown restriction \"foo\" in smtpd_recipient_restrictions");
    expect_one("smtpd_restriction_classes = pals\npals = permit_mynetworks bar\n", NULL,
               "main.cf, line 2: unknown restriction \"bar\" in pals");
    expect_one("smtpd_client_restrictions = check_client_access\n", NULL,
               "main.cf, line 1: restriction \"check_client_access\" in "
               "smtpd_client_restrictions: missing argument");
    expect_one("smtpd_helo_restrictions = check_helo_access helo_table\n", NULL,
               "main.cf, line 1: restriction \"check_helo_access\" in smtpd_helo_restrictions: "
               "\"helo_table\" is not a type:table");
}

static void test_table_must_open(void **state)
{
    (void)state;
    expect_one("alias_maps = hash:/nonexistent/aliases\n", NULL,
               "main.cf, line 1: parameter alias_maps: open hash:/nonexistent/aliases: open "
               "database /nonexistent/aliases.db: No such file or directory");
    expect_one("transport_maps = inline:{ a=b\n", NULL,
               "main.cf, line 1: parameter transport_maps: unbalanced '{' in \"inline:{ a=b\"");
    expect_one("header_checks = nosuchtype:/x\n", NULL,
               "main.cf, line 1: parameter header_checks: open nosuchtype:/x: unsupported "
               "dictionary type: nosuchtype");
    /* Through $name: reported for the parameter that names it (once per parameter). */
    expect_one("smtpd_sender_restrictions = check_sender_access texthash:/nonexistent/s\n", NULL,
               "main.cf, line 1: parameter smtpd_sender_restrictions: open "
               "texthash:/nonexistent/s: open /nonexistent/s: No such file or directory");
}

static void test_master_cf_overrides(void **state)
{
    (void)state;
    expect_one("x = 1\n",
               "# comment\n"
               "submission inet n - n - - smtpd\n"
               "  -o smtpd_client_restrictions=permit_sasl_authenticated,nonsense\n",
               "master.cf, line 2: unknown restriction \"nonsense\" in smtpd_client_restrictions");
    expect_one("x = 1\n", "smtp inet n - n - - smtpd -o smtpd_timeout=never\n",
               "master.cf, line 1: parameter smtpd_timeout: bad time value or unit: never");
    expect_one("mua = reject_bogus\n",
               "smtp inet n - n - - smtpd -o smtpd_client_restrictions=$mua\n",
               "master.cf, line 1: unknown restriction \"reject_bogus\" in "
               "smtpd_client_restrictions");
}

static void test_collects_every_error(void **state)
{
    (void)state;
    int n;
    struct argv *e = check("default_process_limit = x\n"
                           "smtpd_helo_required = perhaps\n"
                           "smtpd_data_restrictions = nope\n",
                           NULL, &n);
    assert_int_equal(n, 3);
    assert_string_equal(e->v[2], "main.cf, line 3: unknown restriction \"nope\" in "
                                 "smtpd_data_restrictions");
    argv_free(e);
}

static void test_check_dir_reports_syntax_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/config_check_testXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    FILE *f = fopen(path, "w");
    fputs("myhostname = x\n= novalue\n", f);
    fclose(f);
    struct argv *e = argv_new();
    assert_int_equal(config_check_dir(dir, e), 1);
    char want[300];
    snprintf(want, sizeof(want), "%s, line 2:", path);
    assert_true(strncmp(e->v[0], want, strlen(want)) == 0);
    argv_free(e);
    f = fopen(path, "w");
    fputs("myhostname = x\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/master.cf", dir);
    f = fopen(path, "w");
    fputs("broken line\n", f);
    fclose(f);
    e = argv_new();
    assert_int_equal(config_check_dir(dir, e), 1);
    assert_non_null(strstr(e->v[0], "master.cf: line 1"));
    argv_free(e);
    unlink(path);
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    unlink(path);
    rmdir(dir);
}

static void test_restriction_names(void **state)
{
    (void)state;
    assert_int_equal(restriction_lookup("check_client_access")->arg, RESTRICTION_ARG_TABLE);
    assert_int_equal(restriction_lookup("reject_rbl_client")->arg, RESTRICTION_ARG_DOMAIN);
    assert_int_equal(restriction_lookup("permit_mynetworks")->arg, RESTRICTION_ARG_NONE);
    assert_null(restriction_lookup("Permit_mynetworks"));
    assert_null(restriction_lookup("foo"));
    size_t n = 0;
    while (restriction_list_params[n])
        n++;
    assert_int_equal(n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_configuration),
        cmocka_unit_test(test_bad_number),
        cmocka_unit_test(test_bad_boolean_and_time),
        cmocka_unit_test(test_expansion_loop),
        cmocka_unit_test(test_unknown_restriction),
        cmocka_unit_test(test_table_must_open),
        cmocka_unit_test(test_master_cf_overrides),
        cmocka_unit_test(test_collects_every_error),
        cmocka_unit_test(test_check_dir_reports_syntax_errors),
        cmocka_unit_test(test_restriction_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
