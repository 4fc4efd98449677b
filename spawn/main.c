/* spawn: the spawn service (Postfix spawn(8) compatible): for each client connection on its
 * unix or inet listener it runs the argv= command as user= with the connection as standard
 * input and output, within <service>_time_limit, and logs abnormal exits. */
#include "spawn.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/params.h"
#include "service/server.h"

#include <unistd.h>

static struct spawn_attr attr;
static long time_limit_ms;

static void spawn_pre_init(const char *service)
{
    int argc;
    char **argv = server_service_args(&argc);
    struct str err = STR_INIT, name = STR_INIT;
    if (spawn_args_parse(argc, argv, geteuid() == 0, &attr, &err) < 0)
        msg_fatal("service %s: %s", service, err.data);
    str_setf(&name, "%s_time_limit", service);
    if (param_lookup(name.data) == NULL)
        param_register(name.data, PARAM_TIME, "$command_time_limit", 's');
    time_limit_ms = config_get_time(name.data) * 1000;
    str_release(&err);
    str_release(&name);
}

static int spawn_serve(struct stream *client, const char *service)
{
    (void)service;
    struct spawn_result res;
    struct str why = STR_INIT;
    stream_flush(client);
    int fd = stream_fd(client);
    /* A stand-alone run (-S) reads stdin and writes stdout; a listener's client is one socket. */
    if (spawn_run(&attr, fd, fd == 0 ? 1 : fd, time_limit_ms, &res, &why) < 0)
        msg_warn("command %s: %s", attr.argv->v[0], why.data);
    else
        spawn_log_result(attr.argv->v[0], &res);
    str_release(&why);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = spawn_pre_init,
        .serve = spawn_serve,
    };
    return server_main(argc, argv, &ops);
}
