/* smtpd_txn: hands a message to the cleanup service. The connection opens at the first
 * accepted RCPT (smtpd_delay_open_until_valid_rcpt = yes, Postfix's default) or at MAIL, so
 * the queue ID exists for the "<ID>: client=name[addr]" line; the envelope (F, A records,
 * per recipient D/N/R) is sent when the content starts, after the access-control actions
 * (REDIRECT, BCC, PREPEND, HOLD, DISCARD) are known; then the Received header, the content,
 * and the 250 only once cleanup reports the queue file durable. Any other end aborts. */
#include "smtpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/cleanup_client.h"
#include "mail/config.h"
#include "mail/milter.h"
#include "mail/receive_override.h"
#include "mail/queue_record.h"
#include "smtpd_proxy.h"

#define CLEANUP_ENDPOINT "public/cleanup"

static int open_flags(const struct smtpd_state *st)
{
    /* CLEANUP_FLAG_MILTER is for non_smtpd_milters: never for SMTP mail */
    int flags = receive_override_flags(CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER);
    if (st->ctx.actions.hold)
        flags |= CLEANUP_FLAG_HOLD;
    if (st->ctx.actions.discard)
        flags |= CLEANUP_FLAG_DISCARD;
    return flags;
}

static void log_client(struct smtpd_state *st);

int smtpd_txn_open(struct smtpd_state *st)
{
    struct str why = STR_INIT;
    if (st->cl || st->proxy)
        return 0;
    str_clear(&st->queue_id);
    if (smtpd_proxy_enabled()) { /* smtpd_proxy.c: the before-queue filter instead of cleanup */
        if (smtpd_proxy_open(st) < 0)
            return -1;
        log_client(st);
        return 0;
    }
    int fds[MILTER_HANDOVER_MAX];
    size_t nfds = smtpd_milter_fds(st, fds, MILTER_HANDOVER_MAX);
    if (st->milters)
        st->cl = cleanup_open_milters(CLEANUP_ENDPOINT, open_flags(st), (int)smtpd_conf.timeout,
                                      fds, nfds, &st->queue_id, &why);
    else
        st->cl = cleanup_open(CLEANUP_ENDPOINT, open_flags(st), (int)smtpd_conf.timeout,
                              &st->queue_id, &why);
    if (!st->cl) {
        msg_warn("cannot open cleanup service: %s", str_cstr(&why));
        smtpd_reply(st, "451 4.3.0 Error: queue file write error");
        str_clear(&st->queue_id);
        str_release(&why);
        return -1;
    }
    str_release(&why);
    st->ctx.queue_id = st->queue_id.data;
    log_client(st);
    return 0;
}

/* "<ID>: client=name[addr]" (NOQUEUE with a before-queue filter), with the SASL login. */
static void log_client(struct smtpd_state *st)
{
    struct str m = STR_INIT;
    str_appendf(&m, "%s: client=%s", st->queue_id.len ? st->queue_id.data : "NOQUEUE", st->namaddr);
    if (st->sasl_method)
        str_appendf(&m, ", sasl_method=%s", st->sasl_method);
    if (st->sasl_username) {
        str_append(&m, ", sasl_username=");
        smtpd_sanitize(st->sasl_username, strlen(st->sasl_username), &m);
    }
    if (st->sasl_sender) {
        str_append(&m, ", sasl_sender=");
        smtpd_sanitize(st->sasl_sender, strlen(st->sasl_sender), &m);
    }
    smtpd_xforward_log(st, &m);
    msg_info("%s", str_cstr(&m));
    str_release(&m);
}

void smtpd_txn_add_rcpt(struct smtpd_state *st, const char *rcpt, const struct smtpd_rcpt_params *p)
{
    char buf[16];
    if (!st->rcpts) {
        st->rcpts = argv_new();
        st->orcpts = argv_new();
        st->notifies = argv_new();
    }
    argv_add(st->rcpts, rcpt);
    argv_add(st->orcpts, p->orcpt ? p->orcpt : "");
    snprintf(buf, sizeof(buf), "%d", p->notify);
    argv_add(st->notifies, buf);
}

static void put_attr(struct smtpd_state *st, const char *name, const char *value)
{
    struct str a = STR_INIT;
    if (!value)
        return;
    str_appendf(&a, "%s=%s", name, value);
    cleanup_put(st->cl, REC_ATTR, a.data, a.len);
    str_release(&a);
}

static void put_rcpt(struct smtpd_state *st, const char *addr, const char *orcpt,
                     const char *notify)
{
    if (orcpt && *orcpt)
        cleanup_puts(st->cl, REC_DSN_ORCPT, orcpt);
    if (notify && strcmp(notify, "0") != 0)
        cleanup_puts(st->cl, REC_NOTIFY, notify);
    cleanup_puts(st->cl, REC_RCPT, addr);
}

static void put_envelope(struct smtpd_state *st)
{
    const struct smtpd_check_actions *a = &st->ctx.actions;
    cleanup_put(st->cl, REC_SENDER, st->sender.data ? st->sender.data : "", st->sender.len);
    if (st->milters) { /* the filters' state after DATA: cleanup runs the end of message */
        struct str m = STR_INIT;
        smtpd_milter_export(st, &m);
        put_attr(st, "milters", m.data);
        str_release(&m);
    }
    put_attr(st, "client_name", st->name);
    put_attr(st, "client_address", st->addr);
    put_attr(st, "client_port", st->port);
    put_attr(st, "client_helo", st->helo);
    put_attr(st, "client_protocol", st->protocol);
    put_attr(st, "dsn_envid", st->envid);
    put_attr(st, "dsn_ret", st->ret);
    put_attr(st, "encoding", st->body_8bit ? "8bit" : "7bit");
    if (st->smtputf8)
        put_attr(st, "smtputf8", "1");
    put_attr(st, "rewrite_context", st->ctx.rewrite_local ? "local" : "remote");
    put_attr(st, "sasl_method", st->ctx.sasl_method);
    put_attr(st, "sasl_username", st->ctx.sasl_username);
    put_attr(st, "sasl_sender", st->ctx.sasl_sender);
    if (a->redirect) {
        msg_info("%s: redirect: %s", st->queue_id.data, a->redirect);
        put_rcpt(st, a->redirect, NULL, NULL);
    } else {
        for (size_t i = 0; st->rcpts && i < st->rcpts->n; i++)
            put_rcpt(st, st->rcpts->v[i], st->orcpts->v[i], st->notifies->v[i]);
    }
    for (size_t i = 0; a->bcc && i < a->bcc->n; i++)
        put_rcpt(st, a->bcc->v[i], NULL, NULL);
}

static void emit_to_cleanup(void *ctx, int type, const char *data, size_t len)
{
    struct smtpd_state *st = ctx;
    cleanup_put(st->cl, type, data, len);
}

static void put_line(struct argv *lines, const struct str *line)
{
    argv_add(lines, str_cstr(line));
}

/* Received: from helo (name [addr])\n\tby host (Kestrel) with ESMTP id ID\n\tfor <rcpt>; date */
void smtpd_txn_received(const struct smtpd_state *st, struct argv *lines)
{
    struct str l = STR_INIT;
    char date[128];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
    int v6 = strchr(st->addr, ':') != NULL;
    str_appendf(&l, "Received: from %s (%s [%s%s])", st->helo ? st->helo : st->name, st->name,
                v6 ? "IPv6:" : "", st->addr);
    put_line(lines, &l);
    struct argv *extra = argv_new();
    smtpd_tls_received(st, extra);
    if (smtpd_conf.sasl_auth_header && st->sasl_username) {
        str_set(&l, "\t(Authenticated sender: ");
        smtpd_sanitize(st->sasl_username, strlen(st->sasl_username), &l);
        str_append(&l, ")");
        argv_add(extra, str_cstr(&l));
    }
    for (size_t i = 0; i < extra->n; i++)
        argv_add(lines, extra->v[i]);
    argv_free(extra);
    str_setf(&l, "\tby %s (%s) with %s", smtpd_conf.myhostname, smtpd_conf.mail_name, st->protocol);
    if (st->queue_id.len)
        str_appendf(&l, " id %s", st->queue_id.data);
    if (st->rcpt_count == 1 && st->first_rcpt.len && !st->ctx.actions.redirect) {
        put_line(lines, &l);
        str_set(&l, "\tfor <");
        smtpd_sanitize(st->first_rcpt.data, st->first_rcpt.len, &l);
        str_appendf(&l, ">; %s", date);
    } else {
        str_append(&l, ";");
        put_line(lines, &l);
        str_setf(&l, "\t%s", date);
    }
    put_line(lines, &l);
    str_release(&l);
}

static void put_received(struct smtpd_state *st)
{
    struct argv *lines = argv_new();
    smtpd_txn_received(st, lines);
    for (size_t i = 0; i < lines->n; i++)
        cleanup_puts(st->cl, REC_LINE, lines->v[i]);
    argv_free(lines);
}

struct smtpd_content *smtpd_txn_begin_content(struct smtpd_state *st)
{
    if (st->proxy) /* smtpd_proxy.c: the content goes to the before-queue filter */
        return smtpd_proxy_begin_content(st);
    const struct smtpd_check_actions *a = &st->ctx.actions;
    put_envelope(st);
    cleanup_put(st->cl, REC_CONTENT, "", 0);
    for (size_t i = 0; a->prepend && i < a->prepend->n; i++)
        cleanup_puts(st->cl, REC_LINE, a->prepend->v[i]);
    put_received(st);
    st->content = xmalloc(sizeof(*st->content));
    smtpd_content_init(st->content, (size_t)smtpd_conf.line_length_limit, smtpd_conf.bare_lf,
                       smtpd_conf.message_size_limit, emit_to_cleanup, st);
    return st->content;
}

/* The reply for a cleanup verdict. */
static void reply_status(struct smtpd_state *st, int status, const struct str *why)
{
    const char *text = str_cstr(why);
    if (status & CLEANUP_STAT_SIZE)
        smtpd_reply(st, "552 5.3.4 Message size exceeds fixed limit");
    else if (status & (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE))
        smtpd_reply(st, "451 4.3.0 Error: queue file write error");
    else if (text[0] == '4')
        smtpd_reply(st, "451 %s", text);
    else if (status & CLEANUP_STAT_HOPS)
        smtpd_reply(st, "554 %s", text);
    else
        smtpd_reply(st, "550 %s", *text ? text : "5.0.0 Error: message rejected");
}

int smtpd_txn_finish(struct smtpd_state *st)
{
    struct str why = STR_INIT;
    struct smtpd_content *c = st->content;
    int rc = -1;
    if (c->too_big) {
        smtpd_reply(st, "552 5.3.4 Message size exceeds fixed limit");
        cleanup_abort(st->cl);
    } else if (c->bare_lf && smtpd_conf.bare_lf == BARE_LF_YES) {
        smtpd_reply(st, "550 5.5.2 Error: bare <LF> received");
        cleanup_abort(st->cl);
    } else if (st->proxy) { /* smtpd_proxy.c: "." and the before-queue filter's reply */
        rc = smtpd_proxy_finish(st);
    } else if (st->milter_discard) { /* a filter said so before the end of the message */
        cleanup_abort(st->cl);       /* logged when the filter asked */
        smtpd_reply(st, "250 2.0.0 Ok: queued as %s", st->queue_id.data);
        rc = 0;
    } else {
        cleanup_put(st->cl, REC_XTRA, "", 0);
        /* An access map's or policy's FILTER wins over content_filter (main.cf, or -o on
         * this smtpd service as in the SpamAssassin set-up of the seeds). */
        const char *filter = st->ctx.actions.filter;
        cleanup_put_filter(st->cl, filter ? filter : config_get("content_filter"));
        int status = cleanup_finish(st->cl, &why);
        if (status == 0) {
            smtpd_reply(st, "250 2.0.0 Ok: queued as %s", st->queue_id.data);
            rc = 0;
        } else {
            reply_status(st, status, &why);
        }
    }
    st->cl = NULL;
    str_release(&why);
    return rc;
}

void smtpd_txn_reset(struct smtpd_state *st)
{
    smtpd_milter_abort(st);
    if (st->in_mail) /* XFORWARD applies to one transaction */
        smtpd_xforward_reset(st);
    if (st->cl)
        cleanup_abort(st->cl);
    st->cl = NULL;
    smtpd_proxy_close(st); /* smtpd_proxy.c: ends the before-queue filter transaction */
    if (st->content) {
        smtpd_content_release(st->content);
        free(st->content);
        st->content = NULL;
    }
    str_clear(&st->queue_id);
    str_clear(&st->sender);
    str_clear(&st->first_rcpt);
    argv_free(st->rcpts);
    argv_free(st->orcpts);
    argv_free(st->notifies);
    st->rcpts = st->orcpts = st->notifies = NULL;
    free(st->envid);
    free(st->ret);
    st->envid = st->ret = NULL;
    st->in_mail = st->rcpt_count = st->rcpt_seen = 0;
    st->size_param = 0;
    st->body_8bit = st->smtputf8 = 0;
    st->bdat_active = st->bdat_failed = 0;
    free(st->sasl_sender);
    st->sasl_sender = NULL;
    st->ctx.sasl_sender = NULL;
    smtpd_check_ctx_reset(&st->ctx);
    st->ctx.queue_id = NULL;
    st->ctx.sender = NULL;
}
