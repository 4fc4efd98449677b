/* deliver_request: encoding and strict decoding of delivery requests and replies, and the
 * agent's connection loop. */
#include "mail/deliver_request.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/deliver_log.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The string fields of a request, by attribute name. */
#define RQ_FIELD(name)                                                                             \
    {                                                                                              \
#name, offsetof(struct deliver_request, name)                                              \
    }
static const struct {
    const char *name;
    size_t offset;
} rq_fields[] = {
    RQ_FIELD(queue_name),    RQ_FIELD(queue_id),        RQ_FIELD(sender),
    RQ_FIELD(nexthop),       RQ_FIELD(transport),       RQ_FIELD(dsn_envid),
    RQ_FIELD(dsn_ret),       RQ_FIELD(client_name),     RQ_FIELD(client_address),
    RQ_FIELD(client_helo),   RQ_FIELD(client_protocol), RQ_FIELD(sasl_method),
    RQ_FIELD(sasl_username),
};
#define N_RQ_FIELDS (sizeof(rq_fields) / sizeof(rq_fields[0]))
static const char *const rq_times[] = {"arrival_time", "queue_delay", "active_time"};
static const char *const rq_required[] = {"queue_name", "queue_id", "sender", "rcpt_count", NULL};
static const char *const rcpt_suffix[] = {"address", "orig", "orcpt", "notify", "offset"};
static const char *const rp_suffix[] = {"status", "dsn", "reason", "relay"};

static char **field_at(struct deliver_request *rq, size_t i)
{
    return (char **)((char *)rq + rq_fields[i].offset);
}

void deliver_request_init(struct deliver_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    for (size_t i = 0; i < N_RQ_FIELDS; i++)
        *field_at(rq, i) = xstrdup("");
}

void deliver_request_release(struct deliver_request *rq)
{
    for (size_t i = 0; i < N_RQ_FIELDS; i++)
        free(*field_at(rq, i));
    for (size_t i = 0; i < rq->nrcpt; i++) {
        free(rq->rcpts[i].address);
        free(rq->rcpts[i].orig);
        free(rq->rcpts[i].orcpt);
    }
    free(rq->rcpts);
    memset(rq, 0, sizeof(*rq));
}

void deliver_request_set(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value ? value : "");
}

void deliver_request_add_rcpt(struct deliver_request *rq, const char *address, const char *orig,
                              const char *orcpt, long notify, long offset)
{
    rq->rcpts = xgrow(rq->rcpts, &rq->cap, rq->nrcpt + 1, sizeof(*rq->rcpts));
    struct deliver_rcpt *r = &rq->rcpts[rq->nrcpt++];
    r->address = xstrdup(address);
    r->orig = xstrdup(orig ? orig : "");
    r->orcpt = xstrdup(orcpt ? orcpt : "");
    r->notify = notify;
    r->offset = offset;
}

static void add_time(struct attr_list *out, const char *name, double t)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.6f", t);
    attr_add(out, name, buf);
}

void deliver_request_encode(const struct deliver_request *rq, struct attr_list *out)
{
    struct str name = STR_INIT;
    for (size_t i = 0; i < N_RQ_FIELDS; i++)
        attr_add(out, rq_fields[i].name, *field_at((struct deliver_request *)rq, i));
    add_time(out, "arrival_time", rq->arrival_time);
    add_time(out, "queue_delay", rq->queue_delay);
    add_time(out, "active_time", rq->active_time);
    attr_add_long(out, "rcpt_count", (long)rq->nrcpt);
    for (size_t i = 0; i < rq->nrcpt; i++) {
        const struct deliver_rcpt *r = &rq->rcpts[i];
        str_setf(&name, "rcpt_%zu_address", i);
        attr_add(out, name.data, r->address);
        str_setf(&name, "rcpt_%zu_orig", i);
        attr_add(out, name.data, r->orig);
        str_setf(&name, "rcpt_%zu_orcpt", i);
        attr_add(out, name.data, r->orcpt);
        str_setf(&name, "rcpt_%zu_notify", i);
        attr_add_long(out, name.data, r->notify);
        str_setf(&name, "rcpt_%zu_offset", i);
        attr_add_long(out, name.data, r->offset);
    }
    str_release(&name);
}

/* "<i>_<suffix>" with i a canonical decimal below n. */
static int rcpt_name_ok(const char *p, long n, const char *const *suffix, size_t nsuffix)
{
    size_t d = strspn(p, "0123456789");
    if (d == 0 || d > 6 || (p[0] == '0' && d > 1) || p[d] != '_' || atol(p) >= n)
        return 0;
    for (size_t s = 0; s < nsuffix; s++)
        if (strcmp(p + d + 1, suffix[s]) == 0)
            return 1;
    return 0;
}

/* Checks that every attribute is known: fixed names, or <prefix>_<i>_<suffix> with i < n. */
static int check_names(const struct attr_list *in, long n, const char *const *fixed, size_t nfixed,
                       const char *const *suffix, size_t nsuffix, struct str *err)
{
    for (size_t a = 0; a < in->names->n; a++) {
        const char *nm = in->names->v[a];
        int ok = 0;
        for (size_t i = 0; i < nfixed && !ok; i++)
            ok = strcmp(nm, fixed[i]) == 0;
        if (!ok && strncmp(nm, "rcpt_", 5) == 0)
            ok = rcpt_name_ok(nm + 5, n, suffix, nsuffix);
        if (!ok) {
            str_setf(err, "unexpected attribute %s", nm);
            return -1;
        }
        for (size_t b = 0; b < a; b++)
            if (strcmp(in->names->v[b], nm) == 0) {
                str_setf(err, "duplicate attribute %s", nm);
                return -1;
            }
    }
    return 0;
}

static int get_time(const struct attr_list *in, const char *name, double *out, struct str *err)
{
    const char *v = attr_get(in, name);
    *out = 0;
    if (v == NULL)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !(d >= 0 && d < DELIVER_MAX_TIME)) {
        str_setf(err, "bad %s", name);
        return -1;
    }
    *out = d;
    return 0;
}

static int valid_queue_name(const char *s)
{
    return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz") == strlen(s) && strlen(s) < 32;
}

static int decode_rcpt(const struct attr_list *in, long i, struct deliver_request *rq,
                       struct str *err)
{
    struct str name = STR_INIT;
    const char *v[3];
    long notify = 0, offset = 0;
    int rc = 0;
    for (int k = 0; k < 3; k++) {
        str_setf(&name, "rcpt_%ld_%s", i, rcpt_suffix[k]);
        v[k] = attr_get(in, name.data);
    }
    str_setf(&name, "rcpt_%ld_notify", i);
    if (attr_get(in, name.data) && attr_get_long(in, name.data, 0, 255, &notify) < 0)
        rc = -1;
    str_setf(&name, "rcpt_%ld_offset", i);
    if (attr_get(in, name.data) && attr_get_long(in, name.data, 0, 1L << 40, &offset) < 0)
        rc = -1;
    if (v[0] == NULL) {
        str_setf(err, "missing attribute rcpt_%ld_address", i);
        rc = -1;
    } else if (*v[0] == 0 || rc < 0) {
        str_setf(err, "bad or missing attributes of recipient %ld", i);
        rc = -1;
    } else {
        deliver_request_add_rcpt(rq, v[0], v[1], v[2], notify, offset);
    }
    str_release(&name);
    return rc;
}

int deliver_request_decode(const struct attr_list *in, struct deliver_request *rq, struct str *err)
{
    long n;
    deliver_request_init(rq);
    rq->started = deliver_log_now();
    const char *fixed[N_RQ_FIELDS + 4];
    for (size_t i = 0; i < N_RQ_FIELDS; i++)
        fixed[i] = rq_fields[i].name;
    for (size_t i = 0; i < 3; i++)
        fixed[N_RQ_FIELDS + i] = rq_times[i];
    fixed[N_RQ_FIELDS + 3] = "rcpt_count";
    for (size_t i = 0; rq_required[i]; i++)
        if (attr_get(in, rq_required[i]) == NULL) {
            str_setf(err, "missing attribute %s", rq_required[i]);
            return -1;
        }
    if (attr_get_long(in, "rcpt_count", 1, DELIVER_MAX_RCPTS, &n) < 0) {
        str_set(err, "bad rcpt_count");
        return -1;
    }
    if (check_names(in, n, fixed, N_RQ_FIELDS + 4, rcpt_suffix, 5, err) < 0)
        return -1;
    for (size_t i = 0; i < N_RQ_FIELDS; i++) {
        const char *v = attr_get(in, rq_fields[i].name);
        if (v)
            deliver_request_set(field_at(rq, i), v);
    }
    if (!valid_queue_name(rq->queue_name) || !queue_id_valid(rq->queue_id)) {
        str_set(err, "bad queue_name or queue_id");
        return -1;
    }
    if (get_time(in, "arrival_time", &rq->arrival_time, err) < 0 ||
        get_time(in, "queue_delay", &rq->queue_delay, err) < 0 ||
        get_time(in, "active_time", &rq->active_time, err) < 0)
        return -1;
    for (long i = 0; i < n; i++)
        if (decode_rcpt(in, i, rq, err) < 0)
            return -1;
    return 0;
}

/* The longest queue file record an agent reads while validating the envelope. */
#define RECORD_LIMIT (1L << 20)

int deliver_open_queue_file(const struct deliver_request *rq, const char *hash_names, int depth,
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

/* ---- replies ------------------------------------------------------------------------------ */

const struct attr_limits deliver_attr_limits = {65536, 32 + 5 * DELIVER_MAX_RCPTS};

/* Indexed by enum deliver_status. */
static const char *const status_names[] = {"sent", "bounced", "deferred"};

const char *deliver_status_name(enum deliver_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "deferred";
}

void deliver_reply_init(struct deliver_reply *rp, size_t n)
{
    rp->n = n;
    rp->v = xcalloc(n ? n : 1, sizeof(*rp->v));
    for (size_t i = 0; i < n; i++) {
        rp->v[i].status = DELIVER_DEFERRED;
        rp->v[i].dsn = xstrdup("4.3.0");
        rp->v[i].reason = xstrdup("unknown mail transport error");
        rp->v[i].relay = xstrdup("none");
    }
}

void deliver_reply_release(struct deliver_reply *rp)
{
    for (size_t i = 0; i < rp->n; i++) {
        free(rp->v[i].dsn);
        free(rp->v[i].reason);
        free(rp->v[i].relay);
    }
    free(rp->v);
    rp->v = NULL;
    rp->n = 0;
}

void deliver_reply_set(struct deliver_reply *rp, size_t i, enum deliver_status status,
                       const char *dsn, const char *reason, const char *relay)
{
    if (i >= rp->n)
        msg_panic("deliver_reply_set: index %zu of %zu", i, rp->n);
    struct deliver_result *r = &rp->v[i];
    r->status = status;
    deliver_request_set(&r->dsn, dsn);
    deliver_request_set(&r->reason, reason);
    deliver_request_set(&r->relay, relay);
}

void deliver_reply_set_all(struct deliver_reply *rp, enum deliver_status status, const char *dsn,
                           const char *reason, const char *relay)
{
    for (size_t i = 0; i < rp->n; i++)
        deliver_reply_set(rp, i, status, dsn, reason, relay);
}

void deliver_log_rcpt(const struct deliver_request *rq, const char *rcpt, const char *orig,
                      enum deliver_status status, const char *dsn, const char *reason,
                      const char *relay)
{
    struct deliver_log_info info = {
        .queue_id = rq->queue_id,
        .recipient = rcpt,
        .orig = orig,
        .relay = relay,
        .dsn = dsn,
        .status = deliver_status_name(status),
        .reason = reason,
        .arrival = rq->arrival_time > 0 ? rq->arrival_time : rq->started,
        .queue_delay = rq->queue_delay,
        .active_time = rq->active_time,
    };
    deliver_log_agent(&info, rq->started);
}

void deliver_report(const struct deliver_request *rq, struct deliver_reply *rp, size_t i,
                    enum deliver_status status, const char *dsn, const char *reason,
                    const char *relay)
{
    deliver_reply_set(rp, i, status, dsn, reason, relay);
    deliver_log_rcpt(rq, rq->rcpts[i].address, rq->rcpts[i].orig, status, dsn, reason, relay);
}

void deliver_reply_encode(const struct deliver_reply *rp, struct attr_list *out)
{
    struct str name = STR_INIT;
    attr_add_long(out, "rcpt_count", (long)rp->n);
    for (size_t i = 0; i < rp->n; i++) {
        const char *v[4] = {deliver_status_name(rp->v[i].status), rp->v[i].dsn, rp->v[i].reason,
                            rp->v[i].relay};
        for (int k = 0; k < 4; k++) {
            str_setf(&name, "rcpt_%zu_%s", i, rp_suffix[k]);
            attr_add(out, name.data, v[k]);
        }
    }
    str_release(&name);
}

static int parse_status(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

int deliver_reply_decode(const struct attr_list *in, size_t expect, struct deliver_reply *rp,
                         struct str *err)
{
    long n;
    static const char *const fixed[] = {"rcpt_count"};
    deliver_reply_init(rp, expect);
    if (attr_get_long(in, "rcpt_count", 0, DELIVER_MAX_RCPTS, &n) < 0 || (size_t)n != expect) {
        str_set(err, "bad rcpt_count in reply");
        return -1;
    }
    if (check_names(in, n, fixed, 1, rp_suffix, 4, err) < 0)
        return -1;
    struct str name = STR_INIT;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        const char *v[4];
        for (int k = 0; k < 4; k++) {
            str_setf(&name, "rcpt_%ld_%s", i, rp_suffix[k]);
            v[k] = attr_get(in, name.data);
        }
        int st = parse_status(v[0]);
        if (st < 0) {
            str_setf(err, "bad status of recipient %ld in reply", i);
            rc = -1;
        } else {
            deliver_reply_set(rp, (size_t)i, (enum deliver_status)st, v[1] ? v[1] : "",
                              v[2] ? v[2] : "", v[3] ? v[3] : "none");
        }
    }
    str_release(&name);
    return rc;
}

/* ---- agent side --------------------------------------------------------------------------- */

int deliver_agent_serve(struct stream *client, int timeout, deliver_fn fn, void *ctx)
{
    struct attr_list *in = attr_list_new(), *out = attr_list_new();
    struct str err = STR_INIT;
    int rc = 0;
    stream_set_timeout(client, timeout);
    if (attr_send_protocol(client, DELIVER_PROTOCOL) < 0)
        rc = -1;
    while (rc == 0) {
        if (attr_recv(client, in, &deliver_attr_limits, &err) < 0) {
            if (strcmp(str_cstr(&err), "lost connection") != 0)
                msg_warn("delivery request: %s", str_cstr(&err)), rc = -1;
            break;
        }
        struct deliver_request rq;
        struct deliver_reply rp;
        if (deliver_request_decode(in, &rq, &err) < 0) {
            msg_warn("malformed delivery request: %s", str_cstr(&err));
            deliver_request_release(&rq);
            rc = -1;
            break;
        }
        deliver_reply_init(&rp, rq.nrcpt);
        fn(&rq, &rp, ctx);
        attr_list_clear(out);
        deliver_reply_encode(&rp, out);
        if (attr_send(client, out) < 0)
            rc = -1;
        deliver_reply_release(&rp);
        deliver_request_release(&rq);
    }
    attr_list_free(in);
    attr_list_free(out);
    str_release(&err);
    return rc;
}
