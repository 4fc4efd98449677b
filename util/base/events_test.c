/* Unit tests for events: fd readiness, timer ordering and repetition, cancellation, removal of
 * a watch from inside a callback, and a signal delivered into the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/events.h"
#include "base/str.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct str trace = STR_INIT;

static void on_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    str_append(&trace, ctx);
}

static void test_timer_order(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    str_clear(&trace);
    event_timer_add(loop, 60, 0, on_timer, "c");
    event_timer_add(loop, 10, 0, on_timer, "a");
    event_timer_add(loop, 30, 0, on_timer, "b");
    unsigned long id = event_timer_add(loop, 20, 0, on_timer, "X");
    event_timer_add(loop, 0, 0, on_timer, "0");
    event_timer_add(loop, 0, 0, on_timer, "1");
    assert_int_equal(event_timer_cancel(loop, id), 1);
    assert_int_equal(event_timer_cancel(loop, id), 0);
    long t0 = now_ms();
    while (trace.len < 5 && now_ms() - t0 < 2000)
        event_loop_run_once(loop, 1000);
    assert_string_equal(str_cstr(&trace), "01abc");
    assert_true(now_ms() - t0 >= 60);
    event_loop_free(loop);
}

static int ticks;

static void on_tick(struct event_loop *loop, void *ctx)
{
    (void)ctx;
    if (++ticks == 3)
        event_loop_stop(loop);
}

static void test_repeating_timer(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    ticks = 0;
    long t0 = now_ms();
    unsigned long id = event_timer_add(loop, 20, 20, on_tick, NULL);
    event_loop_run(loop);
    assert_int_equal(ticks, 3);
    long took = now_ms() - t0;
    assert_true(took >= 60 && took < 1000);
    assert_int_equal(event_timer_cancel(loop, id), 1);
    assert_int_equal(event_loop_run_once(loop, 50), 0);
    assert_int_equal(ticks, 3);
    event_loop_free(loop);
}

struct fdctx {
    int reads;
    int other_fd;
    char got[16];
};

static void on_read(struct event_loop *loop, int fd, int events, void *ctx)
{
    struct fdctx *c = ctx;
    assert_true(events & EVENT_READ);
    ssize_t n = read(fd, c->got, sizeof(c->got) - 1);
    c->got[n > 0 ? n : 0] = 0;
    c->reads++;
    /* Removing another ready watch from inside a callback must suppress its dispatch. */
    if (c->other_fd >= 0)
        event_unwatch_fd(loop, c->other_fd);
}

static void test_fd_watch(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    int a[2], b[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    struct fdctx ca = {0, b[0], ""}, cb = {0, a[0], ""};
    assert_int_equal(event_watch_fd(loop, a[0], EVENT_READ, on_read, &ca), 0);
    assert_int_equal(event_watch_fd(loop, b[0], EVENT_READ, on_read, &cb), 0);
    assert_int_equal(event_loop_run_once(loop, 10), 0);
    assert_int_equal(write(a[1], "hi", 2), 2);
    assert_int_equal(write(b[1], "yo", 2), 2);
    assert_int_equal(event_loop_run_once(loop, 1000), 1);
    assert_int_equal(ca.reads + cb.reads, 1);
    assert_string_equal(ca.reads ? ca.got : cb.got, ca.reads ? "hi" : "yo");
    /* Both are now unwatched; nothing more is dispatched. */
    assert_int_equal(event_loop_run_once(loop, 20), 0);
    event_unwatch_fd(loop, a[0]);
    assert_int_equal(event_watch_fd(loop, -1, EVENT_READ, on_read, &ca), -1);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    event_loop_free(loop);
}

static int writable;

static void on_write(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)ctx;
    if (events & EVENT_WRITE)
        writable++;
    event_watch_fd(loop, fd, EVENT_READ, on_write, NULL); /* switch to read interest */
}

static void test_write_then_modify(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    writable = 0;
    assert_int_equal(event_watch_fd(loop, sv[0], EVENT_WRITE, on_write, NULL), 0);
    assert_int_equal(event_loop_run_once(loop, 1000), 1);
    assert_int_equal(writable, 1);
    assert_int_equal(event_loop_run_once(loop, 20), 0);
    close(sv[1]); /* hang-up is reported to a reader */
    assert_int_equal(event_loop_run_once(loop, 1000), 1);
    close(sv[0]);
    /* The fd number is reused without an unwatch in between: watching it again still works. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(event_watch_fd(loop, sv[0], EVENT_WRITE, on_write, NULL), 0);
    writable = 0;
    assert_int_equal(event_loop_run_once(loop, 1000), 1);
    assert_int_equal(writable, 1);
    close(sv[0]);
    close(sv[1]);
    event_loop_free(loop);
}

static int got_signo;

static void on_sig(struct event_loop *loop, int signo, void *ctx)
{
    (void)ctx;
    got_signo = signo;
    event_loop_stop(loop);
}

static void fire(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    kill(getpid(), SIGUSR1);
}

static void test_signal(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    got_signo = 0;
    assert_int_equal(event_watch_signal(loop, SIGUSR1, on_sig, NULL), 0);
    event_timer_add(loop, 10, 0, fire, NULL);
    long t0 = now_ms();
    event_loop_run(loop);
    assert_int_equal(got_signo, SIGUSR1);
    assert_true(now_ms() - t0 < 1000);
    event_unwatch_signal(loop, SIGUSR1);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    assert_true(sa.sa_handler == SIG_DFL);
    assert_int_equal(event_watch_signal(loop, 0, on_sig, NULL), -1);
    event_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order), cmocka_unit_test(test_repeating_timer),
        cmocka_unit_test(test_fd_watch),    cmocka_unit_test(test_write_then_modify),
        cmocka_unit_test(test_signal),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    str_release(&trace);
    return rc;
}
