/* smtpd_milter: smtpd_milters — the milter sessions of one SMTP connection. smtpd drives the
 * connect, HELO, MAIL, RCPT, DATA and unknown-command stages itself, answering with a filter's
 * reject or tempfail and logging "milter-reject" as Postfix does; the end-of-message stage
 * runs in the cleanup service, which holds the content: the connections are handed over when
 * the cleanup connection opens and the filters' state with the envelope (docs/milter.md). */
#include "smtpd.h"
#include "smtpd_proxy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "mail/config.h"
#include "mail/maps.h"
#include "mail/milter.h"
#include "mail/receive_override.h"
#include "mail/tls.h"
#include "table/table.h"

/* ---- macros: what smtpd knows about the session ---- */

static const char *tls_value(struct smtpd_state *st, const char *name)
{
    if (st->tls == NULL)
        return NULL;
    const struct tls_info *ti = tls_session_info(st->tls);
    if (strcmp(name, "tls_version") == 0)
        return ti->protocol;
    if (strcmp(name, "cipher") == 0)
        return ti->cipher;
    if (strcmp(name, "cipher_bits") == 0) {
        str_setf(&st->milter_scratch, "%d", ti->cipher_bits);
        return st->milter_scratch.data;
    }
    if (strcmp(name, "cert_subject") == 0 && ti->peer_cert)
        return ti->peer_CN;
    if (strcmp(name, "cert_issuer") == 0 && ti->peer_cert)
        return ti->issuer_CN;
    return NULL;
}

static const char *domain_of(struct smtpd_state *st, const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (at == NULL)
        return NULL;
    str_set(&st->milter_scratch, at + 1);
    return st->milter_scratch.data;
}

static const char *macro_lookup(const char *name, void *ctx)
{
    struct smtpd_state *st = ctx;
    static const struct {
        const char *name;
        size_t off;
    } plain[] = {
        {"client_addr", offsetof(struct smtpd_state, addr)},
        {"client_port", offsetof(struct smtpd_state, port)},
        {"client_name", offsetof(struct smtpd_state, name)},
        {"client_ptr", offsetof(struct smtpd_state, reverse_name)},
        {"auth_type", offsetof(struct smtpd_state, sasl_method)},
        {"auth_authen", offsetof(struct smtpd_state, sasl_username)},
        {"auth_author", offsetof(struct smtpd_state, sasl_sender)},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(name, plain[i].name) == 0)
            return *(char **)((char *)st + plain[i].off);
    if (strcmp(name, "j") == 0)
        return smtpd_conf.myhostname;
    if (strcmp(name, "_") == 0) {
        str_setf(&st->milter_scratch, "%s [%s]", st->name, st->addr);
        return st->milter_scratch.data;
    }
    if (strcmp(name, "daemon_addr") == 0)
        return st->ctx.server_addr;
    if (strcmp(name, "daemon_port") == 0)
        return st->ctx.server_port;
    if (strcmp(name, "i") == 0)
        return st->queue_id.len ? st->queue_id.data : NULL;
    if (strcmp(name, "mail_addr") == 0)
        return st->in_mail ? str_cstr(&st->sender) : NULL;
    if (strcmp(name, "mail_host") == 0)
        return st->in_mail ? domain_of(st, st->sender.data) : NULL;
    if (strcmp(name, "rcpt_addr") == 0)
        return st->milter_rcpt;
    if (strcmp(name, "rcpt_host") == 0)
        return domain_of(st, st->milter_rcpt);
    if (strcmp(name, "mail_mailer") == 0 || strcmp(name, "rcpt_mailer") == 0)
        return "smtp";
    return tls_value(st, name);
}

/* ---- verdicts ---- */

/* Sends a filter's reply: one line per CRLF-separated line, continuation marks fixed. */
static void send_reply(struct smtpd_state *st, const char *reply)
{
    struct argv *lines = argv_new();
    for (const char *p = reply; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        argv_addn(lines, p, n);
        p += n + (e ? 2 : 0);
    }
    for (size_t i = 0; i < lines->n; i++) {
        struct str clean = STR_INIT;
        smtpd_sanitize(lines->v[i], strlen(lines->v[i]), &clean);
        if (clean.len > 3)
            clean.data[3] = i + 1 < lines->n ? '-' : ' ';
        smtpd_reply(st, "%s", clean.data);
        str_release(&clean);
    }
    argv_free(lines);
}

/* "milter-reject: STAGE from name[addr]: <first line of the reply>; ..." */
static void log_reject(struct smtpd_state *st, const char *stage, const char *reply, const char *to)
{
    const char *e = strstr(reply, "\r\n");
    struct str first = STR_INIT;
    smtpd_sanitize(reply, e ? (size_t)(e - reply) : strlen(reply), &first);
    smtpd_log_action(st, "milter-reject", stage, first.data, to);
    str_release(&first);
}

/* Acts on a stage's verdict; returns 0 to go on, -1 when the reply was sent (refused). */
static int verdict(struct smtpd_state *st, const char *stage, const char *to,
                   struct milter_verdict *v)
{
    if (v->action == MILTER_REJECT || v->action == MILTER_TEMPFAIL) {
        const char *r = v->reply.data ? v->reply.data : "";
        log_reject(st, stage, r, to);
        send_reply(st, r);
        if (strncmp(r, "421", 3) == 0)
            st->quit = 1; /* the filter ends the session */
        return -1;
    }
    if (v->action == MILTER_DISCARD) {
        if (!st->milter_discard)
            smtpd_log_action(st, "milter-discard", stage, "milter triggers DISCARD action", to);
        st->milter_discard = 1;
    }
    return 0;
}

/* Logs a connect or HELO refusal and keeps its reply for MAIL FROM; -1 when it was a 421
 * (sent now, the session ends). */
static int defer_refusal(struct smtpd_state *st, const char *stage, struct milter_verdict *v,
                         struct str *keep)
{
    if (strncmp(v->reply.data ? v->reply.data : "", "421", 3) == 0)
        return verdict(st, stage, NULL, v);
    const char *r = v->reply.data ? v->reply.data : "";
    log_reject(st, stage, r, NULL);
    str_set(keep, r);
    return 0;
}

/* ---- the session ---- */

/* smtpd_milter_maps: a per-client list (by client address) that replaces smtpd_milters, or
 * DISABLE. A lookup error keeps smtpd_milters (logged). Returns the list to use. */
static const char *client_milters(struct smtpd_state *st, struct str *buf)
{
    const char *maps = config_get("smtpd_milter_maps");
    const char *list = config_get("smtpd_milters");
    if (maps == NULL || *maps == 0)
        return list;
    static struct maps *m; /* opened once per process, like the access tables */
    if (m == NULL)
        m = maps_open("smtpd_milter_maps", maps, TABLE_FLAG_FOLD_KEY);
    int rc = maps_find(m, st->addr, buf);
    if (rc == TABLE_ERROR)
        msg_warn("smtpd_milter_maps lookup error for %s: %s -- using smtpd_milters", st->addr,
                 maps_error(m));
    if (rc != TABLE_FOUND)
        return list;
    return strcasecmp(buf->data, "DISABLE") == 0 ? "" : buf->data;
}

int smtpd_milter_connect(struct smtpd_state *st)
{
    if (receive_override_has("no_milters"))
        return 0;
    struct str buf = STR_INIT, err = STR_INIT;
    const char *list = client_milters(st, &buf);
    if (list == NULL || list[strspn(list, ", \t\r\n")] == 0) {
        str_release(&buf);
        return 0;
    }
    static int warned;
    if (smtpd_proxy_enabled() && !warned++)
        msg_warn("smtpd_milters with smtpd_proxy_filter: the filters do not see the message "
                 "content here; configure them on the smtpd that receives from the proxy");
    st->milters = milters_create(list, &err);
    str_release(&buf);
    if (st->milters == NULL) {
        msg_warn("smtpd_milters: %s", err.data);
        str_release(&err);
        smtpd_reply(st, "421 4.3.5 %s Server configuration error", smtpd_conf.myhostname);
        st->quit = 1;
        return -1;
    }
    str_release(&err);
    milters_set_macro_lookup(st->milters, macro_lookup, st);
    if (smtpd_conf.message_size_limit > 0)
        milters_set_body_limit(st->milters, (size_t)smtpd_conf.message_size_limit + 65536);
    struct milter_verdict v;
    milter_verdict_init(&v);
    milters_connect(st->milters, st->name, st->addr, (unsigned)atoi(st->port ? st->port : "0"), &v);
    int rc = 0;
    /* As in Postfix, a refusal at connect (or HELO) is not sent at once: MAIL FROM gets it,
     * so clients that cannot handle a refused greeting still see a proper reply. A 421
     * ends the session at once. */
    if (v.action == MILTER_REJECT || v.action == MILTER_TEMPFAIL)
        rc = defer_refusal(st, "CONNECT", &v, &st->milter_connect_reply);
    milter_verdict_release(&v);
    return rc;
}

enum stage { ST_MAIL, ST_RCPT, ST_DATA };

/* One event to the filters, then its verdict. */
static int run(struct smtpd_state *st, enum stage stage, const char *name, const char *to,
               const struct argv *args)
{
    struct milter_verdict v;
    milter_verdict_init(&v);
    switch (stage) {
    case ST_MAIL:
        milters_mail(st->milters, args, &v);
        break;
    case ST_RCPT:
        milters_rcpt(st->milters, args, &v);
        break;
    case ST_DATA:
        milters_data(st->milters, &v);
        break;
    }
    int rc = verdict(st, name, to, &v);
    milter_verdict_release(&v);
    return rc;
}

int smtpd_milter_helo(struct smtpd_state *st, const char *verb)
{
    if (st->milters == NULL)
        return 0;
    struct milter_verdict v;
    milter_verdict_init(&v);
    milters_helo(st->milters, st->helo, &v);
    str_clear(&st->milter_helo_reply);
    int rc = 0;
    if (v.action == MILTER_REJECT || v.action == MILTER_TEMPFAIL)
        rc = defer_refusal(st, verb, &v, &st->milter_helo_reply);
    else
        verdict(st, verb, NULL, &v);
    milter_verdict_release(&v);
    return rc;
}

/* "<addr>" in external form and the ESMTP parameters as the client sent them. */
static struct argv *event_args(const char *addr, const char *params)
{
    struct argv *a = argv_new();
    struct str q = STR_INIT, b = STR_INIT;
    address_quote(addr, &q);
    str_setf(&b, "<%s>", q.data ? q.data : "");
    argv_add(a, b.data);
    struct argv *p = argv_split(params ? params : "", " \t");
    for (size_t i = 0; i < p->n && i < 32; i++)
        argv_add(a, p->v[i]);
    argv_free(p);
    str_release(&q);
    str_release(&b);
    return a;
}

int smtpd_milter_mail(struct smtpd_state *st, const char *params)
{
    if (st->milters == NULL)
        return 0;
    const struct str *kept =
        st->milter_connect_reply.len ? &st->milter_connect_reply : &st->milter_helo_reply;
    if (kept->len) { /* refused at connect or HELO */
        send_reply(st, kept->data);
        return -1;
    }
    struct argv *a = event_args(str_cstr(&st->sender), params);
    st->milter_in_msg = 1;
    int rc = run(st, ST_MAIL, "MAIL", NULL, a);
    argv_free(a);
    return rc;
}

int smtpd_milter_rcpt(struct smtpd_state *st, const char *rcpt, const char *params)
{
    if (st->milters == NULL)
        return 0;
    struct argv *a = event_args(rcpt, params);
    st->milter_rcpt = rcpt;
    int rc = run(st, ST_RCPT, "RCPT", rcpt, a);
    st->milter_rcpt = NULL;
    argv_free(a);
    return rc;
}

int smtpd_milter_data(struct smtpd_state *st, const char *verb)
{
    if (st->milters == NULL)
        return 0;
    return run(st, ST_DATA, verb, NULL, NULL);
}

int smtpd_milter_unknown(struct smtpd_state *st, const char *line)
{
    if (st->milters == NULL)
        return 0;
    struct milter_verdict v;
    milter_verdict_init(&v);
    milters_unknown(st->milters, line, &v);
    int rc = v.action == MILTER_REJECT || v.action == MILTER_TEMPFAIL
                 ? verdict(st, "UNKNOWN", NULL, &v)
                 : 0;
    milter_verdict_release(&v);
    return rc;
}

void smtpd_milter_abort(struct smtpd_state *st)
{
    if (st->milters && st->milter_in_msg)
        milters_abort(st->milters);
    st->milter_in_msg = 0;
    st->milter_discard = 0;
}

size_t smtpd_milter_fds(struct smtpd_state *st, int *fds, size_t max)
{
    return st->milters ? milters_fds(st->milters, fds, max) : 0;
}

void smtpd_milter_export(struct smtpd_state *st, struct str *out)
{
    str_clear(out);
    if (st->milters)
        milters_export(st->milters, out);
}

void smtpd_milter_end(struct smtpd_state *st)
{
    milters_free(st->milters);
    st->milters = NULL;
    str_release(&st->milter_scratch);
    str_release(&st->milter_connect_reply);
    str_release(&st->milter_helo_reply);
}
