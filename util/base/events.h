/* events: a single-threaded event loop (epoll) for the master daemon and multi-client servers:
 * fd readiness callbacks, one-shot and repeating millisecond timers, and signals delivered
 * through a self-pipe so their handlers run in normal context, not in the signal handler.
 * Callbacks may add or remove watches and timers (including their own) at any time. */
#ifndef KESTREL_BASE_EVENTS_H
#define KESTREL_BASE_EVENTS_H

enum {
    EVENT_READ = 1,
    EVENT_WRITE = 2,
    EVENT_ERROR = 4, /* reported (never requested): hang-up or error on the fd */
};

struct event_loop;

typedef void (*event_fd_fn)(struct event_loop *loop, int fd, int events, void *ctx);
typedef void (*event_timer_fn)(struct event_loop *loop, void *ctx);
typedef void (*event_signal_fn)(struct event_loop *loop, int signo, void *ctx);

struct event_loop *event_loop_new(void);
/* Removes the loop's signal handlers (restoring the previous ones) and frees it. */
void event_loop_free(struct event_loop *loop);

/* Watch fd for EVENT_READ and/or EVENT_WRITE; replaces an existing watch of the same fd.
 * Returns 0, or -1 with errno set. */
int event_watch_fd(struct event_loop *loop, int fd, int events, event_fd_fn fn, void *ctx);
/* Stop watching fd (before closing it). Harmless when not watched. */
void event_unwatch_fd(struct event_loop *loop, int fd);

/* Run fn after delay_ms, then every repeat_ms when repeat_ms > 0. Returns an id (never 0).
 * Timers that fall due at the same time run in the order they were added. */
unsigned long event_timer_add(struct event_loop *loop, long delay_ms, long repeat_ms,
                              event_timer_fn fn, void *ctx);
/* Returns 1 when the timer existed. */
int event_timer_cancel(struct event_loop *loop, unsigned long id);

/* Deliver signo into the loop: fn runs from event_loop_run_once() after the signal arrives
 * (several deliveries between two passes may be merged into fewer calls). Only one loop per
 * process should watch signals. Returns 0 or -1 with errno set. */
int event_watch_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *ctx);
void event_unwatch_signal(struct event_loop *loop, int signo);

/* Wait up to max_wait_ms (-1: until something happens) and dispatch what is ready. Returns the
 * number of callbacks run, or -1 on an epoll error. */
int event_loop_run_once(struct event_loop *loop, long max_wait_ms);
/* Dispatch until event_loop_stop() is called (from a callback). */
void event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
