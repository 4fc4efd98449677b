/* clock: monotonic milliseconds and deadline arithmetic shared by streams, the event loop,
 * network connects, locks and command execution. A deadline is an absolute CLOCK_MONOTONIC
 * time in milliseconds, or -1 for "none". */
#ifndef KESTREL_BASE_CLOCK_H
#define KESTREL_BASE_CLOCK_H

/* Current CLOCK_MONOTONIC time in milliseconds. */
long now_ms(void);
/* The earlier of two deadlines (-1 means none). */
long deadline_min(long a, long b);
/* Deadline `ms` milliseconds from now; ms < 0 gives -1 (none). */
long deadline_after_ms(long ms);
/* A poll(2) timeout for the deadline: -1 (wait forever), 0 when already passed, else the rest
 * (clamped to INT_MAX). */
int deadline_poll_ms(long deadline);
/* Nonzero when the deadline is set and has passed. */
int deadline_expired(long deadline);

#endif
