/* Unit tests for cleanup's MIME-aware checks: which table sees a part header, an attached
 * message's header and a body line; the per-segment body_checks_size_limit; IGNORE, REPLACE and
 * PREPEND in part headers and bodies; disable_mime_input_processing; the nesting limit and
 * strict_mime_encoding_domain rejects; and the end of the content flushing a pending part
 * header. The content written is read back from the queue file writer's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cleanup.h"
#include "cleanup_test_fixture.h"
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
    cleanup_cfg.header_size_limit = 102400;
    cleanup_cfg.line_length_limit = 2048;
    cleanup_cfg.body_checks_size_limit = 51200;
    cleanup_cfg.mime_nesting_limit = 100;
    cleanup_cfg.mime_boundary_limit = 2048;
    fixture_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close();
    maps_free(cleanup_cfg.header_checks);
    maps_free(cleanup_cfg.mime_header_checks);
    maps_free(cleanup_cfg.nested_header_checks);
    maps_free(cleanup_cfg.body_checks);
    memset(&cleanup_cfg, 0, sizeof(cleanup_cfg));
    return 0;
}

static struct maps *table(const char *name, const char *spec)
{
    return maps_open(name, spec, 0);
}

/* Feeds a message: primary headers (one per line, no folding here) up to the first blank line,
 * then the body; with end, the end of the content. */
static void feed(const char *msg, int end)
{
    struct str line = STR_INIT;
    int in_headers = 1;
    cleanup_mime_start(&st);
    for (const char *p = msg; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        str_set(&line, "");
        str_appendn(&line, p, n);
        p += n + (nl != NULL);
        if (in_headers && n > 0)
            cleanup_mime_primary_header(&st, &line);
        else if (in_headers) {
            in_headers = 0;
            cleanup_mime_primary_end(&st);
        } else
            cleanup_body_line(&st, &line);
    }
    if (end)
        cleanup_body_end(&st);
    str_release(&line);
}

/* The L records written so far, one per line; P pieces are joined. */
static void written(struct str *out)
{
    str_set(out, "");
    const char *p = w.buf.data ? w.buf.data : "", *end = p + w.buf.len;
    while (p < end) {
        char type = *p++;
        char *colon;
        size_t n = strtoul(p, &colon, 10);
        if (type == REC_LINE || type == REC_PART)
            str_appendn(out, colon + 1, n);
        if (type == REC_LINE)
            str_appendc(out, '\n');
        p = colon + 1 + n + 1;
    }
}

static void expect_written(const char *want)
{
    struct str got = STR_INIT;
    written(&got);
    if (strcmp(got.data, want) != 0)
        fail_msg("written differs:\n--- got\n%s--- want\n%s", got.data, want);
    str_release(&got);
}

static const char *const msg = "Subject: s\n"
                               "Content-Type: multipart/mixed; boundary=\"=-b\"\n"
                               "\n"
                               "preamble\n"
                               "--=-b\n"
                               "Content-Type: text/plain\n"
                               "X-Part-Note: dropped\n"
                               "\n"
                               "first part\n"
                               "--=-b\n"
                               "Content-Type: message/rfc822\n"
                               "\n"
                               "Subject: nested subject\n"
                               "Content-Type: text/html\n"
                               "\n"
                               "nested body\n"
                               "--=-b--\n"
                               "epilogue\n";

static void test_tables_per_class(void **state)
{
    (void)state;
    cleanup_cfg.header_checks =
        table("header_checks", "inline:{ {Subject: nested subject=REJECT} }");
    cleanup_cfg.mime_header_checks =
        table("mime_header_checks", "inline:{ {X-Part-Note: dropped=IGNORE}, "
                                    "{Content-Type: text/html=REPLACE Content-Type: text/plain} }");
    cleanup_cfg.nested_header_checks = table(
        "nested_header_checks", "inline:{ {Subject: nested subject=PREPEND X-Seen: nested} }");
    cleanup_cfg.body_checks =
        table("body_checks", "inline:{ {first part=REPLACE 1st part}, {epilogue=IGNORE} }");
    feed(msg, 1);
    assert_int_equal(st.status, 0); /* header_checks saw no part or nested header */
    expect_written("preamble\n"     /* the primary separator is the caller's */
                   "--=-b\n"
                   "Content-Type: text/plain\n"
                   "\n"
                   "1st part\n"
                   "--=-b\n"
                   "Content-Type: message/rfc822\n"
                   "\n"
                   "X-Seen: nested\n"
                   "Subject: nested subject\n"
                   "Content-Type: text/plain\n"
                   "\n"
                   "nested body\n"
                   "--=-b--\n");
}

static void test_part_header_reject(void **state)
{
    (void)state;
    cleanup_cfg.mime_header_checks =
        table("mime_header_checks", "inline:{ {Content-Type: message/rfc822=REJECT no attached "
                                    "messages} }");
    feed(msg, 1);
    assert_int_equal(st.status, CLEANUP_STAT_CONT);
    assert_string_equal(st.reason.data, "5.7.1 no attached messages");
}

static void test_body_checks_size_limit_per_segment(void **state)
{
    (void)state;
    cleanup_cfg.body_checks = table("body_checks", "inline:{ {bad=REPLACE good} }");
    cleanup_cfg.body_checks_size_limit = 8;
    feed("Content-Type: multipart/mixed; boundary=b\n"
         "\n"
         "bad\n"    /* offset 1: checked */
         "1234\n"   /* offset 5 */
         "bad\n"    /* offset 10: past the limit */
         "--b\n"    /* offset 14 */
         "\n"       /* offset 0 of the part's body */
         "bad\n"    /* offset 1: checked again */
         "--b--\n", /* offset 0 of the epilogue */
         1);
    expect_written("good\n1234\nbad\n--b\n\ngood\n--b--\n");
}

static void test_disabled_mime_part_header_is_body(void **state)
{
    (void)state;
    const char *m = "Content-Type: multipart/mixed; boundary=b\n\n--b\nX-Bad: 1\n\nx\n--b--\n";
    cleanup_cfg.mime_header_checks = table("mime_header_checks", "inline:{ {X-Bad: 1=REJECT} }");
    cleanup_cfg.body_checks = table("body_checks", "inline:{ {X-Bad: 1=REJECT body} }");
    feed(m, 1);
    assert_string_equal(st.reason.data, "5.7.1 message content rejected");
    cleanup_state_release(&st);
    cleanup_state_init(&st, CLEANUP_FLAG_FILTER);
    st.queue_id = "TESTID";
    st.w = &w;
    cleanup_cfg.disable_mime = 1;
    feed(m, 1);
    assert_string_equal(st.reason.data, "5.7.1 body");
}

static void test_nesting_and_encoding_rejects(void **state)
{
    (void)state;
    const char *deep = "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
                       "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                       "Content-Type: text/plain\n\nx\n--b--\n--a--\n";
    cleanup_cfg.mime_nesting_limit = 1;
    feed(deep, 1); /* no header checks, no strict setting: not reported */
    assert_int_equal(st.status, 0);
    cleanup_state_release(&st);
    cleanup_state_init(&st, CLEANUP_FLAG_FILTER);
    st.queue_id = "TESTID";
    st.w = &w;
    cleanup_cfg.header_checks = table("header_checks", "inline:{ {X-Nothing: 1=REJECT} }");
    feed(deep, 1);
    assert_int_equal(st.status, CLEANUP_STAT_CONT);
    assert_string_equal(st.reason.data, "5.6.0 MIME nesting exceeds safety limit");
    cleanup_state_release(&st);
    cleanup_state_init(&st, CLEANUP_FLAG_FILTER);
    st.queue_id = "TESTID";
    st.w = &w;
    cleanup_cfg.strict_encoding = 1;
    feed("Content-Type: multipart/mixed; boundary=a\nContent-Transfer-Encoding: base64\n\nx\n", 1);
    assert_int_equal(st.status, CLEANUP_STAT_CONT);
    assert_string_equal(st.reason.data, "5.6.0 invalid message/* or multipart/* encoding domain");
}

static void test_end_flushes_pending_part_header(void **state)
{
    (void)state;
    feed("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain", 0);
    expect_written("--b\n");
    cleanup_body_end(&st);
    expect_written("--b\nContent-Type: text/plain\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tables_per_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_header_reject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_checks_size_limit_per_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_mime_part_header_is_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_and_encoding_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_flushes_pending_part_header, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
