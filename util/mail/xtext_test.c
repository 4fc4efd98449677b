/* Unit tests for RFC 3461 xtext and RFC 6533 utf-8-addr-xtext / utf-8-addr-unitext. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/str.h"
#include "mail/xtext.h"

#include <string.h>

static void decodes(const char *in, const char *want, size_t want_len)
{
    struct str out = STR_INIT, err = STR_INIT;
    if (xtext_decode(in, strlen(in), &out, &err) != 0)
        fail_msg("decode \"%s\": %s", in, str_cstr(&err));
    assert_int_equal(out.len, want_len);
    assert_memory_equal(out.data, want, want_len);
    str_release(&out);
    str_release(&err);
}

static void refuses(const char *in, const char *why)
{
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(xtext_decode(in, strlen(in), &out, &err), -1);
    if (strstr(str_cstr(&err), why) == NULL)
        fail_msg("decode \"%s\": error \"%s\" lacks \"%s\"", in, str_cstr(&err), why);
    str_release(&out);
    str_release(&err);
}

static void test_xtext_decode(void **state)
{
    (void)state;
    decodes("rfc822;user@example.com", "rfc822;user@example.com", 23);
    decodes("user+2Bext@example.com", "user+ext@example.com", 20);
    decodes("a+3Db", "a=b", 3);
    decodes("a+20b", "a b", 3);
    decodes("a+2bb", "a+b", 3); /* lowercase hex accepted */
    decodes("", "", 0);
    decodes("+00", "\0", 1);
    decodes("+0D+0A", "\r\n", 2);
    decodes("+FF", "\xff", 1);
    refuses("a+", "bad '+' escape at offset 1");
    refuses("a+2", "bad '+' escape");
    refuses("a+2G", "bad '+' escape");
    refuses("a+G2", "bad '+' escape");
    refuses("a++20", "bad '+' escape");
    refuses("a b", "invalid character at offset 1");
    refuses("a=b", "invalid character");
    refuses("a\x7f", "invalid character");
    refuses("\xc3\xa9", "invalid character at offset 0");
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(xtext_decode("a\0b", 3, &out, &err), -1); /* a raw NUL */
    str_release(&out);
    str_release(&err);
}

static void test_xtext_encode_roundtrip(void **state)
{
    (void)state;
    struct str enc = STR_INIT, dec = STR_INIT, err = STR_INIT;
    xtext_encode("user+ext=1 @x\r\n", 15, &enc);
    assert_string_equal(enc.data, "user+2Bext+3D1+20@x+0D+0A");
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    str_clear(&enc);
    xtext_encode((const char *)all, 256, &enc);
    for (size_t i = 0; i < enc.len; i++)
        assert_true(enc.data[i] >= '!' && enc.data[i] <= '~' && enc.data[i] != '=');
    assert_int_equal(xtext_decode(enc.data, enc.len, &dec, &err), 0);
    assert_int_equal(dec.len, 256);
    assert_memory_equal(dec.data, all, 256);
    str_release(&enc);
    str_release(&dec);
    str_release(&err);
}

static void test_controls(void **state)
{
    (void)state;
    assert_int_equal(xtext_has_controls("user@example.com", 16), 0);
    assert_int_equal(xtext_has_controls("a\rb", 3), 1);
    assert_int_equal(xtext_has_controls("a\nb", 3), 1);
    assert_int_equal(xtext_has_controls("a\0b", 3), 1);
    assert_int_equal(xtext_has_controls("a\tb", 3), 1);
    assert_int_equal(xtext_has_controls("a\x7f", 2), 1);
    assert_int_equal(xtext_has_controls("j\xc3\xb6rg", 5), 0);
    /* the check a caller makes: decode, then refuse controls */
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(xtext_decode("x+0D+0AQUIT", 11, &out, &err), 0);
    assert_int_equal(xtext_has_controls(out.data, out.len), 1);
    str_release(&out);
    str_release(&err);
}

static void u_decodes(const char *in, int unitext, const char *want)
{
    struct str out = STR_INIT, err = STR_INIT;
    if (utf8_addr_xtext_decode(in, strlen(in), unitext, &out, &err) != 0)
        fail_msg("decode \"%s\": %s", in, str_cstr(&err));
    assert_string_equal(str_cstr(&out), want);
    str_release(&out);
    str_release(&err);
}

static void u_refuses(const char *in, int unitext)
{
    struct str out = STR_INIT, err = STR_INIT;
    if (utf8_addr_xtext_decode(in, strlen(in), unitext, &out, &err) == 0)
        fail_msg("decode \"%s\" should fail, got \"%s\"", in, str_cstr(&out));
    str_release(&out);
    str_release(&err);
}

static void test_utf8_addr(void **state)
{
    (void)state;
    u_decodes("j\\x{F6}rg@example.com", 0, "j\xc3\xb6rg@example.com");
    u_decodes("\\x{7528}\\x{6237}@x", 0, "\xe7\x94\xa8\xe6\x88\xb7@x");
    u_decodes("a\\x{2B}b\\x{3D}c\\x{5C}d\\x{20}e", 0, "a+b=c\\d e");
    u_decodes("\\x{1F600}", 0, "\xf0\x9f\x98\x80");
    u_decodes("\\x{10FFFF}", 0, "\xf4\x8f\xbf\xbf");
    u_decodes("j\xc3\xb6rg@x", 1, "j\xc3\xb6rg@x");
    u_refuses("j\xc3\xb6rg@x", 0); /* raw UTF-8 only in unitext */
    u_refuses("j\xf6rg@x", 1);     /* invalid UTF-8 */
    u_refuses("\\x{41}", 0);       /* printable ASCII must not be escaped */
    u_refuses("\\x{f6}", 0);       /* lower-case hex */
    u_refuses("\\x{0F6}", 0);      /* leading zero */
    u_refuses("\\x{0}", 0);        /* one digit */
    u_refuses("\\x{00}", 0);       /* NUL */
    u_refuses("\\x{D800}", 0);     /* surrogate */
    u_refuses("\\x{110000}", 0);   /* beyond Unicode */
    u_refuses("\\x{1234567}", 0);  /* too many digits */
    u_refuses("\\x{F6", 0);        /* unterminated */
    u_refuses("\\xF6", 0);
    u_refuses("a\\", 0);
    u_refuses("a+b", 0);
    u_refuses("a=b", 0);
    u_refuses("a b", 0);
    u_decodes("a\\x{0D}\\x{0A}b", 0, "a\r\nb"); /* decodes; the caller refuses controls */

    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(utf8_addr_xtext_encode("j\xc3\xb6rg+x=y\\z @\xe4\xbe\x8b", 16, 0, &out, &err),
                     0);
    assert_string_equal(out.data, "j\\x{F6}rg\\x{2B}x\\x{3D}y\\x{5C}z\\x{20}@\\x{4F8B}");
    str_clear(&out);
    assert_int_equal(utf8_addr_xtext_encode("j\xc3\xb6rg+x", 7, 1, &out, &err), 0);
    assert_string_equal(out.data, "j\xc3\xb6rg\\x{2B}x");
    str_clear(&out);
    assert_int_equal(utf8_addr_xtext_encode("\xf0\x9f\x98\x80\x01", 5, 0, &out, &err), 0);
    assert_string_equal(out.data, "\\x{1F600}\\x{01}");
    assert_int_equal(utf8_addr_xtext_encode("j\xf6rg", 4, 0, &out, &err), -1);
    assert_int_equal(utf8_addr_xtext_encode("a\0b", 3, 0, &out, &err), -1);
    /* round trip */
    const char *text = "\xe7\x94\xa8+\\=\x7f \xc3\xb6";
    for (int uni = 0; uni < 2; uni++) {
        struct str enc = STR_INIT;
        assert_int_equal(utf8_addr_xtext_encode(text, strlen(text), uni, &enc, &err), 0);
        assert_int_equal(utf8_addr_xtext_decode(enc.data, enc.len, uni, &out, &err), 0);
        assert_string_equal(out.data, text);
        str_release(&enc);
    }
    str_release(&out);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xtext_decode),
        cmocka_unit_test(test_xtext_encode_roundtrip),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_utf8_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
