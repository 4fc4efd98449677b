/* transport: per-transport and per-destination job queues and the scheduler. A transport's
 * concurrent jobs are limited by its master.cf process limit (or default_process_limit), a
 * destination's by a window that starts at initial_destination_concurrency and grows by one
 * per successful job up to <transport>_destination_concurrency_limit (shrinking by one, not
 * below one, when an agent fails). */
#include "qmgr.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/mastercf.h"
#include "service/server.h"

#include <stdlib.h>
#include <string.h>

static struct qtransport *transports;
static struct qdest *dests;
static struct mastercf *mcf;
static size_t ntransports;
static unsigned long retry_timer;

void qmgr_transport_init(void)
{
    struct str path = STR_INIT, err = STR_INIT;
    str_setf(&path, "%s/master.cf", config_directory());
    mcf = mastercf_read(path.data, &err);
    if (mcf == NULL)
        msg_warn("%s", err.data);
    str_release(&path);
    str_release(&err);
}

/* <transport>_<suffix>, else default_<suffix>, else def. */
static long per_transport(const char *transport, const char *suffix, const char *default_name,
                          long def)
{
    struct str name = STR_INIT;
    str_setf(&name, "%s_%s", transport, suffix);
    long v = def;
    if (config_get(name.data) && *config_get(name.data))
        v = config_get_int(name.data);
    else if (config_get(default_name))
        v = config_get_int(default_name);
    str_release(&name);
    return v;
}

static struct qtransport *transport_find(const char *name)
{
    for (struct qtransport *t = transports; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    struct qtransport *t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    const struct mastercf_entry *e = mcf ? mastercf_find(mcf, name, "unix") : NULL;
    long limit = e ? e->process_limit : -1;
    if (limit < 0)
        limit = config_get_int("default_process_limit");
    t->proc_limit = limit <= 0 ? 1000 : (int)limit;
    t->dest_limit = (int)per_transport(name, "destination_concurrency_limit",
                                       "default_destination_concurrency_limit", 20);
    if (t->dest_limit <= 0)
        t->dest_limit = t->proc_limit;
    t->rcpt_limit = (int)per_transport(name, "destination_recipient_limit",
                                       "default_destination_recipient_limit", 50);
    if (t->rcpt_limit <= 0 || t->rcpt_limit > DELIVER_MAX_RCPTS)
        t->rcpt_limit = DELIVER_MAX_RCPTS;
    if (ntransports++ < QMGR_MAX_TRANSPORTS) {
        t->next = transports;
        transports = t;
    }
    return t;
}

struct qdest *qmgr_dest_find(const char *transport, const char *nexthop)
{
    struct qtransport *t = transport_find(transport);
    for (struct qdest *d = dests; d; d = d->next)
        if (d->tr == t && strcmp(d->nexthop, nexthop) == 0)
            return d;
    struct qdest *d = xcalloc(1, sizeof(*d));
    d->tr = t;
    d->nexthop = xstrdup(nexthop);
    d->window =
        qmgr_cfg.initial_concurrency < t->dest_limit ? qmgr_cfg.initial_concurrency : t->dest_limit;
    d->next = dests;
    dests = d;
    return d;
}

void qmgr_job_enqueue(struct qjob *job)
{
    struct qdest *d = job->dest;
    job->next = NULL;
    if (d->tail)
        d->tail->next = job;
    else
        d->head = job;
    d->tail = job;
}

static void push_front(struct qdest *d, struct qjob *job)
{
    job->next = d->head;
    d->head = job;
    if (d->tail == NULL)
        d->tail = job;
}

void qmgr_job_free(struct qjob *job)
{
    for (size_t i = 0; i < job->n; i++)
        free(job->address[i]);
    free(job->address);
    free(job->idx);
    str_release(&job->in);
    str_release(&job->out);
    free(job);
}

static void retry_later(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    retry_timer = 0;
    qmgr_dispatch();
}

/* Starts what the limits allow; returns 1 when an agent was busy (retry soon). */
static int dispatch_dest(struct qdest *d)
{
    while (d->head && d->active < d->window && d->tr->active < d->tr->proc_limit) {
        struct qjob *job = d->head;
        d->head = job->next;
        if (d->head == NULL)
            d->tail = NULL;
        d->active++;
        d->tr->active++;
        int rc = qmgr_agent_start(job);
        if (rc > 0) {
            d->active--;
            d->tr->active--;
            push_front(d, job);
            return 1;
        }
    }
    return 0;
}

/* Forgets idle destinations so the list does not grow without bound. */
static void prune(void)
{
    for (struct qdest **p = &dests; *p;) {
        struct qdest *d = *p;
        if (d->active == 0 && d->head == NULL) {
            *p = d->next;
            free(d->nexthop);
            free(d);
        } else {
            p = &d->next;
        }
    }
}

void qmgr_dispatch(void)
{
    int busy = 0;
    for (struct qdest *d = dests; d; d = d->next)
        busy |= dispatch_dest(d);
    prune();
    if (busy && retry_timer == 0)
        retry_timer = event_timer_add(server_event_loop(), 1000, 0, retry_later, NULL);
}

void qmgr_job_finished(struct qjob *job, int agent_ok)
{
    struct qdest *d = job->dest;
    struct qmsg *m = job->msg;
    d->active--;
    d->tr->active--;
    if (agent_ok && d->window < d->tr->dest_limit)
        d->window++;
    else if (!agent_ok && d->window > 1)
        d->window--;
    qmgr_job_free(job);
    qmgr_message_check_done(m);
    qmgr_dispatch();
}
