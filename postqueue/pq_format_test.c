/* Unit tests for the postqueue output formats and the defer log parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "postqueue.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void make_msg(struct pq_msg *m, const char *queue)
{
    memset(m, 0, sizeof(*m));
    m->queue = (char *)queue;
    m->id = "0C261A1F0F";
    m->arrival = 1700000000;
    m->size = 401;
    m->sender = "";
    m->rcpts = argv_new();
    m->reasons = argv_new();
    argv_add(m->rcpts, "a@example.com");
    argv_add(m->reasons, "connect: refused");
    argv_add(m->rcpts, "b\"q@example.com");
    argv_add(m->reasons, "");
}

static void test_text(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct pq_msg m;
    struct str out = STR_INIT;
    make_msg(&m, "hold");
    pq_format_header(&out);
    pq_format_text(&out, &m);
    pq_format_trailer(&out, 401, 1);
    assert_string_equal(str_cstr(&out),
                        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
                        "0C261A1F0F!      401 Tue Nov 14 22:13:20  MAILER-DAEMON\n"
                        "(connect: refused)\n"
                        "                                         a@example.com\n"
                        "                                         b\"q@example.com\n"
                        "\n"
                        "-- 1 Kbytes in 1 Request.\n");
    str_clear(&out);
    pq_format_trailer(&out, 0, 0);
    assert_string_equal(str_cstr(&out), "Mail queue is empty\n");
    str_clear(&out);
    pq_format_trailer(&out, 5000, 3);
    assert_string_equal(str_cstr(&out), "-- 5 Kbytes in 3 Requests.\n");
    argv_free(m.rcpts);
    argv_free(m.reasons);
    str_release(&out);
}

static void test_json(void **state)
{
    (void)state;
    struct pq_msg m;
    struct str out = STR_INIT;
    make_msg(&m, "deferred");
    pq_format_json(&out, &m);
    assert_string_equal(str_cstr(&out),
                        "{\"queue_name\": \"deferred\", \"queue_id\": \"0C261A1F0F\", "
                        "\"arrival_time\": 1700000000, \"message_size\": 401, "
                        "\"forced_expire\": false, \"sender\": \"\", \"recipients\": "
                        "[{\"address\": \"a@example.com\", \"delay_reason\": "
                        "\"connect: refused\"}, {\"address\": \"b\\\"q@example.com\"}]}\n");
    argv_free(m.rcpts);
    argv_free(m.reasons);
    str_release(&out);
}

static void test_defer_log(void **state)
{
    (void)state;
    const char *log = "recipient=a@x\nreason=4.4.1 said%3a hi%0Aforged\nstatus=4.4.1\n\n"
                      "recipient=b@x\n\nbroken line\nrecipient=c@x\nreason=%zz\n";
    struct argv *r = argv_new(), *why = argv_new();
    pq_parse_defer_log(log, strlen(log), r, why);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->v[0], "a@x");
    assert_string_equal(why->v[0], "4.4.1 said: hi?forged");
    assert_string_equal(why->v[1], "");
    assert_string_equal(r->v[2], "c@x");
    assert_string_equal(why->v[2], "%zz");
    argv_free(r);
    argv_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_defer_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
