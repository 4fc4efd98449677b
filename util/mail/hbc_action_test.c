/* Unit tests for hbc_action: action words (case-insensitive, OK as DUNNO, unknown words), the
 * optional text after them, and the header-label check for REPLACE and PREPEND text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/hbc_action.h"

#include <string.h>

static void test_parse(void **state)
{
    (void)state;
    struct hbc_action a;
    hbc_action_parse("REPLACE Subject: new", &a);
    assert_int_equal(a.verb, HBC_REPLACE);
    assert_string_equal(a.text, "Subject: new");
    assert_int_equal(a.name_len, 7);
    hbc_action_parse("warn \t  look here", &a);
    assert_int_equal(a.verb, HBC_WARN);
    assert_string_equal(a.text, "look here");
    hbc_action_parse("Ignore", &a);
    assert_int_equal(a.verb, HBC_IGNORE);
    assert_string_equal(a.text, "");
    hbc_action_parse("OK", &a);
    assert_int_equal(a.verb, HBC_DUNNO);
    hbc_action_parse("dunno", &a);
    assert_int_equal(a.verb, HBC_DUNNO);
    hbc_action_parse("REJECT 5.7.1 go away", &a);
    assert_int_equal(a.verb, HBC_REJECT);
    assert_string_equal(a.text, "5.7.1 go away");
    hbc_action_parse("DISCARDX text", &a);
    assert_int_equal(a.verb, HBC_UNKNOWN);
    assert_int_equal(a.name_len, 8);
    assert_memory_equal(a.name, "DISCARDX", 8);
    hbc_action_parse("", &a);
    assert_int_equal(a.verb, HBC_UNKNOWN);
    static const struct {
        const char *word;
        enum hbc_verb verb;
    } all[] = {
        {"bcc", HBC_BCC},         {"discard", HBC_DISCARD},   {"filter", HBC_FILTER},
        {"hold", HBC_HOLD},       {"info", HBC_INFO},         {"pass", HBC_PASS},
        {"prepend", HBC_PREPEND}, {"redirect", HBC_REDIRECT}, {"strip", HBC_STRIP},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        hbc_action_parse(all[i].word, &a);
        assert_int_equal(a.verb, all[i].verb);
    }
}

static void test_header_text(void **state)
{
    (void)state;
    assert_true(hbc_header_text_ok("X-Seen: yes"));
    assert_true(hbc_header_text_ok("X-Empty:"));
    assert_false(hbc_header_text_ok("no label here"));
    assert_false(hbc_header_text_ok(": value"));
    assert_false(hbc_header_text_ok(" X-Indented: v"));
    assert_false(hbc_header_text_ok(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_header_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
