/* Unit tests for the maildrop checker and writer, and for queue scanning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/str.h"
#include "mail/maildrop.h"
#include "mail/queue_record.h"
#include "mail/queue_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Feeds "Tdata" items; returns the index of the first refused record or -1. */
static int feed(const char *const *recs, size_t content_limit, long long size_limit,
                struct str *why)
{
    struct maildrop_check c;
    maildrop_check_init(&c, content_limit, size_limit);
    for (int i = 0; recs[i]; i++) {
        struct str d = STR_INIT;
        str_set(&d, recs[i] + 1);
        int rc = maildrop_check_record(&c, recs[i][0], &d, why);
        str_release(&d);
        if (rc < 0)
            return i;
    }
    return maildrop_check_complete(&c) ? -1 : 99;
}

static void test_good_stream(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    const char *ok[] = {"Fuser",
                        "Afullname=Joe",
                        "Asubmit_flags=16",
                        "N6",
                        "Da;b",
                        "Rrcpt",
                        "M",
                        "LSubject: x",
                        "Ppart",
                        "L",
                        "X",
                        "E",
                        NULL};
    assert_int_equal(feed(ok, 100, 0, &why), -1);
    str_release(&why);
}

static void expect_refused(const char *const *recs, int at, const char *reason, size_t limit,
                           long long size)
{
    struct str why = STR_INIT;
    assert_int_equal(feed(recs, limit, size, &why), at);
    assert_string_equal(str_cstr(&why), reason);
    str_release(&why);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *v[] = {"Fa", "V1", NULL};
    expect_refused(v, 1, "unexpected record type 'V'", 100, 0);
    const char *first[] = {"Ra", NULL};
    expect_refused(first, 0, "first record is not the sender", 100, 0);
    const char *attr[] = {"Fa", "Aclient_address=1.2.3.4", NULL};
    expect_refused(attr, 1, "attribute not allowed", 100, 0);
    const char *flags[] = {"Fa", "Asubmit_flags=1", NULL};
    expect_refused(flags, 1, "bad submit_flags attribute", 100, 0);
    const char *notify[] = {"Fa", "N9", NULL};
    expect_refused(notify, 1, "bad notify record", 100, 0);
    const char *dangling[] = {"Fa", "N2", "M", NULL};
    expect_refused(dangling, 2, "DSN record without recipient", 100, 0);
    const char *content[] = {"Fa", "Rb", "M", "L0123456789X", NULL};
    expect_refused(content, 3, "content record too long", 10, 0);
    const char *size[] = {"Fa", "Rb", "M", "L12345", "L12345", NULL};
    expect_refused(size, 4, "message too large", 100, 10);
    const char *after[] = {"Fa", "Rb", "M", "X", "E", "E", NULL};
    expect_refused(after, 5, "data after end record", 100, 0);
    const char *marker[] = {"Fa", "Rb", "Mx", NULL};
    expect_refused(marker, 2, "marker record with data", 100, 0);
    const char *trunc[] = {"Fa", "Rb", "M", "L", NULL};
    struct str why = STR_INIT;
    assert_int_equal(feed(trunc, 100, 0, &why), 99); /* incomplete: no E */
    str_release(&why);
}

static void test_control_characters(void **state)
{
    (void)state;
    static const char bad[][4] = {"a\rb", "a\nb"};
    for (size_t i = 0; i < 2; i++) {
        struct maildrop_check c;
        struct str d = STR_INIT, why = STR_INIT;
        maildrop_check_init(&c, 100, 0);
        str_set(&d, bad[i]);
        assert_int_equal(maildrop_check_record(&c, REC_SENDER, &d, &why), -1);
        assert_string_equal(str_cstr(&why), "control character in envelope record");
        str_release(&d);
        str_release(&why);
    }
    struct maildrop_check c;
    struct str d = STR_INIT, why = STR_INIT;
    maildrop_check_init(&c, 100, 0);
    str_appendn(&d, "a\0b", 3);
    assert_int_equal(maildrop_check_record(&c, REC_SENDER, &d, &why), -1);
    str_clear(&d);
    for (int i = 0; i < MAILDROP_ENVELOPE_LIMIT + 1; i++)
        str_appendc(&d, 'x');
    maildrop_check_init(&c, 100, 0);
    assert_int_equal(maildrop_check_record(&c, REC_SENDER, &d, &why), -1);
    assert_string_equal(str_cstr(&why), "envelope record too long");
    assert_int_equal(maildrop_text_ok("abc", 3), 1);
    str_release(&d);
    str_release(&why);
}

static void test_writer_and_scan(void **state)
{
    (void)state;
    char dir[] = "/tmp/maildrop_testXXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/maildrop", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    struct maildrop_writer w;
    struct str err = STR_INIT, name = STR_INIT, rel = STR_INIT;
    assert_int_equal(maildrop_create(&w, dir, &err), 0);
    struct stat st;
    assert_int_equal(stat(str_cstr(&w.path), &st), 0);
    assert_int_equal(st.st_mode & 07777, MAILDROP_MODE_WRITING);
    maildrop_put(&w, REC_SENDER, "a", 1);
    char path[600];
    snprintf(path, sizeof(path), "%s", str_cstr(&w.path));
    assert_int_equal(maildrop_finish(&w, &err), 0);
    maildrop_release(&w);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, MAILDROP_MODE_READY);
    assert_int_equal(st.st_size, 5);
    /* Scanning finds the file, also below one-character subdirectories. */
    snprintf(sub, sizeof(sub), "%s/maildrop/A", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/maildrop/A/ABCDEF12", dir);
    FILE *f = fopen(sub, "w");
    fclose(f);
    struct queue_scan *s = queue_scan_open(dir, "maildrop");
    assert_non_null(s);
    int n = 0, nested = 0;
    while (queue_scan_next(s, &name, &rel) > 0) {
        n++;
        nested += strcmp(str_cstr(&rel), "maildrop/A/ABCDEF12") == 0;
    }
    assert_int_equal(queue_scan_next(s, &name, &rel), 0);
    queue_scan_close(s);
    assert_int_equal(n, 2);
    assert_int_equal(nested, 1);
    assert_null(queue_scan_open(dir, "missing"));
    struct queue_naming l = {dir, "maildrop", 1, 0};
    const char *queues[] = {"maildrop", NULL};
    struct str q = STR_INIT;
    assert_int_equal(queue_find(&l, "ABCDEF12", queues, &q, &rel), 1);
    assert_string_equal(str_cstr(&rel), "maildrop/A/ABCDEF12");
    assert_int_equal(queue_find(&l, "../etc", queues, &q, &rel), -1);
    assert_int_equal(queue_find(&l, "ABCDEF99", queues, &q, &rel), 0);
    /* Abort removes the file. */
    assert_int_equal(maildrop_create(&w, dir, &err), 0);
    snprintf(path, sizeof(path), "%s", str_cstr(&w.path));
    maildrop_abort(&w);
    assert_int_equal(access(path, F_OK), -1);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    str_release(&err);
    str_release(&name);
    str_release(&rel);
    str_release(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_stream),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_writer_and_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
