/* Unit tests for stream and clock: line limits, NUL bytes, EOF fragments, timeouts, pipelining,
 * buffered writes, sticky errors and a custom transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/stream.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void put(int fd, const void *data, size_t len)
{
    assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void test_line_limit_partial(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    put(sv[1], "abcdefghij\nxy\n", 14);
    struct str line = STR_INIT;
    assert_int_equal(stream_getline(s, &line, 4), STREAM_PARTIAL);
    assert_string_equal(line.data, "abcd");
    assert_int_equal(stream_getline(s, &line, 4), STREAM_PARTIAL);
    assert_string_equal(line.data, "abcdefgh");
    assert_int_equal(stream_getline(s, &line, 4), STREAM_LINE);
    assert_string_equal(line.data, "abcdefghij\n");
    str_clear(&line);
    assert_int_equal(stream_getline(s, &line, 100), STREAM_LINE);
    assert_string_equal(line.data, "xy\n");
    str_clear(&line);
    assert_int_equal(stream_getline(s, &line, 0), STREAM_PARTIAL);
    assert_int_equal(line.len, 0);
    str_release(&line);
    stream_close(s);
    close(sv[1]);
}

static void test_nul_and_eof_fragment(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    put(sv[1], "a\0b\nlast", 8);
    close(sv[1]);
    struct str line = STR_INIT;
    assert_int_equal(stream_getline(s, &line, 100), STREAM_LINE);
    assert_int_equal(line.len, 4);
    assert_memory_equal(line.data, "a\0b\n", 4);
    str_clear(&line);
    assert_int_equal(stream_getline(s, &line, 100), STREAM_EOF);
    assert_string_equal(line.data, "last");
    assert_true(stream_status(s) & STREAM_ST_EOF);
    assert_int_equal(stream_getc(s), STREAM_EOF);
    str_release(&line);
    stream_close(s);
}

static void test_line_across_refills(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    /* A 20000-byte line is longer than the 8 KiB buffer; read it whole with a large limit. */
    static char big[20001];
    memset(big, 'x', 20000);
    big[19999] = '\n';
    if (fork() == 0) {
        close(sv[0]);
        put(sv[1], big, 20000);
        _exit(0);
    }
    close(sv[1]);
    struct str line = STR_INIT;
    assert_int_equal(stream_getline(s, &line, 30000), STREAM_LINE);
    assert_int_equal(line.len, 20000);
    assert_memory_equal(line.data, big, 20000);
    wait(NULL);
    str_release(&line);
    stream_close(s);
}

static void test_read_timeout(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    struct str line = STR_INIT;
    long t0 = now_ms();
    assert_int_equal(stream_getline(s, &line, 100), STREAM_TIMEOUT);
    long took = now_ms() - t0;
    assert_true(took >= 900 && took < 3000);
    assert_int_equal(stream_status(s), STREAM_ST_TIMEOUT);
    assert_int_equal(stream_errno(s), ETIMEDOUT);
    /* Sticky: no second wait. */
    t0 = now_ms();
    assert_int_equal(stream_getc(s), STREAM_TIMEOUT);
    assert_true(now_ms() - t0 < 100);
    str_release(&line);
    stream_close(s);
    close(sv[1]);
}

static void test_deadline_wins(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 100);
    stream_set_deadline(s, now_ms() + 200);
    long t0 = now_ms();
    char c;
    assert_int_equal(stream_read(s, &c, 1), -1);
    assert_true(now_ms() - t0 < 2000);
    assert_true(stream_status(s) & STREAM_ST_TIMEOUT);
    stream_close(s);
    close(sv[1]);
}

static void test_pending_pipelining(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    put(sv[1], "EHLO x\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\n", 37);
    struct str line = STR_INIT;
    assert_int_equal(stream_pending(s), 0);
    assert_int_equal(stream_getline(s, &line, 512), STREAM_LINE);
    assert_string_equal(line.data, "EHLO x\r\n");
    assert_int_equal(stream_pending(s), 29);
    /* A reply written while input is pending is not flushed by the next buffered read. */
    stream_puts(s, "250 ok\r\n");
    str_clear(&line);
    assert_int_equal(stream_getline(s, &line, 512), STREAM_LINE);
    assert_int_equal(stream_unflushed(s), 8);
    stream_discard_input(s);
    assert_int_equal(stream_pending(s), 0);
    assert_int_equal(stream_flush(s), 0);
    char buf[16] = {0};
    assert_int_equal(read(sv[1], buf, sizeof(buf)), 8);
    assert_string_equal(buf, "250 ok\r\n");
    str_release(&line);
    stream_close(s);
    close(sv[1]);
}

static void test_read_flushes_output(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    stream_printf(s, "%d %s\r\n", 220, "ready");
    assert_int_equal(stream_unflushed(s), 11);
    put(sv[1], "Q", 1);
    assert_int_equal(stream_getc(s), 'Q');
    assert_int_equal(stream_unflushed(s), 0);
    char buf[32] = {0};
    assert_int_equal(read(sv[1], buf, sizeof(buf)), 11);
    assert_string_equal(buf, "220 ready\r\n");
    stream_close(s);
    close(sv[1]);
}

static void test_big_write_and_exact(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *w = stream_fdopen(sv[0]);
    struct stream *r = stream_fdopen(sv[1]);
    static unsigned char data[50000], back[50000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7);
    pid_t pid = fork();
    if (pid == 0) {
        stream_write(w, "hd", 2);
        stream_write(w, data, sizeof(data));
        _exit(stream_flush(w) == 0 ? 0 : 1);
    }
    char hd[2];
    assert_int_equal(stream_read_exact(r, hd, 2), 0);
    assert_memory_equal(hd, "hd", 2);
    assert_int_equal(stream_read_exact(r, back, sizeof(back)), 0);
    assert_memory_equal(back, data, sizeof(data));
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(st, 0);
    stream_close(w);
    assert_int_equal(stream_read_exact(r, hd, 1), STREAM_EOF);
    stream_close(r);
}

static void test_write_error_sticky(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    close(sv[1]);
    stream_puts(s, "hello\r\n");
    assert_int_equal(stream_flush(s), -1);
    assert_true(stream_status(s) & STREAM_ST_ERROR);
    assert_int_equal(stream_errno(s), EPIPE);
    stream_puts(s, "more");
    assert_int_equal(stream_unflushed(s), 0);
    assert_int_equal(stream_flush(s), -1);
    stream_close(s);
}

/* A transport that upper-cases what it reads from the fd: stands in for TLS. */
static ssize_t upper_read(void *ctx, void *buf, size_t len, long deadline)
{
    ssize_t n = stream_fd_transport.read(ctx, buf, len, deadline);
    for (ssize_t i = 0; i < n; i++) {
        char *c = (char *)buf + i;
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    }
    return n;
}

static void test_custom_transport(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct stream *s = stream_fdopen(sv[0]);
    static const struct stream_transport upper = {upper_read, NULL};
    int fd = sv[0];
    put(sv[1], "plain\nsecret\n", 13);
    struct str line = STR_INIT;
    assert_int_equal(stream_getline(s, &line, 100), STREAM_LINE);
    assert_string_equal(line.data, "plain\n");
    stream_discard_input(s); /* drop pipelined plaintext */
    stream_set_transport(s, &upper, &fd);
    put(sv[1], "tls\n", 4);
    str_clear(&line);
    assert_int_equal(stream_getline(s, &line, 100), STREAM_LINE);
    assert_string_equal(line.data, "TLS\n");
    str_release(&line);
    stream_close(s);
    close(sv[1]);
}

static void test_clock(void **state)
{
    (void)state;
    assert_int_equal(deadline_min(-1, 5), 5);
    assert_int_equal(deadline_min(7, -1), 7);
    assert_int_equal(deadline_min(7, 5), 5);
    assert_int_equal(deadline_poll_ms(-1), -1);
    assert_int_equal(deadline_poll_ms(now_ms() - 10), 0);
    assert_true(deadline_expired(now_ms() - 1));
    assert_false(deadline_expired(-1));
    int left = deadline_poll_ms(deadline_after_ms(5000));
    assert_true(left > 4000 && left <= 5000);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_limit_partial),
        cmocka_unit_test(test_nul_and_eof_fragment),
        cmocka_unit_test(test_line_across_refills),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_deadline_wins),
        cmocka_unit_test(test_pending_pipelining),
        cmocka_unit_test(test_read_flushes_output),
        cmocka_unit_test(test_big_write_and_exact),
        cmocka_unit_test(test_write_error_sticky),
        cmocka_unit_test(test_custom_transport),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
