/* Unit tests for tls_misc: security levels and the legacy mapping, protocol lists in both
 * forms, cipher grades and exclusions, digests and the colon-hex form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/tls_misc.h"
#include "mail/tls_params.h"

#include <openssl/ssl.h>
#include <string.h>

static void test_levels(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    assert_int_equal(tls_level_parse("may"), TLS_LEV_MAY);
    assert_int_equal(tls_level_parse("SECURE"), TLS_LEV_SECURE);
    assert_int_equal(tls_level_parse("dane-only"), TLS_LEV_DANE_ONLY);
    assert_int_equal(tls_level_parse("bogus"), TLS_LEV_INVALID);
    assert_string_equal(tls_level_name(TLS_LEV_VERIFY), "verify");
    assert_int_equal(tls_server_level("", 0, 0, &err), TLS_LEV_NONE);
    assert_int_equal(tls_server_level("", 1, 0, &err), TLS_LEV_MAY);
    assert_int_equal(tls_server_level("", 1, 1, &err), TLS_LEV_ENCRYPT);
    assert_int_equal(tls_server_level("", 0, 1, &err), TLS_LEV_ENCRYPT);
    assert_int_equal(tls_server_level("none", 1, 1, &err), TLS_LEV_NONE);
    assert_int_equal(tls_server_level("encrypt", 0, 0, &err), TLS_LEV_ENCRYPT);
    assert_int_equal(tls_server_level("verify", 0, 0, &err), TLS_LEV_INVALID);
    assert_string_equal(str_cstr(&err), "invalid smtpd_tls_security_level value: \"verify\"");
    assert_int_equal(tls_client_level("", 0, 0, 1, &err), TLS_LEV_NONE);
    assert_int_equal(tls_client_level("", 1, 0, 1, &err), TLS_LEV_MAY);
    assert_int_equal(tls_client_level("", 1, 1, 1, &err), TLS_LEV_VERIFY);
    assert_int_equal(tls_client_level("", 0, 1, 0, &err), TLS_LEV_ENCRYPT);
    assert_int_equal(tls_client_level("secure", 0, 0, 0, &err), TLS_LEV_SECURE);
    assert_int_equal(tls_client_level("x", 0, 0, 0, &err), TLS_LEV_INVALID);
    str_release(&err);
}

static void test_protocols(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    int all_tls = TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3;
    assert_int_equal(tls_protocols_parse("!SSLv2, !SSLv3", &err), all_tls);
    assert_int_equal(tls_protocols_parse("!SSLv2:!SSLv3:!TLSv1", &err), all_tls & ~TLS_PROTO_TLSv1);
    assert_int_equal(tls_protocols_parse(">=TLSv1", &err), all_tls);
    assert_int_equal(tls_protocols_parse(">=TLSv1.2", &err), TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocols_parse(">=TLSv1.1 <=TLSv1.2", &err),
                     TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2);
    assert_int_equal(tls_protocols_parse("TLSv1.2, TLSv1.3", &err),
                     TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocols_parse("", &err), TLS_PROTO_ALL);
    assert_int_equal(tls_protocols_parse("!TLSv1.4", &err), -1);
    assert_string_equal(str_cstr(&err),
                        "invalid TLS protocol list \"!TLSv1.4\": unknown protocol \"!TLSv1.4\"");
    assert_int_equal(tls_protocols_parse(">=TLSv1.3, !TLSv1.3", &err), -1);
    assert_string_equal(str_cstr(&err),
                        "invalid TLS protocol list \">=TLSv1.3, !TLSv1.3\": no protocol left "
                        "enabled");

    int lo, hi;
    uint64_t no;
    tls_protocols_openssl(tls_protocols_parse(">=TLSv1.2", &err), &lo, &hi, &no);
    assert_int_equal(lo, TLS1_2_VERSION);
    assert_int_equal(hi, 0);
    assert_true(no == 0);
    tls_protocols_openssl(tls_protocols_parse("!SSLv2, !SSLv3, !TLSv1.1", &err), &lo, &hi, &no);
    assert_int_equal(lo, TLS1_VERSION);
    assert_true(no == SSL_OP_NO_TLSv1_1);
    tls_protocols_openssl(tls_protocols_parse("<=TLSv1.2", &err), &lo, &hi, &no);
    assert_int_equal(lo, SSL3_VERSION);
    assert_int_equal(hi, TLS1_2_VERSION);
    assert_string_equal(tls_protocol_name(TLS_PROTO_TLSv1_3), "TLSv1.3");
    str_release(&err);
}

static void test_ciphers(void **state)
{
    (void)state;
    struct tls_server_params p;
    tls_server_params_defaults(&p);
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(tls_cipher_string(&p.c.lists, "medium", "", &out, &err), 0);
    assert_string_equal(str_cstr(&out), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH");
    assert_int_equal(tls_cipher_string(&p.c.lists, "HIGH", "aNULL, RC4 MD5:DES", &out, &err), 0);
    assert_string_equal(str_cstr(&out), "aNULL:-aNULL:HIGH:@STRENGTH:!aNULL:!RC4:!MD5:!DES");
    assert_int_equal(tls_cipher_string(&p.c.lists, "strong", "", &out, &err), -1);
    assert_string_equal(str_cstr(&err), "invalid cipher grade: \"strong\"");
    assert_int_equal(tls_cipher_string(&p.c.lists, "high", "!RC4", &out, &err), -1);
    assert_string_equal(str_cstr(&err), "invalid unary '!+-@' in cipher exclusion: \"!RC4\"");
    assert_int_equal(tls_cipher_string(&p.c.lists, "high", "ALL", &out, &err), -1);
    assert_int_equal(tls_grade_parse("export"), TLS_GRADE_EXPORT);
    assert_int_equal(tls_grade_parse("null"), TLS_GRADE_NULL);
    assert_string_equal(tls_grade_name(TLS_GRADE_LOW), "low");
    tls_server_params_free(&p);
    str_release(&out);
    str_release(&err);
}

static void test_misc(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    assert_int_equal(tls_loglevel_clamp(-3), 0);
    assert_int_equal(tls_loglevel_clamp(2), 2);
    assert_int_equal(tls_loglevel_clamp(9), 4);
    assert_int_equal(tls_digest_check("sha256", &s), 0);
    assert_int_equal(tls_digest_check("md5", &s), 0);
    assert_int_equal(tls_digest_check("nosuch", &s), -1);
    assert_string_equal(str_cstr(&s), "Digest algorithm \"nosuch\" not found");
    str_clear(&s);
    const unsigned char bytes[] = {0x0a, 0xbc, 0xff};
    tls_colon_hex(&s, bytes, 3);
    assert_string_equal(str_cstr(&s), "0A:BC:FF");
    const char *const *protos = tls_available_protocols();
    int n = 0;
    while (protos[n])
        n++;
    assert_string_equal(protos[n - 1], "TLSv1.3");
    assert_string_equal(tls_available_grades()[4], "null");
    assert_int_equal(tls_dane_supported(&s), 0);
    assert_non_null(strstr(str_cstr(&s), "DANE"));
    str_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_ciphers),
        cmocka_unit_test(test_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
