/* Unit tests for sendmail's message input (From_ line, lone dot, CRLF/LF, long lines), header
 * recipient counting for -t, and option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sendmail.h"

#include "mail/maildrop.h"
#include "mail/queue_record.h"

#include <string.h>

static void collect(void *ctx, int type, const char *data, size_t len)
{
    struct str *out = ctx;
    str_appendf(out, "%c:%.*s|", type, (int)len, data);
}

static const char *run(const char *input, int dot_ends, int unstuff, size_t limit, int *rc)
{
    static struct str out = STR_INIT;
    str_clear(&out);
    FILE *in = fmemopen((void *)input, strlen(input), "r");
    struct sm_input_opts o = {limit, dot_ends, unstuff, 1};
    *rc = sm_read_message(in, &o, collect, &out);
    fclose(in);
    return str_cstr(&out);
}

static void test_from_line_and_dot(void **state)
{
    (void)state;
    int rc;
    assert_string_equal(run("From x y\nA: b\n\nbody\n.\nafter\n", 1, 0, 100, &rc),
                        "L:A: b|L:|L:body|");
    assert_int_equal(rc, 1);
    assert_string_equal(run("From x y\nA: b\n.\nafter\n", 0, 0, 100, &rc), "L:A: b|L:.|L:after|");
    assert_int_equal(rc, 0);
    /* Only the very first line is a From_ line. */
    assert_string_equal(run("A: b\nFrom x\n", 1, 0, 100, &rc), "L:A: b|L:From x|");
}

static void test_line_endings_and_long_lines(void **state)
{
    (void)state;
    int rc;
    assert_string_equal(run("a\r\nb\nc\r\n.\r\n", 1, 0, 100, &rc), "L:a|L:b|L:c|");
    assert_string_equal(run("no newline", 1, 0, 100, &rc), "L:no newline|");
    assert_string_equal(run("abcdefg\n", 1, 0, 3, &rc), "P:abc|P:def|L:g|");
    assert_string_equal(run("abc\n", 1, 0, 3, &rc), "L:abc|");
    assert_string_equal(run("abc\r\nd\n", 1, 0, 3, &rc), "P:abc|L:|L:d|");
    assert_string_equal(run("abcdef", 1, 0, 3, &rc), "P:abc|L:def|");
    /* SMTP: dot-unstuffing, but not of a continued piece. */
    assert_string_equal(run("..x\r\n.\r\n", 1, 1, 100, &rc), "L:.x|");
}

static int count_rcpts(const char *const *lines)
{
    struct sm_headers h;
    sm_headers_init(&h, 0);
    for (int i = 0; lines[i]; i++)
        if (sm_headers_put(&h, REC_LINE, lines[i], strlen(lines[i])))
            break;
    sm_headers_finish(&h);
    int n = (int)h.rcpts;
    sm_headers_release(&h);
    return n;
}

static void test_header_recipients(void **state)
{
    (void)state;
    const char *a[] = {"Subject: x", "To: a@b, \"c d\" <e@f>", "Cc: g@h", "", "To: body@x", NULL};
    assert_int_equal(count_rcpts(a), 3);
    const char *b[] = {"Subject: x", "To:", " folded@x,", "\tother@y", NULL};
    assert_int_equal(count_rcpts(b), 2);
    const char *c[] = {"Subject: x", "", NULL};
    assert_int_equal(count_rcpts(c), 0);
    const char *d[] = {"To: undisclosed-recipients:;", NULL};
    assert_int_equal(count_rcpts(d), 0);
}

static void test_options(void **state)
{
    (void)state;
    struct sm_opts o;
    struct str err = STR_INIT;
    char *a1[] = {"/usr/sbin/sendmail",
                  "-oi",
                  "-t",
                  "-N",
                  "delay,failure",
                  "-R",
                  "hdrs",
                  "-f",
                  "s@x",
                  "-o",
                  "m",
                  "-B",
                  "8BITMIME",
                  "u@x",
                  NULL};
    assert_int_equal(sm_parse_args(14, a1, &o, &err), 0);
    assert_true(o.dot_ok && o.extract);
    assert_int_equal(o.notify, DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE);
    assert_string_equal(o.ret, "HDRS");
    assert_string_equal(o.sender, "s@x");
    assert_int_equal(o.rcpts->n, 1);
    argv_free(o.rcpts);
    char *a2[] = {"mailq", NULL};
    assert_int_equal(sm_parse_args(1, a2, &o, &err), 0);
    assert_int_equal(o.mode, SM_MODE_MAILQ);
    argv_free(o.rcpts);
    char *a3[] = {"sendmail", "-f", "a\nb", NULL};
    assert_int_equal(sm_parse_args(3, a3, &o, &err), -1);
    assert_string_equal(str_cstr(&err),
                        "-f option: bad sender address: control character or too long");
    argv_free(o.rcpts);
    char *a4[] = {"newaliases", NULL};
    assert_int_equal(sm_parse_args(1, a4, &o, &err), 0);
    assert_int_equal(o.mode, SM_MODE_NEWALIASES);
    argv_free(o.rcpts);
    char *a5[] = {"sendmail", "-qRexample.com", NULL};
    assert_int_equal(sm_parse_args(2, a5, &o, &err), 0);
    assert_int_equal(o.mode, SM_MODE_FLUSH);
    assert_string_equal(o.queue_site, "example.com");
    argv_free(o.rcpts);
    assert_int_equal(sm_parse_notify("never"), DSN_NOTIFY_NEVER);
    assert_int_equal(sm_parse_notify("never,success"), -1);
    assert_int_equal(sm_parse_notify("bogus"), -1);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_line_and_dot),
        cmocka_unit_test(test_line_endings_and_long_lines),
        cmocka_unit_test(test_header_recipients),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
