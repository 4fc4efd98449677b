/* bounce_client: qmgr's requests to the bounce service (private/bounce): op=flush sends the
 * non-delivery notice for bounce/<id>, op=warn the delay notice for defer/<id>. The request
 * is synchronous with a deadline (BOUNCE_DEADLINE): the bounce service only reads two files and
 * submits one message through cleanup. */
#include "qmgr.h"

#include "base/attr_io.h"
#include "base/net.h"
#include "mail/config.h"

#include <string.h>

#define BOUNCE_DEADLINE_MS (100 * 1000)
#define BOUNCE_PROTOCOL "bounce"

int qmgr_notify_2bounce(void)
{
    const char *v = config_get("notify_classes");
    struct argv *w = argv_split(v ? v : "", ", \t\r\n");
    int found = 0;
    for (size_t i = 0; i < w->n && !found; i++)
        found = strcmp(w->v[i], "2bounce") == 0;
    argv_free(w);
    return found;
}

int qmgr_bounce_request(const char *op, struct qmsg *m, struct str *why)
{
    int fd = net_connect_unix("private/bounce", 10000, why);
    if (fd < 0)
        return -1;
    struct stream *s = stream_fdopen(fd);
    stream_set_deadline(s, deadline_after_ms(BOUNCE_DEADLINE_MS));
    struct attr_list *a = attr_list_new();
    const char *envid = queue_envelope_attr(&m->env, "dsn_envid");
    const char *ret = queue_envelope_attr(&m->env, "dsn_ret");
    attr_add(a, "op", op);
    attr_add(a, "queue_name", "active");
    attr_add(a, "queue_id", m->id);
    attr_add(a, "sender", m->env.sender);
    attr_add(a, "dsn_envid", envid ? envid : "");
    attr_add(a, "dsn_ret", ret ? ret : "");
    int rc = -1;
    if (attr_expect_protocol(s, BOUNCE_PROTOCOL, why) < 0)
        ;
    else if (attr_send(s, a) < 0)
        str_set(why, "cannot send request");
    else if (attr_recv(s, a, &attr_default_limits, why) < 0)
        ;
    else if (attr_get(a, "status") == NULL || strcmp(attr_get(a, "status"), "0") != 0)
        str_setf(why, "status %s", attr_get(a, "status") ? attr_get(a, "status") : "missing");
    else
        rc = 0;
    attr_list_free(a);
    stream_close(s);
    return rc;
}
