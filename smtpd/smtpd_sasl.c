/* smtpd_sasl: SMTP AUTH (RFC 4954) in the SMTP server on the SASL library
 * (mail/sasl_server.h) — advertising (smtpd_sasl_auth_enable, smtpd_tls_auth_only,
 * broken_sasl_auth_clients), the AUTH command and its 334 exchange, the refusals, failures
 * counted as errors, smtpd_client_auth_rate_limit, and the ctx.sasl_* fields the access-control
 * engine uses (permit_sasl_authenticated, reject_sender_login_mismatch). */
#include "smtpd.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/sasl_server.h"
#include "mail/tls.h"

static int sasl_ready; /* smtpd_sasl_auth_enable = yes and the library initialised */

void smtpd_sasl_init(void)
{
    struct sasl_srv_settings s;
    struct str why = STR_INIT;
    if (!smtpd_conf.sasl_enable)
        return;
    sasl_srv_settings_from_config(&s);
    if (sasl_srv_init(&s, &why) < 0)
        msg_warn("SASL per-process initialization failed: %s; authentication is disabled",
                 str_cstr(&why));
    else
        sasl_ready = 1;
    str_release(&why);
}

void smtpd_update_protocol(struct smtpd_state *st)
{
    static const char *const names[4] = {"ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA"};
    if (!st->esmtp)
        st->protocol = "SMTP";
    else
        st->protocol = names[(st->tls ? 1 : 0) + (st->sasl_username ? 2 : 0)];
    st->ctx.protocol = st->protocol;
}

/* AUTH may be used now (enabled, and TLS active when smtpd_tls_auth_only). */
static int sasl_allowed(const struct smtpd_state *st)
{
    return sasl_ready && (!smtpd_conf.tls_auth_only || st->tls) && smtpd_ehlo_enabled("auth");
}

/* The SASL session for the current TLS state; NULL when it cannot be created (logged). */
static struct sasl_srv *session(struct smtpd_state *st)
{
    if (st->sasl && st->sasl_tls == (st->tls != NULL))
        return st->sasl;
    sasl_srv_free(st->sasl);
    st->sasl = NULL;
    struct sasl_srv_conn c = {.client_addr = st->addr,
                              .client_port = st->port,
                              .server_addr = st->server_addr,
                              .server_port = st->server_port,
                              .tls_active = st->tls != NULL,
                              .tls_ssf = st->tls ? tls_session_info(st->tls)->cipher_bits : 0};
    struct str why = STR_INIT;
    st->sasl = sasl_srv_new(&c, &why);
    if (!st->sasl)
        msg_warn("SASL session initialization failed for %s: %s", st->namaddr, str_cstr(&why));
    st->sasl_tls = st->tls != NULL;
    str_release(&why);
    return st->sasl;
}

int smtpd_sasl_available(const struct smtpd_state *st)
{
    return sasl_allowed(st);
}

int smtpd_sasl_ehlo_lines(struct smtpd_state *st, struct str *line, struct str *broken_line)
{
    if (!sasl_allowed(st) || !session(st))
        return 0;
    return sasl_srv_ehlo_line(st->sasl, line, broken_line);
}

void smtpd_sasl_reset(struct smtpd_state *st)
{
    sasl_srv_free(st->sasl);
    st->sasl = NULL;
    free(st->sasl_method);
    free(st->sasl_username);
    free(st->sasl_sender);
    st->sasl_method = st->sasl_username = st->sasl_sender = NULL;
    st->ctx.sasl_method = st->ctx.sasl_username = st->ctx.sasl_sender = NULL;
    smtpd_update_protocol(st);
}

/* Reads one client response; 0, or SMTPD_GONE. An over-long line is drained and passed on
 * longer than the limit so the library gives its 500 reply. */
static int read_response(struct smtpd_state *st, struct str *line)
{
    size_t limit = sasl_srv_response_limit(st->sasl);
    str_clear(line);
    stream_set_deadline(st->s, deadline_after_ms(smtpd_conf.timeout * 1000));
    int rc = stream_getline(st->s, line, limit + 2);
    if (rc == STREAM_PARTIAL) {
        struct str rest = STR_INIT;
        do {
            str_clear(&rest);
            rc = stream_getline(st->s, &rest, STREAM_BUFSIZE);
        } while (rc == STREAM_PARTIAL);
        str_release(&rest);
        str_truncate(line, limit + 1);
        return rc == STREAM_LINE ? 0 : SMTPD_GONE;
    }
    if (rc != STREAM_LINE)
        return SMTPD_GONE;
    size_t n = line->len;
    if (n && line->data[n - 1] == '\n')
        n--;
    if (n && line->data[n - 1] == '\r')
        n--;
    str_truncate(line, n);
    return 0;
}

/* The exchange after AUTH: 334 challenges until the library reaches a verdict (a
 * SASL_RES_* value); *gone is set when the connection broke. */
static int exchange(struct smtpd_state *st, int rc, int *gone)
{
    struct str line = STR_INIT;
    *gone = 0;
    while (rc == SASL_RES_CONTINUE) {
        smtpd_reply(st, "%s", sasl_srv_reply(st->sasl));
        if (stream_flush(st->s) < 0 || read_response(st, &line) == SMTPD_GONE) {
            str_release(&line);
            *gone = 1;
            return SASL_RES_FAIL;
        }
        rc = sasl_srv_next(st->sasl, line.data ? line.data : "", line.len);
    }
    str_release(&line);
    return rc;
}

static void authenticated(struct smtpd_state *st)
{
    st->sasl_method = xstrdup(sasl_srv_method(st->sasl));
    st->sasl_username = xstrdup(sasl_srv_username(st->sasl));
    st->ctx.sasl_method = st->sasl_method;
    st->ctx.sasl_username = st->sasl_username;
    smtpd_update_protocol(st);
}

/* The refusals before an exchange starts; 0 when AUTH may proceed. */
static int auth_refused(struct smtpd_state *st, const char *args)
{
    struct str reply = STR_INIT;
    int refused = 1;
    if (!sasl_allowed(st))
        smtpd_reply(st, "503 5.5.1 Error: authentication not enabled");
    else if (st->sasl_username)
        smtpd_reply(st, "503 5.5.1 Error: already authenticated");
    else if (st->in_mail)
        smtpd_reply(st, "503 5.5.1 Error: MAIL transaction in progress");
    else if (!*args || strchr(args, ' ') != strrchr(args, ' '))
        smtpd_reply(st, "501 5.5.4 Syntax: AUTH mechanism");
    else if (st->checker &&
             smtpd_check_auth_limit(st->checker, &st->ctx, &reply) == SMTPD_CHECK_REJECT)
        smtpd_reply(st, "%s", str_cstr(&reply));
    else if (!session(st))
        smtpd_reply(st, "454 4.7.0 Temporary authentication failure: "
                        "Authentication backend error");
    else
        refused = 0;
    str_release(&reply);
    return refused;
}

int smtpd_cmd_auth(struct smtpd_state *st, const char *args)
{
    if (auth_refused(st, args))
        return -1;
    char *mech = xstrdup(args), *init = strchr(mech, ' ');
    if (init)
        *init++ = 0;
    int gone;
    int rc = exchange(st, sasl_srv_start(st->sasl, mech, init), &gone);
    free(mech);
    if (gone)
        return SMTPD_GONE;
    if (rc == SASL_RES_OK) {
        authenticated(st);
        smtpd_reply(st, "%s", sasl_srv_reply(st->sasl));
        return 0;
    }
    sasl_srv_log_failure(st->sasl, st->namaddr);
    smtpd_reply(st, "%s", sasl_srv_reply(st->sasl));
    return -1;
}
