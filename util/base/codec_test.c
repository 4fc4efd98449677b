/* Unit tests for codec: RFC 4648 vectors, binary round-trips, and strict rejection of bad
 * characters, bad lengths and misplaced padding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"

#include <stdlib.h>
#include <string.h>

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        struct str enc = STR_INIT, dec = STR_INIT;
        base64_encode(&enc, vec[i][0], strlen(vec[i][0]));
        assert_string_equal(str_cstr(&enc), vec[i][1]);
        assert_int_equal(base64_decode(&dec, vec[i][1], strlen(vec[i][1])), 0);
        assert_string_equal(str_cstr(&dec), vec[i][0]);
        str_release(&enc);
        str_release(&dec);
    }
}

static void test_binary_roundtrip(void **state)
{
    (void)state;
    unsigned char data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (unsigned char)(255 - i);
    for (size_t len = 0; len <= sizeof(data); len += 37) {
        struct str enc = STR_INIT, dec = STR_INIT;
        base64_encode(&enc, data, len);
        assert_int_equal(enc.len, (len + 2) / 3 * 4);
        assert_int_equal(base64_decode(&dec, enc.data ? enc.data : "", enc.len), 0);
        assert_int_equal(dec.len, len);
        assert_memory_equal(dec.data ? dec.data : "", data, len);
        str_release(&enc);
        str_release(&dec);
    }
    /* SASL PLAIN: NUL separated. */
    struct str dec = STR_INIT;
    assert_int_equal(base64_decode(&dec, "AHRlc3QAdGVzdHBhc3M=", 20), 0);
    assert_int_equal(dec.len, 14);
    assert_memory_equal(dec.data, "\0test\0testpass", 14);
    str_release(&dec);
}

static void test_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",                /* length not a multiple of 4 */
        "Zg",                 /* missing padding */
        "Z===",               /* too much padding */
        "====",               /* only padding */
        "Zg==Zm9v",           /* padding in the middle */
        "Zm9v YmFy",          /* space */
        "Zm9v\nYmFy", "Zm9-", /* URL-safe alphabet is not accepted */
        "Zm=v",               /* '=' before data */
        "Zm9\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct str out = STR_INIT;
        str_set(&out, "keep");
        assert_int_equal(base64_decode(&out, bad[i], strlen(bad[i])), -1);
        assert_string_equal(out.data, "keep");
        str_release(&out);
    }
}

static void test_hex(void **state)
{
    (void)state;
    struct str out = STR_INIT;
    hex_encode(&out, "\x00\x7f\xff\xa5", 4);
    assert_string_equal(out.data, "007fffa5");
    str_clear(&out);
    assert_int_equal(hex_decode(&out, "007FfFa5", 8), 0);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "\x00\x7f\xff\xa5", 4);
    str_clear(&out);
    assert_int_equal(hex_decode(&out, "abc", 3), -1);
    assert_int_equal(hex_decode(&out, "zz", 2), -1);
    assert_int_equal(out.len, 0);
    str_release(&out);
    assert_int_equal(hex_digit_value('0'), 0);
    assert_int_equal(hex_digit_value('9'), 9);
    assert_int_equal(hex_digit_value('a'), 10);
    assert_int_equal(hex_digit_value('F'), 15);
    assert_int_equal(hex_digit_value('g'), -1);
    assert_int_equal(hex_digit_value('/'), -1);
    assert_int_equal(hex_digit_value(-61), -1);
}

/* ---- quoted-printable ---- */

static char *qp(const char *in)
{
    struct str out = STR_INIT;
    qp_encode(&out, in, strlen(in));
    return str_steal(&out);
}

static void expect_qp(const char *in, const char *want)
{
    char *got = qp(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_qp_basic(void **state)
{
    (void)state;
    expect_qp("", "");
    expect_qp("plain text", "plain text");
    expect_qp("a=b", "a=3Db");
    expect_qp("caf\xc3\xa9", "caf=C3=A9");
    expect_qp("\x01\x7f~!", "=01=7F~!");
    /* CRLF and lone LF are hard line breaks; CRLF out */
    expect_qp("one\r\ntwo\nthree\r\n", "one\r\ntwo\r\nthree\r\n");
    /* a lone CR inside a line is data */
    expect_qp("a\rb", "a=0Db");
}

static void test_qp_trailing_space(void **state)
{
    (void)state;
    expect_qp("end \r\n", "end=20\r\n");
    expect_qp("end\t\r\n", "end=09\r\n");
    expect_qp("a  b  \r\nc", "a  b =20\r\nc");
    expect_qp("end ", "end=20");
    expect_qp(" \r\n", "=20\r\n");
}

/* Every output line is at most 76 bytes; soft breaks end with '=' and decode back. */
static void check_lines(const char *enc, size_t *nsoft)
{
    *nsoft = 0;
    const char *p = enc;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        assert_true(n <= QP_LINE_MAX);
        if (n > 0 && p[n - 1] == '=')
            (*nsoft)++;
        p += n + (e ? 2 : 0);
    }
}

static void test_qp_line_length(void **state)
{
    (void)state;
    char in[301];
    memset(in, 'x', 300);
    in[300] = 0;
    char *got = qp(in);
    size_t soft;
    check_lines(got, &soft);
    assert_int_equal(soft, 3);
    /* the first line is exactly 76 bytes: 75 of text and the '=' */
    assert_int_equal(strstr(got, "\r\n") - got, 76);
    assert_memory_equal(got + 75, "=\r\n", 3);
    free(got);

    /* 75 bytes fit on one line without a soft break */
    memset(in, 'y', 75);
    in[75] = 0;
    got = qp(in);
    assert_string_equal(got, in);
    free(got);

    /* an "=XX" is never cut by a soft break */
    char mixed[200];
    memset(mixed, 'a', 74);
    strcpy(mixed + 74, "\xe9\xe9");
    got = qp(mixed);
    check_lines(got, &soft);
    assert_int_equal(soft, 1);
    assert_memory_equal(got + 74, "=\r\n=E9=E9", 9);
    free(got);
}

/* The same text fed in pieces encodes as it does in one go. */
static void test_qp_pieces(void **state)
{
    (void)state;
    const char *line = "a b\tc=d \xff  ";
    struct str whole = STR_INIT, parts = STR_INIT;
    struct qp_state q;
    qp_encode_init(&q);
    qp_encode_piece(&q, &whole, line, strlen(line), 1);
    qp_encode_init(&q);
    for (size_t i = 0; i < strlen(line); i++)
        qp_encode_piece(&q, &parts, line + i, 1, 0);
    qp_encode_piece(&q, &parts, "", 0, 1);
    assert_string_equal(whole.data, "a b\tc=3Dd =FF =20\n");
    assert_string_equal(parts.data, whole.data);
    str_release(&whole);
    str_release(&parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors), cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_rejects),         cmocka_unit_test(test_hex),
        cmocka_unit_test(test_qp_basic),        cmocka_unit_test(test_qp_trailing_space),
        cmocka_unit_test(test_qp_line_length),  cmocka_unit_test(test_qp_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
