/* error: the delivery agent of the error: transport. Every recipient is bounced with the next
 * hop text ("error:5.1.1 User unknown" bounces with dsn 5.1.1, plain text with 5.0.0); when
 * the service is called "retry" (master.cf) the recipients are deferred instead (4.0.0). */
#include "base/log.h"
#include "mail/config.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"
#include "mail/dsn.h"
#include "service/server.h"

#include <string.h>

static void deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    (void)ctx;
    int retry = strcmp(server_service_name(), "retry") == 0;
    struct str code = STR_INIT, text = STR_INIT;
    dsn_split(rq->nexthop, retry ? "4.0.0" : "5.0.0", &code, &text);
    if (text.len == 0)
        str_set(&text, retry ? "delivery temporarily suspended" : "mail is undeliverable");
    if (retry && code.data[0] == '5')
        code.data[0] = '4';
    if (!retry && code.data[0] != '5')
        code.data[0] = '5';
    for (size_t i = 0; i < rq->nrcpt; i++) {
        struct deliver_log_info info = {rq->queue_id,
                                        rq->rcpts[i].address,
                                        rq->rcpts[i].orig,
                                        "none",
                                        code.data,
                                        retry ? "deferred" : "bounced",
                                        text.data,
                                        rq->arrival_time,
                                        rq->queue_delay,
                                        rq->active_time,
                                        0};
        deliver_log(&info);
        deliver_reply_set(rp, i, retry ? DELIVER_DEFERRED : DELIVER_BOUNCED, code.data, text.data,
                          "none");
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
