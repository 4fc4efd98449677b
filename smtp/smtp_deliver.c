/* smtp_deliver: one delivery request. Opens and validates the queue file, rewrites the
 * envelope with smtp_generic_maps, takes a cached session for the destination or walks the
 * server list (MX or host addresses, smtp_mx_session_limit, then smtp_fallback_relay), runs
 * the transaction, logs one Postfix-style line per recipient and fills qmgr's reply. */
#include "smtp.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "mail/config.h"
#include "mail/deliver_log.h"
#include "mail/maps.h"
#include "mail/queue_file.h"
#include "mail/queue_record.h"
#include "table/table.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct smtp_settings smtp_cfg;

const char *smtp_param(const char *name)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s_%s", smtp_cfg.prefix, name);
    const char *v = config_get(buf);
    if (!v) {
        snprintf(buf, sizeof buf, "smtp_%s", name);
        v = config_get(buf);
    }
    return v ? v : "";
}

static long param_time(const char *name)
{
    long v = 0;
    config_parse_time(smtp_param(name), 's', &v);
    return v;
}

static int param_bool(const char *name)
{
    int v = 0;
    config_parse_bool(smtp_param(name), &v);
    return v;
}

static long param_int(const char *name)
{
    long v = 0;
    config_parse_int(smtp_param(name), &v);
    return v;
}

void smtp_settings_load(int lmtp)
{
    struct smtp_settings *c = &smtp_cfg;
    c->lmtp = lmtp;
    c->prefix = lmtp ? "lmtp" : "smtp";
    c->connect_timeout = (int)param_time("connect_timeout");
    c->helo_timeout = (int)param_time(lmtp ? "lhlo_timeout" : "helo_timeout");
    c->mail_timeout = (int)param_time("mail_timeout");
    c->rcpt_timeout = (int)param_time("rcpt_timeout");
    c->data_init_timeout = (int)param_time("data_init_timeout");
    c->data_xfer_timeout = (int)param_time("data_xfer_timeout");
    c->data_done_timeout = (int)param_time("data_done_timeout");
    c->quit_timeout = (int)param_time("quit_timeout");
    c->rset_timeout = (int)param_time("rset_timeout");
    c->xforward_timeout = (int)param_time("xforward_timeout");
    c->never_ehlo = !lmtp && param_bool("never_send_ehlo");
    c->always_ehlo = !lmtp && param_bool("always_send_ehlo");
    c->skip_5xx_greeting = param_bool("skip_5xx_greeting");
    c->skip_quit_response = param_bool("skip_quit_response");
    c->line_limit = param_int("line_length_limit");
    c->helo_name = smtp_param(lmtp ? "lhlo_name" : "helo_name");
    c->discard_ehlo = smtp_param(lmtp ? "discard_lhlo_keywords" : "discard_ehlo_keywords");
    c->mx_address_limit = param_int("mx_address_limit");
    c->mx_session_limit = param_int("mx_session_limit");
    c->cache_on_demand = param_bool("connection_cache_on_demand");
    c->cache_destinations = smtp_param("connection_cache_destinations");
    c->cache_time_limit = param_time("connection_cache_time_limit");
    c->reuse_time_limit = param_time("connection_reuse_time_limit");
    c->reuse_count_limit = param_int("connection_reuse_count_limit");
    c->starttls_timeout = (int)param_time("starttls_timeout");
    c->tls_wrappermode = param_bool("tls_wrappermode");
    c->send_xforward = param_bool("send_xforward_command");
    c->sasl_enable = param_bool("sasl_auth_enable");
    c->sasl_soft_bounce = param_bool("sasl_auth_soft_bounce");
    c->sender_auth = !lmtp && param_bool("sender_dependent_authentication");
}

/* ---- the message ------------------------------------------------------------------------ */

static struct maps *generic_maps(void)
{
    static struct maps *m;
    static int tried;
    if (!tried) {
        tried = 1;
        const char *v = smtp_param("generic_maps");
        if (*v) {
            char name[64];
            snprintf(name, sizeof name, "%s_generic_maps", smtp_cfg.prefix);
            m = maps_open(name, v, TABLE_FLAG_FOLD_KEY);
        }
    }
    return m;
}

static char *rewrite(const char *addr)
{
    struct maps *m = generic_maps();
    if (!m || !*addr)
        return xstrdup(addr);
    struct maps_addr_opts o = {0};
    o.style = MAPS_STYLE_VIRTUAL;
    o.ext.delimiters = config_get("recipient_delimiter");
    struct str v = STR_INIT, key = STR_INIT;
    char *out =
        maps_find_address(m, addr, &o, &v, &key) == TABLE_FOUND ? str_steal(&v) : xstrdup(addr);
    str_release(&v);
    str_release(&key);
    return out;
}

static int content_8bit(int fd, const struct queue_envelope *env)
{
    struct rec_reader *rd = xmalloc(sizeof *rd);
    struct str data = STR_INIT;
    int t, eight = 0;
    queue_content_open(rd, fd, env);
    while (!eight && (t = queue_content_get(rd, &data, 65536)) > 0)
        for (size_t i = 0; i < data.len && !eight; i++)
            eight = (unsigned char)data.data[i] >= 0x80;
    rec_reader_release(rd);
    free(rd);
    str_release(&data);
    return eight;
}

/* ---- one attempt over the server list ---------------------------------------------------- */

struct attempt {
    const struct deliver_request *rq;
    struct smtp_message *m;
    struct smtp_rcpt_result *res;
    char **relay; /* per recipient */
    struct smtp_fail last;
    char *last_relay; /* the server of the last failure after connecting (else "none") */
    const char *key;
    double t0, conn_time;
};

static int pending(const struct attempt *a)
{
    for (size_t i = 0; i < a->rq->nrcpt; i++)
        if (a->res[i].status == 0)
            return 1;
    return 0;
}

static void note_relay(struct attempt *a, const char *relay, const int *before)
{
    for (size_t i = 0; i < a->rq->nrcpt; i++)
        if (!before[i] && a->res[i].status) {
            free(a->relay[i]);
            a->relay[i] = xstrdup(relay);
        }
}

/* Delivers over ss; returns 0 when the session worked (it is cached or closed). */
static int run_session(struct attempt *a, struct smtp_session *ss)
{
    int *before = xmalloc((a->rq->nrcpt + 1) * sizeof *before);
    for (size_t i = 0; i < a->rq->nrcpt; i++)
        before[i] = a->res[i].status;
    a->conn_time = deliver_log_now() - a->t0;
    smtp_session_deliver(ss, a->m, a->res, &a->last);
    note_relay(a, ss->relay, before);
    free(before);
    if (a->last.status) {
        smtp_session_close(ss, 0);
        return -1;
    }
    if (!ss->key)
        ss->key = xstrdup(a->key);
    smtp_cache_put(ss, a->rq->nexthop);
    return 0;
}

static void try_dest(struct attempt *a, const char *nexthop)
{
    struct smtp_dest d;
    struct smtp_targets t = {0};
    struct str err = STR_INIT;
    const char *port = smtp_param("tcp_port");
    if (smtp_dest_parse(nexthop, smtp_cfg.lmtp, *port ? port : smtp_cfg.prefix, &d, &err) < 0) {
        smtp_fail_set(&a->last, 4, "4.3.5", "%s", err.data);
        str_release(&err);
        return;
    }
    int rc = smtp_dest_targets(&d, &t, &a->last.dsn, &a->last.reason);
    if (rc) {
        a->last.status = rc;
        if (rc == 5) {
            for (size_t i = 0; i < a->rq->nrcpt; i++)
                if (a->res[i].status == 0)
                    a->res[i].status = 5, str_set(&a->res[i].dsn, a->last.dsn.data),
                    str_set(&a->res[i].reason, a->last.reason.data);
        }
    }
    long sessions = 0;
    for (size_t i = 0; rc == 0 && i < t.n && pending(a); i++) {
        int fd = smtp_connect_target(&t.v[i], smtp_cfg.connect_timeout, &err);
        if (fd < 0) {
            smtp_fail_set(&a->last, 4, "4.4.1", "%s", err.data);
            free(a->last_relay);
            a->last_relay = NULL;
            continue;
        }
        struct smtp_conn cx = {nexthop, d.host ? d.host : "", a->rq->sender, 0};
        struct smtp_session *ss = smtp_session_open(fd, &t.v[i], &cx, &a->last);
        if (!ss && a->last.plain_retry) { /* STARTTLS failed at level may: again without */
            a->last.plain_retry = 0;
            cx.plaintext = 1;
            fd = smtp_connect_target(&t.v[i], smtp_cfg.connect_timeout, &err);
            if (fd >= 0)
                ss = smtp_session_open(fd, &t.v[i], &cx, &a->last);
            else
                smtp_fail_set(&a->last, 4, "4.4.1", "%s", err.data);
        }
        sessions++;
        free(a->last_relay);
        a->last_relay = NULL;
        if (!ss && fd >= 0 && a->last.status) { /* the server failed us after connecting */
            struct str r = STR_INIT;
            str_setf(&r, t.v[i].port[0] ? "%s[%s]:%s" : "%s[%s]", t.v[i].host, t.v[i].addr,
                     t.v[i].port);
            a->last_relay = str_steal(&r);
        }
        if (ss)
            run_session(a, ss);
        else if (a->last.status == 5)
            break;
        if (smtp_cfg.mx_session_limit > 0 && sessions >= smtp_cfg.mx_session_limit)
            break;
    }
    smtp_targets_release(&t);
    smtp_dest_release(&d);
    str_release(&err);
}

/* ---- the request ------------------------------------------------------------------------ */

static void report(const struct deliver_request *rq, struct deliver_reply *rp, struct attempt *a)
{
    static const enum deliver_status st[6] = {DELIVER_DEFERRED, DELIVER_DEFERRED, DELIVER_SENT,
                                              DELIVER_DEFERRED, DELIVER_DEFERRED, DELIVER_BOUNCED};
    for (size_t i = 0; i < rq->nrcpt; i++) {
        struct smtp_rcpt_result *r = &a->res[i];
        if (r->status == 0) {
            if (a->last.status == 0)
                smtp_fail_set(&a->last, 4, "4.4.0", "no usable server for %s", rq->nexthop);
            r->status = a->last.status == 5 ? 5 : 4;
            str_set(&r->dsn, a->last.dsn.data);
            str_set(&r->reason, a->last.reason.data);
            if (!a->relay[i] && a->last_relay)
                a->relay[i] = xstrdup(a->last_relay);
        }
        enum deliver_status s = st[r->status];
        const char *relay = a->relay[i] ? a->relay[i] : "none";
        struct deliver_log_info info = {
            rq->queue_id,    rq->rcpts[i].address,   rq->rcpts[i].orig, relay,
            r->dsn.data,     deliver_status_name(s), r->reason.data,    rq->arrival_time,
            rq->queue_delay, rq->active_time,        a->conn_time};
        deliver_log(&info);
        deliver_reply_set(rp, i, s, r->dsn.data, r->reason.data, relay);
    }
}

static int open_message(const struct deliver_request *rq, struct queue_envelope *env,
                        struct str *err)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", rq->queue_name, rq->queue_id);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        str_setf(err, "open %s: %m", path.data);
    else if (queue_file_read_envelope(fd, 1 << 20, env, err) < 0) {
        close(fd);
        fd = -1;
    }
    str_release(&path);
    return fd;
}

void smtp_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    (void)ctx;
    struct queue_envelope env;
    memset(&env, 0, sizeof env);
    struct attempt a = {rq,
                        NULL,
                        xmalloc(rq->nrcpt * sizeof *a.res),
                        xmalloc(rq->nrcpt * sizeof(char *)),
                        {0, STR_INIT, STR_INIT, 0},
                        NULL,
                        NULL,
                        deliver_log_now(),
                        0};
    for (size_t i = 0; i < rq->nrcpt; i++) {
        a.res[i] = (struct smtp_rcpt_result){0, STR_INIT, STR_INIT};
        a.relay[i] = NULL;
    }
    struct str err = STR_INIT, key = STR_INIT;
    char **rcpts = xmalloc((rq->nrcpt + 1) * sizeof *rcpts);
    char *sender = rewrite(rq->sender);
    int smtputf8 = address_is_non_ascii(rq->sender, strlen(rq->sender));
    for (size_t i = 0; i < rq->nrcpt; i++) {
        rcpts[i] = rewrite(rq->rcpts[i].address);
        smtputf8 |= address_is_non_ascii(rq->rcpts[i].address, strlen(rq->rcpts[i].address));
    }
    int fd = open_message(rq, &env, &err);
    if (fd < 0) {
        msg_warn("%s: %s", rq->queue_id, err.data);
        smtp_fail_set(&a.last, 4, "4.3.0", "error reading queue file");
    } else {
        struct smtp_message m = {
            rq, sender, rcpts, fd, &env, env.content_bytes, content_8bit(fd, &env), smtputf8};
        a.m = &m;
        str_setf(&key, "%s:%s", rq->transport, rq->nexthop);
        smtp_security_cache_key(rq->sender, &key);
        a.key = key.data;
        struct smtp_session *ss = smtp_cache_get(key.data);
        if (ss)
            run_session(&a, ss);
        if (pending(&a))
            try_dest(&a, rq->nexthop);
        struct argv *fb = argv_split(smtp_cfg.lmtp ? "" : smtp_param("fallback_relay"), ", \t\r\n");
        for (size_t i = 0; i < fb->n && pending(&a) && a.last.status != 5; i++)
            try_dest(&a, fb->v[i]);
        argv_free(fb);
        close(fd);
        queue_envelope_release(&env);
    }
    report(rq, rp, &a);
    for (size_t i = 0; i < rq->nrcpt; i++) {
        str_release(&a.res[i].dsn);
        str_release(&a.res[i].reason);
        free(a.relay[i]);
        free(rcpts[i]);
    }
    free(a.res);
    free(a.relay);
    free(rcpts);
    free(sender);
    free(a.last_relay);
    str_release(&a.last.dsn);
    str_release(&a.last.reason);
    str_release(&err);
    str_release(&key);
}
