/* Unit tests for deliver_request (round trips, strict decoding, the agent side: decoding,
 * reply encoding, status order, queue file opening, report), deliver_log (delay format, line
 * shape) and bounce_log (encoding and decoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/log.h"
#include "mail/bounce_log.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"
#include "mail/queue_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the agent side (formerly agent_request/agent_log) ---------------------------------- */

static void test_agent_delay_format(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    double in[] = {-1, 0, 0.001, 0.05, 0.1, 0.123, 1.24, 5.5, 27.4, 319};
    const char *want[] = {"0", "0", "0", "0.05", "0.1", "0.12", "1.2", "5.5", "27", "319"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        str_clear(&s);
        deliver_log_delay(&s, in[i]);
        assert_string_equal(s.data, want[i]);
    }
    str_release(&s);
}

static void test_agent_log_line(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    struct deliver_log_info in = {.queue_id = "0C261A1F0F",
                                  .recipient = "u@example.com",
                                  .orig = "U@example.com",
                                  .relay = "virtual",
                                  .dsn = "2.0.0",
                                  .status = "sent",
                                  .reason = "delivered to maildir",
                                  .arrival = 1000,
                                  .queue_delay = 0.05,
                                  .active_time = 0.01};
    double started = 1001;
    deliver_log_agent_format(&s, &in, started, 1001.5);
    assert_string_equal(s.data, "0C261A1F0F: to=<u@example.com>, relay=virtual, delay=1.5, "
                                "delays=0.05/0.01/0/0.5, dsn=2.0.0, status=sent (delivered to "
                                "maildir)");
    str_clear(&s);
    in.orig = "alias@example.com";
    in.reason = NULL;
    deliver_log_agent_format(&s, &in, started, 1012);
    assert_string_equal(s.data, "0C261A1F0F: to=<u@example.com>, orig_to=<alias@example.com>, "
                                "relay=virtual, delay=12, delays=0.05/0.01/0/11, dsn=2.0.0, "
                                "status=sent");
    /* Both lines quote addresses (external form), as Postfix logs them. */
    in.recipient = "a b@example.com";
    in.orig = NULL;
    deliver_log_agent_format(&s, &in, started, 1012);
    assert_string_equal(s.data, "0C261A1F0F: to=<\"a b\"@example.com>, relay=virtual, delay=12, "
                                "delays=0.05/0.01/0/11, dsn=2.0.0, status=sent");
    deliver_log_format(&s, &in, 1012);
    assert_string_equal(s.data, "0C261A1F0F: to=<\"a b\"@example.com>, relay=virtual, delay=12, "
                                "delays=0.05/0.01/0/12, dsn=2.0.0, status=sent");
    str_release(&s);
}

static struct attr_list *good_agent_request(void)
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

static void test_agent_decode(void **state)
{
    (void)state;
    struct attr_list *a = good_agent_request();
    struct deliver_request rq;
    struct str err = STR_INIT;
    assert_int_equal(deliver_request_decode(a, &rq, &err), 0);
    assert_string_equal(rq.sender, "s@example.org");
    assert_string_equal(rq.client_address, "192.0.2.1");
    assert_string_equal(rq.client_helo, "");
    assert_true(rq.arrival_time > 1700000000.4 && rq.arrival_time < 1700000000.6);
    assert_int_equal(rq.nrcpt, 2);
    assert_string_equal(rq.rcpts[0].orig, "A@example.com");
    assert_int_equal(rq.rcpts[0].offset, 123);
    assert_int_equal(rq.rcpts[1].notify, 6);
    assert_string_equal(rq.rcpts[1].orig, "");
    deliver_request_release(&rq);
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
        assert_int_equal(deliver_request_decode(b, &rq, &err), -1);
        deliver_request_release(&rq);
        attr_list_free(b);
    }
    /* rcpt_1_address missing. */
    struct attr_list *b = attr_list_new();
    for (size_t j = 0; j < a->names->n; j++)
        if (strcmp(a->names->v[j], "rcpt_1_address") != 0)
            attr_add(b, a->names->v[j], a->values->v[j]);
    assert_int_equal(deliver_request_decode(b, &rq, &err), -1);
    assert_string_equal(err.data, "missing attribute rcpt_1_address");
    deliver_request_release(&rq);
    attr_list_free(b);
    attr_list_free(a);
    str_release(&err);
}

static void test_agent_reply(void **state)
{
    (void)state;
    struct deliver_reply rp;
    deliver_reply_init(&rp, 2);
    deliver_reply_set(&rp, 1, DELIVER_BOUNCED, "5.1.1", "unknown user: \"x\"", "virtual");
    struct attr_list *out = attr_list_new();
    deliver_reply_encode(&rp, out);
    struct str enc = STR_INIT;
    attr_encode(out, &enc);
    assert_string_equal(enc.data, "rcpt_count=2\nrcpt_0_status=deferred\nrcpt_0_dsn=4.3.0\n"
                                  "rcpt_0_reason=unknown mail transport error\nrcpt_0_relay=none\n"
                                  "rcpt_1_status=bounced\nrcpt_1_dsn=5.1.1\n"
                                  "rcpt_1_reason=unknown user: \"x\"\nrcpt_1_relay=virtual\n\n");
    str_release(&enc);
    attr_list_free(out);
    deliver_reply_release(&rp);
}

/* Worse results have larger values; on the wire only the names travel. */
static void test_status_order(void **state)
{
    (void)state;
    assert_true(DELIVER_SENT < DELIVER_BOUNCED && DELIVER_BOUNCED < DELIVER_DEFERRED);
    assert_string_equal(deliver_status_name(DELIVER_SENT), "sent");
    assert_string_equal(deliver_status_name(DELIVER_BOUNCED), "bounced");
    assert_string_equal(deliver_status_name(DELIVER_DEFERRED), "deferred");
    assert_string_equal(deliver_status_name((enum deliver_status)7), "deferred");
    struct deliver_reply rp, back;
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT, enc = STR_INIT;
    deliver_reply_init(&rp, 2);
    deliver_reply_set_all(&rp, DELIVER_BOUNCED, "5.3.0", "mail system error", "local");
    deliver_reply_encode(&rp, a);
    attr_encode(a, &enc);
    assert_string_equal(enc.data, "rcpt_count=2\nrcpt_0_status=bounced\nrcpt_0_dsn=5.3.0\n"
                                  "rcpt_0_reason=mail system error\nrcpt_0_relay=local\n"
                                  "rcpt_1_status=bounced\nrcpt_1_dsn=5.3.0\n"
                                  "rcpt_1_reason=mail system error\nrcpt_1_relay=local\n\n");
    assert_int_equal(deliver_reply_decode(a, 2, &back, &err), 0);
    assert_int_equal(back.v[1].status, DELIVER_BOUNCED);
    deliver_reply_release(&back);
    deliver_reply_release(&rp);
    attr_list_free(a);
    str_release(&err);
    str_release(&enc);
}

/* deliver_report sets the reply and logs the line with the agent's own time as d. */
static void test_report(void **state)
{
    (void)state;
    char path[] = "/tmp/deliver_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct attr_list *a = good_agent_request();
    struct deliver_request rq;
    struct deliver_reply rp;
    struct str err = STR_INIT;
    assert_int_equal(deliver_request_decode(a, &rq, &err), 0);
    assert_true(rq.started > 1700000000.0);
    rq.arrival_time = rq.started - 0.5;
    rq.queue_delay = 0.25;
    deliver_reply_init(&rp, rq.nrcpt);
    log_set_stderr(0);
    assert_int_equal(log_open_file(path), 0);
    deliver_report(&rq, &rp, 0, DELIVER_SENT, "2.0.0", "delivered to maildir", "virtual");
    log_close_file();
    log_set_stderr(1);
    assert_int_equal(rp.v[0].status, DELIVER_SENT);
    assert_string_equal(rp.v[0].reason, "delivered to maildir");
    assert_string_equal(rp.v[0].relay, "virtual");
    assert_int_equal(rp.v[1].status, DELIVER_DEFERRED);
    char buf[1024] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    unlink(path);
    /* orig A@example.com differs from a@example.com only in case: no orig_to. */
    assert_non_null(strstr(buf, ": 0C261A1F0F: to=<a@example.com>, relay=virtual, delay=0.5, "
                                "delays=0.25/0/0/0, dsn=2.0.0, status=sent (delivered to "
                                "maildir)\n"));
    deliver_reply_release(&rp);
    deliver_request_release(&rq);
    attr_list_free(a);
    str_release(&err);
}

static void test_open_queue_file(void **state)
{
    (void)state;
    struct attr_list *a = good_agent_request();
    struct deliver_request rq;
    struct queue_envelope env = {0};
    struct str err = STR_INIT;
    assert_int_equal(deliver_request_decode(a, &rq, &err), 0);
    deliver_request_set(&rq.queue_name, "nosuchqueuedir");
    assert_int_equal(deliver_open_queue_file(&rq, "deferred", 1, &env, &err), -1);
    assert_string_equal(err.data, "open nosuchqueuedir/0C261A1F0F: No such file or directory");
    queue_envelope_release(&env);
    deliver_request_release(&rq);
    attr_list_free(a);
    str_release(&err);
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
        cmocka_unit_test(test_request_round_trip), cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_log_line),           cmocka_unit_test(test_bounce_log),
        cmocka_unit_test(test_agent_delay_format), cmocka_unit_test(test_agent_log_line),
        cmocka_unit_test(test_agent_decode),       cmocka_unit_test(test_agent_reply),
        cmocka_unit_test(test_status_order),       cmocka_unit_test(test_report),
        cmocka_unit_test(test_open_queue_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
