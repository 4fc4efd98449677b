/* Unit tests for queue file creation, publication, validation and done-marking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "mail/queue_record.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/qftest.XXXXXX";

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(root));
    char path[256];
    snprintf(path, sizeof(path), "%s/incoming", root);
    return mkdir(path, 0700);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd);
}

static struct queue_naming layout(void)
{
    struct queue_naming l = {root, "deferred", 1, 0};
    return l;
}

static void write_message(struct queue_file_writer *w)
{
    queue_file_puts(w, REC_SENDER, "sender@example.org");
    queue_file_puts(w, REC_ATTR, "client_address=192.0.2.1");
    queue_file_puts(w, REC_ORIG, "alias@example.com");
    queue_file_puts(w, REC_DSN_ORCPT, "rfc822;Rcpt@Example.com");
    queue_file_puts(w, REC_NOTIFY, "6");
    queue_file_puts(w, REC_RCPT, "rcpt@example.com");
    queue_file_puts(w, REC_RCPT, "other@example.com");
    queue_file_start_content(w);
    queue_file_puts(w, REC_LINE, "Subject: hi");
    queue_file_puts(w, REC_LINE, "");
    queue_file_puts(w, REC_LINE, "body");
    queue_file_puts(w, REC_XTRA, "");
    queue_file_puts(w, REC_ATTR, "filter=smtp:[127.0.0.1]:10024");
}

static void test_create_publish_read(void **state)
{
    (void)state;
    struct queue_naming l = layout();
    struct queue_file_writer w;
    struct str err = STR_INIT;
    assert_int_equal(queue_file_create(&w, &l, "incoming", &err), 0);
    assert_true(queue_id_valid(str_cstr(&w.id)));
    char path[512];
    snprintf(path, sizeof(path), "%s", str_cstr(&w.path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, QUEUE_MODE_WRITING); /* not ready while writing */
    write_message(&w);
    assert_int_equal(queue_file_publish(&w, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, QUEUE_MODE_READY);

    int fd = open(path, O_RDWR);
    struct queue_envelope env;
    assert_int_equal(queue_file_read_envelope(fd, 100000, &env, &err), 0);
    assert_string_equal(env.sender, "sender@example.org");
    assert_int_equal(env.nrcpt, 2);
    assert_string_equal(env.rcpts[0].orcpt, "rfc822;Rcpt@Example.com");
    assert_int_equal(env.rcpts[0].notify, 6);
    assert_string_equal(env.rcpts[0].orig, "alias@example.com");
    assert_null(env.rcpts[1].orcpt);
    assert_null(env.rcpts[1].orig);
    assert_int_equal(env.content_bytes, 12 + 1 + 5);
    assert_string_equal(queue_envelope_attr(&env, "client_address"), "192.0.2.1");
    assert_string_equal(queue_envelope_attr(&env, "filter"), "smtp:[127.0.0.1]:10024");
    struct rec_reader cr;
    struct str line = STR_INIT;
    queue_content_open(&cr, fd, &env);
    assert_int_equal(queue_content_get(&cr, &line, 1000), REC_LINE);
    assert_string_equal(str_cstr(&line), "Subject: hi");
    assert_int_equal(queue_content_get(&cr, &line, 1000), REC_LINE);
    assert_int_equal(queue_content_get(&cr, &line, 1000), REC_LINE);
    assert_string_equal(str_cstr(&line), "body");
    assert_int_equal(queue_content_get(&cr, &line, 1000), 0);
    rec_reader_release(&cr);
    str_release(&line);
    assert_int_equal(queue_file_mark_done(fd, &env.rcpts[0]), 0);
    queue_envelope_release(&env);
    assert_int_equal(queue_file_read_envelope(fd, 100000, &env, &err), 0);
    assert_true(env.rcpts[0].done);
    assert_false(env.rcpts[1].done);
    queue_envelope_release(&env);
    close(fd);
    str_release(&err);
    str_release(&w.id);
}

static void test_abort_removes(void **state)
{
    (void)state;
    struct queue_naming l = layout();
    struct queue_file_writer w;
    struct str err = STR_INIT;
    assert_int_equal(queue_file_create(&w, &l, "incoming", &err), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s", str_cstr(&w.path));
    queue_file_abort(&w);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(queue_file_create(&w, &l, "nosuchqueue", &err), -1);
    assert_non_null(strstr(str_cstr(&err), "nosuchqueue"));
    str_release(&err);
}

/* Every truncation of a valid file must be rejected as corrupt. */
static void test_truncations_corrupt(void **state)
{
    (void)state;
    struct queue_naming l = layout();
    struct queue_file_writer w;
    struct str err = STR_INIT;
    assert_int_equal(queue_file_create(&w, &l, "incoming", &err), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s", str_cstr(&w.path));
    write_message(&w);
    assert_int_equal(queue_file_publish(&w, &err), 0);
    struct stat st;
    stat(path, &st);
    int fd = open(path, O_RDWR);
    char *orig = malloc((size_t)st.st_size);
    assert_int_equal(read(fd, orig, (size_t)st.st_size), st.st_size);
    for (off_t len = 0; len < st.st_size; len++) {
        assert_int_equal(ftruncate(fd, len), 0);
        struct queue_envelope env;
        assert_int_equal(queue_file_read_envelope(fd, 100000, &env, &err), -1);
        queue_envelope_release(&env);
    }
    /* Trailing garbage, and a content record in the envelope, are corrupt too. */
    assert_int_equal(pwrite(fd, orig, (size_t)st.st_size, 0), st.st_size);
    assert_int_equal(pwrite(fd, "L0:\n", 4, st.st_size), 4);
    struct queue_envelope env;
    assert_int_equal(queue_file_read_envelope(fd, 100000, &env, &err), -1);
    assert_string_equal(str_cstr(&err), "data after end record");
    queue_envelope_release(&env);
    free(orig);
    close(fd);
    str_release(&err);
    str_release(&w.id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_publish_read),
        cmocka_unit_test(test_abort_removes),
        cmocka_unit_test(test_truncations_corrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
