/* discard: the delivery agent of the discard: transport. Every recipient is reported sent
 * (dsn 2.0.0, relay=none) with the next hop text as the reason ("discard:silently" logs
 * "status=sent (silently)"); nothing is delivered. */
#include "base/log.h"
#include "mail/config.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"
#include "mail/dsn.h"
#include "service/server.h"

static void deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    (void)ctx;
    struct str code = STR_INIT, text = STR_INIT;
    dsn_split(rq->nexthop, "2.0.0", &code, &text);
    if (code.data[0] != '2')
        str_set(&code, "2.0.0");
    if (text.len == 0)
        str_set(&text, "discarded");
    for (size_t i = 0; i < rq->nrcpt; i++) {
        struct deliver_log_info info = {rq->queue_id,
                                        rq->rcpts[i].address,
                                        rq->rcpts[i].orig,
                                        "none",
                                        code.data,
                                        "sent",
                                        text.data,
                                        rq->arrival_time,
                                        rq->queue_delay,
                                        rq->active_time,
                                        0};
        deliver_log(&info);
        deliver_reply_set(rp, i, DELIVER_SENT, code.data, text.data, "none");
    }
    str_release(&code);
    str_release(&text);
}

static int serve(struct stream *client, const char *service)
{
    (void)service;
    deliver_agent_serve(client, (int)config_get_time("ipc_timeout"), deliver, NULL);
    return SERVER_CLOSE;
}

static const struct server_ops ops = {.shape = SERVER_SINGLE, .serve = serve};

int main(int argc, char **argv)
{
    return server_main(argc, argv, &ops);
}
