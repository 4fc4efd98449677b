/* virtual: the virtual delivery agent (Postfix virtual(8) compatible): mailboxes of hosted
 * domains without system accounts, below virtual_mailbox_base, owned by the uid/gid that
 * virtual_uid_maps and virtual_gid_maps give. */
#include "virtual.h"

#include "base/lock.h"
#include "base/log.h"
#include "mail/config.h"
#include "service/server.h"
#include "table/table.h"

#include <unistd.h>

static struct virtual_params params;

void virtual_params_load(struct virtual_params *p)
{
    struct str why = STR_INIT;
    p->mailbox_base = config_get("virtual_mailbox_base");
    p->mailbox_maps =
        maps_open("virtual_mailbox_maps", config_get("virtual_mailbox_maps"), TABLE_FLAG_FOLD_KEY);
    p->uid_maps =
        maps_open("virtual_uid_maps", config_get("virtual_uid_maps"), TABLE_FLAG_FOLD_KEY);
    p->gid_maps =
        maps_open("virtual_gid_maps", config_get("virtual_gid_maps"), TABLE_FLAG_FOLD_KEY);
    p->minimum_uid = config_get_int("virtual_minimum_uid");
    /* In an unprivileged sandbox every mailbox is written as the current user, so the uid
     * from the maps is not used and not checked. */
    p->check_uid = geteuid() == 0;
    p->delimiters = config_get("recipient_delimiter");
    p->mailbox.myhostname = config_get("myhostname");
    p->mailbox.lock_methods = lock_parse_methods(config_get("virtual_mailbox_lock"), &why);
    if (p->mailbox.lock_methods < 0)
        msg_fatal("virtual_mailbox_lock: %s", str_cstr(&why));
    p->mailbox.lock_timeout_ms =
        config_get_int("deliver_lock_attempts") * config_get_time("deliver_lock_delay") * 1000;
    p->mailbox.stale_lock_time = (int)config_get_time("stale_lock_time");
    p->mailbox.size_limit = (long)config_get_size("virtual_mailbox_limit");
    p->hash_names = config_get("hash_queue_names");
    p->depth = (int)config_get_int("hash_queue_depth");
    str_release(&why);
}

static void virtual_pre_init(const char *service)
{
    (void)service;
    virtual_params_load(&params);
}

static int virtual_serve(struct stream *client, const char *service)
{
    (void)service;
    return deliver_agent_serve(client, 300, virtual_deliver, &params);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = virtual_pre_init,
        .serve = virtual_serve,
    };
    return server_main(argc, argv, &ops);
}
