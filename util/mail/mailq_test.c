/* Unit tests for the queue listing: the mailq and JSON formats, the defer log parser, and
 * mailq_list over a temporary queue directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mailq.h"
#include "mail/queue_id.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void make_msg(struct mailq_msg *m, const char *queue)
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
    struct mailq_msg m;
    struct str out = STR_INIT;
    make_msg(&m, "hold");
    mailq_format_header(&out);
    mailq_format_text(&out, &m);
    mailq_format_trailer(&out, 401, 1);
    assert_string_equal(str_cstr(&out),
                        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
                        "0C261A1F0F!      401 Tue Nov 14 22:13:20  MAILER-DAEMON\n"
                        "(connect: refused)\n"
                        "                                         a@example.com\n"
                        "                                         b\"q@example.com\n"
                        "\n"
                        "-- 1 Kbytes in 1 Request.\n");
    str_clear(&out);
    mailq_format_trailer(&out, 0, 0);
    assert_string_equal(str_cstr(&out), "Mail queue is empty\n");
    str_clear(&out);
    mailq_format_trailer(&out, 5000, 3);
    assert_string_equal(str_cstr(&out), "-- 5 Kbytes in 3 Requests.\n");
    argv_free(m.rcpts);
    argv_free(m.reasons);
    str_release(&out);
}

static void test_json(void **state)
{
    (void)state;
    struct mailq_msg m;
    struct str out = STR_INIT;
    make_msg(&m, "deferred");
    mailq_format_json(&out, &m);
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
    mailq_parse_defer_log(log, strlen(log), r, why);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->v[0], "a@x");
    assert_string_equal(why->v[0], "4.4.1 said: hi?forged");
    assert_string_equal(why->v[1], "");
    assert_string_equal(r->v[2], "c@x");
    assert_string_equal(why->v[2], "%zz");
    argv_free(r);
    argv_free(why);
}

static void test_format_names(void **state)
{
    (void)state;
    enum mailq_format f = MAILQ_TEXT;
    assert_int_equal(mailq_format_parse("json", &f), 0);
    assert_int_equal(f, MAILQ_JSON);
    assert_string_equal(mailq_format_name(f), "json");
    assert_int_equal(mailq_format_parse("text", &f), 0);
    assert_int_equal(f, MAILQ_TEXT);
    assert_string_equal(mailq_format_name(f), "text");
    assert_int_equal(mailq_format_parse("TEXT", &f), -1);
    assert_int_equal(mailq_format_parse("", &f), -1);
    assert_int_equal(mailq_format_parse("json ", &f), -1);
}

static char root[] = "/tmp/mailqtest.XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    static const char *const dirs[] = {"incoming", "active", "deferred", "hold", "defer", NULL};
    struct str path = STR_INIT;
    int rc = 0;
    for (int i = 0; dirs[i] && rc == 0; i++) {
        str_setf(&path, "%s/%s", root, dirs[i]);
        rc = mkdir(str_cstr(&path), 0700);
    }
    str_release(&path);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    struct str cmd = STR_INIT;
    str_setf(&cmd, "rm -rf %s", root);
    int rc = system(str_cstr(&cmd));
    str_release(&cmd);
    return rc;
}

static struct queue_naming layout(void)
{
    struct queue_naming l = {root, "deferred, defer", 1, 0};
    return l;
}

/* Writes a queue file with one pending and one done recipient; returns its ID in id. */
static void make_file(const char *queue, const char *sender, const char *rcpt, struct str *id)
{
    struct queue_naming l = layout();
    struct queue_file_writer w;
    struct str err = STR_INIT;
    assert_int_equal(queue_file_create(&w, &l, queue, &err), 0);
    queue_file_puts(&w, REC_SENDER, sender);
    queue_file_puts(&w, REC_RCPT, rcpt);
    queue_file_puts(&w, REC_DONE, "done@example.com");
    queue_file_start_content(&w);
    queue_file_puts(&w, REC_LINE, "Subject: x");
    queue_file_put(&w, REC_XTRA, "", 0);
    str_set(id, str_cstr(&w.id));
    assert_int_equal(queue_file_publish(&w, &err), 0);
    str_release(&w.id);
    str_release(&err);
}

static void write_file(const char *rel, const char *text)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", root, rel);
    int fd = open(str_cstr(&path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    str_release(&path);
}

static int collect(void *ctx, const char *data, size_t len)
{
    str_appendn(ctx, data, len);
    return 0;
}

static int stop_after_first(void *ctx, const char *data, size_t len)
{
    (void)data;
    (void)len;
    ++*(int *)ctx;
    return -1;
}

static void test_list(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct queue_naming l = layout();
    struct str out = STR_INIT, deferred = STR_INIT, hold = STR_INIT, rel = STR_INIT;
    assert_int_equal(mailq_list(&l, MAILQ_TEXT, collect, &out), 0);
    assert_string_equal(str_cstr(&out), "Mail queue is empty\n");
    str_clear(&out);
    assert_int_equal(mailq_list(&l, MAILQ_JSON, collect, &out), 0);
    assert_int_equal(out.len, 0);

    make_file("deferred", "s@example.org", "a@example.com", &deferred);
    make_file("hold", "", "b@example.com", &hold);
    queue_path(&rel, "defer", str_cstr(&deferred), l.hash_queue_names, l.hash_queue_depth);
    str_setf(&out, "%s/defer/%c", root, str_cstr(&deferred)[0]);
    assert_int_equal(mkdir(str_cstr(&out), 0700), 0);
    write_file(str_cstr(&rel), "recipient=a@example.com\nreason=refused%3A try later\n\n");
    write_file("incoming/ABCDEF0123", "not a queue file"); /* corrupt: skipped */
    write_file("active/not-an-id", "");                    /* not a queue ID: skipped */

    str_clear(&out);
    assert_int_equal(mailq_list(&l, MAILQ_TEXT, collect, &out), 0);
    const char *text = str_cstr(&out);
    assert_non_null(strstr(text, "-Queue ID-  --Size--"));
    assert_non_null(strstr(text, "(refused: try later)\n"));
    assert_non_null(strstr(text, "s@example.org\n"));
    assert_non_null(strstr(text, "MAILER-DAEMON\n"));
    assert_null(strstr(text, "done@example.com"));
    assert_null(strstr(text, "ABCDEF0123"));
    /* deferred is listed before hold */
    assert_true(strstr(text, str_cstr(&deferred)) < strstr(text, str_cstr(&hold)));
    assert_non_null(strstr(text, "-- 1 Kbytes in 2 Requests.\n"));

    str_clear(&out);
    assert_int_equal(mailq_list(&l, MAILQ_JSON, collect, &out), 0);
    assert_non_null(strstr(str_cstr(&out), "\"queue_name\": \"hold\""));
    assert_non_null(strstr(str_cstr(&out), "\"delay_reason\": \"refused: try later\""));

    int calls = 0;
    assert_int_equal(mailq_list(&l, MAILQ_TEXT, stop_after_first, &calls), -1);
    assert_int_equal(calls, 1);
    str_release(&out);
    str_release(&deferred);
    str_release(&hold);
    str_release(&rel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_defer_log),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
