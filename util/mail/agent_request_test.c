/* Unit tests for agent_log (delay format, line shape) and agent_request (strict decoding, reply
 * encoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/agent_log.h"
#include "mail/agent_request.h"

#include <string.h>

static void test_delay_format(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    double in[] = {-1, 0, 0.001, 0.05, 0.1, 0.123, 1.24, 5.5, 27.4, 319};
    const char *want[] = {"0", "0", "0", "0.05", "0.1", "0.12", "1.2", "5.5", "27", "319"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        str_clear(&s);
        agent_log_delay(&s, in[i]);
        assert_string_equal(s.data, want[i]);
    }
    str_release(&s);
}

static void test_log_line(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    struct agent_log_info in = {.queue_id = "0C261A1F0F",
                                .recipient = "u@example.com",
                                .orig = "U@example.com",
                                .relay = "virtual",
                                .dsn = "2.0.0",
                                .status = "sent",
                                .reason = "delivered to maildir",
                                .arrival = 1000,
                                .queue_delay = 0.05,
                                .active_time = 0.01,
                                .started = 1001};
    agent_log_format(&s, &in, 1001.5);
    assert_string_equal(s.data, "0C261A1F0F: to=<u@example.com>, relay=virtual, delay=1.5, "
                                "delays=0.05/0.01/0/0.5, dsn=2.0.0, status=sent (delivered to "
                                "maildir)");
    str_clear(&s);
    in.orig = "alias@example.com";
    in.reason = NULL;
    agent_log_format(&s, &in, 1012);
    assert_string_equal(s.data, "0C261A1F0F: to=<u@example.com>, orig_to=<alias@example.com>, "
                                "relay=virtual, delay=12, delays=0.05/0.01/0/11, dsn=2.0.0, "
                                "status=sent");
    str_release(&s);
}

static struct attr_list *good_request(void)
{
    struct attr_list *a = attr_list_new();
    attr_add(a, "queue_name", "active");
    attr_add(a, "queue_id", "0C261A1F0F");
    attr_add(a, "sender", "s@example.org");
    attr_add(a, "nexthop", "example.com");
    attr_add(a, "arrival_time", "1700000000.5");
    attr_add(a, "client_address", "192.0.2.1");
    attr_add(a, "rcpt_count", "2");
    attr_add(a, "rcpt_0_address", "a@example.com");
    attr_add(a, "rcpt_0_orig", "A@example.com");
    attr_add(a, "rcpt_0_offset", "123");
    attr_add(a, "rcpt_1_address", "b@example.com");
    attr_add(a, "rcpt_1_notify", "6");
    return a;
}

static void test_decode(void **state)
{
    (void)state;
    struct attr_list *a = good_request();
    struct agent_request rq;
    struct str err = STR_INIT;
    assert_int_equal(agent_request_decode(a, &rq, &err), 0);
    assert_string_equal(rq.sender, "s@example.org");
    assert_string_equal(rq.client_address, "192.0.2.1");
    assert_string_equal(rq.client_helo, "");
    assert_true(rq.arrival_time > 1700000000.4 && rq.arrival_time < 1700000000.6);
    assert_int_equal(rq.nrcpt, 2);
    assert_string_equal(rq.rcpts[0].orig, "A@example.com");
    assert_int_equal(rq.rcpts[0].offset, 123);
    assert_int_equal(rq.rcpts[1].notify, 6);
    assert_string_equal(rq.rcpts[1].orig, "");
    agent_request_release(&rq);
    /* An unknown attribute, a recipient beyond rcpt_count, a bad queue ID, a bad time. */
    const char *bad[][2] = {
        {"bogus", "1"},         {"rcpt_2_address", "c@x"}, {"queue_id", "../../etc"},
        {"queue_name", "../x"}, {"arrival_time", "soon"},  {"rcpt_count", "0"},
        {"rcpt_count", "201"},  {"rcpt_0_offset", "-1"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct attr_list *b = attr_list_new();
        for (size_t j = 0; j < a->names->n; j++)
            if (strcmp(a->names->v[j], bad[i][0]) != 0)
                attr_add(b, a->names->v[j], a->values->v[j]);
        attr_add(b, bad[i][0], bad[i][1]);
        assert_int_equal(agent_request_decode(b, &rq, &err), -1);
        agent_request_release(&rq);
        attr_list_free(b);
    }
    /* rcpt_1_address missing. */
    struct attr_list *b = attr_list_new();
    for (size_t j = 0; j < a->names->n; j++)
        if (strcmp(a->names->v[j], "rcpt_1_address") != 0)
            attr_add(b, a->names->v[j], a->values->v[j]);
    assert_int_equal(agent_request_decode(b, &rq, &err), -1);
    assert_string_equal(err.data, "missing attribute rcpt_1_address");
    agent_request_release(&rq);
    attr_list_free(b);
    attr_list_free(a);
    str_release(&err);
}

static void test_reply(void **state)
{
    (void)state;
    struct agent_reply rp;
    agent_reply_init(&rp, 2);
    agent_reply_set(&rp, 1, AGENT_BOUNCED, "5.1.1", "unknown user: \"x\"", "virtual");
    struct attr_list *out = attr_list_new();
    agent_reply_encode(&rp, out);
    struct str enc = STR_INIT;
    attr_encode(out, &enc);
    assert_string_equal(enc.data, "rcpt_count=2\nrcpt_0_status=deferred\nrcpt_0_dsn=4.3.0\n"
                                  "rcpt_0_reason=unknown mail transport error\nrcpt_0_relay=none\n"
                                  "rcpt_1_status=bounced\nrcpt_1_dsn=5.1.1\n"
                                  "rcpt_1_reason=unknown user: \"x\"\nrcpt_1_relay=virtual\n\n");
    str_release(&enc);
    attr_list_free(out);
    agent_reply_release(&rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_format),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
