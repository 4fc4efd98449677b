/* cleanup: the cleanup daemon (Postfix's cleanup(8)). Every message enters the queue here:
 * clients (pickup, smtpd, bounce, local) stream envelope and content records over
 * public/cleanup; cleanup validates, rewrites and checks them, writes the queue file into
 * incoming/, and wakes the queue manager. */
#include "cleanup.h"

#include "service/server.h"

static void cleanup_pre_init(const char *service)
{
    (void)service;
    cleanup_config_load();
}

static int cleanup_serve(struct stream *client, const char *service)
{
    (void)service;
    cleanup_session(client);
    return SERVER_CLOSE;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = cleanup_pre_init,
        .serve = cleanup_serve,
    };
    return server_main(argc, argv, &ops);
}
