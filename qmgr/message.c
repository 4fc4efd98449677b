/* message: one message in active/: loading and validating it, resolving its pending
 * recipients into jobs, recording the agents' results (mark done, bounce and defer logs) and
 * finishing it (bounce notice, removal, or back to deferred/ with back-off). */
#include "qmgr.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/bounce_log.h"
#include "mail/deliver_log.h"
#include "mail/queue_id.h"
#include "mail/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static struct resolve_ctx *resolver;

static const char *hash_names(void)
{
    return qmgr_cfg.hash_names;
}

static void message_free(struct qmsg *m)
{
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        str_release(&m->rcpt[i].dsn);
        str_release(&m->rcpt[i].reason);
    }
    free(m->rcpt);
    queue_envelope_release(&m->env);
    if (m->fd >= 0)
        close(m->fd);
    free(m->id);
    free(m);
    qmgr_active_count--;
}

/* Logs and records a deferral that qmgr itself decides (resolver failure, dead agent). */
static void defer_rcpt(struct qmsg *m, size_t i, const char *address, const char *dsn,
                       const char *reason, const char *relay)
{
    struct queue_rcpt *r = &m->env.rcpts[i];
    struct deliver_log_info info = {
        m->id,      address, r->orig,    relay,          dsn,
        "deferred", reason,  m->arrival, m->queue_delay, deliver_log_now() - m->active_since,
        0};
    deliver_log(&info);
    m->rcpt[i].state = QR_DEFERRED;
    str_set(&m->rcpt[i].dsn, dsn);
    str_set(&m->rcpt[i].reason, reason);
    m->deferred = 1;
    struct bounce_entry e = {r->address,     r->orig,       r->orcpt,
                             r->notify,      (char *)dsn,   "delayed",
                             (char *)reason, (char *)relay, (long)deliver_log_now()};
    struct str err = STR_INIT;
    if (bounce_log_append("defer", m->id, &e, hash_names(), qmgr_cfg.layout.hash_queue_depth,
                          &err) < 0)
        msg_warn("%s: %s", m->id, err.data);
    str_release(&err);
}

static int to_corrupt(const char *queue, const char *id, const char *why)
{
    msg_warn("saving corrupt file \"%s\" from queue \"%s\": %s", id, queue, why);
    qmgr_move_file(id, queue, "corrupt");
    return -1;
}

/* Opens, validates and moves the file to active/. */
static struct qmsg *load(const char *path, const char *queue, const char *id)
{
    struct str err = STR_INIT;
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct qmsg *m = xcalloc(1, sizeof(*m));
    m->fd = fd;
    m->id = xstrdup(id);
    qmgr_active_count++;
    if (queue_file_read_envelope(fd, QMGR_RECORD_LIMIT, &m->env, &err) < 0) {
        to_corrupt(queue, id, err.data);
        str_release(&err);
        message_free(m);
        return NULL;
    }
    str_release(&err);
    qmgr_move_file(id, queue, "active");
    return m;
}

static const char *env_attr(const struct qmsg *m, const char *name)
{
    const char *v = queue_envelope_attr(&m->env, name);
    return v ? v : "";
}

/* Finds or starts the open job of this message for (transport, nexthop). */
static struct qjob *job_for(struct qjob **jobs, size_t *njobs, struct qmsg *m,
                            const char *transport, const char *nexthop)
{
    struct qdest *d = qmgr_dest_find(transport, nexthop);
    for (size_t i = 0; i < *njobs; i++)
        if (jobs[i]->dest == d && jobs[i]->n < (size_t)d->tr->rcpt_limit)
            return jobs[i];
    struct qjob *j = xcalloc(1, sizeof(*j));
    j->msg = m;
    j->dest = d;
    j->fd = -1;
    jobs[(*njobs)++] = j;
    return j;
}

static void job_add(struct qjob *j, size_t idx, const char *address)
{
    if (j->n == j->cap) {
        size_t cap = j->cap;
        j->idx = xgrow(j->idx, &cap, j->n + 1, sizeof(*j->idx));
        j->address = xgrow(j->address, &j->cap, j->n + 1, sizeof(*j->address));
    }
    j->idx[j->n] = idx;
    j->address[j->n++] = xstrdup(address);
}

/* Resolves every pending recipient and queues the jobs. */
static void plan(struct qmsg *m)
{
    const char *redirect = env_attr(m, "redirect"), *filter = env_attr(m, "filter");
    struct qjob **jobs = xcalloc(m->env.nrcpt + 1, sizeof(*jobs));
    size_t njobs = 0;
    struct resolve_reply rr;
    struct str err = STR_INIT, ft = STR_INIT, fn = STR_INIT;
    resolve_split_transport(filter, &ft, &fn);
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        if (m->env.rcpts[i].done)
            continue;
        const char *addr = *redirect ? redirect : m->env.rcpts[i].address;
        resolve_reply_init(&rr);
        if (resolve_recipient(resolver, addr, &rr, &err) < 0) {
            defer_rcpt(m, i, addr, "4.3.0", err.data, "none");
        } else {
            if (ft.len)
                str_set(&rr.transport, ft.data);
            if (ft.len && fn.len)
                str_set(&rr.nexthop, fn.data);
            struct qjob *j = job_for(jobs, &njobs, m, rr.transport.data, str_cstr(&rr.nexthop));
            job_add(j, i, rr.recipient.data);
            m->rcpt[i].state = QR_QUEUED;
        }
        resolve_reply_release(&rr);
    }
    m->jobs_pending = njobs;
    for (size_t i = 0; i < njobs; i++)
        qmgr_job_enqueue(jobs[i]);
    free(jobs);
    str_release(&err);
    str_release(&ft);
    str_release(&fn);
}

void qmgr_message_open(const char *path, const char *queue, const char *id)
{
    struct qmsg *m = load(path, queue, id);
    if (m == NULL)
        return;
    if (resolver == NULL)
        resolver = resolve_open();
    m->rcpt = xcalloc(m->env.nrcpt + 1, sizeof(*m->rcpt));
    m->arrival = (double)m->env.arrival_sec + m->env.arrival_usec / 1e6;
    m->active_since = deliver_log_now();
    m->queue_delay = m->active_since - m->arrival;
    if (m->queue_delay < 0)
        m->queue_delay = 0;
    bounce_log_remove("defer", id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
    msg_info("%s: from=<%s>, size=%ld, nrcpt=%zu (queue active)", id, m->env.sender,
             m->env.content_bytes, m->env.nrcpt);
    plan(m);
    qmgr_message_check_done(m);
}

/* Records one recipient's outcome reported by an agent. */
static void rcpt_result(struct qmsg *m, size_t i, const struct deliver_result *res)
{
    struct queue_rcpt *r = &m->env.rcpts[i];
    struct str err = STR_INIT;
    if (res->status == DELIVER_BOUNCED) {
        struct bounce_entry e = {r->address,  r->orig,    r->orcpt,
                                 r->notify,   res->dsn,   "failed",
                                 res->reason, res->relay, (long)deliver_log_now()};
        if (bounce_log_append("bounce", m->id, &e, hash_names(), qmgr_cfg.layout.hash_queue_depth,
                              &err) < 0) {
            msg_warn("%s: %s", m->id, err.data);
            m->rcpt[i].state = QR_DEFERRED; /* try again later rather than lose the bounce */
            m->deferred = 1;
            str_set(&m->rcpt[i].dsn, "4.3.0");
            str_set(&m->rcpt[i].reason, "cannot record the bounce");
            str_release(&err);
            return;
        }
        m->bounced = 1;
    }
    if (res->status == DELIVER_SENT || res->status == DELIVER_BOUNCED) {
        if (queue_file_mark_done(m->fd, r) < 0)
            msg_warn("%s: cannot mark recipient done: %s", m->id, strerror(errno));
        r->done = 1;
        m->rcpt[i].state = QR_DONE;
    } else {
        struct bounce_entry e = {r->address,  r->orig,    r->orcpt,
                                 r->notify,   res->dsn,   "delayed",
                                 res->reason, res->relay, (long)deliver_log_now()};
        if (bounce_log_append("defer", m->id, &e, hash_names(), qmgr_cfg.layout.hash_queue_depth,
                              &err) < 0)
            msg_warn("%s: %s", m->id, err.data);
        m->rcpt[i].state = QR_DEFERRED;
        str_set(&m->rcpt[i].dsn, res->dsn);
        str_set(&m->rcpt[i].reason, res->reason);
        m->deferred = 1;
    }
    str_release(&err);
}

void qmgr_job_result(struct qjob *job, const struct deliver_reply *reply, const char *failure)
{
    struct qmsg *m = job->msg;
    for (size_t k = 0; k < job->n; k++) {
        size_t i = job->idx[k];
        if (reply)
            rcpt_result(m, i, &reply->v[k]);
        else
            defer_rcpt(m, i, job->address[k], "4.3.0", failure, "none");
    }
    m->jobs_pending--;
}

/* Deferred recipients of an expired message are bounced with their last deferral reason. */
static void expire(struct qmsg *m)
{
    msg_info("%s: from=<%s>, status=expired, returned to sender", m->id, m->env.sender);
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        if (m->rcpt[i].state != QR_DEFERRED)
            continue;
        struct deliver_result res = {DELIVER_BOUNCED, (char *)str_cstr(&m->rcpt[i].dsn),
                                     (char *)str_cstr(&m->rcpt[i].reason), "none"};
        rcpt_result(m, i, &res);
    }
    m->deferred = 0;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        if (m->rcpt[i].state == QR_DEFERRED)
            m->deferred = 1;
}

static int log_exists(const char *queue, const char *id)
{
    struct str path = STR_INIT;
    struct stat st;
    queue_path(&path, queue, id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
    int rc = stat(path.data, &st) == 0;
    str_release(&path);
    return rc;
}

/* Sends the non-delivery notice; -1 when the bounce service could not take it. */
static int send_bounces(struct qmsg *m)
{
    if (!log_exists("bounce", m->id))
        return 0;
    struct str why = STR_INIT;
    int rc = 0;
    if (*m->env.sender == 0 && !qmgr_notify_2bounce()) {
        msg_info("%s: bounce of a null-sender message discarded", m->id);
    } else if (qmgr_bounce_request("flush", m, &why) < 0) {
        msg_warn("%s: bounce service: %s", m->id, why.data);
        rc = -1;
    }
    if (rc == 0)
        bounce_log_remove("bounce", m->id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
    str_release(&why);
    return rc;
}

/* One delay warning when the W record's time has come; the record is then set to 0. */
static void maybe_warn(struct qmsg *m, double now)
{
    if (qmgr_cfg.delay_warning <= 0 || m->env.warn_offset == 0 || m->env.warn_time <= 0 ||
        now < (double)m->env.warn_time || *m->env.sender == 0)
        return;
    struct str why = STR_INIT;
    if (qmgr_bounce_request("warn", m, &why) < 0) {
        msg_warn("%s: delay warning: %s", m->id, why.data);
    } else {
        char buf[32];
        ssize_t n = pread(m->fd, buf, sizeof(buf), m->env.warn_offset);
        char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
        if (nl) {
            int width = (int)(nl - buf);
            snprintf(buf, sizeof(buf), "%*d", width, 0);
            if (pwrite(m->fd, buf, (size_t)width, m->env.warn_offset) != width || fsync(m->fd))
                msg_warn("%s: cannot update the warning record: %s", m->id, strerror(errno));
        }
    }
    str_release(&why);
}

static void to_deferred(struct qmsg *m, double now)
{
    long delay = qmgr_backoff(now - m->arrival, qmgr_cfg.min_backoff, qmgr_cfg.max_backoff);
    struct str path = STR_INIT;
    if (fsync(m->fd) < 0) /* the done marks of this attempt must survive it */
        msg_warn("%s: fsync: %s", m->id, strerror(errno));
    qmgr_move_file(m->id, "active", "deferred");
    queue_path(&path, "deferred", m->id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
    struct timeval tv[2] = {{(time_t)now, 0}, {(time_t)now + delay, 0}};
    if (utimes(path.data, tv) < 0)
        msg_warn("set next attempt time of %s: %s", path.data, strerror(errno));
    str_release(&path);
}

static void remove_message(struct qmsg *m)
{
    struct str path = STR_INIT;
    queue_path(&path, "active", m->id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
    if (unlink(path.data) < 0 && errno != ENOENT) {
        msg_warn("remove %s: %s", path.data, strerror(errno));
    } else {
        static const char *const logs[] = {"bounce", "defer", "trace"};
        for (int i = 0; i < 3; i++)
            bounce_log_remove(logs[i], m->id, hash_names(), qmgr_cfg.layout.hash_queue_depth);
        msg_info("%s: removed", m->id);
    }
    str_release(&path);
}

void qmgr_message_check_done(struct qmsg *m)
{
    if (m->jobs_pending > 0)
        return;
    double now = deliver_log_now();
    if (m->deferred && qmgr_expired(now - m->arrival, *m->env.sender == 0, qmgr_cfg.max_lifetime,
                                    qmgr_cfg.bounce_lifetime))
        expire(m);
    if (send_bounces(m) < 0)
        m->deferred = 1;
    if (m->deferred) {
        maybe_warn(m, now);
        to_deferred(m, now);
    } else {
        remove_message(m);
    }
    message_free(m);
}
