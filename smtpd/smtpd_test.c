/* Unit tests for the smtpd protocol engine: the DATA reader (every smuggling variant, bare
 * CR/LF handling, dot-unstuffing, long lines, size limit), the content assembler used by
 * BDAT, ESMTP parameter validation, the command table and non-SMTP probe detection, and the
 * reply sanitiser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd.h"

#include "mail/queue_record.h"

/* Collected output: "L:text|P:text|..." */
static void collect(void *ctx, int type, const char *data, size_t len)
{
    struct str *out = ctx;
    str_appendc(out, type);
    str_appendc(out, ':');
    str_appendn(out, data, len);
    str_appendc(out, '|');
}

/* Runs the DATA reader over input; returns its result, output in out, rest in rest. */
static int read_data(const char *input, size_t line_limit, int mode, long long size_limit,
                     struct str *out, struct str *rest, struct smtpd_content *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
    close(fds[1]);
    struct stream *s = stream_fdopen(fds[0]);
    smtpd_content_init(c, line_limit, mode, size_limit, collect, out);
    int rc = smtpd_read_data(s, c);
    char buf[256];
    ssize_t n;
    while ((n = stream_read(s, buf, sizeof(buf))) > 0)
        str_appendn(rest, buf, (size_t)n);
    stream_close(s);
    return rc;
}

static void expect_data(const char *input, const char *want, const char *want_rest, int want_rc)
{
    struct str out = STR_INIT, rest = STR_INIT;
    struct smtpd_content c;
    int rc = read_data(input, 2048, BARE_LF_NORMALIZE, 0, &out, &rest, &c);
    assert_int_equal(rc, want_rc);
    assert_string_equal(str_cstr(&out), want);
    assert_string_equal(str_cstr(&rest), want_rest);
    smtpd_content_release(&c);
    str_release(&out);
    str_release(&rest);
}

static void test_end_of_data(void **state)
{
    (void)state;
    expect_data("a\r\nb\r\n.\r\nQUIT\r\n", "L:a|L:b|", "QUIT\r\n", 0);
    expect_data(".\r\n", "", "", 0);
    expect_data("..x\r\n...\r\n.\r\n", "L:.x|L:..|", "", 0);
}

static void test_smuggling_variants(void **state)
{
    (void)state;
    /* None of these ends the message; the reader reaches the real end. */
    expect_data("a\n.\nMAIL\r\n.\r\n", "L:a|L:|L:MAIL|", "", 0);
    expect_data("a\n.\r\nMAIL\r\n.\r\n", "L:a|L:|L:MAIL|", "", 0);
    expect_data("a\r.\rMAIL\r\n.\r\n", "L:a . MAIL|", "", 0);
    expect_data("a\r\n.\nMAIL\r\n.\r\n", "L:a|L:|L:MAIL|", "", 0);
    expect_data("a\r\n.\r.\r\n.\r\n", "L:a|L: .|", "", 0);
    /* Without the real end the client just disconnects. */
    expect_data("a\n.\n", "L:a|L:|", "", STREAM_EOF);
}

static void test_bare_cr_lf(void **state)
{
    (void)state;
    expect_data("a\rb\r\nc\nd\r\n.\r\n", "L:a b|L:c|L:d|", "", 0);
    struct str out = STR_INIT, rest = STR_INIT;
    struct smtpd_content c;
    read_data("x\ny\r\n.\r\n", 2048, BARE_LF_YES, 0, &out, &rest, &c);
    assert_true(c.bare_lf);
    smtpd_content_release(&c);
    str_release(&out);
    str_release(&rest);
}

static void test_long_lines_split(void **state)
{
    (void)state;
    struct str in = STR_INIT, out = STR_INIT, rest = STR_INIT, want = STR_INIT;
    struct smtpd_content c;
    for (int i = 0; i < 250; i++)
        str_append(&in, "0123456789");
    str_append(&in, "\r\n.\r\n");
    assert_int_equal(read_data(in.data, 1000, BARE_LF_NORMALIZE, 0, &out, &rest, &c), 0);
    for (int part = 0; part < 3; part++) {
        str_append(&want, part < 2 ? "P:" : "L:");
        for (int i = 0; i < (part < 2 ? 100 : 50); i++)
            str_append(&want, "0123456789");
        str_append(&want, "|");
    }
    assert_string_equal(out.data, want.data);
    /* A CRLF split across reads still ends the line (and ". " after it is content). */
    smtpd_content_release(&c);
    str_release(&in);
    str_release(&out);
    str_release(&rest);
    str_release(&want);
}

static void test_size_limit(void **state)
{
    (void)state;
    struct str out = STR_INIT, rest = STR_INIT;
    struct smtpd_content c;
    assert_int_equal(read_data("abcdef\r\nghijkl\r\n.\r\nNOOP\r\n", 2048, BARE_LF_NORMALIZE, 10,
                               &out, &rest, &c),
                     0);
    assert_true(c.too_big);
    assert_string_equal(out.data, "L:abcdef|");
    assert_string_equal(rest.data, "NOOP\r\n");
    smtpd_content_release(&c);
    str_release(&out);
    str_release(&rest);
}

static void test_bdat_assembler(void **state)
{
    (void)state;
    struct str out = STR_INIT;
    struct smtpd_content c;
    smtpd_content_init(&c, 2048, BARE_LF_NORMALIZE, 0, collect, &out);
    smtpd_content_feed(&c, "a\r", 2);
    smtpd_content_feed(&c, "\nb\r", 3);
    smtpd_content_feed(&c, "c\r\n.\r\nlast", 10);
    smtpd_content_end(&c);
    /* BDAT content is not dot-stuffed: "." is a line of its own. */
    assert_string_equal(out.data, "L:a|L:b c|L:.|L:last|");
    smtpd_content_release(&c);
    str_release(&out);
}

static void expect_mail(const char *args, int rc, const char *reply)
{
    struct smtpd_mail_params p;
    struct str r = STR_INIT;
    smtpd_mail_params_init(&p);
    assert_int_equal(smtpd_parse_mail_params(args, 10240000, 1, 1, &p, &r), rc);
    assert_string_equal(str_cstr(&r), reply);
    smtpd_mail_params_release(&p);
    str_release(&r);
}

static void expect_rcpt(const char *args, int rc, const char *reply, int notify, const char *orcpt)
{
    struct smtpd_rcpt_params p;
    struct str r = STR_INIT;
    smtpd_rcpt_params_init(&p);
    assert_int_equal(smtpd_parse_rcpt_params(args, 1, &p, &r), rc);
    assert_string_equal(str_cstr(&r), reply);
    if (rc == 0) {
        assert_int_equal(p.notify, notify);
        assert_string_equal(p.orcpt ? p.orcpt : "", orcpt);
    }
    smtpd_rcpt_params_release(&p);
    str_release(&r);
}

static void test_esmtp_params(void **state)
{
    (void)state;
    smtpd_conf.smtputf8_enable = 1;
    expect_mail(" SIZE=100 BODY=8BITMIME SMTPUTF8 RET=full ENVID=a+2Bb AUTH=<>", 0, "");
    expect_mail(" SIZE=10240001", -1, "552 5.3.4 Message size exceeds fixed limit");
    expect_mail(" SIZE=18446744073709551616", -1, "552 5.3.4 Message size exceeds fixed limit");
    expect_mail(" SIZE=", -1, "501 5.5.4 Bad message size syntax");
    expect_mail(" SIZE=1 SIZE=2", -1, "501 5.5.4 Bad message size syntax");
    expect_mail(" ENVID=x+0Dy", -1, "501 5.5.4 Bad ENVID parameter syntax");
    expect_mail(" ENVID=x+00", -1, "501 5.5.4 Bad ENVID parameter syntax");
    expect_mail(" ENVID=x+0", -1, "501 5.5.4 Bad ENVID parameter syntax");
    expect_mail(" RET=FULL RET=HDRS", -1, "501 5.5.4 Bad RET parameter syntax");
    expect_mail(" AUTH=a+0A", -1, "501 5.5.4 Bad AUTH parameter syntax");
    expect_mail(" SMTPUTF8=yes", -1, "555 5.5.4 Unsupported option: SMTPUTF8");
    expect_mail(" X\x01Y=1", -1, "555 5.5.4 Unsupported option: X?Y");
    expect_rcpt(" NOTIFY=SUCCESS,DELAY", 0, "", DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY, "");
    expect_rcpt(" NOTIFY=NEVER", 0, "", DSN_NOTIFY_NEVER, "");
    expect_rcpt(" NOTIFY=NEVER,DELAY", -1, "501 5.5.4 Error: Bad NOTIFY parameter syntax", 0, "");
    expect_rcpt(" NOTIFY=DELAY,", -1, "501 5.5.4 Error: Bad NOTIFY parameter syntax", 0, "");
    expect_rcpt(" ORCPT=rfc822;a+40b@c", 0, "", 0, "rfc822;a@b@c");
    expect_rcpt(" ORCPT=UTF-8;j\\x{F6}rg@c", 0, "", 0, "utf-8;j\xc3\xb6rg@c");
    expect_rcpt(" ORCPT=rfc822;a+0Ab", -1, "501 5.5.4 Error: Bad ORCPT parameter syntax", 0, "");
    expect_rcpt(" ORCPT=;a", -1, "501 5.5.4 Error: Bad ORCPT parameter syntax", 0, "");
    expect_rcpt(" FOO", -1, "555 5.5.4 Unsupported option: FOO", 0, "");
}

static void test_commands_and_probes(void **state)
{
    (void)state;
    const char *args;
    assert_true(smtpd_cmd_lookup("mail FROM:<a>", &args) >= 0);
    assert_string_equal(args, "FROM:<a>");
    assert_true(smtpd_cmd_lookup("eHlO  host", &args) >= 0);
    assert_string_equal(args, "host");
    assert_int_equal(smtpd_cmd_lookup("MAILX", &args), -1);
    assert_int_equal(smtpd_cmd_lookup("", &args), -1);
    assert_true(smtpd_is_junk_probe("GET / HTTP/1.1"));
    assert_true(smtpd_is_junk_probe("post /x HTTP/1.0"));
    assert_true(smtpd_is_junk_probe("CONNECT 1.2.3.4:25 HTTP/1.0"));
    assert_true(smtpd_is_junk_probe("USER root"));
    assert_true(smtpd_is_junk_probe("Host: example.com"));
    assert_true(smtpd_is_junk_probe("User-Agent: x"));
    assert_false(smtpd_is_junk_probe("MAIL FROM:<a@b>"));
    assert_false(smtpd_is_junk_probe("RCPT TO: <a@b>"));
    assert_false(smtpd_is_junk_probe("QUIT"));
}

static void test_sanitize(void **state)
{
    (void)state;
    struct str out = STR_INIT;
    smtpd_sanitize("a\r\nb\0c\x7f\xff j\xc3\xb6rg", 14, &out);
    assert_string_equal(out.data, "a??b?c?? j\xc3\xb6rg");
    str_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_of_data),  cmocka_unit_test(test_smuggling_variants),
        cmocka_unit_test(test_bare_cr_lf),   cmocka_unit_test(test_long_lines_split),
        cmocka_unit_test(test_size_limit),   cmocka_unit_test(test_bdat_assembler),
        cmocka_unit_test(test_esmtp_params), cmocka_unit_test(test_commands_and_probes),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
