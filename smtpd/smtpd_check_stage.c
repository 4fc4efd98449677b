/* smtpd_check_stage: the per-stage entry points of smtpd_check.h (client, HELO, MAIL, RCPT,
 * DATA, end of data, ETRN, VRFY) with smtpd_delay_reject and defer_if_permit semantics, and the
 * session context. */
#include "smtpd_check_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "table/table.h"

void smtpd_check_ctx_init(struct smtpd_check_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->client_name = ctx->reverse_client_name = "unknown";
    ctx->protocol = "SMTP";
    ctx->priv = xmalloc(sizeof *ctx->priv);
    memset(ctx->priv, 0, sizeof *ctx->priv);
}

static void sc_actions_release(struct smtpd_check_actions *a)
{
    free(a->filter);
    free(a->redirect);
    if (a->prepend)
        argv_free(a->prepend);
    if (a->bcc)
        argv_free(a->bcc);
    str_release(&a->discard_reason);
    str_release(&a->hold_reason);
    memset(a, 0, sizeof *a);
}

void smtpd_check_ctx_reset(struct smtpd_check_ctx *ctx)
{
    struct smtpd_check_priv *p = ctx->priv;
    ctx->queue_id = NULL;
    ctx->sender = NULL;
    ctx->recipient = NULL;
    ctx->recipient_count = 0;
    ctx->message_size = 0;
    ctx->etrn_domain = NULL;
    sc_actions_release(&ctx->actions);
    if (p) {
        p->done[SC_STAGE_SENDER] = 0;
        p->status[SC_STAGE_SENDER] = SMTPD_CHECK_OK;
        p->dip[SC_STAGE_SENDER].active = 0;
        str_clear(&p->instance);
    }
}

void smtpd_check_ctx_release(struct smtpd_check_ctx *ctx)
{
    sc_actions_release(&ctx->actions);
    if (ctx->priv) {
        for (int i = 0; i < 3; i++) {
            str_release(&ctx->priv->reply[i]);
            str_release(&ctx->priv->dip[i].reply);
        }
        str_release(&ctx->priv->scratch);
        str_release(&ctx->priv->instance);
        free(ctx->priv);
        ctx->priv = NULL;
    }
}

static void sc_eval_init(struct sc_eval *ev, struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                         struct str *reply, const char *cmd)
{
    memset(ev, 0, sizeof *ev);
    ev->c = c;
    ev->ctx = ctx;
    ev->reply = reply;
    ev->cmd = cmd;
    str_clear(reply);
}

static void sc_eval_done(struct sc_eval *ev)
{
    str_release(&ev->dip.reply);
    str_release(&ev->dir.reply);
}

/* Evaluates one of the client, HELO and sender lists. */
static int sc_run_stage(struct sc_eval *ev, int stage)
{
    struct smtpd_checker *c = ev->c;
    struct smtpd_check_ctx *ctx = ev->ctx;
    const struct sc_list *l = stage == SC_STAGE_CLIENT ? &c->client
                              : stage == SC_STAGE_HELO ? &c->helo
                                                       : &c->sender;
    if (stage == SC_STAGE_CLIENT) {
        ev->rname = sc_client_id(ev);
        ev->rclass = "Client host";
    } else if (stage == SC_STAGE_HELO) {
        if (!ctx->helo_name)
            return SMTPD_CHECK_DUNNO;
        ev->rname = ctx->helo_name;
        ev->rclass = "Helo command";
    } else {
        if (!ctx->sender)
            return SMTPD_CHECK_DUNNO;
        ev->rname = ctx->sender;
        ev->rclass = "Sender address";
    }
    str_clear(&ev->dip.reply);
    ev->dip.active = 0;
    ev->dir.active = 0;
    char *rname = xstrdup(ev->rname); /* sc_client_id's buffer is reused */
    ev->rname = rname;
    int r = sc_eval_list(ev, l);
    free(rname);
    struct smtpd_check_priv *p = ctx->priv;
    p->done[stage] = 1;
    p->status[stage] = r == SMTPD_CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
    str_set(&p->reply[stage], r == SMTPD_CHECK_REJECT ? ev->reply->data : "");
    p->dip[stage].active = ev->dip.active;
    str_set(&p->dip[stage].reply, ev->dip.active ? ev->dip.reply.data : "");
    return r;
}

/* Immediate (smtpd_delay_reject = no) evaluation of an early stage. */
static int sc_early(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply,
                    int stage, const char *cmd)
{
    struct sc_eval ev;
    sc_eval_init(&ev, c, ctx, reply, cmd);
    if (c->delay_reject) {
        ctx->priv->done[stage] = 0;
        sc_eval_done(&ev);
        return SMTPD_CHECK_OK;
    }
    int r = sc_run_stage(&ev, stage);
    if (r != SMTPD_CHECK_REJECT && ev.dip.active) {
        str_set(reply, ev.dip.reply.data);
        r = SMTPD_CHECK_REJECT;
    }
    sc_eval_done(&ev);
    return r == SMTPD_CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

int smtpd_check_client(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_early(c, ctx, reply, SC_STAGE_CLIENT, "CONNECT");
}

int smtpd_check_helo(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_early(c, ctx, reply, SC_STAGE_HELO,
                    ctx->protocol && strcmp(ctx->protocol, "SMTP") == 0 ? "HELO" : "EHLO");
}

int smtpd_check_mail(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_early(c, ctx, reply, SC_STAGE_SENDER, "MAIL");
}

/* The client, HELO and sender verdicts at RCPT: evaluated now with smtpd_delay_reject, else
 * the saved verdicts of the earlier stages. */
static int sc_rcpt_early(struct sc_eval *ev, int *dip_any, struct str *dip_reply)
{
    struct smtpd_check_priv *p = ev->ctx->priv;
    for (int stage = SC_STAGE_CLIENT; stage <= SC_STAGE_SENDER; stage++) {
        if (ev->c->delay_reject) {
            if (sc_run_stage(ev, stage) == SMTPD_CHECK_REJECT)
                return SMTPD_CHECK_REJECT;
        } else if (p->done[stage] && p->status[stage] == SMTPD_CHECK_REJECT) {
            str_set(ev->reply, p->reply[stage].data);
            return SMTPD_CHECK_REJECT;
        }
        if (p->dip[stage].active && !*dip_any) {
            *dip_any = 1;
            str_set(dip_reply, p->dip[stage].reply.data);
        }
    }
    return SMTPD_CHECK_OK;
}

int smtpd_check_rcpt(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    struct sc_eval ev;
    struct str dip_reply = STR_INIT;
    int dip_any = 0, r;
    sc_eval_init(&ev, c, ctx, reply, "RCPT");
    r = sc_rcpt_early(&ev, &dip_any, &dip_reply);
    if (r != SMTPD_CHECK_REJECT) {
        ev.rname = ctx->recipient ? ctx->recipient : "";
        ev.rclass = "Recipient address";
        ev.dip.active = ev.dir.active = 0;
        r = sc_eval_list(&ev, &c->relay);
        if (r != SMTPD_CHECK_REJECT)
            r = sc_eval_list(&ev, &c->recipient);
        if (r != SMTPD_CHECK_REJECT && ev.dip.active && !dip_any) {
            dip_any = 1;
            str_set(&dip_reply, ev.dip.reply.data);
        }
        if (r != SMTPD_CHECK_REJECT && dip_any) {
            str_set(reply, dip_reply.data);
            r = SMTPD_CHECK_REJECT;
        }
    }
    sc_eval_done(&ev);
    str_release(&dip_reply);
    if (r != SMTPD_CHECK_REJECT && c->reject_unlisted_rcpt)
        return smtpd_check_rcpt_maps(c, ctx, reply);
    return r == SMTPD_CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

static int sc_late(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply,
                   const struct sc_list *l, const char *cmd, const char *rname, const char *rclass)
{
    struct sc_eval ev;
    sc_eval_init(&ev, c, ctx, reply, cmd);
    ev.rname = rname;
    ev.rclass = rclass;
    int r = sc_eval_list(&ev, l);
    if (r != SMTPD_CHECK_REJECT && ev.dip.active) {
        str_set(reply, ev.dip.reply.data);
        r = SMTPD_CHECK_REJECT;
    }
    sc_eval_done(&ev);
    return r == SMTPD_CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

int smtpd_check_data(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_late(c, ctx, reply, &c->data, "DATA", "DATA", "Data command");
}

int smtpd_check_eod(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_late(c, ctx, reply, &c->eod, "END-OF-MESSAGE", "END-OF-MESSAGE", "End-of-data");
}

int smtpd_check_etrn(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    return sc_late(c, ctx, reply, &c->etrn, "ETRN", ctx->etrn_domain ? ctx->etrn_domain : "",
                   "Etrn command");
}

int smtpd_check_rcpt_maps(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    struct sc_eval ev;
    sc_eval_init(&ev, c, ctx, reply, "RCPT");
    int r = sc_rcpt_maps(&ev, ctx->recipient ? ctx->recipient : "", "Recipient address", 0);
    sc_eval_done(&ev);
    return r == SMTPD_CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

int smtpd_check_vrfy(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    if (smtpd_check_rcpt_maps(c, ctx, reply) == SMTPD_CHECK_REJECT)
        return SMTPD_CHECK_REJECT;
    str_setf(reply, "252 2.0.0 %s", ctx->recipient ? ctx->recipient : "");
    return SMTPD_CHECK_OK;
}

int smtpd_check_debug_peer(struct smtpd_checker *c, const struct smtpd_check_ctx *ctx)
{
    return match_list_match(c->debug_peers, ctx->client_name, ctx->client_addr) == MATCH_YES;
}

static int sc_maps_changed(struct maps *m)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (table_changed(m->tables[i]))
            return 1;
    return 0;
}

static int sc_list_changed(const struct sc_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (sc_maps_changed(l->items[i].maps))
            return 1;
    return 0;
}

int smtpd_checker_changed(struct smtpd_checker *c)
{
    const struct sc_list *lists[] = {&c->client,    &c->helo, &c->sender, &c->relay,
                                     &c->recipient, &c->data, &c->eod,    &c->etrn};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (sc_list_changed(lists[i]))
            return 1;
    for (size_t i = 0; i < c->nclasses; i++)
        if (sc_list_changed(&c->classes[i].list))
            return 1;
    struct maps *mp[] = {c->local_rcpt,   c->virtual_alias,     c->virtual_mailbox, c->relay_rcpt,
                         c->sender_login, c->relay_clientcerts, c->rbl_reply};
    for (size_t i = 0; i < sizeof mp / sizeof mp[0]; i++)
        if (sc_maps_changed(mp[i]))
            return 1;
    return 0;
}
