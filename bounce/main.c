/* bounce: the bounce service (SERVER_SINGLE). One request per connection from qmgr:
 * op=flush (non-delivery notice from bounce/<id>) or op=warn (delay notice from defer/<id>),
 * queue_name, queue_id, sender, dsn_envid, dsn_ret. Recipients whose NOTIFY excludes the
 * notice kind are left out; a null sender never gets a notice (a double bounce goes to
 * 2bounce_notice_recipient when notify_classes has 2bounce); postmaster gets a header-only
 * copy when notify_classes has bounce (or delay). Reply: status=0, dsn_queue_id. */
#include "bounce.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/bounce_log.h"
#include "mail/config.h"
#include "mail/dsn.h"
#include "mail/queue_id.h"
#include "service/server.h"

#include <stdlib.h>
#include <string.h>

static const char *const allowed[] = {"op",        "queue_name", "queue_id", "sender",
                                      "dsn_envid", "dsn_ret",    NULL};
static const char *const required[] = {"op", "queue_name", "queue_id", "sender", NULL};

static int has_class(const char *name)
{
    const char *v = config_get("notify_classes");
    struct argv *w = argv_split(v ? v : "", ", \t\r\n");
    int found = 0;
    for (size_t i = 0; i < w->n && !found; i++)
        found = strcmp(w->v[i], name) == 0;
    argv_free(w);
    return found;
}

/* Keeps the entries whose NOTIFY asks for this kind of notice. */
static size_t wanted(struct bounce_entry *v, size_t n, int kind)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (dsn_notify_wants(v[i].notify, kind)) {
            struct bounce_entry tmp = v[k];
            v[k++] = v[i];
            v[i] = tmp;
        }
    }
    return k;
}

static void postmaster_copy(const struct bounce_job *job, struct bounce_entry *v, size_t n,
                            const char *param, const char *what)
{
    struct str id = STR_INIT, why = STR_INIT;
    const char *to = config_get(param);
    if (bounce_notice(job, v, n, to && *to ? to : "postmaster", "", 1, &id, &why) == 0)
        msg_info("%s: postmaster %s notification: %s", job->queue_id, what, id.data);
    else
        msg_warn("%s: postmaster %s notification: %s", job->queue_id, what, why.data);
    str_release(&id);
    str_release(&why);
}

/* Returns 0 (dsn_id set, maybe empty) or -1 (why set: qmgr should retry later). */
static int handle(const struct bounce_job *job, struct str *dsn_id, struct str *why)
{
    int warn = job->kind == DSN_REPORT_DELAYED;
    struct bounce_entry *v;
    size_t n;
    const char *hash = config_get("hash_queue_names");
    int depth = (int)config_get_int("hash_queue_depth");
    if (bounce_log_read(warn ? "defer" : "bounce", job->queue_id, hash, depth, &v, &n, why) < 0)
        return -1;
    int rc = 0;
    size_t k = wanted(v, n, warn ? DSN_NOTIFY_DELAY : DSN_NOTIFY_FAILURE);
    if (n == 0 || (k == 0 && *job->sender)) {
        /* nothing to report */
    } else if (*job->sender == 0) {
        if (!warn && has_class("2bounce"))
            postmaster_copy(job, v, n, "2bounce_notice_recipient", "non-delivery");
        else
            msg_info("%s: undeliverable null-sender message: notice discarded", job->queue_id);
    } else {
        rc = bounce_notice(job, v, k, job->sender, "", 0, dsn_id, why);
        if (rc == 0)
            msg_info("%s: sender %s notification: %s", job->queue_id,
                     warn ? "delay" : "non-delivery", dsn_id->data);
        if (rc == 0 && has_class(warn ? "delay" : "bounce"))
            postmaster_copy(job, v, k, warn ? "delay_notice_recipient" : "bounce_notice_recipient",
                            warn ? "delay" : "non-delivery");
    }
    bounce_entries_free(v, n);
    return rc;
}

static int serve(struct stream *client, const char *service)
{
    (void)service;
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT, id = STR_INIT;
    stream_set_timeout(client, (int)config_get_time("ipc_timeout"));
    if (attr_send_protocol(client, BOUNCE_PROTOCOL) == 0 &&
        attr_recv(client, a, &attr_default_limits, &err) == 0) {
        const char *op = attr_get(a, "op");
        const char *envid = attr_get(a, "dsn_envid"), *ret = attr_get(a, "dsn_ret");
        if (attr_check(a, allowed, required, &err) < 0 ||
            (strcmp(op, "flush") != 0 && strcmp(op, "warn") != 0) ||
            !queue_id_valid(attr_get(a, "queue_id")) ||
            strspn(attr_get(a, "queue_name"), "abcdefghijklmnopqrstuvwxyz") !=
                strlen(attr_get(a, "queue_name"))) {
            msg_warn("malformed bounce request: %s", err.len ? err.data : "bad op or queue");
        } else {
            struct bounce_job job = {strcmp(op, "warn") == 0 ? DSN_REPORT_DELAYED
                                                             : DSN_REPORT_FAILED,
                                     attr_get(a, "queue_name"),
                                     attr_get(a, "queue_id"),
                                     attr_get(a, "sender"),
                                     envid ? envid : "",
                                     ret ? ret : ""};
            int rc = handle(&job, &id, &err);
            if (rc < 0)
                msg_warn("%s: cannot send notification: %s", job.queue_id, err.data);
            attr_list_clear(a);
            attr_add(a, "status", rc < 0 ? "1" : "0");
            attr_add(a, "dsn_queue_id", str_cstr(&id));
            attr_send(client, a);
        }
    }
    attr_list_free(a);
    str_release(&err);
    str_release(&id);
    return SERVER_CLOSE;
}

static const struct server_ops ops = {.shape = SERVER_SINGLE, .serve = serve};

int main(int argc, char **argv)
{
    return server_main(argc, argv, &ops);
}
