/* request: one delivery request for the local agent (decoded strictly by the mail layer's
 * deliver_request): open and validate the queue file, scan its Delivered-To headers, deliver
 * each recipient and put its combined result into the reply. */
#include "local.h"

#include "base/log.h"
#include "mail/deliver_request.h"

#include <string.h>
#include <unistd.h>

void local_deliver_request(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    const struct local_ctx *c = ctx;
    struct queue_envelope env = {0};
    struct str why = STR_INIT;
    int fd = deliver_open_queue_file(rq, c->hash_names, c->depth, &env, &why);
    if (fd < 0) {
        msg_warn("%s: cannot deliver: %s", rq->queue_id, why.data);
        deliver_reply_set_all(rp, DELIVER_DEFERRED, "4.3.0",
                              "mail system error: cannot read queue file", "local");
        str_release(&why);
        return;
    }
    struct mail_message m = {.fd = fd,
                             .env = &env,
                             .queue_id = rq->queue_id,
                             .sender = rq->sender,
                             .now = (time_t)rq->started};
    local_request = rq;
    if (message_scan_delivered(&m, &why) < 0) {
        msg_warn("%s: cannot deliver: %s", m.queue_id, why.data);
        deliver_reply_set_all(rp, DELIVER_DEFERRED, "4.3.0",
                              "mail system error: cannot read queue file", "local");
    } else {
        for (size_t i = 0; i < rq->nrcpt; i++) {
            struct local_result res;
            result_init(&res);
            local_deliver_recipient(c->p, &m, rq->rcpts[i].address, rq->rcpts[i].orig, &res);
            deliver_reply_set(rp, i, res.status < 0 ? DELIVER_SENT : res.status, res.dsn,
                              str_cstr(&res.reason), "local");
            result_release(&res);
        }
    }
    local_request = NULL;
    argv_free(m.delivered);
    queue_envelope_release(&env);
    close(fd);
    str_release(&why);
}
