/* Unit tests for milter_proto: command packets byte for byte, reply decoding of every reply
 * type, length limits, malformed replies, and SMTP reply-code validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/stream.h"
#include "mail/milter_proto.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MEM(s) s, sizeof(s) - 1

static void expect_pkt(struct str *out, const char *bytes, size_t n)
{
    assert_int_equal(out->len, n);
    assert_memory_equal(out->data, bytes, n);
    str_clear(out);
}

static void test_commands(void **state)
{
    (void)state;
    struct str o = STR_INIT;
    milter_cmd_optneg(&o, 6, 0x1ff, 0x1fffff);
    expect_pkt(&o, MEM("\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff"));
    milter_cmd_connect(&o, "host", '4', 25, "1.2.3.4");
    expect_pkt(&o, MEM("\0\0\0\x11"
                       "Chost\0"
                       "4\0\x19"
                       "1.2.3.4\0"));
    milter_cmd_connect(&o, "x", 'U', 0, NULL);
    expect_pkt(&o, MEM("\0\0\0\x04"
                       "Cx\0U"));
    milter_cmd_helo(&o, "ab");
    expect_pkt(&o, MEM("\0\0\0\x04Hab\0"));
    struct argv *a = argv_new();
    argv_add(a, "<a@b>");
    argv_add(a, "SIZE=10");
    milter_cmd_args(&o, SMFIC_MAIL, a);
    expect_pkt(&o, MEM("\0\0\0\x0fM<a@b>\0SIZE=10\0"));
    struct argv *n = argv_new(), *v = argv_new();
    argv_add(n, "i");
    argv_add(v, "ID1");
    argv_add(n, "{j}");
    argv_add(v, "");
    milter_cmd_macros(&o, 'M', n, v);
    expect_pkt(&o, MEM("\0\0\0\x0d"
                       "DMi\0ID1\0{j}\0\0"));
    milter_cmd_header(&o, "Subject", "hi");
    expect_pkt(&o, MEM("\0\0\0\x0cLSubject\0hi\0"));
    milter_cmd_body(&o, "ab\r\n", 4);
    expect_pkt(&o, MEM("\0\0\0\x05"
                       "Bab\r\n"));
    milter_cmd_simple(&o, SMFIC_BODYEOB);
    expect_pkt(&o, MEM("\0\0\0\x01"
                       "E"));
    milter_cmd_unknown(&o, "XYZ");
    expect_pkt(&o, MEM("\0\0\0\x05UXYZ\0"));
    argv_free(a);
    argv_free(n);
    argv_free(v);
    str_release(&o);
}

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(milter_proto_actions(2), 0x3f);
    assert_int_equal(milter_proto_actions(6), 0x1ff);
    assert_int_equal(milter_proto_steps(2), 0x7f);
    assert_int_equal(milter_proto_steps(4) & SMFIP_NODATA, SMFIP_NODATA);
    assert_int_equal(milter_proto_steps(3) & SMFIP_NODATA, 0);
    assert_int_equal(milter_proto_steps(6) & SMFIP_HDR_LEADSPC, SMFIP_HDR_LEADSPC);
}

static int parse(int cmd, const char *d, size_t n, struct milter_reply *r, struct str *err)
{
    milter_reply_release(r);
    str_clear(err);
    return milter_reply_parse(cmd, d, n, r, err);
}

static void test_replies(void **state)
{
    (void)state;
    struct milter_reply r = {0};
    struct str err = STR_INIT;
    const char verdicts[] = "acdrtps4f";
    for (const char *c = verdicts; *c; c++) {
        assert_int_equal(parse(*c, "", 0, &r, &err), 0);
        assert_int_equal(r.cmd, *c);
        assert_int_equal(parse(*c, "x", 1, &r, &err), -1);
    }
    assert_int_equal(parse('h', MEM("X-A\0v 1\0"), &r, &err), 0);
    assert_string_equal(r.name.data, "X-A");
    assert_string_equal(r.value.data, "v 1");
    assert_int_equal(parse('i', MEM("\0\0\0\x02X\0y\0"), &r, &err), 0);
    assert_int_equal(r.index, 2);
    assert_int_equal(parse('m', MEM("\0\0\0\x01Subject\0\0"), &r, &err), 0);
    assert_string_equal(r.value.data, "");
    assert_int_equal(parse('+', MEM("<a@b>\0"), &r, &err), 0);
    assert_string_equal(r.text.data, "<a@b>");
    assert_int_equal(parse('-', MEM("<a@b>\0"), &r, &err), 0);
    assert_int_equal(parse('2', MEM("<a@b>\0NOTIFY=NEVER\0"), &r, &err), 0);
    assert_string_equal(r.value.data, "NOTIFY=NEVER");
    assert_int_equal(parse('e', MEM("<s@x>\0"), &r, &err), 0);
    assert_string_equal(r.value.data, "");
    assert_int_equal(parse('q', MEM("why\0"), &r, &err), 0);
    assert_string_equal(r.text.data, "why");
    assert_int_equal(parse('b', MEM("a\0b\r\n"), &r, &err), 0);
    assert_int_equal(r.body.len, 5);
    assert_int_equal(parse('y', MEM("550 5.7.1 no\0"), &r, &err), 0);
    assert_string_equal(r.text.data, "550 5.7.1 no");
    /* malformed */
    assert_int_equal(parse('h', MEM("X-A\0v"), &r, &err), -1);   /* unterminated */
    assert_int_equal(parse('h', MEM("X A\0v\0"), &r, &err), -1); /* bad name */
    assert_int_equal(parse('h', MEM("X:A\0v\0"), &r, &err), -1);
    assert_int_equal(parse('h', MEM("\0v\0"), &r, &err), -1);
    assert_int_equal(parse('h', MEM("A\0v\0extra"), &r, &err), -1); /* trailing data */
    assert_int_equal(parse('i', MEM("\0\0"), &r, &err), -1);        /* short index */
    assert_int_equal(parse('m', MEM("\xff\0\0\0A\0v\0"), &r, &err), -1);
    assert_int_equal(parse('+', MEM("\0"), &r, &err), -1); /* empty address */
    assert_int_equal(parse('+', MEM("a\0b\0"), &r, &err), -1);
    assert_int_equal(parse('q', "", 0, &r, &err), -1);
    assert_int_equal(parse('y', MEM("550 5.7.1 no"), &r, &err), -1); /* no NUL */
    assert_int_equal(parse('Z', "", 0, &r, &err), -1);
    assert_string_equal(err.data, "unknown reply 'Z'");
    assert_int_equal(parse(1, "", 0, &r, &err), -1);
    assert_string_equal(err.data, "unknown reply 0x01");
    /* length limits */
    size_t big = MILTER_TEXT_LIMIT + 10;
    char *d = malloc(big + 4);
    memset(d, 'a', big);
    d[big] = 0;
    assert_int_equal(parse('q', d, big + 1, &r, &err), -1);
    memcpy(d, "X\0", 2);
    assert_int_equal(parse('h', d, big + 1, &r, &err), -1);
    memset(d, 'a', MILTER_NAME_LIMIT + 1);
    d[MILTER_NAME_LIMIT + 1] = 0;
    d[MILTER_NAME_LIMIT + 2] = 0;
    assert_int_equal(parse('h', d, MILTER_NAME_LIMIT + 3, &r, &err), -1);
    free(d);
    milter_reply_release(&r);
    str_release(&err);
}

static void test_replycode(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    const char *good[] = {"550 5.7.1 Go away",
                          "451 4.7.1 later",
                          "550 plain text",
                          "554",
                          "550-5.7.1 first\r\n550 5.7.1 second",
                          "421 4.4.2 x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(milter_replycode_check(good[i], strlen(good[i]), &err), 0);
    const char *bad[] = {"250 2.0.0 ok",
                         "550 4.7.1 class mismatch",
                         "450 5.7.1 mismatch",
                         "55 short",
                         "5x0 bad",
                         "550-5.7.1 a\r\n551 5.7.1 other code",
                         "550 5.7.1 a\r\n550 5.7.1 b", /* first line must use '-' */
                         "550 bare\nLF",
                         "550 bare\rCR",
                         "550-5.7.1 trailing\r\n",
                         "550x5.7.1 sep",
                         "550 5.7 short code"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(milter_replycode_check(bad[i], strlen(bad[i]), &err), -1);
    assert_int_equal(milter_replycode_check("550 a\0b", 7, &err), -1);
    assert_string_equal(err.data, "NUL in SMTP reply");
    str_release(&err);
}

static void test_optneg(void **state)
{
    (void)state;
    struct milter_optneg o;
    struct str err = STR_INIT;
    assert_int_equal(milter_optneg_parse(MEM("\0\0\0\x06\0\0\0\x01\0\0\0\x10"), &o, &err), 0);
    assert_int_equal(o.version, 6);
    assert_int_equal(o.actions, 1);
    assert_int_equal(o.steps, 0x10);
    assert_null(o.macros[0]);
    milter_optneg_release(&o);
    assert_int_equal(milter_optneg_parse(MEM("\0\0\0\x06\0\0\0\x01\0\0\0\x10"
                                             "\0\0\0\x02{mail_addr} i\0"),
                                         &o, &err),
                     0);
    assert_string_equal(o.macros[MILTER_STAGE_MAIL], "{mail_addr} i");
    milter_optneg_release(&o);
    assert_int_equal(milter_optneg_parse(MEM("\0\0\0\x06\0\0"), &o, &err), -1);
    assert_int_equal(
        milter_optneg_parse(MEM("\0\0\0\x06\0\0\0\x01\0\0\0\x10\0\0\0\x09x\0"), &o, &err),
        -1); /* bad stage */
    assert_int_equal(
        milter_optneg_parse(MEM("\0\0\0\x06\0\0\0\x01\0\0\0\x10\0\0\0\x01x"), &o, &err),
        -1); /* unterminated */
    assert_int_equal(milter_optneg_parse(MEM("\0\0\0\x06\0\0\0\x01\0\0\0\x10\0\0"), &o, &err),
                     -1); /* short stage */
    str_release(&err);
}

static void test_pkt_read(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct stream *s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    struct str d = STR_INIT, err = STR_INIT;
    assert_int_equal(write(sv[1], MEM("\0\0\0\x03hA\0\0\0\0\x01"
                                      "c")),
                     12);
    assert_int_equal(milter_pkt_read(s, 100, &d, &err), 'h');
    assert_memory_equal(d.data, "A\0", 2);
    assert_int_equal(milter_pkt_read(s, 100, &d, &err), 'c');
    assert_int_equal(d.len, 0);
    assert_int_equal(write(sv[1], MEM("\0\0\0\x00"
                                      "c")),
                     5); /* zero length */
    assert_int_equal(milter_pkt_read(s, 100, &d, &err), -1);
    assert_int_equal(write(sv[1], MEM("\0\x10\0\0b")), 5); /* over the limit */
    assert_int_equal(milter_pkt_read(s, 100, &d, &err), -1);
    assert_int_equal(write(sv[1], MEM("\0\0\0\x05h")), 5); /* truncated */
    close(sv[1]);
    assert_int_equal(milter_pkt_read(s, 100, &d, &err), -1);
    assert_string_equal(err.data, "lost connection");
    stream_close(s);
    str_release(&d);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands), cmocka_unit_test(test_versions),
        cmocka_unit_test(test_replies),  cmocka_unit_test(test_replycode),
        cmocka_unit_test(test_optneg),   cmocka_unit_test(test_pkt_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
