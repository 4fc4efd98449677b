/* Unit tests for master.cf parsing, validation and editing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mastercf.h"

#include <string.h>

static struct mastercf *parse(const char *text)
{
    struct str err = STR_INIT;
    struct mastercf *m = mastercf_parse("master.cf", text, strlen(text), &err);
    if (m == NULL)
        fail_msg("parse failed: %s", str_cstr(&err));
    str_release(&err);
    return m;
}

static const char *parse_error(const char *text)
{
    static struct str err;
    str_clear(&err);
    struct mastercf *m = mastercf_parse("master.cf", text, strlen(text), &err);
    assert_null(m);
    return str_cstr(&err);
}

static void test_columns(void **state)
{
    (void)state;
    struct mastercf *m = parse("# comment\n"
                               "smtp      inet  n       -       y       -       -       smtpd\n"
                               "127.0.0.1:smtp inet n - n - 10 smtpd -v\n"
                               "[::1]:2525 inet n - n - - smtpd\n"
                               "pickup    unix  n       -       n       60      1       pickup\n"
                               "tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n"
                               "postlog   unix-dgram n  -       n       -       1       postlogd\n"
                               "cleanup   unix  -       -       -       -       0       cleanup\n"
                               "f fifo - n n - - x\np pass - - - - - y\n");
    assert_int_equal(m->n, 9);
    const struct mastercf_entry *e = &m->v[0];
    assert_string_equal(e->field[MCF_SERVICE], "smtp");
    assert_int_equal(e->line, 2);
    assert_int_equal(e->private_flag, 0);
    assert_int_equal(e->unpriv_flag, 1);
    assert_int_equal(e->chroot_flag, 1);
    assert_int_equal(e->process_limit, -1);
    assert_string_equal(e->argv->v[0], "smtpd");
    assert_int_equal(m->v[1].process_limit, 10);
    assert_string_equal(m->v[1].argv->v[1], "-v");
    assert_string_equal(m->v[2].field[0], "[::1]:2525");
    assert_int_equal(m->v[3].wakeup, 60);
    assert_int_equal(m->v[3].wakeup_if_used, 0);
    assert_int_equal(m->v[4].wakeup, 1000);
    assert_int_equal(m->v[4].wakeup_if_used, 1);
    assert_int_equal(m->v[4].private_flag, 1);
    assert_string_equal(m->v[5].field[MCF_TYPE], "unix-dgram");
    assert_int_equal(m->v[6].process_limit, 0);
    assert_int_equal(m->v[6].chroot_flag, 0);
    assert_non_null(mastercf_find(m, "pickup", "unix"));
    assert_null(mastercf_find(m, "pickup", "inet"));
    mastercf_free(m);
}

static void test_overrides(void **state)
{
    (void)state;
    struct mastercf *m = parse("submission inet n - n - - smtpd\n"
                               "  -o syslog_name=postfix/submission\n"
                               "# a comment inside\n"
                               "  -o { smtpd_client_restrictions = permit_sasl_authenticated, "
                               "reject }\n"
                               "\t-o {x=1} -v { arg with space }\n");
    const struct mastercf_entry *e = &m->v[0];
    assert_int_equal(e->line, 1);
    struct argv *o = mastercf_overrides(e);
    assert_int_equal(o->n, 3);
    assert_string_equal(o->v[0], "syslog_name=postfix/submission");
    assert_string_equal(o->v[1], "smtpd_client_restrictions=permit_sasl_authenticated, reject");
    assert_string_equal(o->v[2], "x=1");
    argv_free(o);
    assert_string_equal(e->argv->v[e->argv->n - 1], "arg with space");
    struct str out = STR_INIT;
    mastercf_format(e, 1, &out);
    assert_string_equal(out.data, "submission inet  n       -       n       -       -       smtpd\n"
                                  "  -o syslog_name=postfix/submission\n"
                                  "  -o { smtpd_client_restrictions = permit_sasl_authenticated, "
                                  "reject }\n  -o x=1 -v { arg with space }");
    str_clear(&out);
    mastercf_format(e, 0, &out);
    assert_non_null(strstr(out.data, "smtpd -o syslog_name=postfix/submission -o {"));
    str_release(&out);
    mastercf_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(parse_error("a unix - - - - - x\nb bogus - - - - - x\n"),
                        "master.cf: line 2: field \"type\": bad value: \"bogus\"");
    assert_string_equal(parse_error("\n\nb unix q - - - - x\n"),
                        "master.cf: line 3: field \"private\": bad value: \"q\"");
    assert_string_equal(parse_error("b unix - - - 1x - x\n"),
                        "master.cf: line 1: field \"wakeup\": bad value: \"1x\"");
    assert_string_equal(parse_error("b unix - - - - many x\n"),
                        "master.cf: line 1: field \"process_limit\": bad value: \"many\"");
    assert_string_equal(parse_error("b unix - -\n"),
                        "master.cf: line 1: field \"chroot\": missing or bad value");
    assert_string_equal(parse_error("b unix - - - - -\n"),
                        "master.cf: line 1: field \"command\": missing");
    assert_string_equal(parse_error("b unix - - - - - x -o\n"),
                        "master.cf: line 1: missing value after -o");
    assert_string_equal(
        parse_error("b unix - - - - - x -o novalue\n"),
        "master.cf: line 1: bad -o option syntax: \"novalue\" (expected name=value)");
    assert_string_equal(parse_error("b unix - - - - - x -o {a=1\n"),
                        "master.cf: line 1: missing '}' in command arguments");
    assert_string_equal(parse_error("b unix - - - - - x\nb unix - - - - - y\n"),
                        "master.cf: line 2: duplicate service name: \"b/unix\"");
    assert_string_equal(parse_error("  b unix - - - - - x\n"),
                        "master.cf: line 1: entry must not start with white space");
    assert_string_equal(parse_error("host: inet - - - - - x\n"),
                        "master.cf: line 1: field \"service\": bad value: \"host:\"");
}

static void test_edits(void **state)
{
    (void)state;
    const char *text = "# top\nsmtp inet n - n - - smtpd\n  -o a=1\n# keep\n"
                       "pickup unix n - n 60 1 pickup\n";
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(
        mastercf_edit_param("master.cf", text, strlen(text), "smtp/inet/b", "2", &out, &err), 0);
    assert_string_equal(out.data, "# top\nsmtp       inet  n       -       n       -       -  "
                                  "     smtpd\n  -o a=1\n  -o b=2\n# keep\n"
                                  "pickup unix n - n 60 1 pickup\n");
    str_clear(&out);
    assert_int_equal(
        mastercf_edit_param("master.cf", text, strlen(text), "smtp/inet/a", NULL, &out, &err), 0);
    assert_non_null(strstr(out.data, "smtpd\n# keep"));
    str_clear(&out);
    assert_int_equal(mastercf_edit_field("master.cf", text, strlen(text), "pickup/unix/wakeup",
                                         "30", &out, &err),
                     0);
    assert_non_null(strstr(out.data, "30      1       pickup"));
    str_clear(&out);
    assert_int_equal(mastercf_edit_field("master.cf", text, strlen(text), "pickup/unix/wakeup",
                                         "bad", &out, &err),
                     -1);
    assert_non_null(strstr(err.data, "bad value"));
    str_clear(&out);
    assert_int_equal(
        mastercf_remove_entry("master.cf", text, strlen(text), "smtp/inet", 1, &out, &err), 0);
    assert_string_equal(out.data, "# top\n#smtp inet n - n - - smtpd\n#  -o a=1\n# keep\n"
                                  "pickup unix n - n 60 1 pickup\n");
    str_clear(&out);
    assert_int_equal(
        mastercf_remove_entry("master.cf", text, strlen(text), "smtp/inet", 0, &out, &err), 0);
    assert_string_equal(out.data, "# top\n# keep\npickup unix n - n 60 1 pickup\n");
    str_clear(&out);
    assert_int_equal(mastercf_edit_entry("master.cf", text, strlen(text),
                                         "relay unix - - n - - smtp", &out, &err),
                     0);
    assert_non_null(strstr(out.data, "pickup\nrelay      unix  -       -       n       -       "
                                     "-       smtp\n"));
    str_release(&out);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_edits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
