/* backoff: when a deferred message is tried again, and when it has been queued too long.
 * The wait before the next attempt is the message's age, clamped to
 * [minimal_backoff_time, maximal_backoff_time]: the intervals double while the message ages. */
#include "qmgr.h"

long qmgr_backoff(double age, long min_backoff, long max_backoff)
{
    if (max_backoff < min_backoff)
        max_backoff = min_backoff;
    if (!(age > 0))
        age = 0;
    long delay = age > (double)max_backoff ? max_backoff : (long)age;
    return delay < min_backoff ? min_backoff : delay;
}

int qmgr_expired(double age, int null_sender, long max_lifetime, long bounce_lifetime)
{
    long limit = null_sender && bounce_lifetime < max_lifetime ? bounce_lifetime : max_lifetime;
    return age >= (double)limit;
}
