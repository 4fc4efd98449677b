/* pipe: the pipe delivery agent (Postfix pipe(8) compatible): delivers each request to an
 * external command given by the master.cf attributes flags=, user=, argv=, size=, eol=,
 * directory= and null_sender=, with the transport's time limit. */
#include "pipe.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/params.h"
#include "service/server.h"

#include <stdio.h>
#include <unistd.h>

static struct pipe_config cfg;
static struct str time_limit_name = STR_INIT;

static void pipe_pre_init(const char *service)
{
    int argc;
    char **argv = server_service_args(&argc);
    struct str err = STR_INIT;
    if (pipe_args_parse(argc, argv, geteuid() == 0, &cfg.attr, &err) < 0)
        msg_fatal("service %s: %s", service, err.data);
    str_release(&err);
    cfg.service = service;
    cfg.delimiters = config_get("recipient_delimiter");
    cfg.export_environment = config_get("export_environment");
    cfg.hash_names = config_get("hash_queue_names");
    cfg.depth = (int)config_get_int("hash_queue_depth");
    str_setf(&time_limit_name, "%s_time_limit", service);
    if (param_lookup(time_limit_name.data) == NULL)
        param_register(time_limit_name.data, PARAM_TIME, "$command_time_limit", 's');
    cfg.time_limit_ms = config_get_time(time_limit_name.data) * 1000;
}

static int pipe_serve(struct stream *client, const char *service)
{
    (void)service;
    return deliver_agent_serve(client, 300, pipe_deliver, &cfg);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = pipe_pre_init,
        .serve = pipe_serve,
    };
    return server_main(argc, argv, &ops);
}
