/* master_wakeup: periodic wake-up requests ("W") to fifo and unix services that ask for them in
 * the wakeup column (qmgr, pickup); a trailing '?' sends them only if the service was used. */
#include "master.h"

#include "base/log.h"
#include "base/net.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define WAKEUP_CONNECT_MS 1000

static void send_wakeup(const struct master_service *s)
{
    int fd;
    struct str why = STR_INIT;
    if (strcmp(s->type, "fifo") == 0)
        fd = open(s->endpoint, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    else
        fd = net_connect_unix(s->endpoint, WAKEUP_CONNECT_MS, &why);
    if (fd < 0) {
        if (msg_verbose)
            msg_info("wakeup %s: %s", s->endpoint, why.len ? str_cstr(&why) : strerror(errno));
        str_release(&why);
        return;
    }
    if (write(fd, "W", 1) != 1 && msg_verbose)
        msg_info("wakeup %s: %s", s->endpoint, strerror(errno));
    close(fd);
    str_release(&why);
}

static void on_wakeup(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct master_service *s = ctx;
    if (s->wakeup_if_used && !s->used)
        return;
    s->used = 0;
    send_wakeup(s);
}

void master_wakeup_start(struct event_loop *loop, struct master_service *s)
{
    if (s->wakeup <= 0 || s->endpoint == NULL)
        return;
    long period = s->wakeup * 1000L;
    /* The first wake-up comes at once, so qmgr and pickup run from the start. */
    s->wakeup_timer = event_timer_add(loop, s->wakeup_if_used ? period : 0, period, on_wakeup, s);
}

void master_wakeup_stop(struct event_loop *loop, struct master_service *s)
{
    if (s->wakeup_timer)
        event_timer_cancel(loop, s->wakeup_timer);
    s->wakeup_timer = 0;
}
