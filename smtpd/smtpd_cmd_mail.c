/* smtpd_cmd_mail: MAIL FROM and RCPT TO — envelope paths through address_parse_path, ESMTP
 * parameters through smtpd_esmtp.c, the sender and recipient access-control stages,
 * smtpd_recipient_limit / smtpd_recipient_overshoot_limit, and the cleanup connection opened
 * at the first accepted recipient (or at MAIL with smtpd_delay_open_until_valid_rcpt = no). */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "smtpd_proxy.h"

/* "FROM:<path> params" -> path span and the rest; -1 on a syntax error. */
static int split_path(const char *args, const char *keyword, const char **path, size_t *len,
                      const char **rest)
{
    size_t kl = strlen(keyword);
    if (strncasecmp(args, keyword, kl) != 0)
        return -1;
    const char *p = args + kl;
    if (!smtpd_conf.strict_rfc821)
        p += strspn(p, " \t");
    *len = address_path_length(p, strlen(p));
    if (*len == 0)
        return -1;
    *path = p;
    *rest = p + *len;
    if (**rest && **rest != ' ' && **rest != '\t')
        return -1;
    return 0;
}

static int parse_flags(void)
{
    return (smtpd_conf.strict_rfc821 ? ADDR_PARSE_STRICT : 0) |
           (smtpd_conf.allow_min_user ? ADDR_PARSE_ALLOW_MIN_USER : 0);
}

static int mail_syntax(struct smtpd_state *st)
{
    smtpd_reply(st, "501 5.5.4 Syntax: MAIL FROM:<address>");
    return -1;
}

int smtpd_cmd_mail(struct smtpd_state *st, const char *args)
{
    const char *path, *rest;
    size_t len;
    struct addr_parsed p;
    struct smtpd_mail_params mp;
    struct str err = STR_INIT, reply = STR_INIT;
    int rc = -1;

    if (smtpd_conf.helo_required && !st->helo) {
        smtpd_reply(st, "503 5.5.1 Error: send HELO/EHLO first");
        return -1;
    }
    if (st->in_mail) {
        smtpd_reply(st, "503 5.5.1 Error: nested MAIL command");
        return -1;
    }
    if (split_path(args, "FROM:", &path, &len, &rest) < 0)
        return mail_syntax(st);
    addr_parsed_init(&p);
    smtpd_mail_params_init(&mp);
    if (address_parse_path(path, len, parse_flags(), &p, &err) < 0) {
        smtpd_reply(st, "501 5.1.7 Bad sender address syntax");
    } else if (smtpd_parse_mail_params(rest, smtpd_conf.message_size_limit,
                                       smtpd_ehlo_enabled("dsn"), smtpd_ehlo_enabled("smtputf8"),
                                       &mp, &reply) < 0) {
        smtpd_reply(st, "%s", str_cstr(&reply));
    } else if (p.non_ascii && !mp.smtputf8) {
        smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else {
        str_set(&st->sender, str_cstr(&p.addr));
        st->in_mail = 1;
        st->ctx.sender = str_cstr(&st->sender);
        st->ctx.message_size = mp.size > 0 ? (long)mp.size : 0;
        st->size_param = mp.size > 0 ? mp.size : 0;
        st->body_8bit = mp.body_8bit;
        st->smtputf8 = mp.smtputf8;
        st->envid = mp.envid;
        st->ret = mp.ret;
        mp.envid = mp.ret = NULL;
        /* AUTH=<mailbox> (RFC 4954): kept only for an authenticated client; "<>" is none. */
        if (mp.auth && st->sasl_username && strcmp(mp.auth, "<>") != 0) {
            st->sasl_sender = mp.auth;
            st->ctx.sasl_sender = st->sasl_sender;
            mp.auth = NULL;
        }
        if (smtpd_run_check(st, smtpd_check_message_limit, "MAIL", NULL) < 0 ||
            smtpd_run_check(st, smtpd_check_rewrite, "MAIL", NULL) < 0 ||
            smtpd_run_check(st, smtpd_check_mail, "MAIL", NULL) < 0 ||
            smtpd_milter_mail(st, rest) < 0 || (!smtpd_conf.delay_open && smtpd_txn_open(st) < 0)) {
            smtpd_txn_reset(st);
        } else {
            smtpd_reply(st, "250 2.1.0 Ok");
            rc = 0;
        }
    }
    addr_parsed_release(&p);
    smtpd_mail_params_release(&mp);
    str_release(&err);
    str_release(&reply);
    return rc;
}

/* Over smtpd_recipient_limit: 452, counted as an error only past the overshoot limit. */
static int too_many(struct smtpd_state *st)
{
    int before = st->error_count;
    smtpd_reply(st, "452 4.5.3 Error: too many recipients");
    if (st->rcpt_seen - st->rcpt_count <= smtpd_conf.overshoot_limit)
        st->error_count = before;
    return -1;
}

static int accept_rcpt(struct smtpd_state *st, const struct addr_parsed *p,
                       const struct smtpd_rcpt_params *rp, const char *params)
{
    st->ctx.recipient = p->addr.data;
    st->ctx.recipient_count = st->rcpt_count;
    int rc = smtpd_run_check(st, smtpd_check_recipient_limit, "RCPT", p->addr.data);
    if (rc == 0)
        rc = smtpd_run_check(st, smtpd_check_rcpt, "RCPT", p->addr.data);
    if (rc == 0)
        rc = smtpd_milter_rcpt(st, p->addr.data, params);
    if (rc == 0 && !st->cl && smtpd_txn_open(st) < 0)
        rc = -1;
    if (rc == 0 && st->proxy && smtpd_proxy_rcpt(st, p->addr.data, rp) < 0)
        rc = -1; /* smtpd_proxy.c: the before-queue filter refused it (its reply was sent) */
    if (rc == 0) {
        smtpd_txn_add_rcpt(st, p->addr.data, rp);
        if (st->rcpt_count == 0)
            address_quote(p->addr.data, &st->first_rcpt);
        st->rcpt_count++;
        st->ctx.recipient_count = st->rcpt_count;
        smtpd_reply(st, "250 2.1.5 Ok");
    }
    st->ctx.recipient = NULL;
    return rc;
}

int smtpd_cmd_rcpt(struct smtpd_state *st, const char *args)
{
    const char *path, *rest;
    size_t len;
    struct addr_parsed p;
    struct smtpd_rcpt_params rp;
    struct str err = STR_INIT, reply = STR_INIT;
    int rc = -1;

    if (!st->in_mail) {
        smtpd_reply(st, "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (split_path(args, "TO:", &path, &len, &rest) < 0) {
        smtpd_reply(st, "501 5.5.4 Syntax: RCPT TO:<address>");
        return -1;
    }
    st->rcpt_seen++;
    if (st->rcpt_count >= smtpd_conf.recipient_limit)
        return too_many(st);
    addr_parsed_init(&p);
    smtpd_rcpt_params_init(&rp);
    if (address_parse_path(path, len, parse_flags(), &p, &err) < 0 || p.null_sender) {
        smtpd_reply(st, "501 5.1.3 Bad recipient address syntax");
    } else if (smtpd_parse_rcpt_params(rest, smtpd_ehlo_enabled("dsn"), &rp, &reply) < 0) {
        smtpd_reply(st, "%s", str_cstr(&reply));
    } else if (p.non_ascii && !st->smtputf8) {
        smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else {
        rc = accept_rcpt(st, &p, &rp, rest);
    }
    addr_parsed_release(&p);
    smtpd_rcpt_params_release(&rp);
    str_release(&err);
    str_release(&reply);
    return rc;
}
