/* Unit tests for header collection, folded and over-long headers, hop counting, and the
 * header_checks actions, through a queue file in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cleanup.h"
#include "cleanup_test_fixture.h"
#include "mail/header_info.h"
#include "table/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
    (void)state;
    memset(&cleanup_cfg, 0, sizeof(cleanup_cfg));
    cleanup_cfg.myorigin = cleanup_cfg.myhostname = "example.org";
    cleanup_cfg.mail_name = "Kestrel";
    cleanup_cfg.header_size_limit = 30;
    cleanup_cfg.hopcount_limit = 2;
    cleanup_cfg.line_length_limit = 2048;
    cleanup_cfg.virt_expansion = cleanup_cfg.virt_recursion = cleanup_cfg.dup_limit = 100;
    fixture_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close();
    maps_free(cleanup_cfg.header_checks);
    memset(&cleanup_cfg, 0, sizeof(cleanup_cfg));
    return 0;
}

static int line(const char *text)
{
    return cleanup_header_line(&st, text, strlen(text));
}

static void test_header_syntax(void **state)
{
    (void)state;
    size_t off;
    assert_int_equal(header_name_length("Subject: x", 10, &off), 7);
    assert_int_equal(off, 8);
    assert_int_equal(header_name_length("Subject : x", 11, &off), 7);
    assert_int_equal(header_name_length("no header", 9, NULL), 0);
    assert_int_equal(header_name_length(":x", 2, NULL), 0);
    assert_int_equal(header_info_find("resent-to", 9)->id, HDR_RESENT_TO);
    assert_int_equal(header_info_find("Content-Type", 12)->flags, HDR_F_MIME);
    assert_int_equal(header_info_find("X-Foo", 5)->id, HDR_OTHER);
}

static void test_folding_and_size_limit(void **state)
{
    (void)state;
    assert_int_equal(line("Subject: a"), 0);
    assert_int_equal(line("\tb"), 0);
    assert_int_equal(line("X-Long: 0123456789012345678901234567890123456789"), 0);
    assert_int_equal(line(" more"), 0);
    assert_int_equal(line("body text"), 1);
    assert_int_equal(st.nhdr, 2);
    assert_string_equal(st.hdrs[0].text.data, "Subject: a\n\tb");
    assert_string_equal(st.hdrs[1].text.data, "X-Long: 0123456789012345678901");
}

static void test_hopcount(void **state)
{
    (void)state;
    line("Received: a");
    line("Delivered-To: b");
    line("Received: c");
    st.rcpts.n = 0;
    cleanup_headers_done(&st);
    assert_int_equal(st.hops, 3);
    assert_true(st.status & CLEANUP_STAT_HOPS);
}

static void run_check(const char *table, const char *header, enum check_result expect,
                      const char *after)
{
    maps_free(cleanup_cfg.header_checks);
    cleanup_cfg.header_checks = maps_open("header_checks", table, 0);
    struct str h = STR_INIT;
    struct argv *pre = argv_new();
    str_set(&h, header);
    assert_int_equal(cleanup_check(&st, cleanup_cfg.header_checks, "header", &h, pre), expect);
    assert_string_equal(h.data, after);
    argv_free(pre);
    str_release(&h);
}

static void test_check_actions(void **state)
{
    (void)state;
    run_check("inline:{ {Subject: x=IGNORE} }", "Subject: x", CHECK_DROP, "Subject: x");
    run_check("inline:{ {Subject: x=REPLACE Subject: y} }", "Subject: x", CHECK_REPLACED,
              "Subject: y");
    run_check("inline:{ {Subject: x=HOLD} }", "Subject: x", CHECK_KEEP, "Subject: x");
    assert_int_equal(st.hold, 1);
    run_check("inline:{ {Subject: x=DISCARD} }", "Subject: x", CHECK_KEEP, "Subject: x");
    assert_int_equal(st.discard, 1);
    run_check("inline:{ {Subject: x=FILTER smtp:[h]:25} }", "Subject: x", CHECK_KEEP, "Subject: x");
    assert_string_equal(st.final_values->v[0], "smtp:[h]:25");
    run_check("inline:{ {Subject: x=DUNNO} }", "Subject: x", CHECK_KEEP, "Subject: x");
    assert_int_equal(st.status, 0);
    run_check("inline:{ {Subject: x=REJECT} }", "Subject: x", CHECK_KEEP, "Subject: x");
    assert_int_equal(st.status, CLEANUP_STAT_CONT);
    assert_string_equal(st.reason.data, "5.7.1 message content rejected");
}

static void test_status_details(void **state)
{
    (void)state;
    assert_string_equal(cleanup_stat_detail(CLEANUP_STAT_SIZE)->dsn, "5.3.4");
    assert_string_equal(cleanup_stat_detail(CLEANUP_STAT_SIZE | CLEANUP_STAT_HOPS)->text,
                        "message file too big");
    assert_string_equal(cleanup_stat_detail(CLEANUP_STAT_HOPS)->dsn, "5.4.6");
    assert_string_equal(cleanup_stat_detail(0)->dsn, "2.0.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folding_and_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hopcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_details, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
