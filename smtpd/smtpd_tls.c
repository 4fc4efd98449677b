/* smtpd_tls: TLS in the SMTP server on the TLS library (mail/tls.h) — the process context
 * from the smtpd_tls_* parameters, STARTTLS (advertising per smtpd_tls_security_level,
 * refusals, smtpd_client_new_tls_session_rate_limit, the plaintext discard before the
 * handshake, the full SMTP state reset after it), wrapper mode (smtps), client certificates
 * for the access-control engine, and the Received: header texts. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/tls.h"
#include "mail/tls_params.h"

static struct tls_server_params params;
static struct tls_server_ctx *server_ctx; /* NULL: TLS not offered or not available */
static int tls_level = TLS_LEV_NONE;
static long starttls_timeout;

void smtpd_tls_init(void)
{
    struct str err = STR_INIT;
    starttls_timeout = config_get_time("smtpd_starttls_timeout");
    if (starttls_timeout <= 0)
        starttls_timeout = 300;
    if (tls_server_params_load(&params, &err) < 0) {
        msg_warn("%s; TLS is disabled", str_cstr(&err));
        params.level = TLS_LEV_NONE;
    }
    /* Wrapper mode means TLS is mandatory (the mandatory protocols and ciphers apply). */
    if (params.wrappermode)
        params.level = TLS_LEV_ENCRYPT;
    if (params.req_ccert && params.level < TLS_LEV_ENCRYPT) {
        msg_warn("smtpd_tls_req_ccert = yes is ignored unless TLS is mandatory");
        params.req_ccert = 0;
    }
    if (params.req_ccert)
        params.ask_ccert = 1;
    tls_level = params.level;
    if (tls_level > TLS_LEV_NONE) {
        str_clear(&err);
        server_ctx = tls_server_init(&params, &err);
        if (!server_ctx)
            msg_warn("cannot initialize the server-side TLS engine: %s", str_cstr(&err));
    }
    str_release(&err);
}

int smtpd_tls_available(const struct smtpd_state *st)
{
    return tls_level > TLS_LEV_NONE && !st->tls && smtpd_ehlo_enabled("starttls");
}

int smtpd_tls_required(const struct smtpd_state *st)
{
    return tls_level >= TLS_LEV_ENCRYPT && !st->tls;
}

/* After a handshake: what the access-control engine and the log need. */
static void tls_established(struct smtpd_state *st)
{
    const struct tls_info *i = tls_session_info(st->tls);
    st->ctx.tls_active = 1;
    if (i->peer_cert && i->peer_trusted) {
        st->ctx.ccert_fingerprint = i->peer_fingerprint;
        st->ctx.ccert_subject = i->peer_CN;
    }
    smtpd_update_protocol(st);
}

/* Runs the handshake; 0, or -1 (logged) when the session must end. */
static int handshake(struct smtpd_state *st)
{
    struct str err = STR_INIT;
    st->tls = tls_server_start(server_ctx, stream_fd(st->s), st->namaddr,
                               deadline_after_ms(starttls_timeout * 1000), &err);
    str_release(&err);
    if (!st->tls)
        return -1;
    tls_stream_attach(st->s, st->tls);
    const struct tls_info *i = tls_session_info(st->tls);
    if (params.req_ccert && !(i->peer_cert && i->peer_trusted)) {
        msg_info("NOQUEUE: abort: TLS from %s: %s", st->namaddr,
                 i->peer_cert ? "Client certificate not trusted"
                              : "No client certificate presented");
        stream_printf(st->s, "421 4.7.1 %s Service unavailable - try again later\r\n",
                      smtpd_conf.myhostname);
        stream_flush(st->s);
        return -1;
    }
    if (!i->reused && st->checker)
        smtpd_check_newtls_count(st->checker, &st->ctx);
    tls_established(st);
    return 0;
}

int smtpd_tls_wrapper_start(struct smtpd_state *st)
{
    if (!params.wrappermode)
        return 0;
    if (!server_ctx) {
        msg_warn("cannot start TLS in wrapper mode for %s: TLS not available", st->namaddr);
        return -1;
    }
    if (handshake(st) < 0) {
        msg_info("lost connection after CONNECT from %s", st->namaddr);
        return -1;
    }
    return 0;
}

/* smtpd_client_new_tls_session_rate_limit: 0 when the client may start a new session. */
static int newtls_limit(struct smtpd_state *st)
{
    struct str reply = STR_INIT;
    int rc = 0;
    if (st->checker &&
        smtpd_check_newtls_limit(st->checker, &st->ctx, &reply) == SMTPD_CHECK_REJECT) {
        smtpd_reply(st, "%s", str_cstr(&reply));
        rc = -1;
    }
    str_release(&reply);
    return rc;
}

int smtpd_cmd_starttls(struct smtpd_state *st, const char *args)
{
    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: STARTTLS");
        return -1;
    }
    if (st->tls) {
        smtpd_reply(st, "554 5.5.1 Error: TLS already active");
        return -1;
    }
    if (tls_level == TLS_LEV_NONE || !smtpd_ehlo_enabled("starttls")) {
        smtpd_reply(st, "502 5.5.1 Error: command not implemented");
        return -1;
    }
    if (!server_ctx) {
        smtpd_reply(st, "454 4.7.0 TLS not available due to local problem");
        return -1;
    }
    if (newtls_limit(st) < 0)
        return -1;
    smtpd_reply(st, "220 2.0.0 Ready to start TLS");
    if (stream_flush(st->s) < 0)
        return SMTPD_GONE;
    /* Anything the client sent after STARTTLS in plaintext is never executed. */
    stream_discard_input(st->s);
    if (handshake(st) < 0)
        return SMTPD_GONE;
    /* A fresh start: HELO/EHLO, the transaction and any authentication are forgotten. */
    smtpd_txn_reset(st);
    free(st->helo);
    st->helo = NULL;
    st->ctx.helo_name = NULL;
    st->esmtp = 0;
    st->ctx.esmtp_pipelining = 0;
    smtpd_sasl_reset(st);
    smtpd_update_protocol(st);
    return 0;
}

void smtpd_tls_end(struct smtpd_state *st)
{
    if (!st->tls)
        return;
    stream_flush(st->s);
    if (st->counts[CNT_QUIT].ok)
        tls_session_shutdown(st->tls, deadline_after_ms(1000));
    stream_set_transport(st->s, NULL, NULL);
    tls_session_free(st->tls);
    st->tls = NULL;
    st->ctx.tls_active = 0;
    st->ctx.ccert_fingerprint = st->ctx.ccert_subject = NULL;
}

void smtpd_tls_received(const struct smtpd_state *st, struct argv *lines)
{
    if (!st->tls || !params.received_header)
        return;
    struct str using = STR_INIT, line = STR_INIT;
    tls_received_using(st->tls, &using);
    const char *kex = strstr(str_cstr(&using), " key-exchange ");
    if (kex) {
        str_appendf(&line, "\t(using %.*s", (int)(kex - using.data), using.data);
        argv_add(lines, str_cstr(&line));
        str_setf(&line, "\t %s)", kex + 1);
    } else {
        str_appendf(&line, "\t(using %s)", str_cstr(&using));
    }
    argv_add(lines, str_cstr(&line));
    str_clear(&using);
    tls_received_ccert(st->tls, params.ask_ccert, &using);
    str_setf(&line, "\t(%s)", str_cstr(&using));
    argv_add(lines, str_cstr(&line));
    str_release(&using);
    str_release(&line);
}
