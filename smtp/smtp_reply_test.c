/* Unit tests for the smtp agent's pure parts: reply lines and multi-line replies, enhanced
 * codes, EHLO keywords, DATA encoding (dot-stuffing, CRLF, line splitting), the "said" text,
 * MX ordering and next-hop syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct stream *feed(const char *text, int *peer)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], text, strlen(text)), (ssize_t)strlen(text));
    shutdown(sv[1], SHUT_WR);
    *peer = sv[1];
    return stream_fdopen(sv[0]);
}

static void test_parse_line(void **state)
{
    (void)state;
    int code, more;
    const char *text;
    assert_int_equal(smtp_reply_parse_line("250-PIPELINING", &code, &more, &text), 0);
    assert_int_equal(code, 250);
    assert_int_equal(more, 1);
    assert_string_equal(text, "PIPELINING");
    assert_int_equal(smtp_reply_parse_line("550 5.1.1 no", &code, &more, &text), 0);
    assert_int_equal(more, 0);
    assert_int_equal(smtp_reply_parse_line("354", &code, &more, &text), 0);
    assert_string_equal(text, "");
    assert_int_equal(smtp_reply_parse_line("25 x", &code, &more, &text), -1);
    assert_int_equal(smtp_reply_parse_line("250x", &code, &more, &text), -1);
    assert_int_equal(smtp_reply_parse_line("650 x", &code, &more, &text), -1);
    assert_int_equal(smtp_reply_parse_line("", &code, &more, &text), -1);
}

static void test_dsn(void **state)
{
    (void)state;
    struct str d = STR_INIT;
    smtp_reply_dsn(550, "5.1.1 <a@b>: unknown", &d);
    assert_string_equal(d.data, "5.1.1");
    smtp_reply_dsn(450, "5.1.1 class mismatch", &d);
    assert_string_equal(d.data, "4.0.0");
    smtp_reply_dsn(250, "Ok", &d);
    assert_string_equal(d.data, "2.0.0");
    smtp_reply_dsn(421, "4.7.0x", &d);
    assert_string_equal(d.data, "4.0.0");
    str_release(&d);
}

static void test_read_multiline(void **state)
{
    (void)state;
    int peer;
    struct stream *s = feed("250-first\r\n250-2.1.0 second\r\n250 third\r\n550 5.1.1 bad\n", &peer);
    struct smtp_reply r;
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_read(s, &r), 0);
    assert_int_equal(r.code, 250);
    assert_int_equal(r.lines->n, 3);
    assert_string_equal(r.text.data, "250-first 250-2.1.0 second 250 third");
    assert_string_equal(r.dsn.data, "2.0.0");
    assert_int_equal(smtp_reply_read(s, &r), 0);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.dsn.data, "5.1.1");
    assert_string_equal(r.text.data, "550 5.1.1 bad");
    assert_int_equal(smtp_reply_read(s, &r), STREAM_EOF);
    smtp_reply_release(&r);
    stream_close(s);
    close(peer);
}

static void test_read_bad(void **state)
{
    (void)state;
    const char *bad[] = {"250-a\r\n251 b\r\n", "hello\r\n", "250-a\r\n"};
    int want[] = {SMTP_REPLY_BAD, SMTP_REPLY_BAD, STREAM_EOF};
    for (size_t i = 0; i < 3; i++) {
        int peer;
        struct stream *s = feed(bad[i], &peer);
        struct smtp_reply r;
        smtp_reply_init(&r);
        assert_int_equal(smtp_reply_read(s, &r), want[i]);
        smtp_reply_release(&r);
        stream_close(s);
        close(peer);
    }
    /* Too many lines. */
    struct str many = STR_INIT;
    for (int i = 0; i < SMTP_REPLY_LINES_MAX + 5; i++)
        str_append(&many, "250-x\r\n");
    int peer;
    struct stream *s = feed(many.data, &peer);
    struct smtp_reply r;
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_read(s, &r), SMTP_REPLY_BAD);
    smtp_reply_release(&r);
    stream_close(s);
    close(peer);
    str_release(&many);
}

static void test_ehlo(void **state)
{
    (void)state;
    struct argv *l = argv_new();
    argv_add(l, "mx.example ESMTP");
    argv_add(l, "pipelining");
    argv_add(l, "SIZE 10240000");
    argv_add(l, "8BITMIME");
    argv_add(l, "AUTH PLAIN LOGIN");
    argv_add(l, "DSN");
    argv_add(l, "SMTPUTF8");
    argv_add(l, "CHUNKING");
    argv_add(l, "X-UNKNOWN");
    long size;
    unsigned f = smtp_ehlo_features(l, NULL, &size);
    assert_int_equal(f, SMTP_FEAT_PIPELINING | SMTP_FEAT_SIZE | SMTP_FEAT_8BITMIME |
                            SMTP_FEAT_AUTH | SMTP_FEAT_DSN | SMTP_FEAT_SMTPUTF8 |
                            SMTP_FEAT_CHUNKING);
    assert_int_equal(size, 10240000);
    f = smtp_ehlo_features(l, "pipelining, dsn", &size);
    assert_int_equal(f & (SMTP_FEAT_PIPELINING | SMTP_FEAT_DSN), 0);
    argv_free(l);
}

static void put(struct smtp_text_state *st, struct str *out, const char *t, int eol, size_t lim)
{
    smtp_text_put(st, out, t, strlen(t), eol, lim);
}

static void test_text(void **state)
{
    (void)state;
    struct smtp_text_state st;
    struct str out = STR_INIT;
    smtp_text_init(&st);
    put(&st, &out, "Subject: x", 1, 0);
    put(&st, &out, "", 1, 0);
    put(&st, &out, ".", 1, 0);
    put(&st, &out, "..x", 1, 0);
    put(&st, &out, "a.", 1, 0);
    put(&st, &out, ".long", 0, 0); /* a piece, then its continuation */
    put(&st, &out, ".tail", 1, 0);
    smtp_text_end(&st, &out);
    assert_string_equal(out.data, "Subject: x\r\n\r\n..\r\n...x\r\na.\r\n..long.tail\r\n.\r\n");
    str_clear(&out);
    put(&st, &out, "abcdefghij", 1, 4);
    put(&st, &out, "no end", 0, 0);
    smtp_text_end(&st, &out);
    assert_string_equal(out.data, "abcd\r\n efg\r\n hij\r\nno end\r\n.\r\n");
    str_release(&out);
}

static void test_said(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    smtp_text_said(&s, "mx.example", "192.0.2.1", "550 5.1.1 <a@b>: User unknown", "RCPT TO");
    assert_string_equal(s.data, "host mx.example[192.0.2.1] said: 550 5.1.1 <a@b>: User unknown "
                                "(in reply to RCPT TO command)");
    str_release(&s);
}

static long seq_val;
static long seq(void)
{
    return seq_val--;
}

static void test_mx_order(void **state)
{
    (void)state;
    struct argv *a = argv_new(), *h = argv_new();
    argv_add(a, "20 b.example");
    argv_add(a, "10 a.example");
    argv_add(a, "30 c.example");
    argv_add(a, "garbage");
    assert_int_equal(smtp_mx_order(a, 0, NULL, NULL, h), SMTP_MX_OK);
    assert_int_equal(h->n, 3);
    assert_string_equal(h->v[0], "a.example");
    assert_string_equal(h->v[1], "b.example");
    assert_string_equal(h->v[2], "c.example");
    /* Our own name cuts the list at its preference. */
    argv_clear(h);
    assert_int_equal(smtp_mx_order(a, 0, NULL, "B.example.", h), SMTP_MX_OK);
    assert_int_equal(h->n, 1);
    argv_clear(h);
    assert_int_equal(smtp_mx_order(a, 0, NULL, "a.example", h), SMTP_MX_SELF);
    /* Equal preferences follow the random source; different ones never move. */
    argv_clear(a);
    argv_clear(h);
    argv_add(a, "10 x1");
    argv_add(a, "10 x2");
    argv_add(a, "5 first");
    seq_val = 100;
    assert_int_equal(smtp_mx_order(a, 1, seq, NULL, h), SMTP_MX_OK);
    assert_string_equal(h->v[0], "first");
    assert_string_equal(h->v[1], "x2");
    assert_string_equal(h->v[2], "x1");
    /* Null MX. */
    argv_clear(a);
    argv_clear(h);
    argv_add(a, "0 .");
    assert_int_equal(smtp_mx_order(a, 1, NULL, NULL, h), SMTP_MX_NULL);
    argv_clear(a);
    assert_int_equal(smtp_mx_order(a, 1, NULL, NULL, h), SMTP_MX_BAD);
    argv_free(a);
    argv_free(h);
}

static void test_nexthop(void **state)
{
    (void)state;
    struct smtp_dest d;
    struct str err = STR_INIT;
    assert_int_equal(smtp_dest_parse("example.com", 0, "smtp", &d, &err), 0);
    assert_true(d.use_mx);
    assert_string_equal(d.host, "example.com");
    assert_string_equal(d.port, "25");
    smtp_dest_release(&d);
    assert_int_equal(smtp_dest_parse("[mail.example.com]:587", 0, "smtp", &d, &err), 0);
    assert_false(d.use_mx);
    assert_string_equal(d.host, "mail.example.com");
    assert_string_equal(d.port, "587");
    smtp_dest_release(&d);
    assert_int_equal(smtp_dest_parse("example.com:2525", 0, "smtp", &d, &err), 0);
    assert_true(d.use_mx);
    assert_string_equal(d.port, "2525");
    smtp_dest_release(&d);
    assert_int_equal(smtp_dest_parse("unix:private/dovecot-lmtp", 1, "lmtp", &d, &err), 0);
    assert_true(d.is_unix);
    assert_string_equal(d.path, "private/dovecot-lmtp");
    smtp_dest_release(&d);
    assert_int_equal(smtp_dest_parse("inet:lmtp.example:24", 1, "lmtp", &d, &err), 0);
    assert_false(d.use_mx);
    assert_string_equal(d.host, "lmtp.example");
    assert_string_equal(d.port, "24");
    smtp_dest_release(&d);
    assert_int_equal(smtp_dest_parse("[host", 0, "smtp", &d, &err), -1);
    assert_int_equal(smtp_dest_parse("[]:25", 0, "smtp", &d, &err), -1);
    assert_int_equal(smtp_dest_parse("host:99999", 0, "smtp", &d, &err), -1);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),     cmocka_unit_test(test_dsn),
        cmocka_unit_test(test_read_multiline), cmocka_unit_test(test_read_bad),
        cmocka_unit_test(test_ehlo),           cmocka_unit_test(test_text),
        cmocka_unit_test(test_said),           cmocka_unit_test(test_mx_order),
        cmocka_unit_test(test_nexthop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
