/* clock: monotonic time in milliseconds and helpers that turn deadlines into poll timeouts. */
#include "base/clock.h"

#include <limits.h>
#include <time.h>

long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

long deadline_min(long a, long b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

long deadline_after_ms(long ms)
{
    return ms < 0 ? -1 : now_ms() + ms;
}

int deadline_poll_ms(long deadline)
{
    if (deadline < 0)
        return -1;
    long left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

int deadline_expired(long deadline)
{
    return deadline >= 0 && now_ms() >= deadline;
}
