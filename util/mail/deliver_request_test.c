/* Unit tests for deliver_request (round trips, strict decoding), deliver_log (line shape) and
 * bounce_log (encoding and decoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/bounce_log.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"

#include <string.h>

static void sample(struct deliver_request *rq)
{
    deliver_request_init(rq);
    deliver_request_set(&rq->queue_name, "active");
    deliver_request_set(&rq->queue_id, "0C261A1F0F");
    deliver_request_set(&rq->sender, "s@example.org");
    deliver_request_set(&rq->nexthop, "[mx.example.com]:25");
    deliver_request_set(&rq->transport, "smtp");
    deliver_request_set(&rq->client_address, "192.0.2.1");
    rq->arrival_time = 1700000000.25;
    rq->queue_delay = 1.5;
    rq->active_time = 0.125;
    deliver_request_add_rcpt(rq, "a@x.test", "alias@x.test", "rfc822;A@x.test", 6, 123);
    deliver_request_add_rcpt(rq, "b\n@x.test", NULL, NULL, 0, 456);
}

static void test_request_round_trip(void **state)
{
    (void)state;
    struct deliver_request rq, back;
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT;
    sample(&rq);
    deliver_request_encode(&rq, a);
    assert_int_equal(deliver_request_decode(a, &back, &err), 0);
    assert_string_equal(back.queue_id, "0C261A1F0F");
    assert_string_equal(back.nexthop, "[mx.example.com]:25");
    assert_string_equal(back.client_address, "192.0.2.1");
    assert_string_equal(back.dsn_envid, "");
    assert_true(back.arrival_time == 1700000000.25);
    assert_true(back.active_time == 0.125);
    assert_int_equal(back.nrcpt, 2);
    assert_string_equal(back.rcpts[0].orcpt, "rfc822;A@x.test");
    assert_int_equal(back.rcpts[0].notify, 6);
    assert_int_equal(back.rcpts[1].offset, 456);
    assert_string_equal(back.rcpts[1].address, "b\n@x.test");
    assert_string_equal(back.rcpts[1].orig, "");
    deliver_request_release(&back);
    /* Strictness: unknown attribute, recipient index out of range, bad queue id. */
    attr_add(a, "bogus", "1");
    assert_int_equal(deliver_request_decode(a, &back, &err), -1);
    assert_string_equal(err.data, "unexpected attribute bogus");
    deliver_request_release(&back);
    attr_list_clear(a);
    deliver_request_encode(&rq, a);
    attr_add(a, "rcpt_2_address", "c@x");
    assert_int_equal(deliver_request_decode(a, &back, &err), -1);
    deliver_request_release(&back);
    attr_list_clear(a);
    deliver_request_set(&rq.queue_id, "../../etc");
    deliver_request_encode(&rq, a);
    assert_int_equal(deliver_request_decode(a, &back, &err), -1);
    deliver_request_release(&back);
    deliver_request_release(&rq);
    attr_list_free(a);
    str_release(&err);
}

static void test_reply_round_trip(void **state)
{
    (void)state;
    struct deliver_reply rp, back;
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT;
    deliver_reply_init(&rp, 3);
    deliver_reply_set(&rp, 0, DELIVER_SENT, "2.0.0", "delivered to mailbox", "local");
    deliver_reply_set(&rp, 2, DELIVER_BOUNCED, "5.1.1", "unknown user", "none");
    deliver_reply_encode(&rp, a);
    assert_int_equal(deliver_reply_decode(a, 3, &back, &err), 0);
    assert_int_equal(back.v[0].status, DELIVER_SENT);
    assert_string_equal(back.v[0].relay, "local");
    assert_int_equal(back.v[1].status, DELIVER_DEFERRED);
    assert_string_equal(back.v[1].reason, "unknown mail transport error");
    assert_int_equal(back.v[2].status, DELIVER_BOUNCED);
    assert_string_equal(back.v[2].dsn, "5.1.1");
    deliver_reply_release(&back);
    assert_int_equal(deliver_reply_decode(a, 2, &back, &err), -1);
    deliver_reply_release(&back);
    deliver_reply_release(&rp);
    attr_list_free(a);
    str_release(&err);
}

static void test_log_line(void **state)
{
    (void)state;
    struct str out = STR_INIT;
    struct deliver_log_info in = {
        "0C261A1F0F",   "a b@x.test", "orig@x.test", "none", "5.0.0", "bounced",
        "no such user", 1000.0,       0.05,          0.01,   0};
    deliver_log_format(&out, &in, 1002.5);
    assert_string_equal(out.data,
                        "0C261A1F0F: to=<\"a b\"@x.test>, orig_to=<orig@x.test>, relay=none, "
                        "delay=2.5, delays=0.05/0.01/0/2.4, dsn=5.0.0, status=bounced "
                        "(no such user)");
    str_clear(&out);
    deliver_log_delay(&out, 0);
    str_append(&out, " ");
    deliver_log_delay(&out, 12.4);
    str_append(&out, " ");
    deliver_log_delay(&out, 0.004);
    str_append(&out, " ");
    deliver_log_delay(&out, 1.25);
    assert_string_equal(out.data, "0 12 0 1.2");
    str_release(&out);
}

static void test_bounce_log(void **state)
{
    (void)state;
    struct bounce_entry e = {"a@x.test", "",       "rfc822;a@x.test", 4,
                             "5.1.1",    "failed", "unknown\nuser %", "mx[192.0.2.1]:25",
                             1700000000};
    struct str text = STR_INIT, err = STR_INIT;
    bounce_log_encode(&e, &text);
    assert_string_equal(text.data, "recipient=a@x.test\norig=\norcpt=rfc822;a@x.test\nnotify=4\n"
                                   "status=5.1.1\naction=failed\nreason=unknown%0Auser %25\n"
                                   "relay=mx[192.0.2.1]:25\ntime=1700000000\n\n");
    bounce_log_encode(&e, &text);
    struct bounce_entry *v;
    size_t n;
    assert_int_equal(bounce_log_decode(text.data, text.len, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[1].reason, "unknown\nuser %");
    assert_int_equal(v[1].notify, 4);
    assert_int_equal(v[1].time, 1700000000);
    bounce_entries_free(v, n);
    /* Truncated entry and unknown attribute are errors. */
    assert_int_equal(bounce_log_decode(text.data, text.len - 1, &v, &n, &err), -1);
    assert_int_equal(
        bounce_log_decode("recipient=a\nstatus=5.0.0\naction=failed\nx=1\n\n", 44, &v, &n, &err),
        -1);
    str_release(&text);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_bounce_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
