/* anvil: the connection and rate counting service (master.cf "anvil unix - - n - 1 anvil",
 * socket private/anvil). A SERVER_MULTI daemon: each readable client sends one request list
 * and gets one reply list; statistics are logged every anvil_status_update_time and on exit. */
#include <time.h>

#include "anvil.h"
#include "base/attr_io.h"
#include "base/log.h"
#include "mail/config.h"
#include "service/server.h"

#define ANVIL_READ_TIMEOUT 10

static struct anvil_table *table;

static int anvil_serve(struct stream *client, const char *service)
{
    (void)service;
    struct attr_list *req = attr_list_new(), *rep = attr_list_new();
    struct str err = STR_INIT;
    static const struct attr_limits lim = {1024, 8};
    int rc = SERVER_CLOSE;
    stream_set_timeout(client, ANVIL_READ_TIMEOUT);
    if (attr_recv(client, req, &lim, &err) == 0) {
        anvil_handle(table, req, rep, time(NULL));
        if (attr_send(client, rep) == 0 && attr_get(rep, "status")[0] == '0')
            rc = SERVER_KEEP;
    }
    attr_list_free(req);
    attr_list_free(rep);
    str_release(&err);
    return rc;
}

static void anvil_status_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    time_t now = time(NULL);
    anvil_table_log_stats(table, now);
    anvil_table_expire(table, now);
}

static void anvil_post_init(const char *service)
{
    (void)service;
    table = anvil_table_new(config_get_time("anvil_rate_time_unit"));
    long every = config_get_time("anvil_status_update_time");
    if (every <= 0)
        every = 600;
    event_timer_add(server_event_loop(), every * 1000, every * 1000, anvil_status_timer, NULL);
}

static void anvil_pre_exit(void)
{
    anvil_table_log_stats(table, time(NULL));
    anvil_table_free(table);
    table = NULL;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_MULTI,
        .post_init = anvil_post_init,
        .serve = anvil_serve,
        .pre_exit = anvil_pre_exit,
        .max_idle = -1,
    };
    return server_main(argc, argv, &ops);
}
