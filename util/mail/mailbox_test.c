/* Unit tests for message_copy (Delivered-To scan, prepended lines, copying with >From quoting),
 * mbox delivery (From_ line, truncation on a failed write, size limit) and maildir delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mailbox_maildir.h"

#include "base/fsutil.h"
#include "base/lock.h"
#include "mail/queue_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/mailbox-test-XXXXXX";

/* Writes a queue file with the given content lines (NULL-terminated) and opens a message. */
static void make_msg(struct mail_message *m, struct queue_envelope *env, const char *sender,
                     const char *const *lines)
{
    struct str head = STR_INIT, tail = STR_INIT, body = STR_INIT, size = STR_INIT, path = STR_INIT;
    rec_puts(&head, 'V', "1");
    rec_puts(&tail, 'T', "1700000000.000001");
    rec_puts(&tail, 'F', sender);
    rec_puts(&tail, 'R', "user@example.com");
    for (size_t i = 0; lines[i]; i++)
        rec_puts(&body, 'L', lines[i]);
    rec_putf(&size, 'C', "%15d %15d %15d", 0, 0, 0);
    size_t off = head.len + size.len + tail.len + 4;
    str_clear(&size);
    rec_putf(&size, 'C', "%15zu %15zu %15d", off, body.len, 1);
    str_append(&head, size.data);
    str_appendn(&head, tail.data, tail.len);
    rec_puts(&head, 'M', "");
    str_appendn(&head, body.data ? body.data : "", body.len);
    rec_puts(&head, 'X', "");
    rec_puts(&head, 'E', "");
    str_setf(&path, "%s/queuefile", dir);
    assert_int_equal(fs_write_atomic(path.data, head.data, head.len, 0600, NULL), 0);
    memset(m, 0, sizeof(*m));
    memset(env, 0, sizeof(*env));
    m->fd = open(path.data, O_RDONLY);
    assert_true(m->fd >= 0);
    struct str err = STR_INIT;
    assert_int_equal(queue_file_read_envelope(m->fd, 1 << 20, env, &err), 0);
    m->env = env;
    m->queue_id = "ABCDEF";
    m->sender = sender;
    m->now = 1795425419; /* Mon Nov 23 09:16:59 2026 UTC */
    assert_int_equal(message_scan_delivered(m, &err), 0);
    str_release(&err);
    str_release(&head);
    str_release(&tail);
    str_release(&body);
    str_release(&size);
    str_release(&path);
}

static void free_msg(struct mail_message *m, struct queue_envelope *env)
{
    close(m->fd);
    argv_free(m->delivered);
    queue_envelope_release(env);
}

static struct mailbox_opts params(void)
{
    struct mailbox_opts p = {
        .myhostname = "mx.example.com", .lock_methods = LOCK_METHOD_FCNTL, .lock_timeout_ms = 100};
    return p;
}

static void read_file(const char *path, struct str *out)
{
    str_clear(out);
    assert_int_equal(fs_read_file(path, 1 << 20, out, NULL), 0);
}

static void test_delivered_scan(void **state)
{
    (void)state;
    struct mail_message m;
    struct queue_envelope env;
    const char *lines[] = {"Received: x",
                           "Delivered-To:  User@Example.COM ",
                           "Subject: y",
                           "",
                           "Delivered-To: body@example.com",
                           NULL};
    make_msg(&m, &env, "a@b", lines);
    assert_int_equal(m.delivered->n, 1);
    assert_true(message_has_delivered(&m, "user@example.com"));
    assert_false(message_has_delivered(&m, "body@example.com"));
    free_msg(&m, &env);
}

static void test_prepend_and_quote(void **state)
{
    (void)state;
    struct mail_message m;
    struct queue_envelope env;
    const char *lines[] = {"Subject: s", "", "From me", ">From you", " From x", NULL};
    make_msg(&m, &env, "", lines);
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(
        message_copy_to_str(&m, &out, "u@example.com", "o@example.com", COPY_MBOX, &err), 0);
    assert_string_equal(out.data, "From MAILER-DAEMON  Mon Nov 23 09:16:59 2026\n"
                                  "Return-Path: <>\n"
                                  "X-Original-To: o@example.com\n"
                                  "Delivered-To: u@example.com\n"
                                  "Subject: s\n\n>From me\n>From you\n From x\n\n");
    str_clear(&out);
    assert_int_equal(message_copy_to_str(&m, &out, "u@example.com", NULL, COPY_MAILDIR, &err), 0);
    assert_string_equal(out.data, "Return-Path: <>\nDelivered-To: u@example.com\n"
                                  "Subject: s\n\nFrom me\n>From you\n From x\n");
    str_release(&out);
    str_release(&err);
    free_msg(&m, &env);
}

static size_t fail_after;
static ssize_t failing_write(int fd, const void *buf, size_t len)
{
    if (len > fail_after) {
        if (fail_after == 0) {
            errno = ENOSPC;
            return -1;
        }
        len = fail_after;
    }
    fail_after -= len;
    return write(fd, buf, len);
}

static void test_mbox_append_and_truncate(void **state)
{
    (void)state;
    struct mail_message m;
    struct queue_envelope env;
    const char *lines[] = {"Subject: s", "", "body", NULL};
    make_msg(&m, &env, "s@example.org", lines);
    struct mailbox_opts p = params();
    struct str path = STR_INIT, reason = STR_INIT, data = STR_INIT;
    char dsn[16];
    str_setf(&path, "%s/mbox", dir);
    assert_int_equal(fs_write_atomic(path.data, "old\n", 4, 0600, NULL), 0);
    int st = mbox_deliver(&p, &m, path.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                          sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_SENT);
    assert_string_equal(dsn, "2.0.0");
    read_file(path.data, &data);
    assert_string_equal(data.data, "old\nFrom s@example.org  Mon Nov 23 09:16:59 2026\n"
                                   "Return-Path: <s@example.org>\nDelivered-To: u@x\n"
                                   "Subject: s\n\nbody\n\n");
    size_t good = data.len;
    /* A write failing half-way: the mailbox goes back to its size, the recipient defers. */
    fail_after = 30;
    message_write_hook = failing_write;
    st = mbox_deliver(&p, &m, path.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                      sizeof(dsn), &reason);
    message_write_hook = NULL;
    assert_int_equal(st, MAILBOX_DEFERRED);
    assert_string_equal(dsn, "4.3.1");
    read_file(path.data, &data);
    assert_int_equal(data.len, good);
    /* The size limit: mailbox full, bounced, nothing written. */
    p.size_limit = (long)good + 10;
    st = mbox_deliver(&p, &m, path.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                      sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_BOUNCED);
    assert_string_equal(dsn, "5.2.2");
    assert_non_null(strstr(reason.data, "File too large"));
    read_file(path.data, &data);
    assert_int_equal(data.len, good);
    /* Someone else's file, a symlink, an extra hard link: refused and deferred. */
    st = mbox_deliver(&p, &m, path.data, geteuid() + 1, getegid(), "u@x", NULL, COPY_MBOX, dsn,
                      sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_DEFERRED);
    struct str link2 = STR_INIT;
    str_setf(&link2, "%s/mbox2", dir);
    assert_int_equal(link(path.data, link2.data), 0);
    st = mbox_deliver(&p, &m, path.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                      sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_DEFERRED);
    unlink(link2.data);
    str_setf(&link2, "%s/mbox-link", dir);
    assert_int_equal(symlink(path.data, link2.data), 0);
    st = mbox_deliver(&p, &m, link2.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                      sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_DEFERRED);
    read_file(path.data, &data);
    assert_int_equal(data.len, good);
    str_release(&link2);
    str_release(&path);
    str_release(&reason);
    str_release(&data);
    free_msg(&m, &env);
}

static void test_mbox_lock_timeout(void **state)
{
    (void)state;
    struct mail_message m;
    struct queue_envelope env;
    const char *lines[] = {"", "x", NULL};
    make_msg(&m, &env, "s@example.org", lines);
    struct mailbox_opts p = params();
    p.lock_methods = LOCK_METHOD_DOTLOCK;
    p.lock_timeout_ms = 0;
    p.stale_lock_time = 500;
    struct str path = STR_INIT, lockp = STR_INIT, reason = STR_INIT;
    char dsn[16];
    str_setf(&path, "%s/locked", dir);
    str_setf(&lockp, "%s/locked.lock", dir);
    assert_int_equal(fs_write_atomic(lockp.data, "", 0, 0600, NULL), 0);
    int st = mbox_deliver(&p, &m, path.data, geteuid(), getegid(), "u@x", NULL, COPY_MBOX, dsn,
                          sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_DEFERRED);
    assert_string_equal(dsn, "4.2.0");
    assert_non_null(strstr(reason.data, "unable to create lock file"));
    unlink(lockp.data);
    str_release(&path);
    str_release(&lockp);
    str_release(&reason);
    free_msg(&m, &env);
}

static void test_maildir(void **state)
{
    (void)state;
    struct str name = STR_INIT;
    maildir_unique_name(&name, 1700000000, 123456, 42, 7, "mx/a:b");
    assert_string_equal(name.data, "1700000000.P42Q7M123456.mx\\057a\\072b");
    struct mail_message m;
    struct queue_envelope env;
    const char *lines[] = {"Subject: s", "", "From x", NULL};
    make_msg(&m, &env, "s@example.org", lines);
    struct mailbox_opts p = params();
    struct str md = STR_INIT, reason = STR_INIT, data = STR_INIT;
    char dsn[16];
    str_setf(&md, "%s/Maildir/", dir);
    int st = maildir_deliver(&p, &m, md.data, "u@x", "o@x", dsn, sizeof(dsn), &reason);
    assert_int_equal(st, MAILBOX_SENT);
    str_setf(&name, "%snew", md.data);
    DIR *d = opendir(name.data);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        files++;
        assert_non_null(strstr(e->d_name, ".mx.example.com"));
        str_setf(&name, "%snew/%s", md.data, e->d_name);
        read_file(name.data, &data);
        assert_string_equal(data.data, "Return-Path: <s@example.org>\nX-Original-To: o@x\n"
                                       "Delivered-To: u@x\nSubject: s\n\nFrom x\n");
    }
    closedir(d);
    assert_int_equal(files, 1);
    str_setf(&name, "%stmp", md.data);
    d = opendir(name.data);
    while ((e = readdir(d)) != NULL)
        assert_true(e->d_name[0] == '.');
    closedir(d);
    str_release(&name);
    str_release(&md);
    str_release(&reason);
    str_release(&data);
    free_msg(&m, &env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_scan),
        cmocka_unit_test(test_prepend_and_quote),
        cmocka_unit_test(test_mbox_append_and_truncate),
        cmocka_unit_test(test_mbox_lock_timeout),
        cmocka_unit_test(test_maildir),
    };
    setenv("TZ", "UTC", 1);
    tzset();
    if (mkdtemp(dir) == NULL)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
