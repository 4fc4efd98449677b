/* smtp: the SMTP/LMTP delivery agent (Postfix smtp(8)/lmtp(8)). master.cf runs it as smtp,
 * relay and lmtp; it speaks LMTP when the service is called "lmtp" or the program name says
 * so. Requests come from qmgr through deliver_agent_serve(); sessions stay cached between
 * requests (smtp_cache.c). */
#include "base/log.h"
#include "mail/config.h"
#include "mail/deliver_request.h"
#include "service/server.h"
#include "smtp.h"

#include <string.h>

static int lmtp_mode;

static void post_init(const char *service)
{
    int lmtp = lmtp_mode || strcmp(service, "lmtp") == 0;
    if (lmtp)
        log_init("lmtp"); /* Postfix's lmtp logs as postfix/lmtp */
    smtp_settings_load(lmtp);
}

static int serve(struct stream *client, const char *service)
{
    (void)service;
    deliver_agent_serve(client, (int)config_get_time("ipc_timeout"), smtp_deliver, NULL);
    return SERVER_CLOSE;
}

static const struct server_ops ops = {
    .shape = SERVER_SINGLE, .post_init = post_init, .serve = serve, .pre_exit = smtp_cache_flush};

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    lmtp_mode = strstr(base ? base + 1 : argv[0], "lmtp") != NULL;
    return server_main(argc, argv, &ops);
}
