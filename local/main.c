/* local: the local delivery agent (Postfix local(8) compatible). It serves delivery requests
 * from qmgr over the attribute protocol and delivers to mailboxes, maildirs, commands and
 * files, with alias, :include: and .forward expansion. */
#include "local.h"

#include "mail/deliver_request.h"
#include "mail/config.h"
#include "service/server.h"

static struct local_params params;

static void local_pre_init(const char *service)
{
    (void)service;
    local_params_load(&params);
}

static int local_serve_client(struct stream *client, const char *service)
{
    (void)service;
    struct local_ctx ctx = {.p = &params,
                            .hash_names = config_get("hash_queue_names"),
                            .depth = (int)config_get_int("hash_queue_depth")};
    return deliver_agent_serve(client, 300, local_deliver_request, &ctx);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = local_pre_init,
        .serve = local_serve_client,
    };
    return server_main(argc, argv, &ops);
}
