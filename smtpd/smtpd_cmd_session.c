/* smtpd_cmd_session: the session-level commands — HELO, EHLO (the keyword list, each
 * switchable: disable_vrfy_command, smtpd_discard_ehlo_keywords, smtputf8_enable; STARTTLS and
 * AUTH come from smtpd_tls.c and smtpd_sasl.c), RSET, NOOP, QUIT, VRFY, ETRN, HELP. */
#include "smtpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "mail/flush_client.h"
#include "mail/xforward.h"
#include "base/mem.h"
#include "mail/address.h"

int smtpd_ehlo_enabled(const char *keyword)
{
    struct argv *d = smtpd_conf.discard_ehlo;
    for (size_t i = 0; d && i < d->n; i++)
        if (strcasecmp(d->v[i], keyword) == 0)
            return 0;
    if (strcasecmp(keyword, "vrfy") == 0 && smtpd_conf.disable_vrfy)
        return 0;
    if (strcasecmp(keyword, "smtputf8") == 0 && !smtpd_conf.smtputf8_enable)
        return 0;
    return 1;
}

/* Runs one access-control stage: on rejection the reply is sent and logged. */
int smtpd_run_check(struct smtpd_state *st,
                    int (*fn)(struct smtpd_checker *, struct smtpd_check_ctx *, struct str *),
                    const char *stage, const char *to)
{
    struct str reply = STR_INIT;
    int rc;
    if (!st->checker) {
        str_set(&reply, "451 4.3.5 Server configuration error");
        rc = SMTPD_CHECK_REJECT;
    } else {
        rc = fn(st->checker, &st->ctx, &reply);
    }
    if (rc == SMTPD_CHECK_REJECT) {
        struct str clean = STR_INIT;
        smtpd_sanitize(str_cstr(&reply), reply.len, &clean);
        smtpd_log_reject(st, stage, str_cstr(&clean), to);
        smtpd_reply(st, "%s", str_cstr(&clean));
        str_release(&clean);
    }
    str_release(&reply);
    return rc == SMTPD_CHECK_REJECT ? -1 : 0;
}

/* Common part of HELO and EHLO: the argument, the reset, the helo check. */
static int hello(struct smtpd_state *st, const char *args, const char *verb, int esmtp)
{
    if (!*args) {
        smtpd_reply(st, "501 Syntax: %s hostname", verb);
        return -1;
    }
    smtpd_txn_reset(st);
    struct str h = STR_INIT;
    smtpd_sanitize(args, strlen(args), &h);
    free(st->helo);
    st->helo = str_steal(&h);
    st->esmtp = esmtp;
    st->ctx.helo_name = st->helo;
    smtpd_update_protocol(st);
    st->ctx.esmtp_pipelining = esmtp && smtpd_ehlo_enabled("pipelining");
    if (smtpd_run_check(st, smtpd_check_helo, verb, NULL) < 0)
        return -1;
    return smtpd_milter_helo(st, verb);
}

int smtpd_cmd_helo(struct smtpd_state *st, const char *args)
{
    if (hello(st, args, "HELO", 0) < 0)
        return -1;
    smtpd_reply(st, "250 %s", smtpd_conf.myhostname);
    return 0;
}

/* "AUTH PLAIN LOGIN" and, with broken_sasl_auth_clients, "AUTH=PLAIN LOGIN". */
static void add_auth(struct smtpd_state *st, struct argv *kw)
{
    struct str line = STR_INIT, broken = STR_INIT;
    if (smtpd_sasl_ehlo_lines(st, &line, &broken)) {
        argv_add(kw, str_cstr(&line));
        if (broken.len)
            argv_add(kw, str_cstr(&broken));
    }
    str_release(&line);
    str_release(&broken);
}

int smtpd_cmd_ehlo(struct smtpd_state *st, const char *args)
{
    if (hello(st, args, "EHLO", 1) < 0)
        return -1;
    struct argv *kw = argv_new();
    char buf[64];
    if (smtpd_ehlo_enabled("pipelining"))
        argv_add(kw, "PIPELINING");
    if (smtpd_ehlo_enabled("size")) {
        if (smtpd_conf.message_size_limit > 0)
            snprintf(buf, sizeof(buf), "SIZE %lld", smtpd_conf.message_size_limit);
        else
            snprintf(buf, sizeof(buf), "SIZE");
        argv_add(kw, buf);
    }
    static const char *const plain[] = {
        "VRFY",     "ETRN", "STARTTLS", "AUTH",    "ENHANCEDSTATUSCODES",
        "8BITMIME", "DSN",  "SMTPUTF8", "CHUNKING"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (!smtpd_ehlo_enabled(plain[i]))
            continue;
        if (strcmp(plain[i], "STARTTLS") == 0 && !smtpd_tls_available(st))
            continue;
        if (strcmp(plain[i], "AUTH") == 0) {
            add_auth(st, kw);
            continue;
        }
        argv_add(kw, plain[i]);
    }
    if (smtpd_ehlo_enabled("xforward") && smtpd_xforward_allowed(st))
        argv_add(kw, XFORWARD_EHLO);
    if (kw->n == 0) {
        smtpd_reply(st, "250 %s", smtpd_conf.myhostname);
    } else {
        stream_printf(st->s, "250-%s\r\n", smtpd_conf.myhostname);
        for (size_t i = 0; i < kw->n; i++)
            stream_printf(st->s, "250%c%s\r\n", i + 1 < kw->n ? '-' : ' ', kw->v[i]);
    }
    argv_free(kw);
    return 0;
}

int smtpd_cmd_rset(struct smtpd_state *st, const char *args)
{
    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: RSET");
        return -1;
    }
    smtpd_txn_reset(st);
    smtpd_reply(st, "250 2.0.0 Ok");
    return 0;
}

int smtpd_cmd_noop(struct smtpd_state *st, const char *args)
{
    (void)args;
    smtpd_reply(st, "250 2.0.0 Ok");
    return 0;
}

int smtpd_cmd_quit(struct smtpd_state *st, const char *args)
{
    (void)args;
    smtpd_reply(st, "221 2.0.0 Bye");
    st->quit = 1;
    return 0;
}

int smtpd_cmd_vrfy(struct smtpd_state *st, const char *args)
{
    struct addr_parsed p;
    struct str err = STR_INIT;
    int rc = -1;
    if (!smtpd_ehlo_enabled("vrfy")) {
        smtpd_reply(st, "502 5.5.1 VRFY command is disabled");
        return -1;
    }
    if (!*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: VRFY address");
        return -1;
    }
    addr_parsed_init(&p);
    if (address_parse_path(args, strlen(args), 0, &p, &err) < 0 || p.null_sender) {
        smtpd_reply(st, "501 5.1.3 Bad recipient address syntax");
    } else {
        st->ctx.recipient = p.addr.data;
        if (smtpd_run_check(st, smtpd_check_vrfy, "VRFY", p.addr.data) == 0) {
            struct str q = STR_INIT, clean = STR_INIT;
            address_quote(p.addr.data, &q);
            smtpd_sanitize(q.data, q.len, &clean);
            smtpd_reply(st, "252 2.0.0 %s", str_cstr(&clean));
            str_release(&q);
            str_release(&clean);
            rc = 0;
        }
        st->ctx.recipient = NULL;
    }
    addr_parsed_release(&p);
    str_release(&err);
    return rc;
}

int smtpd_cmd_etrn(struct smtpd_state *st, const char *args)
{
    if (!smtpd_ehlo_enabled("etrn")) {
        smtpd_reply(st, "500 5.5.2 Error: command not recognized");
        return -1;
    }
    if (!st->helo) {
        smtpd_reply(st, "503 Error: send HELO/EHLO first");
        return -1;
    }
    if (st->in_mail) {
        smtpd_reply(st, "503 Error: MAIL transaction in progress");
        return -1;
    }
    if (!*args) {
        smtpd_reply(st, "500 Syntax: ETRN domain");
        return -1;
    }
    const char *d = args[0] == '@' || args[0] == '#' ? args + 1 : args;
    if (!*d || strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:") !=
                   strlen(d)) {
        smtpd_reply(st, "501 Error: invalid parameter syntax");
        return -1;
    }
    st->ctx.etrn_domain = d;
    int rc = smtpd_run_check(st, smtpd_check_etrn, "ETRN", NULL);
    st->ctx.etrn_domain = NULL;
    if (rc < 0)
        return -1;
    /* The flush service requeues the site's deferred mail (fast_flush_domains decides). */
    switch (flush_send_site(".", d, (int)smtpd_conf.timeout)) {
    case FLUSH_STAT_OK:
        smtpd_reply(st, "250 Queuing started");
        return 0;
    case FLUSH_STAT_DENY:
        msg_info("reject: ETRN %.100s from %s", d, st->namaddr);
        smtpd_reply(st, "459 4.3.0 <%s>: service unavailable", d);
        return -1;
    case FLUSH_STAT_BAD:
        msg_warn("bad ETRN %.100s request from %s", d, st->namaddr);
        smtpd_reply(st, "458 Unable to queue messages");
        return -1;
    default:
        smtpd_reply(st, "458 Unable to queue messages");
        return -1;
    }
}

int smtpd_cmd_help(struct smtpd_state *st, const char *args)
{
    (void)args;
    smtpd_reply(st,
                "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY ETRN HELP");
    return 0;
}
