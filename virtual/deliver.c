/* deliver: one delivery request of the virtual agent: for each recipient, the Delivered-To loop
 * check, the mailbox resolution, and the mbox or Maildir delivery as the mapped uid/gid
 * (effective ids when root; as the current user in an unprivileged sandbox). */
#include "virtual.h"

#include "base/log.h"

#include <stdio.h>
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

static int become(uid_t uid, gid_t gid)
{
    if (geteuid() != 0)
        return 0;
    return (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0) ? -1 : 0;
}

static void restore(void)
{
    if (getuid() != 0)
        return;
    if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
        msg_fatal("cannot restore root privileges: %m");
}

static void deliver_rcpt(const struct virtual_params *p, const struct deliver_request *rq,
                         struct deliver_reply *rp, size_t i, struct mail_message *m)
{
    const char *rcpt = rq->rcpts[i].address, *orig = rq->rcpts[i].orig;
    struct virtual_target t;
    struct str reason = STR_INIT;
    char dsn[16];
    int st;
    if (message_has_delivered(m, rcpt)) {
        str_setf(&reason, "mail forwarding loop for %s", rcpt);
        st = DELIVER_BOUNCED;
        snprintf(dsn, sizeof(dsn), "5.4.6");
    } else if ((st = virtual_resolve(p, rcpt, &t, dsn, sizeof(dsn), &reason)) == VIRTUAL_OK) {
        int maildir = t.path.data[t.path.len - 1] == '/';
        uid_t uid = geteuid() == 0 ? t.uid : geteuid();
        gid_t gid = geteuid() == 0 ? t.gid : getegid();
        if (become(uid, gid) < 0) {
            st = DELIVER_DEFERRED;
            snprintf(dsn, sizeof(dsn), "4.3.0");
            str_setf(&reason, "cannot switch to uid %ld: %s", (long)uid, strerror(errno));
            restore();
        } else {
            st = maildir ? maildir_deliver(&p->mailbox, m, t.path.data, rcpt, orig, dsn,
                                           sizeof(dsn), &reason)
                         : mbox_deliver(&p->mailbox, m, t.path.data, uid, gid, rcpt, orig,
                                        COPY_MBOX, dsn, sizeof(dsn), &reason);
            restore();
            if (st == DELIVER_SENT)
                str_set(&reason, maildir ? "delivered to maildir" : "delivered to mailbox");
        }
        virtual_target_release(&t);
    }
    deliver_report(rq, rp, i, st, dsn, reason.data, "virtual");
    str_release(&reason);
}

void virtual_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    const struct virtual_params *p = ctx;
    struct queue_envelope env = {0};
    struct str why = STR_INIT;
    int fd = deliver_open_queue_file(rq, p->hash_names, p->depth, &env, &why);
    struct mail_message m = {.fd = fd,
                             .env = &env,
                             .queue_id = rq->queue_id,
                             .sender = rq->sender,
                             .now = (time_t)rq->started};
    if (fd < 0 || message_scan_delivered(&m, &why) < 0) {
        msg_warn("%s: cannot deliver: %s", rq->queue_id, why.data);
        for (size_t i = 0; i < rq->nrcpt; i++)
            deliver_report(rq, rp, i, DELIVER_DEFERRED, "4.3.0",
                           "mail system error: cannot read queue file", "virtual");
    } else {
        for (size_t i = 0; i < rq->nrcpt; i++)
            deliver_rcpt(p, rq, rp, i, &m);
    }
    argv_free(m.delivered);
    if (fd >= 0) {
        queue_envelope_release(&env);
        close(fd);
    }
    str_release(&why);
}
