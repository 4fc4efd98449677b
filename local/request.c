/* request: the delivery request protocol, agent side: send "protocol=delivery", read a
 * request, check its attributes strictly, open and validate the queue file, deliver each
 * recipient and send the reply (rcpt_count and rcpt_<i>_status/dsn/reason/relay). */
#include "local.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/queue_id.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_RCPTS 500
#define RECORD_LIMIT (1L << 20)

static const char *const fixed_attrs[] = {
    "queue_name",    "queue_id",       "sender",      "nexthop",         "transport",
    "arrival_time",  "queue_delay",    "active_time", "dsn_envid",       "dsn_ret",
    "client_name",   "client_address", "client_helo", "client_protocol", "sasl_method",
    "sasl_username", "rcpt_count",     NULL};
static const char *const required_attrs[] = {"queue_name", "queue_id", "sender", "rcpt_count",
                                             NULL};
static const char *const rcpt_attrs[] = {"address", "orig", "orcpt", "notify", "offset", NULL};

/* Strict check of a request with n recipients. */
static int check_request(const struct attr_list *req, long n, struct str *err)
{
    struct argv *allowed = argv_new();
    struct str name = STR_INIT;
    for (size_t i = 0; fixed_attrs[i]; i++)
        argv_add(allowed, fixed_attrs[i]);
    for (long i = 0; i < n; i++)
        for (size_t j = 0; rcpt_attrs[j]; j++) {
            str_setf(&name, "rcpt_%ld_%s", i, rcpt_attrs[j]);
            argv_add(allowed, name.data);
        }
    int rc = attr_check(req, (const char *const *)allowed->v, required_attrs, err);
    for (long i = 0; rc == 0 && i < n; i++) {
        str_setf(&name, "rcpt_%ld_address", i);
        if (attr_get(req, name.data) == NULL) {
            str_setf(err, "missing attribute %s", name.data);
            rc = -1;
        }
    }
    argv_free(allowed);
    str_release(&name);
    return rc;
}

static double attr_double(const struct attr_list *a, const char *name)
{
    const char *v = attr_get(a, name);
    char *end;
    double d = v ? strtod(v, &end) : 0;
    return (v && *end == 0 && d >= 0 && d < 1e12) ? d : 0;
}

/* Opens and validates the queue file; -1 with err. */
static int open_queue_file(const struct attr_list *req, const char *hash_names, int depth,
                           struct queue_envelope *env, struct str *err)
{
    const char *qname = attr_get(req, "queue_name"), *qid = attr_get(req, "queue_id");
    if (!queue_id_valid(qid) || strspn(qname, "abcdefghijklmnopqrstuvwxyz") != strlen(qname) ||
        *qname == 0) {
        str_setf(err, "bad queue name or ID");
        return -1;
    }
    struct str path = STR_INIT;
    queue_path(&path, qname, qid, hash_names, depth);
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

static void reply_all(struct attr_list *reply, long n, const char *status, const char *dsn,
                      const char *reason)
{
    struct str name = STR_INIT;
    attr_add_long(reply, "rcpt_count", n);
    for (long i = 0; i < n; i++) {
        str_setf(&name, "rcpt_%ld_status", i);
        attr_add(reply, name.data, status);
        str_setf(&name, "rcpt_%ld_dsn", i);
        attr_add(reply, name.data, dsn);
        str_setf(&name, "rcpt_%ld_reason", i);
        attr_add(reply, name.data, reason);
        str_setf(&name, "rcpt_%ld_relay", i);
        attr_add(reply, name.data, "local");
    }
    str_release(&name);
}

static void deliver_all(const struct local_params *p, struct local_msg *m,
                        const struct attr_list *req, long n, struct attr_list *reply)
{
    struct str name = STR_INIT;
    static const char *const names[] = {"sent", "bounced", "deferred"};
    attr_add_long(reply, "rcpt_count", n);
    for (long i = 0; i < n; i++) {
        struct local_result res;
        result_init(&res);
        str_setf(&name, "rcpt_%ld_address", i);
        const char *addr = attr_get(req, name.data);
        str_setf(&name, "rcpt_%ld_orig", i);
        local_deliver_recipient(p, m, addr, attr_get(req, name.data), &res);
        str_setf(&name, "rcpt_%ld_status", i);
        attr_add(reply, name.data, names[res.status < 0 ? 0 : res.status]);
        str_setf(&name, "rcpt_%ld_dsn", i);
        attr_add(reply, name.data, res.dsn);
        str_setf(&name, "rcpt_%ld_reason", i);
        attr_add(reply, name.data, str_cstr(&res.reason));
        str_setf(&name, "rcpt_%ld_relay", i);
        attr_add(reply, name.data, "local");
        result_release(&res);
    }
    str_release(&name);
}

/* Handles one request; fills reply. Returns 0, or -1 on a protocol error (err set). */
int local_handle_request(const struct local_params *p, const struct attr_list *req,
                         const char *hash_names, int depth, struct attr_list *reply,
                         struct str *err)
{
    long n;
    if (attr_get_long(req, "rcpt_count", 1, MAX_RCPTS, &n) < 0) {
        str_set(err, "bad rcpt_count");
        return -1;
    }
    if (check_request(req, n, err) < 0)
        return -1;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    local_timing.started = tv.tv_sec + tv.tv_usec / 1e6;
    local_timing.arrival = attr_double(req, "arrival_time");
    if (local_timing.arrival <= 0)
        local_timing.arrival = local_timing.started;
    local_timing.delay_before_qmgr = attr_double(req, "queue_delay");
    local_timing.delay_in_qmgr = attr_double(req, "active_time");
    struct queue_envelope env = {0};
    struct str why = STR_INIT;
    int fd = open_queue_file(req, hash_names, depth, &env, &why);
    if (fd < 0) {
        msg_warn("%s: cannot deliver: %s", attr_get(req, "queue_id"), why.data);
        reply_all(reply, n, "deferred", "4.3.0", "mail system error: cannot read queue file");
        str_release(&why);
        return 0;
    }
    struct local_msg m = {.fd = fd,
                          .env = &env,
                          .queue_id = attr_get(req, "queue_id"),
                          .sender = attr_get(req, "sender"),
                          .now = tv.tv_sec};
    if (headers_scan_delivered(&m, &why) < 0) {
        msg_warn("%s: cannot deliver: %s", m.queue_id, why.data);
        reply_all(reply, n, "deferred", "4.3.0", "mail system error: cannot read queue file");
    } else {
        deliver_all(p, &m, req, n, reply);
    }
    argv_free(m.delivered);
    queue_envelope_release(&env);
    close(fd);
    str_release(&why);
    return 0;
}

int local_serve(const struct local_params *p, struct stream *client, const char *hash_names,
                int depth)
{
    struct attr_list *req = attr_list_new(), *reply = attr_list_new();
    struct str err = STR_INIT;
    stream_set_timeout(client, 300);
    if (attr_send_protocol(client, "delivery") < 0)
        goto out;
    while (attr_recv(client, req, &attr_default_limits, &err) == 0) {
        attr_list_clear(reply);
        if (local_handle_request(p, req, hash_names, depth, reply, &err) < 0) {
            msg_warn("protocol error: %s", err.data);
            break;
        }
        if (attr_send(client, reply) < 0)
            break;
    }
out:
    attr_list_free(req);
    attr_list_free(reply);
    str_release(&err);
    return 0;
}
