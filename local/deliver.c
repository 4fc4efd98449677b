/* deliver: one delivery request from qmgr (docs/architecture.md, "Delivery requests"): the
 * request is checked strictly, the queue file is opened read-only and validated, each
 * recipient is delivered (recipient.c), external addresses are re-injected through
 * $sendmail_path, every outcome is logged in Postfix's shape, and the reply carries the
 * combined status per recipient. Also: results and privilege switching. */
#include "local.h"

#include "base/exec.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

const struct deliver_request *local_request;

void result_init(struct local_result *r)
{
    r->status = -1;
    snprintf(r->dsn, sizeof(r->dsn), "2.0.0");
    r->reason = (struct str)STR_INIT;
}

void result_release(struct local_result *r)
{
    str_release(&r->reason);
}

void local_report(struct mail_message *m, struct local_rcpt *rc, int status, const char *dsn,
                  const char *fmt, ...)
{
    struct str reason = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&reason, fmt, ap);
    va_end(ap);
    /* Outside a request (unit tests): no delays before the agent. */
    struct deliver_request none = {.queue_id = (char *)m->queue_id, .started = deliver_log_now()};
    const struct deliver_request *rq = local_request ? local_request : &none;
    deliver_log_rcpt(rq, rc->top, rc->orig, status, dsn, reason.data, "local");
    struct local_result *r = rc->result;
    if (status > r->status) {
        r->status = status;
        snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
        str_set(&r->reason, reason.data);
    }
    str_release(&reason);
}

/* ---- privileges ---------------------------------------------------------------------------- */

int local_set_eugid(uid_t uid, gid_t gid)
{
    if (getuid() != 0)
        return 0; /* unprivileged: everything runs as the current user */
    if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0) {
        int err = errno;
        local_restore_eugid();
        errno = err;
        return -1;
    }
    return 0;
}

void local_restore_eugid(void)
{
    if (getuid() != 0)
        return;
    if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
        msg_fatal("cannot restore root privileges: %m");
}

/* ---- forwarding ----------------------------------------------------------------------------- */

static void forward_message(const struct local_params *p, struct mail_message *m,
                            struct local_rcpt *rc)
{
    struct argv *args = argv_new();
    struct str input = STR_INIT, why = STR_INIT, list = STR_INIT;
    struct exec_result res;
    argv_add(args, p->sendmail_path);
    argv_add(args, "-oi");
    argv_add(args, "-f");
    argv_add(args, *m->sender ? m->sender : "<>");
    argv_add(args, "--");
    for (size_t i = 0; i < rc->forward_to->n; i++) {
        argv_add(args, rc->forward_to->v[i]);
        str_appendf(&list, "%s%s", i ? ", " : "", rc->forward_to->v[i]);
    }
    int flags = (p->prepend_delivered & PREPEND_FORWARD) ? COPY_DELIVERED : 0;
    if (message_copy_to_str(m, &input, rc->top, NULL, flags, &why) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "%s", why.data);
        goto out;
    }
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.argv = args->v;
    spec.set_ids = getuid() == 0;
    spec.uid = p->default_uid;
    spec.gid = p->default_gid;
    spec.stdin_data = input.data ? input.data : "";
    spec.stdin_len = input.len;
    spec.time_limit_ms = p->command_time_limit_ms;
    spec.cwd = "/";
    if (exec_run(&spec, &res, &why) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot forward: %s", why.data);
        goto out;
    }
    if (res.how == EXEC_EXITED && res.exit_status == 0)
        local_report(m, rc, LOCAL_SENT, "2.0.0", "forwarded via sendmail to %s", list.data);
    else
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot forward: %s failed with status %d",
                     p->sendmail_path, res.how == EXEC_EXITED ? res.exit_status : -1);
    exec_result_free(&res);
out:
    argv_free(args);
    str_release(&input);
    str_release(&why);
    str_release(&list);
}

/* ---- one recipient -------------------------------------------------------------------------- */

static int clean_value(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

void local_deliver_recipient(const struct local_params *p, struct mail_message *m,
                             const char *address, const char *orig, struct local_result *res)
{
    size_t targets = 0;
    struct local_rcpt rc = {
        .address = address,
        .orig = orig && *orig ? orig : address,
        .top = address,
        .path = argv_new(),
        .targets = &targets,
        .result = res,
        .forward_to = argv_new(),
        .seen = argv_new(),
    };
    if (!clean_value(address) || !clean_value(rc.orig) || *address == 0)
        local_report(m, &rc, LOCAL_BOUNCED, "5.1.3", "bad address syntax");
    else if (message_has_delivered(m, address))
        local_report(m, &rc, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s", address);
    else
        deliver_address(p, m, &rc, address, 0);
    if (rc.forward_to->n > 0)
        forward_message(p, m, &rc);
    if (res->status < 0) /* nothing left to do (every target was a duplicate) */
        local_report(m, &rc, LOCAL_SENT, "2.0.0", "delivered");
    argv_free(rc.path);
    argv_free(rc.forward_to);
    argv_free(rc.seen);
}
