/* agent_request: decoding delivery requests strictly (every attribute declared, numbers and
 * names checked), the reply, the queue file opening, the per-recipient log line, and the
 * serve loop every delivery agent uses. */
#include "mail/agent_request.h"

#include "base/argv.h"
#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/agent_log.h"
#include "mail/queue_id.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_LIMIT (1L << 20)

/* The string attributes and where they go. */
#define F(name)                                                                                    \
    {                                                                                              \
#name, offsetof(struct agent_request, name)                                                \
    }
static const struct {
    const char *name;
    size_t off;
} str_fields[] = {
    F(queue_name),      F(queue_id),    F(sender),        F(nexthop),        F(transport),
    F(dsn_envid),       F(dsn_ret),     F(client_name),   F(client_address), F(client_helo),
    F(client_protocol), F(sasl_method), F(sasl_username),
};
#undef F
static const char *const time_fields[] = {"arrival_time", "queue_delay", "active_time"};
static const char *const required[] = {"queue_name", "queue_id", "sender", "rcpt_count", NULL};
static const char *const rcpt_fields[] = {"address", "orig", "orcpt", "notify", "offset"};
#define NSTR (sizeof(str_fields) / sizeof(str_fields[0]))

static int check_names(const struct attr_list *in, long n, struct str *err)
{
    struct argv *allowed = argv_new();
    struct str name = STR_INIT;
    for (size_t i = 0; i < NSTR; i++)
        argv_add(allowed, str_fields[i].name);
    for (size_t i = 0; i < 3; i++)
        argv_add(allowed, time_fields[i]);
    argv_add(allowed, "rcpt_count");
    for (long i = 0; i < n; i++)
        for (size_t j = 0; j < 5; j++) {
            str_setf(&name, "rcpt_%ld_%s", i, rcpt_fields[j]);
            argv_add(allowed, name.data);
        }
    int rc = attr_check(in, (const char *const *)allowed->v, required, err);
    argv_free(allowed);
    str_release(&name);
    return rc;
}

static int get_time(const struct attr_list *in, const char *name, double *out, struct str *err)
{
    const char *v = attr_get(in, name);
    char *end;
    *out = 0;
    if (v == NULL)
        return 0;
    double d = strtod(v, &end);
    if (*v == 0 || *end != 0 || !(d >= 0 && d < 1e11)) {
        str_setf(err, "bad %s", name);
        return -1;
    }
    *out = d;
    return 0;
}

static int get_rcpt(const struct attr_list *in, long i, struct agent_rcpt *r, struct str *err)
{
    struct str name = STR_INIT;
    const char *v[5];
    for (size_t j = 0; j < 5; j++) {
        str_setf(&name, "rcpt_%ld_%s", i, rcpt_fields[j]);
        v[j] = attr_get(in, name.data);
    }
    int rc = 0;
    if (v[0] == NULL) {
        str_setf(err, "missing attribute rcpt_%ld_address", i);
        rc = -1;
    }
    r->address = xstrdup(v[0] ? v[0] : "");
    r->orig = xstrdup(v[1] ? v[1] : "");
    r->orcpt = xstrdup(v[2] ? v[2] : "");
    for (size_t j = 3; j < 5 && rc == 0; j++) {
        long num = 0;
        str_setf(&name, "rcpt_%ld_%s", i, rcpt_fields[j]);
        if (v[j] && attr_get_long(in, name.data, 0, 0x7fffffffffffL, &num) < 0) {
            str_setf(err, "bad %s", name.data);
            rc = -1;
        }
        *(j == 3 ? &r->notify : &r->offset) = num;
    }
    str_release(&name);
    return rc;
}

int agent_request_decode(const struct attr_list *in, struct agent_request *rq, struct str *err)
{
    long n;
    memset(rq, 0, sizeof(*rq));
    for (size_t i = 0; i < NSTR; i++) {
        const char *v = attr_get(in, str_fields[i].name);
        *(char **)((char *)rq + str_fields[i].off) = xstrdup(v ? v : "");
    }
    rq->started = agent_log_now();
    if (attr_get_long(in, "rcpt_count", 1, AGENT_MAX_RCPTS, &n) < 0) {
        str_set(err, "bad rcpt_count");
        return -1;
    }
    if (check_names(in, n, err) < 0 || get_time(in, "arrival_time", &rq->arrival_time, err) < 0 ||
        get_time(in, "queue_delay", &rq->queue_delay, err) < 0 ||
        get_time(in, "active_time", &rq->active_time, err) < 0)
        return -1;
    if (!queue_id_valid(rq->queue_id) || *rq->queue_name == 0 ||
        strspn(rq->queue_name, "abcdefghijklmnopqrstuvwxyz") != strlen(rq->queue_name)) {
        str_set(err, "bad queue name or ID");
        return -1;
    }
    if (rq->arrival_time <= 0)
        rq->arrival_time = rq->started;
    rq->rcpts = xcalloc((size_t)n, sizeof(*rq->rcpts));
    for (long i = 0; i < n; i++) {
        rq->nrcpt++;
        if (get_rcpt(in, i, &rq->rcpts[i], err) < 0)
            return -1;
    }
    return 0;
}

void agent_request_release(struct agent_request *rq)
{
    for (size_t i = 0; i < NSTR; i++)
        free(*(char **)((char *)rq + str_fields[i].off));
    for (size_t i = 0; i < rq->nrcpt; i++) {
        free(rq->rcpts[i].address);
        free(rq->rcpts[i].orig);
        free(rq->rcpts[i].orcpt);
    }
    free(rq->rcpts);
    memset(rq, 0, sizeof(*rq));
}

int agent_open_queue_file(const struct agent_request *rq, const char *hash_names, int depth,
                          struct queue_envelope *env, struct str *err)
{
    struct str path = STR_INIT;
    queue_path(&path, rq->queue_name, rq->queue_id, hash_names, depth);
    int fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        str_setf(err, "open %s: %s", path.data, strerror(errno));
    } else if (queue_file_read_envelope(fd, RECORD_LIMIT, env, err) < 0) {
        close(fd);
        fd = -1;
    }
    str_release(&path);
    return fd;
}

/* ---- reply ---------------------------------------------------------------------------------- */

void agent_reply_init(struct agent_reply *rp, size_t n)
{
    rp->n = n;
    rp->v = xcalloc(n ? n : 1, sizeof(*rp->v));
    for (size_t i = 0; i < n; i++)
        agent_reply_set(rp, i, AGENT_DEFERRED, "4.3.0", "unknown mail transport error", "none");
}

void agent_reply_release(struct agent_reply *rp)
{
    for (size_t i = 0; i < rp->n; i++) {
        str_release(&rp->v[i].reason);
        str_release(&rp->v[i].relay);
    }
    free(rp->v);
    rp->v = NULL;
    rp->n = 0;
}

void agent_reply_set(struct agent_reply *rp, size_t i, int status, const char *dsn,
                     const char *reason, const char *relay)
{
    struct agent_result *r = &rp->v[i];
    r->status = status;
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    str_set(&r->reason, reason);
    str_set(&r->relay, relay);
}

void agent_reply_set_all(struct agent_reply *rp, int status, const char *dsn, const char *reason,
                         const char *relay)
{
    for (size_t i = 0; i < rp->n; i++)
        agent_reply_set(rp, i, status, dsn, reason, relay);
}

const char *agent_status_name(int status)
{
    return status == AGENT_SENT ? "sent" : status == AGENT_BOUNCED ? "bounced" : "deferred";
}

void agent_reply_encode(const struct agent_reply *rp, struct attr_list *out)
{
    struct str name = STR_INIT;
    attr_add_long(out, "rcpt_count", (long)rp->n);
    for (size_t i = 0; i < rp->n; i++) {
        const struct agent_result *r = &rp->v[i];
        str_setf(&name, "rcpt_%zu_status", i);
        attr_add(out, name.data, agent_status_name(r->status));
        str_setf(&name, "rcpt_%zu_dsn", i);
        attr_add(out, name.data, r->dsn);
        str_setf(&name, "rcpt_%zu_reason", i);
        attr_add(out, name.data, str_cstr(&r->reason));
        str_setf(&name, "rcpt_%zu_relay", i);
        attr_add(out, name.data, str_cstr(&r->relay));
    }
    str_release(&name);
}

void agent_log_rcpt(const struct agent_request *rq, const char *rcpt, const char *orig,
                    const char *relay, int status, const char *dsn, const char *reason)
{
    struct agent_log_info info = {
        .queue_id = rq->queue_id,
        .recipient = rcpt,
        .orig = orig,
        .relay = relay,
        .dsn = dsn,
        .status = agent_status_name(status),
        .reason = reason,
        .arrival = rq->arrival_time,
        .queue_delay = rq->queue_delay,
        .active_time = rq->active_time,
        .started = rq->started,
    };
    agent_log(&info);
}

void agent_report(const struct agent_request *rq, struct agent_reply *rp, size_t i, int status,
                  const char *dsn, const char *relay, const char *reason)
{
    agent_reply_set(rp, i, status, dsn, reason, relay);
    agent_log_rcpt(rq, rq->rcpts[i].address, rq->rcpts[i].orig, relay, status, dsn, reason);
}

/* ---- serving -------------------------------------------------------------------------------- */

int agent_serve(struct stream *client, int timeout, agent_fn fn, void *ctx)
{
    struct attr_list *in = attr_list_new(), *out = attr_list_new();
    struct str err = STR_INIT;
    int rc = -1;
    stream_set_timeout(client, timeout);
    if (attr_send_protocol(client, AGENT_PROTOCOL) < 0)
        goto done;
    while (attr_recv(client, in, &attr_default_limits, &err) == 0) {
        struct agent_request rq;
        if (agent_request_decode(in, &rq, &err) < 0) {
            msg_warn("protocol error: %s", err.data);
            agent_request_release(&rq);
            goto done;
        }
        struct agent_reply rp;
        agent_reply_init(&rp, rq.nrcpt);
        fn(&rq, &rp, ctx);
        attr_list_clear(out);
        agent_reply_encode(&rp, out);
        agent_reply_release(&rp);
        agent_request_release(&rq);
        if (attr_send(client, out) < 0)
            goto done;
    }
    rc = 0;
done:
    attr_list_free(in);
    attr_list_free(out);
    str_release(&err);
    return rc;
}
