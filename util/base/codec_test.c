/* Unit tests for codec: RFC 4648 vectors, binary round-trips, and strict rejection of bad
 * characters, bad lengths and misplaced padding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
