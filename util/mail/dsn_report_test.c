/* Unit tests for dsn_report (the RFC 3464 notice for a sample) and the dsn helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/dsn.h"
#include "mail/dsn_report.h"

#include <stdlib.h>
#include <string.h>

static char *joined(const struct argv *a)
{
    struct str s = STR_INIT;
    for (size_t i = 0; i < a->n; i++)
        str_appendf(&s, "%s\n", a->v[i]);
    return str_steal(&s);
}

static void test_failed_report(void **state)
{
    (void)state;
    struct bounce_entry v[2] = {
        {"a@x.test", "", "rfc822;A@x.test", 0, "5.1.1", "failed", "unknown user",
         "mx.x.test[192.0.2.9]:25", 0},
        {"b@y.test", "list@y.test", "", 0, "4.4.1", "failed", "host not responding", "none", 0},
    };
    struct dsn_report r = {DSN_REPORT_FAILED,
                           "mail.example.com",
                           "0C261A1F0F",
                           "s@example.org",
                           "s@example.org",
                           "ENV1",
                           "Mon, 1 Jan 2024 00:00:00 +0000 (UTC)",
                           "Sun, 31 Dec 2023 23:00:00 +0000 (UTC)",
                           "B0UND",
                           "123@mail",
                           0};
    struct argv *out = argv_new();
    dsn_report_begin(&r, v, 2, out);
    argv_add(out, "Subject: hi");
    argv_add(out, "");
    argv_add(out, "body");
    dsn_report_end(&r, out);
    char *text = joined(out);
    const char *expect_start = "From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\n"
                               "To: <s@example.org>\n"
                               "Subject: Returned mail: delivery failed\n"
                               "Date: Mon, 1 Jan 2024 00:00:00 +0000 (UTC)\n"
                               "Message-Id: <123@mail>\n"
                               "Auto-Submitted: auto-replied\n"
                               "MIME-Version: 1.0\n"
                               "Content-Type: multipart/report; report-type=delivery-status;\n"
                               "\tboundary=\"B0UND\"\n"
                               "Content-Transfer-Encoding: 8bit\n"
                               "\n"
                               "This is a MIME-encapsulated message.\n"
                               "\n"
                               "--B0UND\n"
                               "Content-Description: Notification\n"
                               "Content-Type: text/plain; charset=us-ascii\n"
                               "\n"
                               "This report comes from the mail system at host mail.example.com.\n";
    assert_memory_equal(text, expect_start, strlen(expect_start));
    const char *expect_machine = "<a@x.test>: unknown user\n"
                                 "<b@y.test>: host not responding\n"
                                 "\n"
                                 "--B0UND\n"
                                 "Content-Description: Delivery report\n"
                                 "Content-Type: message/delivery-status\n"
                                 "\n"
                                 "Reporting-MTA: dns; mail.example.com\n"
                                 "X-Kestrel-Queue-ID: 0C261A1F0F\n"
                                 "X-Kestrel-Sender: rfc822; s@example.org\n"
                                 "Original-Envelope-Id: ENV1\n"
                                 "Arrival-Date: Sun, 31 Dec 2023 23:00:00 +0000 (UTC)\n"
                                 "\n"
                                 "Final-Recipient: rfc822; a@x.test\n"
                                 "Original-Recipient: rfc822; A@x.test\n"
                                 "Action: failed\n"
                                 "Status: 5.1.1\n"
                                 "Remote-MTA: dns; mx.x.test\n"
                                 "Diagnostic-Code: X-Postfix; unknown user\n"
                                 "\n"
                                 "Final-Recipient: rfc822; b@y.test\n"
                                 "Original-Recipient: rfc822; list@y.test\n"
                                 "Action: failed\n"
                                 "Status: 4.4.1\n"
                                 "Diagnostic-Code: X-Postfix; host not responding\n"
                                 "\n"
                                 "--B0UND\n"
                                 "Content-Description: Undelivered Message\n"
                                 "Content-Type: message/rfc822\n"
                                 "\n"
                                 "Subject: hi\n"
                                 "\n"
                                 "body\n"
                                 "\n"
                                 "--B0UND--\n";
    const char *m = strstr(text, "<a@x.test>: unknown user\n");
    assert_non_null(m);
    assert_string_equal(m, expect_machine);
    free(text);
    argv_free(out);
}

static void test_delay_headers_only(void **state)
{
    (void)state;
    struct bounce_entry v = {"a@x.test", "", "", 0, "4.4.1", "delayed", "timeout", "none", 0};
    struct dsn_report r = {
        DSN_REPORT_DELAYED, "h", "0C261A1F0F", "s@e", "s@e", "", "D", "A", "B", "M", 1};
    struct argv *out = argv_new();
    dsn_report_begin(&r, &v, 1, out);
    char *text = joined(out);
    assert_non_null(strstr(text, "Subject: Delayed mail: delivery is still being attempted\n"));
    assert_non_null(strstr(text, "Action: delayed\nStatus: 4.4.1\n"));
    assert_null(strstr(text, "Original-Envelope-Id"));
    assert_non_null(strstr(text, "Content-Description: Undelivered Message Headers\n"
                                 "Content-Type: text/rfc822-headers\n\n"));
    free(text);
    argv_free(out);
}

static void test_dsn_helpers(void **state)
{
    (void)state;
    struct str code = STR_INIT, rest = STR_INIT;
    dsn_split("5.1.2 no such domain", "5.0.0", &code, &rest);
    assert_string_equal(code.data, "5.1.2");
    assert_string_equal(rest.data, "no such domain");
    dsn_split("5.1.2x text", "5.0.0", &code, &rest);
    assert_string_equal(code.data, "5.0.0");
    assert_string_equal(rest.data, "5.1.2x text");
    assert_true(dsn_notify_wants(0, DSN_NOTIFY_FAILURE));
    assert_true(dsn_notify_wants(0, DSN_NOTIFY_DELAY));
    assert_false(dsn_notify_wants(DSN_NOTIFY_NEVER, DSN_NOTIFY_FAILURE));
    assert_false(dsn_notify_wants(DSN_NOTIFY_SUCCESS, DSN_NOTIFY_FAILURE));
    assert_true(dsn_notify_wants(DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY, DSN_NOTIFY_DELAY));
    dsn_report_orcpt("rfc822;A@x", &code);
    assert_string_equal(code.data, "rfc822; A@x");
    str_release(&code);
    str_release(&rest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_report),
        cmocka_unit_test(test_delay_headers_only),
        cmocka_unit_test(test_dsn_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
