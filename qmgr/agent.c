/* agent: one delivery job as a non-blocking connection to private/<transport> in the event
 * loop: connect, read the agent's "protocol=delivery", write the request, read the reply.
 * A deadline covers the exchange (ipc_timeout until the request is written, daemon_timeout
 * for the reply). Any failure defers the job's recipients with qmgr's own log line. */
#include "qmgr.h"

#include "base/attr.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "mail/deliver_log.h"
#include "mail/queue_file.h"
#include "service/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { ST_GREETING, ST_REPLY, ST_FAILED };

static void job_close(struct qjob *job)
{
    struct event_loop *loop = server_event_loop();
    if (job->fd >= 0) {
        event_unwatch_fd(loop, job->fd);
        close(job->fd);
        job->fd = -1;
    }
    if (job->timer)
        event_timer_cancel(loop, job->timer);
    job->timer = 0;
}

/* Ends the job: reply NULL means every recipient is deferred with failure. */
static void job_end(struct qjob *job, const struct deliver_reply *reply, const char *failure)
{
    job_close(job);
    qmgr_job_result(job, reply, failure);
    qmgr_job_finished(job, reply != NULL);
}

static void fail_later(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct qjob *job = ctx;
    job->timer = 0;
    job_end(job, NULL, str_cstr(&job->out));
}

/* Defers the job from the event loop (never from inside the scheduler). */
static void fail_soon(struct qjob *job, const char *reason)
{
    job_close(job);
    job->state = ST_FAILED;
    str_set(&job->out, reason);
    job->timer = event_timer_add(server_event_loop(), 0, 0, fail_later, job);
}

static void expire(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct qjob *job = ctx;
    job->timer = 0;
    msg_warn("%s: timeout talking to transport private/%s", job->msg->id, job->dest->tr->name);
    job_end(job, NULL, "delivery temporarily suspended: timeout talking to the delivery agent");
}

/* Takes one complete attribute list off the front of buf: 1, 0 (need more), -1 (bad). */
static int take_list(struct str *buf, struct attr_list *a, struct str *err)
{
    struct str name = STR_INIT, value = STR_INIT;
    size_t pos = 0;
    int rc = 0;
    attr_list_clear(a);
    while (rc == 0) {
        const char *nl = memchr(buf->data + pos, '\n', buf->len - pos);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (buf->data + pos));
        if (n == 0) {
            rc = 1;
        } else if (a->names->n >= deliver_attr_limits.max_attrs ||
                   attr_decode_line(buf->data + pos, n, &name, &value, err) < 0) {
            if (err->len == 0)
                str_set(err, "too many attributes");
            rc = -1;
        } else {
            attr_addn(a, name.data, value.data, value.len);
        }
        pos += n + 1;
    }
    if (rc == 1) {
        memmove(buf->data, buf->data + pos, buf->len - pos);
        str_truncate(buf, buf->len - pos);
    }
    str_release(&name);
    str_release(&value);
    return rc;
}

static void build_request(struct qjob *job)
{
    struct qmsg *m = job->msg;
    struct deliver_request rq;
    deliver_request_init(&rq);
    static const char *const copied[] = {"dsn_envid",      "dsn_ret",      "client_name",
                                         "client_address", "client_helo",  "client_protocol",
                                         "sasl_method",    "sasl_username"};
    char **fields[] = {&rq.dsn_envid,   &rq.dsn_ret,         &rq.client_name, &rq.client_address,
                       &rq.client_helo, &rq.client_protocol, &rq.sasl_method, &rq.sasl_username};
    deliver_request_set(&rq.queue_name, "active");
    deliver_request_set(&rq.queue_id, m->id);
    deliver_request_set(&rq.sender, m->env.sender);
    deliver_request_set(&rq.nexthop, job->dest->nexthop);
    deliver_request_set(&rq.transport, job->dest->tr->name);
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        deliver_request_set(fields[i], queue_envelope_attr(&m->env, copied[i]));
    rq.arrival_time = m->arrival;
    rq.queue_delay = m->queue_delay;
    rq.active_time = job->started - m->active_since;
    for (size_t k = 0; k < job->n; k++) {
        const struct queue_rcpt *r = &m->env.rcpts[job->idx[k]];
        deliver_request_add_rcpt(&rq, job->address[k], r->orig ? r->orig : r->address, r->orcpt,
                                 r->notify, (long)r->offset);
    }
    struct attr_list *a = attr_list_new();
    deliver_request_encode(&rq, a);
    str_clear(&job->out);
    attr_encode(a, &job->out);
    job->out_done = 0;
    attr_list_free(a);
    deliver_request_release(&rq);
}

static void on_io(struct event_loop *loop, int fd, int events, void *ctx);

static void handle_list(struct qjob *job, struct attr_list *a)
{
    struct str err = STR_INIT;
    if (job->state == ST_GREETING) {
        const char *p = attr_get(a, "protocol");
        if (p == NULL || strcmp(p, DELIVER_PROTOCOL) != 0) {
            msg_warn("transport private/%s: unexpected protocol", job->dest->tr->name);
            job_end(job, NULL, "delivery temporarily suspended: protocol error");
        } else {
            job->state = ST_REPLY;
            build_request(job);
            event_watch_fd(server_event_loop(), job->fd, EVENT_READ | EVENT_WRITE, on_io, job);
        }
    } else {
        struct deliver_reply rp;
        if (deliver_reply_decode(a, job->n, &rp, &err) < 0) {
            msg_warn("transport private/%s: %s", job->dest->tr->name, err.data);
            deliver_reply_release(&rp);
            job_end(job, NULL, "unknown mail transport error");
        } else {
            job_end(job, &rp, NULL);
            deliver_reply_release(&rp);
        }
    }
    str_release(&err);
}

/* Returns 0 to keep going, -1 when the job ended. */
static int do_read(struct qjob *job)
{
    char buf[8192];
    ssize_t n = read(job->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        job_end(job, NULL, "unknown mail transport error");
        return -1;
    }
    str_appendn(&job->in, buf, (size_t)n);
    if (job->in.len > QMGR_REPLY_LIMIT) {
        job_end(job, NULL, "unknown mail transport error");
        return -1;
    }
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT;
    int rc = take_list(&job->in, a, &err);
    if (rc < 0)
        job_end(job, NULL, "unknown mail transport error");
    else if (rc > 0)
        handle_list(job, a);
    attr_list_free(a);
    str_release(&err);
    return rc == 0 ? 0 : -1;
}

static void on_io(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)fd;
    struct qjob *job = ctx;
    if ((events & EVENT_WRITE) && job->out_done < job->out.len) {
        ssize_t n = write(job->fd, job->out.data + job->out_done, job->out.len - job->out_done);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            job_end(job, NULL, "unknown mail transport error");
            return;
        }
        if (n > 0)
            job->out_done += (size_t)n;
        if (job->out_done == job->out.len) {
            event_watch_fd(loop, job->fd, EVENT_READ, on_io, job);
            event_timer_cancel(loop, job->timer);
            job->timer = event_timer_add(loop, qmgr_cfg.agent_timeout * 1000, 0, expire, job);
        }
    }
    if (events & (EVENT_READ | EVENT_ERROR))
        do_read(job);
}

int qmgr_agent_start(struct qjob *job)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct str path = STR_INIT, why = STR_INIT;
    str_setf(&path, "private/%s", job->dest->tr->name);
    job->started = deliver_log_now();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (path.len >= sizeof(sun.sun_path)) {
        str_setf(&why, "delivery temporarily suspended: transport name too long");
        rc = -1;
    } else {
        memcpy(sun.sun_path, path.data, path.len + 1);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            if (errno == EAGAIN || errno == EINPROGRESS)
                rc = 1;
            else
                str_setf(&why, "delivery temporarily suspended: connect to transport %s: %s",
                         path.data, strerror(errno)),
                    rc = -1;
        }
    }
    if (rc != 0 && fd >= 0)
        close(fd);
    if (rc < 0) {
        fail_soon(job, why.data);
    } else if (rc == 0) {
        job->fd = fd;
        job->state = ST_GREETING;
        struct event_loop *loop = server_event_loop();
        event_watch_fd(loop, fd, EVENT_READ, on_io, job);
        job->timer = event_timer_add(loop, qmgr_cfg.ipc_timeout * 1000, 0, expire, job);
    }
    str_release(&path);
    str_release(&why);
    return rc > 0 ? 1 : 0;
}
