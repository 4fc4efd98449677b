/* smtpd_check_limits: per-client event limits (connection count and rate, message and
 * recipient rates) through the anvil service, with smtpd_client_event_limit_exceptions. */
#include "smtpd_check_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/anvil_client.h"
#include "mail/config.h"

#define SC_ANVIL_PATH "private/anvil"
#define SC_ANVIL_TIMEOUT 10

void smtpd_check_limits_free(struct smtpd_checker *c)
{
    anvil_client_free(c->anvil);
    c->anvil = NULL;
}

/* 1 when the client is subject to limits and anvil is to be asked. */
static int sc_limited(struct smtpd_checker *c, const struct smtpd_check_ctx *ctx)
{
    if (!ctx->client_addr || !*ctx->client_addr)
        return 0;
    int m = match_list_match(c->event_exceptions, ctx->client_name, ctx->client_addr);
    if (m == MATCH_YES)
        return 0;
    if (!c->anvil) {
        const char *path = getenv("KESTREL_ANVIL_PATH");
        c->anvil = anvil_client_new(path && *path ? path : SC_ANVIL_PATH, SC_ANVIL_TIMEOUT);
    }
    return 1;
}

static const char *sc_service(struct smtpd_checker *c)
{
    return c->service ? c->service : "smtp";
}

static void sc_limit_warn(struct smtpd_checker *c, const struct smtpd_check_ctx *ctx,
                          const char *what, long n)
{
    msg_warn("%s limit exceeded: %ld from %s[%s] for service %s", what, n,
             ctx->client_name ? ctx->client_name : "unknown", ctx->client_addr, sc_service(c));
}

int smtpd_check_connect_limits(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                               const char *service, struct str *reply)
{
    struct anvil_counts n;
    free(c->service);
    c->service = xstrdup(service && *service ? service : "smtp");
    str_clear(reply);
    ctx->priv->anvil_connected = 0;
    if ((c->conn_count_limit <= 0 && c->conn_rate_limit <= 0 && c->msg_rate_limit <= 0 &&
         c->rcpt_rate_limit <= 0) ||
        !sc_limited(c, ctx))
        return SMTPD_CHECK_OK;
    if (anvil_report_connect(c->anvil, c->service, ctx->client_addr, &n) < 0)
        return SMTPD_CHECK_OK;
    ctx->priv->anvil_connected = 1;
    if (c->conn_count_limit > 0 && n.count > c->conn_count_limit) {
        sc_limit_warn(c, ctx, "Connection concurrency", n.count);
    } else if (c->conn_rate_limit > 0 && n.rate > c->conn_rate_limit) {
        sc_limit_warn(c, ctx, "Connection rate", n.rate);
    } else {
        return SMTPD_CHECK_OK;
    }
    str_setf(reply, "421 4.7.0 %s Error: too many connections from %s", c->myhostname,
             ctx->client_addr);
    return SMTPD_CHECK_REJECT;
}

void smtpd_check_disconnect_limits(struct smtpd_checker *c, struct smtpd_check_ctx *ctx)
{
    if (!ctx->priv->anvil_connected || !c->anvil)
        return;
    anvil_report_disconnect(c->anvil, sc_service(c), ctx->client_addr);
    ctx->priv->anvil_connected = 0;
}

static int sc_rate_check(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, int limit,
                         int message, struct str *reply)
{
    struct anvil_counts n;
    str_clear(reply);
    if (limit <= 0 || !sc_limited(c, ctx))
        return SMTPD_CHECK_OK;
    int rc = message ? anvil_report_message(c->anvil, sc_service(c), ctx->client_addr, &n)
                     : anvil_report_recipient(c->anvil, sc_service(c), ctx->client_addr, &n);
    if (rc < 0)
        return SMTPD_CHECK_OK;
    long v = message ? n.messages : n.recipients;
    if (v <= limit)
        return SMTPD_CHECK_OK;
    sc_limit_warn(c, ctx, message ? "Message delivery request rate" : "Recipient address rate", v);
    str_setf(reply, "450 4.7.1 Error: too %s from %s", message ? "much mail" : "many recipients",
             ctx->client_addr);
    return SMTPD_CHECK_REJECT;
}

int smtpd_check_message_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                              struct str *reply)
{
    return sc_rate_check(c, ctx, c->msg_rate_limit, 1, reply);
}

int smtpd_check_recipient_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                                struct str *reply)
{
    return sc_rate_check(c, ctx, c->rcpt_rate_limit, 0, reply);
}

int smtpd_check_newtls_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                             struct str *reply)
{
    struct anvil_counts n;
    str_clear(reply);
    if (c->newtls_limit <= 0 || !sc_limited(c, ctx) ||
        anvil_lookup(c->anvil, sc_service(c), ctx->client_addr, &n) < 0 ||
        n.newtls < c->newtls_limit)
        return SMTPD_CHECK_OK;
    sc_limit_warn(c, ctx, "New TLS session rate", n.newtls);
    str_setf(reply, "454 4.7.0 Error: too many new TLS sessions from %s", ctx->client_addr);
    return SMTPD_CHECK_REJECT;
}

void smtpd_check_newtls_count(struct smtpd_checker *c, struct smtpd_check_ctx *ctx)
{
    if (c->newtls_limit > 0 && sc_limited(c, ctx))
        anvil_report_newtls(c->anvil, sc_service(c), ctx->client_addr, NULL);
}

int smtpd_check_auth_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    struct anvil_counts n;
    str_clear(reply);
    if (c->auth_limit <= 0 || !sc_limited(c, ctx) ||
        anvil_report_auth(c->anvil, sc_service(c), ctx->client_addr, &n) < 0 ||
        n.auths <= c->auth_limit)
        return SMTPD_CHECK_OK;
    sc_limit_warn(c, ctx, "AUTH command rate", n.auths);
    str_setf(reply, "450 4.7.1 Error: too many AUTH commands from %s", ctx->client_addr);
    return SMTPD_CHECK_REJECT;
}
