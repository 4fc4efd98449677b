/* Unit tests for queue file records: round trips and every kind of corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/queue_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes bytes to an anonymous temporary file and returns its descriptor at offset 0. */
static int temp_fd(const char *data, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = dup(fileno(f));
    fclose(f);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct str out = STR_INIT, data = STR_INIT;
    rec_puts(&out, REC_VERSION, "1");
    rec_put(&out, REC_LINE, "a\0b\nc", 5);
    rec_putf(&out, REC_RCPT, "%s@%s", "user", "example.com");
    rec_puts(&out, REC_END, "");
    assert_memory_equal(out.data, "V1:1\nL5:a\0b\nc\nR16:user@example.com\nE0:\n", out.len);
    int fd = temp_fd(out.data, out.len);
    struct rec_reader r;
    rec_reader_init(&r, fd, 0);
    off_t at;
    assert_int_equal(rec_get(&r, &data, 100, &at), REC_VERSION);
    assert_int_equal(at, 0);
    assert_int_equal(rec_get(&r, &data, 100, &at), REC_LINE);
    assert_int_equal(data.len, 5);
    assert_memory_equal(data.data, "a\0b\nc", 5);
    assert_int_equal(rec_get(&r, &data, 100, &at), REC_RCPT);
    assert_int_equal(at, 14);
    assert_string_equal(str_cstr(&data), "user@example.com");
    assert_int_equal(rec_get(&r, &data, 100, &at), REC_END);
    assert_int_equal(rec_get(&r, &data, 100, &at), REC_EOF);
    close(fd);
    rec_reader_release(&r);
    str_release(&out);
    str_release(&data);
}

static void expect_error(const char *bytes, size_t len, size_t limit, const char *what)
{
    struct str data = STR_INIT;
    int fd = temp_fd(bytes, len);
    struct rec_reader r;
    rec_reader_init(&r, fd, 0);
    int type;
    while ((type = rec_get(&r, &data, limit, NULL)) >= 0)
        ;
    assert_int_equal(type, REC_ERROR);
    assert_non_null(strstr(str_cstr(&r.error), what));
    close(fd);
    rec_reader_release(&r);
    str_release(&data);
}

static void test_corrupt(void **state)
{
    (void)state;
    expect_error("V1:1\nZ1:x\n", 10, 100, "unknown record type");
    expect_error("V1:1\nR10:abc", 12, 100, "truncated record");
    expect_error("V1:1\nR3:abcd\n", 13, 100, "missing record terminator");
    expect_error("R999999999999999:x\n", 19, 100, "record too long");
    expect_error("R200:x\n", 7, 100, "record too long");
    expect_error("R:x\n", 4, 100, "malformed record length");
    expect_error("Rx:x\n", 5, 100, "malformed record length");
    expect_error("\0"
                 "1:x\n",
                 5, 100, "unknown record type");
    expect_error("V1", 2, 100, "truncated record");
}

static void test_large_record(void **state)
{
    (void)state;
    size_t n = 300000;
    char *big = malloc(n);
    memset(big, 'x', n);
    struct str out = STR_INIT, data = STR_INIT;
    rec_put(&out, REC_LINE, big, n);
    int fd = temp_fd(out.data, out.len);
    struct rec_reader r;
    rec_reader_init(&r, fd, 0);
    assert_int_equal(rec_get(&r, &data, n, NULL), REC_LINE);
    assert_int_equal(data.len, n);
    assert_int_equal(r.offset, (off_t)out.len);
    close(fd);
    rec_reader_release(&r);
    str_release(&out);
    str_release(&data);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_large_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
