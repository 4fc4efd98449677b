/* qmgr: the queue manager daemon (SERVER_TRIGGER, long-running). Triggers on public/qmgr:
 * I scans incoming/, D scans deferred/, F makes every deferred message eligible now, W is
 * master's wake-up. Its own timers scan deferred/ every queue_run_delay. */
#include "qmgr.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/qmgr_trigger.h"
#include "service/server.h"

#include <stdlib.h>
#include <string.h>

static long get_time_or(const char *name, long def)
{
    return config_get(name) ? config_get_time(name) : def;
}

static void load_config(void)
{
    qmgr_cfg.layout.queue_directory = ".";
    qmgr_cfg.hash_names = xstrdup(config_get("hash_queue_names"));
    qmgr_cfg.layout.hash_queue_names = qmgr_cfg.hash_names;
    qmgr_cfg.layout.hash_queue_depth = (int)config_get_int("hash_queue_depth");
    qmgr_cfg.layout.long_queue_ids = config_get_bool("enable_long_queue_ids");
    qmgr_cfg.queue_run_delay = get_time_or("queue_run_delay", 300);
    qmgr_cfg.min_backoff = get_time_or("minimal_backoff_time", 300);
    qmgr_cfg.max_backoff = get_time_or("maximal_backoff_time", 4000);
    qmgr_cfg.max_lifetime = get_time_or("maximal_queue_lifetime", 5 * 86400);
    qmgr_cfg.bounce_lifetime = get_time_or("bounce_queue_lifetime", 5 * 86400);
    qmgr_cfg.delay_warning = get_time_or("delay_warning_time", 0);
    qmgr_cfg.ipc_timeout = get_time_or("ipc_timeout", 3600);
    qmgr_cfg.agent_timeout = get_time_or("daemon_timeout", 18000);
    qmgr_cfg.active_limit = config_get("qmgr_message_active_limit")
                                ? config_get_int("qmgr_message_active_limit")
                                : QMGR_DEFAULT_ACTIVE_LIMIT;
    if (qmgr_cfg.active_limit <= 0)
        qmgr_cfg.active_limit = QMGR_DEFAULT_ACTIVE_LIMIT;
    qmgr_cfg.initial_concurrency = (int)config_get_int("initial_destination_concurrency");
    if (qmgr_cfg.initial_concurrency < 1)
        qmgr_cfg.initial_concurrency = 1;
    if (qmgr_cfg.queue_run_delay < 1)
        qmgr_cfg.queue_run_delay = 1;
}

static void deferred_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    qmgr_scan("incoming", 0);
    qmgr_scan("deferred", 0);
}

static void post_init(const char *service)
{
    (void)service;
    load_config();
    qmgr_transport_init();
    qmgr_recover_active();
    long ms = qmgr_cfg.queue_run_delay * 1000;
    event_timer_add(server_event_loop(), 0, 0, deferred_timer, NULL);
    event_timer_add(server_event_loop(), ms, ms, deferred_timer, NULL);
}

static void trigger(const char *data, size_t len, const char *service)
{
    (void)service;
    int incoming = 0, deferred = 0, flush = 0;
    for (size_t i = 0; i < len; i++) {
        switch (data[i]) {
        case QMGR_REQ_SCAN_INCOMING:
        case QMGR_REQ_WAKEUP:
            incoming = 1;
            break;
        case QMGR_REQ_SCAN_DEFERRED:
            deferred = 1;
            break;
        case QMGR_REQ_FLUSH:
            flush = deferred = incoming = 1;
            break;
        default:
            break;
        }
    }
    if (incoming)
        qmgr_scan("incoming", 0);
    if (deferred)
        qmgr_scan("deferred", flush);
}

static const struct server_ops ops = {
    .shape = SERVER_TRIGGER,
    .post_init = post_init,
    .trigger = trigger,
    .max_idle = -1,
};

int main(int argc, char **argv)
{
    return server_main(argc, argv, &ops);
}
