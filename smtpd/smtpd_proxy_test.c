/* Unit tests for the pure parts of the before-queue filter client: judging filter replies
 * (class expected, rejection passed on, out-of-protocol replaced), the reply reader's
 * validation of what a filter may send, the client-facing form of a reply (sanitised,
 * bounded, continuation markers), the rebuilt MAIL/RCPT/XFORWARD commands, and the content a
 * filter receives for every smuggling variant (clean CRLF, dot-stuffed, one message). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/queue_record.h"
#include "smtpd.h"
#include "smtpd_proxy.h"

/* A reply as smtp_reply_read makes it from text; returns its result. */
static int read_reply(const char *text, struct smtp_reply *r)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], text, strlen(text)), (ssize_t)strlen(text));
    close(sv[1]);
    struct stream *s = stream_fdopen(sv[0]);
    int rc = smtp_reply_read(s, r);
    stream_close(s);
    return rc;
}

static int judge(const char *text, int expect)
{
    struct smtp_reply r;
    smtp_reply_init(&r);
    assert_int_equal(read_reply(text, &r), 0);
    int j = smtpd_proxy_judge(&r, expect);
    smtp_reply_release(&r);
    return j;
}

static void test_judge(void **state)
{
    (void)state;
    assert_int_equal(judge("250 2.1.0 Ok\r\n", PROXY_WANT_OK), 0);
    assert_int_equal(judge("550 5.1.1 no\r\n", PROXY_WANT_OK), -1);
    assert_int_equal(judge("450 4.7.1 later\r\n", PROXY_WANT_OK), -1);
    assert_int_equal(judge("354 go\r\n", PROXY_WANT_OK), -2); /* never passed on */
    assert_int_equal(judge("354 go\r\n", PROXY_WANT_MORE), 0);
    assert_int_equal(judge("250 ok\r\n", PROXY_WANT_MORE), -2);
    assert_int_equal(judge("554 5.7.1 no\r\n", PROXY_WANT_MORE), -1);
    assert_int_equal(judge("250 2.0.0 Ok: queued as X\r\n", PROXY_WANT_ANY), 0);
    assert_int_equal(judge("451 4.3.0 try later\r\n", PROXY_WANT_ANY), -1);
    assert_int_equal(judge("550 5.7.1 spam\r\n", PROXY_WANT_ANY), -1);
    assert_int_equal(judge("354 more\r\n", PROXY_WANT_ANY), -2);
}

/* What a filter may not send: the reader refuses it (the client then gets our 451). */
static void test_reply_validation(void **state)
{
    (void)state;
    struct smtp_reply r;
    smtp_reply_init(&r);
    assert_int_equal(read_reply("25 short\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("2500 long code\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("650 class six\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("150 class one\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("abc garbage\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("250-ok\r\n251 mismatch\r\n", &r), SMTP_REPLY_BAD);
    assert_int_equal(read_reply("250-ok\r\n", &r), STREAM_EOF); /* unfinished */
    char big[4000];
    memset(big, 'x', sizeof(big));
    memcpy(big, "250 ", 4);
    big[sizeof(big) - 3] = '\r';
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = 0;
    assert_int_equal(read_reply(big, &r), SMTP_REPLY_BAD); /* longer than a reply line may be */
    /* A bare LF ends a line too; a CR inside stays in the text (sanitised for the client). */
    assert_int_equal(read_reply("550 5.7.1 a\rb\n", &r), 0);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.lines->v[0], "5.7.1 a\rb");
    smtp_reply_release(&r);
}

static void client_lines(const char *text, size_t limit, const char *want)
{
    struct smtp_reply r;
    struct argv *out = argv_new();
    struct str got = STR_INIT;
    smtp_reply_init(&r);
    assert_int_equal(read_reply(text, &r), 0);
    smtpd_proxy_client_lines(&r, limit, out);
    for (size_t i = 0; i < out->n; i++) {
        str_append(&got, out->v[i]);
        str_append(&got, "|");
    }
    assert_string_equal(str_cstr(&got), want);
    str_release(&got);
    argv_free(out);
    smtp_reply_release(&r);
}

static void test_client_lines(void **state)
{
    (void)state;
    client_lines("250 2.0.0 Ok: queued as ABC\r\n", 2048, "250 2.0.0 Ok: queued as ABC|");
    client_lines("550-5.7.1 one\r\n550 5.7.1 two\r\n", 2048, "550-5.7.1 one|550 5.7.1 two|");
    /* Every byte that could end or forge a reply line is replaced. */
    client_lines("550 5.7.1 bad\rInjected: yes\r\n", 2048, "550 5.7.1 bad?Injected: yes|");
    client_lines("550 x\x01y\x7fz\xff\r\n", 2048, "550 x?y?z?|");
    client_lines("550 \xc3\xa9t\xc3\xa9\r\n", 2048, "550 \xc3\xa9t\xc3\xa9|"); /* UTF-8 stays */
    /* A long multi-line reply is cut, and its last kept line ends it. */
    client_lines("550-aaaaaaaaaa\r\n550-bbbbbbbbbb\r\n550-cccccccccc\r\n550 dddddddddd\r\n", 40,
                 "550-aaaaaaaaaa|550 bbbbbbbbbb|");
    client_lines("550-aaaaaaaaaa\r\n550 bbbbbbbbbb\r\n", 5, "550 aaaaaaaaaa|");
    /* A bare code. */
    client_lines("250\r\n", 2048, "250 |");
}

static void test_mail_rcpt_commands(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    smtpd_proxy_mail_cmd("", -1, 0, 0, NULL, NULL, &s);
    assert_string_equal(str_cstr(&s), "MAIL FROM:<>");
    smtpd_proxy_mail_cmd("a b@example.org", 1234, 1, 1, "HDRS", "id+x=y z", &s);
    assert_string_equal(str_cstr(&s), "MAIL FROM:<\"a b\"@example.org> SIZE=1234 BODY=8BITMIME "
                                      "SMTPUTF8 RET=HDRS ENVID=id+2Bx+3Dy+20z");
    smtpd_proxy_rcpt_cmd("r@example.test", 0, NULL, &s);
    assert_string_equal(str_cstr(&s), "RCPT TO:<r@example.test>");
    smtpd_proxy_rcpt_cmd("r@example.test", DSN_NOTIFY_NEVER, NULL, &s);
    assert_string_equal(str_cstr(&s), "RCPT TO:<r@example.test> NOTIFY=NEVER");
    smtpd_proxy_rcpt_cmd("r@example.test", DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY,
                         "rfc822;o+x@example.org", &s);
    assert_string_equal(str_cstr(&s), "RCPT TO:<r@example.test> NOTIFY=SUCCESS,DELAY "
                                      "ORCPT=rfc822;o+2Bx@example.org");
    smtpd_proxy_rcpt_cmd("r@example.test", 0, "utf-8;j\xc3\xb6rg@example.org", &s);
    assert_string_equal(str_cstr(&s),
                        "RCPT TO:<r@example.test> ORCPT=utf-8;j\\x{F6}rg@example.org");
    str_release(&s);
}

static void test_xforward(void **state)
{
    (void)state;
    struct argv *ehlo = argv_new();
    argv_add(ehlo, "filter.test");
    argv_add(ehlo, "PIPELINING");
    argv_add(ehlo, "XFORWARD NAME ADDR proto HELO SOURCE BOGUS");
    unsigned f = xforward_features(ehlo);
    assert_int_equal(f, XF_NAME | XF_ADDR | XF_PROTO | XF_HELO | XF_SOURCE);
    argv_clear(ehlo);
    argv_add(ehlo, "filter.test");
    argv_add(ehlo, "XFORWARDX NAME");
    assert_int_equal(xforward_features(ehlo), 0);
    argv_free(ehlo);

    struct argv *out = argv_new();
    struct xforward_attrs c = {.name = NULL,
                               .addr = "IPv6:2001:db8::1",
                               .port = "2525",
                               .proto = "ESMTP",
                               .helo = "evil helo=x+y",
                               .source = "REMOTE"};
    xforward_cmds(f | XF_PORT | XF_IDENT, &c, out);
    assert_int_equal(out->n, 1);
    assert_string_equal(out->v[0], "XFORWARD NAME=[UNAVAILABLE] ADDR=IPv6:2001:db8::1 PORT=2525 "
                                   "PROTO=ESMTP HELO=evil+20helo+3Dx+2By IDENT=[UNAVAILABLE] "
                                   "SOURCE=REMOTE");
    /* Long values: split into several commands, none longer than 510 bytes before CRLF. */
    char helo[400];
    memset(helo, 'h', sizeof(helo) - 1);
    helo[sizeof(helo) - 1] = 0;
    char name[300];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    c.helo = helo;
    c.name = name;
    argv_clear(out);
    xforward_cmds(f, &c, out);
    assert_true(out->n >= 2);
    for (size_t i = 0; i < out->n; i++) {
        assert_true(strlen(out->v[i]) <= 510);
        assert_memory_equal(out->v[i], "XFORWARD ", 9);
    }
    assert_non_null(strstr(out->v[0], "NAME=nnn"));
    /* A value that cannot fit any command is sent as unknown. */
    char huge[600];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = 0;
    c.helo = huge;
    argv_clear(out);
    xforward_cmds(XF_HELO, &c, out);
    assert_string_equal(out->v[0], "XFORWARD HELO=[UNAVAILABLE]");
    argv_free(out);
}

/* ---- the content a filter receives ------------------------------------------------------ */

struct sink {
    struct smtp_text_state ts;
    struct str out;
};

static void to_filter(void *ctx, int type, const char *data, size_t len)
{
    struct sink *k = ctx;
    smtpd_proxy_encode(&k->ts, &k->out, type, data, len);
}

/* DATA input through smtpd's reader and assembler into the filter's form (with the "."). */
static void through(const char *input, size_t line_limit, const char *want, const char *want_rest)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
    close(fds[1]);
    struct stream *s = stream_fdopen(fds[0]);
    struct sink k;
    struct smtpd_content c;
    smtp_text_init(&k.ts);
    k.out = (struct str)STR_INIT;
    smtpd_content_init(&c, line_limit, BARE_LF_NORMALIZE, 0, to_filter, &k);
    assert_int_equal(smtpd_read_data(s, &c), 0);
    smtp_text_end(&k.ts, &k.out);
    assert_string_equal(str_cstr(&k.out), want);
    struct str rest = STR_INIT;
    char buf[256];
    ssize_t n;
    while ((n = stream_read(s, buf, sizeof(buf))) > 0)
        str_appendn(&rest, buf, (size_t)n);
    assert_string_equal(str_cstr(&rest), want_rest);
    /* Clean CRLF: every CR is followed by LF and every LF preceded by CR. */
    for (size_t i = 0; i < k.out.len; i++) {
        if (k.out.data[i] == '\r')
            assert_true(i + 1 < k.out.len && k.out.data[i + 1] == '\n');
        if (k.out.data[i] == '\n')
            assert_true(i > 0 && k.out.data[i - 1] == '\r');
    }
    str_release(&rest);
    str_release(&k.out);
    smtpd_content_release(&c);
    stream_close(s);
}

#define SMUGGLE_TAIL "MAIL FROM:<evil@x>\r\nDATA\r\n.\r\n"

static void test_smuggling_reaches_the_filter_as_content(void **state)
{
    (void)state;
    /* Each variant stays inside the one message; only <CR><LF>.<CR><LF> ends it. */
    through("a\n.\n" SMUGGLE_TAIL "QUIT\r\n", 2048, "a\r\n\r\nMAIL FROM:<evil@x>\r\nDATA\r\n.\r\n",
            "QUIT\r\n");
    through("a\n.\r\n" SMUGGLE_TAIL, 2048, "a\r\n\r\nMAIL FROM:<evil@x>\r\nDATA\r\n.\r\n", "");
    through("a\r.\r" SMUGGLE_TAIL, 2048, "a . MAIL FROM:<evil@x>\r\nDATA\r\n.\r\n", "");
    through("a\r\n.\n" SMUGGLE_TAIL, 2048, "a\r\n\r\nMAIL FROM:<evil@x>\r\nDATA\r\n.\r\n", "");
    through("a\r.\r\n" SMUGGLE_TAIL, 2048, "a .\r\nMAIL FROM:<evil@x>\r\nDATA\r\n.\r\n", "");
    /* Dot-stuffing undone on input and redone for the filter, at every line start. */
    through("..a\r\n...\r\nb\n..c\r\n.\r\n", 2048, "..a\r\n...\r\nb\r\n..c\r\n.\r\n", "");
    /* A line longer than line_length_limit goes out whole (the pieces are joined), and a
     * piece that starts with a dot in mid-line is not stuffed. */
    through("Subject: x\r\n\r\n..0123456.89abcdef\r\n.\r\n", 8,
            "Subject: x\r\n\r\n..0123456.89abcdef\r\n.\r\n", "");
    /* A final bare CR before the end of data is a space, never a line end. */
    through("x\r\r\n.\r\n", 2048, "x \r\n.\r\n", "");
    /* An empty message. */
    through(".\r\n", 2048, ".\r\n", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_reply_validation),
        cmocka_unit_test(test_client_lines),
        cmocka_unit_test(test_mail_rcpt_commands),
        cmocka_unit_test(test_xforward),
        cmocka_unit_test(test_smuggling_reaches_the_filter_as_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
