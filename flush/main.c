/* flush: the flush service (Postfix's flush(8)) on public/flush. smtpd's ETRN, postqueue -s
 * and -i (sendmail -qR, -qI) ask it to deliver the deferred mail of one site, or one message,
 * now: it requeues them into incoming/ and wakes the queue manager. A site must be in
 * fast_flush_domains (default $relay_domains), as in Postfix. */
#include "flush.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "mail/config.h"
#include "mail/flush_client.h"
#include "mail/maildrop.h"
#include "mail/match_list.h"
#include "mail/qmgr_trigger.h"
#include "mail/queue_id.h"
#include "mail/queue_scan.h"
#include "service/server.h"

#include <string.h>

static struct queue_naming layout;
static struct match_list *fast_flush_domains;

static void flush_pre_init(const char *service)
{
    (void)service;
    struct str err = STR_INIT;
    queue_scan_layout(&layout);
    fast_flush_domains = match_list_create("fast_flush_domains", config_get("fast_flush_domains"),
                                           MATCH_KIND_DOMAIN, 0, &err);
    if (fast_flush_domains == NULL)
        msg_warn("%s -- no site can be flushed", err.data);
    str_release(&err);
}

static void wake_qmgr(void)
{
    struct str why = STR_INIT;
    char req = QMGR_REQ_SCAN_INCOMING;
    if (mail_trigger(QMGR_TRIGGER_ENDPOINT, &req, 1, (int)config_get_time("trigger_timeout"),
                     &why) < 0)
        msg_warn("cannot wake the queue manager: %s", why.data);
    str_release(&why);
}

static int valid_site(const char *site)
{
    size_t n = strlen(site);
    return n > 0 && n <= 255 &&
           strspn(site, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:") ==
               n;
}

static int send_site(const char *site)
{
    if (!valid_site(site))
        return FLUSH_STAT_BAD;
    int m = fast_flush_domains ? match_list_match(fast_flush_domains, site, NULL) : MATCH_ERROR;
    if (m == MATCH_ERROR)
        return FLUSH_STAT_FAIL;
    if (m == MATCH_NO)
        return FLUSH_STAT_DENY;
    long n = flush_site(&layout, site);
    if (msg_verbose || n)
        msg_info("flush site %s: %ld message%s requeued", site, n, n == 1 ? "" : "s");
    if (n)
        wake_qmgr();
    return FLUSH_STAT_OK;
}

static int send_file(const char *id)
{
    if (!queue_id_valid(id))
        return FLUSH_STAT_BAD;
    if (flush_file(&layout, id))
        wake_qmgr();
    return FLUSH_STAT_OK;
}

static int flush_serve(struct stream *client, const char *service)
{
    (void)service;
    static const char *const allowed[] = {"request", "site", "queue_id", NULL};
    static const char *const required[] = {"request", NULL};
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT;
    int status = FLUSH_STAT_BAD;
    stream_set_timeout(client, (int)config_get_time("ipc_timeout"));
    if (attr_send_protocol(client, "flush") == 0 &&
        attr_recv(client, a, &attr_default_limits, &err) == 0 &&
        attr_check(a, allowed, required, &err) == 0) {
        const char *req = attr_get(a, "request"), *site = attr_get(a, "site"),
                   *id = attr_get(a, "queue_id");
        if (strcmp(req, "send_site") == 0 && site)
            status = send_site(site);
        else if (strcmp(req, "send_file") == 0 && id)
            status = send_file(id);
        else if (strcmp(req, "refresh") == 0 || strcmp(req, "purge") == 0)
            status = FLUSH_STAT_OK; /* nothing to maintain: the deferred queue is scanned */
    } else if (err.len && strcmp(err.data, "lost connection") != 0)
        msg_warn("flush: bad request: %s", err.data);
    attr_list_clear(a);
    attr_add_long(a, "status", status);
    attr_send(client, a);
    attr_list_free(a);
    str_release(&err);
    return SERVER_CLOSE;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .shape = SERVER_SINGLE,
        .pre_init = flush_pre_init,
        .serve = flush_serve,
    };
    return server_main(argc, argv, &ops);
}
