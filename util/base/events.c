/* events: epoll-based dispatch of fd readiness, timers kept in an array scanned for the earliest
 * (the loop holds few timers), and a self-pipe that turns signals into ordinary read events. */
#include "base/events.h"

#include "base/clock.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct fd_watch {
    event_fd_fn fn;
    void *ctx;
    int events;
    uint32_t gen; /* bumped on every (un)watch so stale epoll results are ignored */
};

struct timer {
    unsigned long id;
    unsigned long seq; /* order among timers due at the same time */
    long when;
    long repeat;
    event_timer_fn fn;
    void *ctx;
};

struct sig_watch {
    event_signal_fn fn;
    void *ctx;
    struct sigaction old;
    int active;
    volatile sig_atomic_t pending;
};

struct event_loop {
    int epfd;
    int stop;
    struct fd_watch *fds;
    size_t nfds_cap;
    struct timer *timers;
    size_t ntimers, timers_cap;
    unsigned long next_id, next_seq;
    int sig_pipe[2];
    struct sig_watch sigs[NSIG];
};

static int sig_write_fd = -1;

struct event_loop *event_loop_new(void)
{
    struct event_loop *loop = xcalloc(1, sizeof(*loop));
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->sig_pipe[0] = loop->sig_pipe[1] = -1;
    return loop;
}

void event_loop_free(struct event_loop *loop)
{
    if (loop == NULL)
        return;
    for (int i = 1; i < NSIG; i++)
        event_unwatch_signal(loop, i);
    if (loop->sig_pipe[0] >= 0) {
        if (sig_write_fd == loop->sig_pipe[1])
            sig_write_fd = -1;
        close(loop->sig_pipe[0]);
        close(loop->sig_pipe[1]);
    }
    close(loop->epfd);
    free(loop->fds);
    free(loop->timers);
    free(loop);
}

/* ---- fd watches -------------------------------------------------------------------------- */

int event_watch_fd(struct event_loop *loop, int fd, int events, event_fd_fn fn, void *ctx)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->nfds_cap) {
        size_t old = loop->nfds_cap;
        loop->fds = xgrow(loop->fds, &loop->nfds_cap, (size_t)fd + 1, sizeof(*loop->fds));
        memset(loop->fds + old, 0, (loop->nfds_cap - old) * sizeof(*loop->fds));
    }
    struct fd_watch *w = &loop->fds[fd];
    uint32_t gen = w->gen + 1;
    struct epoll_event ev = {0};
    ev.events = ((events & EVENT_READ) ? EPOLLIN : 0) | ((events & EVENT_WRITE) ? EPOLLOUT : 0);
    ev.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
    /* The table may be stale when an fd was closed without unwatching: fall back. */
    int op = w->fn ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0) {
        if (errno != ENOENT && errno != EEXIST)
            return -1;
        op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
            return -1;
    }
    w->fn = fn;
    w->ctx = ctx;
    w->events = events;
    w->gen = gen;
    return 0;
}

void event_unwatch_fd(struct event_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nfds_cap || loop->fds[fd].fn == NULL)
        return;
    (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->fds[fd].fn = NULL;
    loop->fds[fd].ctx = NULL;
    loop->fds[fd].gen++;
}

static int dispatch_fd(struct event_loop *loop, const struct epoll_event *ev)
{
    int fd = (int)(uint32_t)ev->data.u64;
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if ((size_t)fd >= loop->nfds_cap)
        return 0;
    struct fd_watch *w = &loop->fds[fd];
    if (w->fn == NULL || w->gen != gen)
        return 0;
    int events = 0;
    if (ev->events & EPOLLIN)
        events |= EVENT_READ;
    if (ev->events & EPOLLOUT)
        events |= EVENT_WRITE;
    if (ev->events & (EPOLLERR | EPOLLHUP))
        events |= EVENT_ERROR | (w->events & EVENT_READ);
    w->fn(loop, fd, events, w->ctx);
    return 1;
}

/* ---- timers ------------------------------------------------------------------------------ */

unsigned long event_timer_add(struct event_loop *loop, long delay_ms, long repeat_ms,
                              event_timer_fn fn, void *ctx)
{
    loop->timers = xgrow(loop->timers, &loop->timers_cap, loop->ntimers + 1, sizeof(struct timer));
    struct timer *t = &loop->timers[loop->ntimers++];
    t->id = ++loop->next_id;
    t->seq = loop->next_seq++;
    t->when = now_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->repeat = repeat_ms > 0 ? repeat_ms : 0;
    t->fn = fn;
    t->ctx = ctx;
    return t->id;
}

int event_timer_cancel(struct event_loop *loop, unsigned long id)
{
    for (size_t i = 0; i < loop->ntimers; i++) {
        if (loop->timers[i].id == id) {
            loop->timers[i] = loop->timers[--loop->ntimers];
            return 1;
        }
    }
    return 0;
}

/* Index of the earliest timer due at `now` and older than `seq_limit`, or -1. */
static long earliest_due(const struct event_loop *loop, long now, unsigned long seq_limit)
{
    long best = -1;
    for (size_t i = 0; i < loop->ntimers; i++) {
        const struct timer *t = &loop->timers[i];
        if (t->when > now || t->seq >= seq_limit)
            continue;
        const struct timer *b = best < 0 ? NULL : &loop->timers[best];
        if (b == NULL || t->when < b->when || (t->when == b->when && t->seq < b->seq))
            best = (long)i;
    }
    return best;
}

static int run_timers(struct event_loop *loop)
{
    long now = now_ms();
    unsigned long seq_limit = loop->next_seq; /* timers added while running wait a pass */
    int ran = 0;
    long i;
    while (!loop->stop && (i = earliest_due(loop, now, seq_limit)) >= 0) {
        struct timer t = loop->timers[i];
        if (t.repeat > 0) {
            loop->timers[i].when = t.when + t.repeat > now ? t.when + t.repeat : now + t.repeat;
            loop->timers[i].seq = loop->next_seq++;
        } else {
            loop->timers[i] = loop->timers[--loop->ntimers];
        }
        t.fn(loop, t.ctx);
        ran++;
    }
    return ran;
}

static long next_timer_wait(const struct event_loop *loop)
{
    long wait = -1, now = now_ms();
    for (size_t i = 0; i < loop->ntimers; i++) {
        long left = loop->timers[i].when - now;
        if (left < 0)
            left = 0;
        if (wait < 0 || left < wait)
            wait = left;
    }
    return wait;
}

/* ---- signals ----------------------------------------------------------------------------- */

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (sig_write_fd >= 0)
        (void)!write(sig_write_fd, &b, 1);
    errno = saved;
}

static int drain_signals(struct event_loop *loop)
{
    unsigned char buf[256];
    ssize_t n;
    while ((n = read(loop->sig_pipe[0], buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] < NSIG)
                loop->sigs[buf[i]].pending = 1;
    int ran = 0;
    for (int s = 1; s < NSIG; s++) {
        struct sig_watch *w = &loop->sigs[s];
        if (w->pending && w->active) {
            w->pending = 0;
            w->fn(loop, s, w->ctx);
            ran++;
        }
    }
    return ran;
}

static int open_sig_pipe(struct event_loop *loop)
{
    if (loop->sig_pipe[0] >= 0)
        return 0;
    if (pipe2(loop->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->sig_pipe[0], &ev) < 0) {
        close(loop->sig_pipe[0]);
        close(loop->sig_pipe[1]);
        loop->sig_pipe[0] = loop->sig_pipe[1] = -1;
        return -1;
    }
    sig_write_fd = loop->sig_pipe[1];
    return 0;
}

int event_watch_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *ctx)
{
    if (signo <= 0 || signo >= NSIG || signo > 255) {
        errno = EINVAL;
        return -1;
    }
    if (open_sig_pipe(loop) < 0)
        return -1;
    struct sig_watch *w = &loop->sigs[signo];
    w->fn = fn;
    w->ctx = ctx;
    if (w->active)
        return 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, &w->old) < 0)
        return -1;
    w->active = 1;
    return 0;
}

void event_unwatch_signal(struct event_loop *loop, int signo)
{
    if (signo <= 0 || signo >= NSIG || !loop->sigs[signo].active)
        return;
    sigaction(signo, &loop->sigs[signo].old, NULL);
    loop->sigs[signo].active = 0;
    loop->sigs[signo].pending = 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

int event_loop_run_once(struct event_loop *loop, long max_wait_ms)
{
    loop->stop = 0;
    long wait = deadline_min(max_wait_ms < 0 ? -1 : max_wait_ms, next_timer_wait(loop));
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, wait > INT32_MAX ? INT32_MAX : (int)wait);
    if (n < 0 && errno != EINTR)
        return -1;
    int ran = 0;
    for (int i = 0; i < n && !loop->stop; i++) {
        if (evs[i].data.u64 == UINT64_MAX)
            ran += drain_signals(loop);
        else
            ran += dispatch_fd(loop, &evs[i]);
    }
    if (!loop->stop)
        ran += run_timers(loop);
    return ran;
}

void event_loop_run(struct event_loop *loop)
{
    loop->stop = 0;
    while (!loop->stop)
        if (event_loop_run_once(loop, -1) < 0)
            break;
    loop->stop = 0;
}

void event_loop_stop(struct event_loop *loop)
{
    loop->stop = 1;
}
