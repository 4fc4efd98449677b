/* Unit tests for the Dovecot auth protocol codec: hello, handshake parsing, request building
 * (and refusal of CR, LF, TAB, NUL), reply parsing and unescaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mail/sasl_dovecot.h"

static int feed(struct dovecot_handshake *h, const char *line, struct str *why)
{
    return dovecot_handshake_line(h, line, strlen(line), why);
}

static void test_hello(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    dovecot_client_hello(&s, 123);
    assert_string_equal(s.data, "VERSION\t1\t0\nCPID\t123\n");
    str_release(&s);
}

static void test_handshake(void **state)
{
    (void)state;
    struct dovecot_handshake h = {0};
    struct str why = STR_INIT;
    assert_int_equal(feed(&h, "VERSION\t1\t2", &why), 0);
    assert_int_equal(feed(&h, "MECH\tPLAIN\tplaintext", &why), 0);
    assert_int_equal(feed(&h, "MECH\tLOGIN\tplaintext", &why), 0);
    assert_int_equal(feed(&h, "MECH\tANONYMOUS\tanonymous", &why), 0);
    assert_int_equal(feed(&h, "MECH\tCRAM-MD5\tdictionary\tactive", &why), 0);
    assert_int_equal(feed(&h, "MECH\tSECRET\tprivate", &why), 0);
    assert_int_equal(feed(&h, "MECH\tplain", &why), 0); /* duplicate ignored */
    assert_int_equal(feed(&h, "SPID\t42", &why), 0);
    assert_int_equal(feed(&h, "CUID\t7", &why), 0);
    assert_int_equal(feed(&h, "COOKIE\tabcdef", &why), 0);
    assert_int_equal(feed(&h, "SOMETHING\tnew", &why), 0); /* unknown: ignored */
    assert_int_equal(feed(&h, "DONE", &why), 1);
    assert_int_equal(h.n_mechs, 5);
    assert_string_equal(h.mechs[0].name, "PLAIN");
    assert_int_equal(h.mechs[0].flags, DMECH_PLAINTEXT);
    assert_int_equal(h.mechs[2].flags, DMECH_ANONYMOUS);
    assert_int_equal(h.mechs[3].flags, DMECH_DICTIONARY | DMECH_ACTIVE);
    assert_int_equal(h.mechs[4].flags, DMECH_PRIVATE);
    assert_non_null(dovecot_find_mech(&h, "login"));
    assert_null(dovecot_find_mech(&h, "GSSAPI"));
    dovecot_handshake_free(&h);
    str_release(&why);
}

static void test_handshake_errors(void **state)
{
    (void)state;
    struct dovecot_handshake h = {0};
    struct str why = STR_INIT;
    assert_int_equal(feed(&h, "MECH\tPLAIN", &why), -1);
    assert_string_equal(why.data, "Dovecot auth server did not start with VERSION");
    dovecot_handshake_free(&h);
    assert_int_equal(feed(&h, "VERSION\t2\t0", &why), -1);
    assert_string_equal(why.data, "unsupported Dovecot auth protocol version: 2");
    dovecot_handshake_free(&h);
    assert_int_equal(feed(&h, "VERSION\t1\t1", &why), 0);
    assert_int_equal(feed(&h, "MECH", &why), -1);
    assert_string_equal(why.data, "malformed MECH line from the Dovecot auth server");
    dovecot_handshake_free(&h);
    assert_int_equal(feed(&h, "VERSION\t1\t1", &why), 0);
    int rc = 0;
    for (int i = 0; i < DOVECOT_MAX_HANDSHAKE_LINES + 5 && rc == 0; i++)
        rc = feed(&h, "SPID\t1", &why);
    assert_int_equal(rc, -1);
    assert_string_equal(why.data, "too many handshake lines from the Dovecot auth server");
    dovecot_handshake_free(&h);
    str_release(&why);
}

static void test_auth_request(void **state)
{
    (void)state;
    struct str out = STR_INIT, why = STR_INIT;
    struct dovecot_auth_req r = {.mech = "PLAIN",
                                 .service = "smtp",
                                 .local_addr = "127.0.0.1",
                                 .remote_addr = "192.0.2.1",
                                 .secured = 1,
                                 .resp = "AGFsaWNlAHNlY3JldA=="};
    assert_int_equal(dovecot_auth_request(&out, 7, &r, &why), 0);
    assert_string_equal(out.data, "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
                                  "rip=192.0.2.1\tsecured\tresp=AGFsaWNlAHNlY3JldA==\n");
    str_clear(&out);
    struct dovecot_auth_req r2 = {
        .mech = "LOGIN", .service = "smtp", .local_port = "587", .remote_port = "4000"};
    assert_int_equal(dovecot_auth_request(&out, 8, &r2, &why), 0);
    assert_string_equal(out.data, "AUTH\t8\tLOGIN\tservice=smtp\tnologin\tlport=587\trport=4000\n");
    str_release(&out);
    str_release(&why);
}

static void test_refuse_control_chars(void **state)
{
    (void)state;
    struct str out = STR_INIT, why = STR_INIT;
    str_set(&out, "keep");
    const char *bad[] = {"a\tb", "a\nb", "a\rb"};
    for (size_t i = 0; i < 3; i++) {
        struct dovecot_auth_req r = {.mech = "PLAIN", .service = "smtp", .resp = bad[i]};
        assert_int_equal(dovecot_auth_request(&out, 1, &r, &why), -1);
        struct dovecot_auth_req r2 = {.mech = "PLAIN", .service = bad[i]};
        assert_int_equal(dovecot_auth_request(&out, 1, &r2, &why), -1);
        struct dovecot_auth_req r3 = {.mech = bad[i], .service = "smtp"};
        assert_int_equal(dovecot_auth_request(&out, 1, &r3, &why), -1);
        assert_int_equal(dovecot_cont_request(&out, 1, bad[i], strlen(bad[i]), &why), -1);
    }
    assert_int_equal(dovecot_cont_request(&out, 1, "a\0b", 3, &why), -1);
    assert_string_equal(out.data, "keep"); /* nothing appended */
    assert_int_equal(dovecot_cont_request(&out, 3, "YWJj", 4, &why), 0);
    assert_string_equal(out.data, "keepCONT\t3\tYWJj\n");
    assert_int_equal(dovecot_field_ok("ok", 2), 1);
    assert_int_equal(dovecot_field_ok("o\0k", 3), 0);
    str_release(&out);
    str_release(&why);
}

static int parse(struct dovecot_reply *r, const char *line, unsigned id)
{
    return dovecot_parse_reply(line, strlen(line), id, r);
}

static void test_replies(void **state)
{
    (void)state;
    struct dovecot_reply r = {0};
    assert_int_equal(parse(&r, "CONT\t5\tVXNlcm5hbWU6", 5), DREPLY_CONT);
    assert_string_equal(r.data.data, "VXNlcm5hbWU6");
    assert_int_equal(parse(&r, "CONT\t5\t", 5), DREPLY_CONT);
    assert_int_equal(r.data.len, 0);
    assert_int_equal(parse(&r, "CONT\t5", 5), DREPLY_BAD);
    assert_int_equal(parse(&r, "OK\t5\tuser=alice\tsomething", 5), DREPLY_OK);
    assert_int_equal(r.have_user, 1);
    assert_string_equal(r.user.data, "alice");
    assert_int_equal(parse(&r, "OK\t5", 5), DREPLY_OK);
    assert_int_equal(r.have_user, 0);
    assert_int_equal(parse(&r, "FAIL\t5\tuser=bob", 5), DREPLY_FAIL);
    assert_int_equal(r.have_reason, 0);
    assert_int_equal(r.temp, 0);
    assert_int_equal(parse(&r, "FAIL\t5\treason=Password mismatch\ttemp", 5), DREPLY_FAIL);
    assert_string_equal(r.reason.data, "Password mismatch");
    assert_int_equal(r.temp, 1);
    assert_int_equal(parse(&r, "FAIL\t6\treason=x", 5), DREPLY_OTHER); /* other id */
    assert_int_equal(parse(&r, "OK\t05x", 5), DREPLY_OTHER);
    assert_int_equal(parse(&r, "OK\t-5", 5), DREPLY_OTHER);
    assert_int_equal(parse(&r, "NOTIFY\t5", 5), DREPLY_OTHER);
    assert_int_equal(parse(&r, "", 5), DREPLY_OTHER);
    dovecot_reply_free(&r);
}

static void test_unescape(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    dovecot_unescape(&s, "a\001tb\001nc\0011d\001xe\001", 14);
    assert_int_equal(s.len, 10);
    assert_memory_equal(s.data, "a\tb\nc\001dxe\001", 10);
    str_clear(&s);
    dovecot_unescape(&s, "\0010", 2);
    assert_int_equal(s.len, 1);
    assert_int_equal(s.data[0], 0);
    struct dovecot_reply r = {0};
    assert_int_equal(parse(&r, "FAIL\t1\treason=bad\001tthing", 1), DREPLY_FAIL);
    assert_string_equal(r.reason.data, "bad\tthing");
    dovecot_reply_free(&r);
    str_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_handshake_errors),
        cmocka_unit_test(test_auth_request),
        cmocka_unit_test(test_refuse_control_chars),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
