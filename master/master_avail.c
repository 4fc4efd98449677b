/* master_avail: process availability. Children report busy/idle on their service's status
 * pipe; while a service has no idle child (and is below its process limit and not throttled)
 * master itself watches the listeners and spawns a child when a client arrives. */
#include "master.h"

#include "base/log.h"
#include "service/master_status.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define STATUS_LINE_MAX 64

static void on_listener(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)fd;
    (void)events;
    struct master_service *s = ctx;
    s->used = 1;
    master_spawn(loop, s);
}

void master_avail_update(struct event_loop *loop, struct master_service *s)
{
    int want = !s->removed && !s->throttled && s->avail == 0 && s->nlisten > 0 &&
               (s->max_proc == 0 || s->total < s->max_proc);
    if (want == s->watching)
        return;
    for (int i = 0; i < s->nlisten; i++) {
        if (want)
            event_watch_fd(loop, s->listen_fds[i], EVENT_READ, on_listener, s);
        else
            event_unwatch_fd(loop, s->listen_fds[i]);
    }
    s->watching = want;
}

static void apply_status(struct master_service *s, pid_t pid, int status)
{
    struct master_proc *p = master_proc_find(pid);
    if (p == NULL || p->service != s) {
        msg_warn("service %s: status from unknown process %ld", s->name, (long)pid);
        return;
    }
    if (status == MASTER_STATUS_BUSY && p->avail) {
        p->avail = 0;
        p->use_count++;
        s->avail--;
        s->used = 1;
    } else if (status == MASTER_STATUS_IDLE && !p->avail) {
        p->avail = 1;
        s->avail++;
    }
}

/* Parses every complete line in the buffer; a line that is too long or malformed is dropped. */
static void parse_status_lines(struct master_service *s)
{
    char *nl;
    while ((nl = memchr(s->status_buf.data, '\n', s->status_buf.len)) != NULL) {
        size_t len = (size_t)(nl - s->status_buf.data);
        pid_t pid;
        int status;
        if (master_status_parse(s->status_buf.data, len, &pid, &status) == 0)
            apply_status(s, pid, status);
        else
            msg_warn("service %s: malformed status message", s->name);
        size_t rest = s->status_buf.len - len - 1;
        memmove(s->status_buf.data, nl + 1, rest);
        str_truncate(&s->status_buf, rest);
    }
    if (s->status_buf.len > STATUS_LINE_MAX)
        str_clear(&s->status_buf);
}

static void on_status(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)events;
    struct master_service *s = ctx;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return;
    str_appendn(&s->status_buf, buf, (size_t)n);
    parse_status_lines(s);
    master_avail_update(loop, s);
}

void master_status_watch(struct event_loop *loop, struct master_service *s)
{
    if (pipe2(s->status_fd, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    event_watch_fd(loop, s->status_fd[0], EVENT_READ, on_status, s);
}

void master_status_unwatch(struct event_loop *loop, struct master_service *s)
{
    if (s->status_fd[0] < 0)
        return;
    event_unwatch_fd(loop, s->status_fd[0]);
    close(s->status_fd[0]);
    close(s->status_fd[1]);
    s->status_fd[0] = s->status_fd[1] = -1;
}
