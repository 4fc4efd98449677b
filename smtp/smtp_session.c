/* smtp_session: the SMTP/LMTP client protocol state machine for one server connection:
 * greeting, EHLO/HELO/LHLO with fallback, (the place for STARTTLS and AUTH), one mail
 * transaction per message with PIPELINING when offered (MAIL, RCPTs and DATA sent as a
 * group), SIZE/8BITMIME/SMTPUTF8/DSN parameters (8-bit content converted to 7-bit for a server
 * without 8BITMIME: smtp_mime_out.c), per-recipient results, LMTP's reply per
 * recipient after the final ".", RSET for reuse and QUIT. Phase timeouts are the
 * smtp_*_timeout / lmtp_*_timeout parameters. */
#include "smtp.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "mail/queue_file.h"
#include "mail/xforward.h"
#include "mail/queue_record.h"
#include "mail/xtext.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void smtp_fail_set(struct smtp_fail *f, int status, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    f->status = status;
    str_set(&f->dsn, dsn);
    str_clear(&f->reason);
    va_start(ap, fmt);
    str_vappendf(&f->reason, fmt, ap);
    va_end(ap);
}

/* Reads a reply within timeout; on failure sets f with Postfix's wording for `phase`. */
int smtp_chat_read(struct smtp_session *ss, int timeout, const char *phase, struct smtp_reply *r,
                   struct smtp_fail *f)
{
    stream_set_timeout(ss->s, timeout);
    int rc = smtp_reply_read(ss->s, r);
    if (rc == 0)
        return 0;
    ss->broken = 1;
    if (rc == STREAM_TIMEOUT)
        smtp_fail_set(f, 4, "4.4.2", "conversation with %s[%s] timed out while %s", ss->host,
                      ss->addr, phase);
    else if (rc == SMTP_REPLY_BAD)
        smtp_fail_set(f, 4, "4.4.2", "malformed reply from %s[%s] while %s", ss->host, ss->addr,
                      phase);
    else
        smtp_fail_set(f, 4, "4.4.2", "lost connection with %s[%s] while %s", ss->host, ss->addr,
                      phase);
    return -1;
}

void smtp_chat_send(struct smtp_session *ss, int timeout, const char *line)
{
    stream_set_timeout(ss->s, timeout);
    stream_puts(ss->s, line);
    stream_puts(ss->s, "\r\n");
}

/* A reply as a result: 2xx/4xx/5xx with the "host ... said" text. */
static void said(struct smtp_session *ss, const struct smtp_reply *r, const char *cmd, int *status,
                 struct str *dsn, struct str *reason)
{
    *status = r->code / 100;
    str_set(dsn, r->dsn.data);
    smtp_text_said(reason, ss->host, ss->addr, r->text.data, cmd);
    if (r->code == 421)
        ss->broken = 1;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* The EHLO AUTH list ("AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN" form). */
static void note_auth(struct smtp_session *ss, const struct argv *lines)
{
    free(ss->auth_mechs);
    ss->auth_mechs = NULL;
    for (size_t i = 1; i < lines->n; i++) {
        const char *p = lines->v[i];
        if (strncasecmp(p, "AUTH", 4) != 0 || (p[4] != ' ' && p[4] != '='))
            continue;
        if (!ss->auth_mechs || p[4] == ' ') { /* the standard form wins */
            free(ss->auth_mechs);
            ss->auth_mechs = xstrdup(p + 5);
        }
    }
}

int smtp_session_helo(struct smtp_session *ss, const char *greeting, struct smtp_fail *f)
{
    struct smtp_reply r;
    struct str cmd = STR_INIT;
    smtp_reply_init(&r);
    int esmtp = smtp_cfg.lmtp || (!smtp_cfg.never_ehlo &&
                                  (smtp_cfg.always_ehlo || strstr(greeting, "ESMTP") != NULL));
    const char *verb = smtp_cfg.lmtp ? "LHLO" : esmtp ? "EHLO" : "HELO";
    int rc = -1;
    for (;;) {
        str_setf(&cmd, "%s %s", verb, smtp_cfg.helo_name);
        smtp_chat_send(ss, smtp_cfg.helo_timeout, cmd.data);
        char phase[64];
        snprintf(phase, sizeof phase, "performing the %s handshake", verb);
        if (smtp_chat_read(ss, smtp_cfg.helo_timeout, phase, &r, f) < 0)
            break;
        if (r.code / 100 == 2) {
            if (esmtp) {
                ss->features = smtp_ehlo_features(r.lines, smtp_cfg.discard_ehlo, &ss->size_limit);
                ss->xforward = xforward_features(r.lines);
                note_auth(ss, r.lines);
            }
            rc = 0;
            break;
        }
        if (esmtp && !smtp_cfg.lmtp && r.code / 100 == 5 && r.code != 421) {
            esmtp = 0, verb = "HELO"; /* the server does not speak ESMTP */
            continue;
        }
        struct str dsn = STR_INIT, why = STR_INIT;
        int st;
        said(ss, &r, verb, &st, &dsn, &why);
        smtp_fail_set(f, st == 5 ? 5 : 4, dsn.data, "%s", why.data);
        str_release(&dsn);
        str_release(&why);
        break;
    }
    str_release(&cmd);
    smtp_reply_release(&r);
    return rc;
}

struct smtp_session *smtp_session_open(int fd, const struct smtp_target *t,
                                       const struct smtp_conn *cx, struct smtp_fail *f)
{
    struct smtp_session *ss = xmalloc(sizeof *ss);
    memset(ss, 0, sizeof *ss);
    ss->s = stream_fdopen(fd);
    ss->host = xstrdup(t->host);
    ss->addr = xstrdup(t->addr);
    ss->port = xstrdup(t->port);
    struct str relay = STR_INIT;
    if (t->port[0])
        str_setf(&relay, "%s[%s]:%s", t->host, t->addr, t->port);
    else
        str_setf(&relay, "%s[%s]", t->host, t->addr);
    ss->relay = str_steal(&relay);
    ss->created = time(NULL);
    struct smtp_reply r;
    smtp_reply_init(&r);
    /* smtp_tls_wrappermode: TLS first, then the greeting over it */
    int ok = !smtp_cfg.tls_wrappermode || smtp_session_wrapper(ss, cx, f) == 0;
    ok = ok && smtp_chat_read(ss, smtp_cfg.helo_timeout, "receiving the initial server greeting",
                              &r, f) == 0;
    if (ok && r.code / 100 != 2) {
        struct str dsn = STR_INIT;
        str_set(&dsn, r.dsn.data);
        int st = r.code / 100;
        if (st == 5 && smtp_cfg.skip_5xx_greeting)
            st = 4, dsn.data[0] = '4';
        smtp_fail_set(f, st, dsn.data, "host %s[%s] refused to talk to me: %s", ss->host, ss->addr,
                      r.text.data);
        str_release(&dsn);
        ok = 0;
    }
    if (ok)
        ok = smtp_session_helo(ss, r.text.data, f) == 0 && smtp_session_security(ss, cx, f) == 0;
    smtp_reply_release(&r);
    if (!ok) {
        smtp_session_close(ss, !ss->broken);
        return NULL;
    }
    return ss;
}

void smtp_session_close(struct smtp_session *ss, int quit)
{
    if (!ss)
        return;
    if (quit && !ss->broken) {
        smtp_chat_send(ss, smtp_cfg.quit_timeout, "QUIT");
        if (stream_flush(ss->s) == 0 && !smtp_cfg.skip_quit_response) {
            struct smtp_reply r;
            struct smtp_fail f = {0, STR_INIT, STR_INIT, 0};
            smtp_reply_init(&r);
            smtp_chat_read(ss, smtp_cfg.quit_timeout, "sending QUIT", &r, &f);
            smtp_reply_release(&r);
            str_release(&f.dsn);
            str_release(&f.reason);
        }
    }
    smtp_security_close(ss);
    stream_close(ss->s);
    free(ss->auth_mechs);
    free(ss->host);
    free(ss->addr);
    free(ss->port);
    free(ss->relay);
    free(ss->key);
    free(ss);
}

int smtp_session_rset(struct smtp_session *ss)
{
    struct smtp_reply r;
    struct smtp_fail f = {0, STR_INIT, STR_INIT, 0};
    smtp_reply_init(&r);
    smtp_chat_send(ss, smtp_cfg.rset_timeout, "RSET");
    int rc =
        smtp_chat_read(ss, smtp_cfg.rset_timeout, "sending RSET", &r, &f) == 0 && r.code / 100 == 2
            ? 0
            : -1;
    smtp_reply_release(&r);
    str_release(&f.dsn);
    str_release(&f.reason);
    return rc;
}

/* ---- the transaction -------------------------------------------------------------------- */

static void set_result(struct smtp_rcpt_result *res, int status, const char *dsn,
                       const char *reason)
{
    res->status = status;
    str_set(&res->dsn, dsn);
    str_set(&res->reason, reason);
}

static void quote_path(struct str *out, const char *addr)
{
    str_appendc(out, '<');
    if (*addr)
        address_quote(addr, out);
    str_appendc(out, '>');
}

static void mail_command(const struct smtp_session *ss, const struct smtp_message *m,
                         struct str *out)
{
    str_set(out, "MAIL FROM:");
    quote_path(out, m->sender);
    if (ss->features & SMTP_FEAT_SIZE)
        str_appendf(out, " SIZE=%ld", m->size);
    if ((ss->features & SMTP_FEAT_8BITMIME) && m->eightbit)
        str_append(out, " BODY=8BITMIME");
    if ((ss->features & SMTP_FEAT_SMTPUTF8) && m->smtputf8)
        str_append(out, " SMTPUTF8");
    if (ss->features & SMTP_FEAT_DSN) {
        if (m->rq->dsn_ret[0])
            str_appendf(out, " RET=%s", m->rq->dsn_ret);
        if (m->rq->dsn_envid[0]) {
            str_append(out, " ENVID=");
            xtext_encode(m->rq->dsn_envid, strlen(m->rq->dsn_envid), out);
        }
    }
}

static void rcpt_command(const struct smtp_session *ss, const struct smtp_message *m, size_t i,
                         struct str *out)
{
    const struct deliver_rcpt *rc = &m->rq->rcpts[i];
    str_set(out, "RCPT TO:");
    quote_path(out, m->rcpts[i]);
    if (!(ss->features & SMTP_FEAT_DSN))
        return;
    if (rc->notify) {
        static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
        const char *sep = " NOTIFY=";
        for (int b = 0; b < 4; b++)
            if (rc->notify & (1L << b)) {
                str_appendf(out, "%s%s", sep, names[b]);
                sep = ",";
                if (b == 0)
                    break;
            }
    }
    const char *semi = strchr(rc->orcpt, ';');
    if (semi && semi[1]) {
        str_append(out, " ORCPT=");
        str_appendn(out, rc->orcpt, (size_t)(semi - rc->orcpt + 1));
        xtext_encode(semi + 1, strlen(semi + 1), out);
    }
}

/* Every recipient without a result gets this one. */
static void settle(const struct smtp_message *m, struct smtp_rcpt_result *res, int status,
                   const char *dsn, const char *reason)
{
    for (size_t i = 0; i < m->rq->nrcpt; i++)
        if (res[i].status == 0)
            set_result(&res[i], status, dsn, reason);
}

/* Where the content goes: DATA form into a buffer that is written out as it fills. */
struct body_out {
    struct smtp_session *ss;
    struct smtp_text_state st;
    struct str buf;
};

static void body_put(void *ctx, const char *data, size_t len, int eol)
{
    struct body_out *o = ctx;
    smtp_text_put(&o->st, &o->buf, data, len, eol, (size_t)smtp_cfg.line_limit);
    if (o->buf.len >= STREAM_BUFSIZE) {
        stream_write(o->ss->s, o->buf.data, o->buf.len);
        str_clear(&o->buf);
    }
}

static void mime_out_put(void *ctx, const char *data, size_t len, int eol)
{
    smtp_mime_out_put(ctx, data, len, eol);
}

/* Streams the content with dot-stuffing, through the content checks when there are any, then
 * through the 8BITMIME downgrade when it is wanted; 0, -1 I/O failure (f set), -2 queue file
 * error, -3 a check table failed, -4 the content cannot be converted (*mime_errs set). */
static int send_body(struct smtp_session *ss, const struct smtp_message *m, struct smtp_fail *f,
                     int *mime_errs)
{
    struct rec_reader *rd = xmalloc(sizeof *rd);
    struct str data = STR_INIT;
    struct body_out o = {ss, {0, 0}, STR_INIT};
    struct smtp_mime_out *conv = smtp_mime_out_wanted(ss->features, m->eightbit)
                                     ? smtp_mime_out_new(smtp_mime_out_limits(), body_put, &o)
                                     : NULL;
    smtp_checks_out next = conv ? mime_out_put : body_put;
    void *next_ctx = conv ? (void *)conv : (void *)&o;
    const struct smtp_checks_config *cc = smtp_checks_config(smtp_cfg.prefix);
    struct smtp_checks *checks = cc ? smtp_checks_new(cc, m->rq->queue_id, next, next_ctx) : NULL;
    int rc = 0, t;
    smtp_text_init(&o.st);
    queue_content_open(rd, m->fd, m->env);
    stream_set_timeout(ss->s, smtp_cfg.data_xfer_timeout);
    while ((t = queue_content_get(rd, &data, 65536)) > 0) {
        if (checks)
            smtp_checks_put(checks, data.data, data.len, t == REC_LINE);
        else
            next(next_ctx, data.data, data.len, t == REC_LINE);
        if (stream_status(ss->s) || (checks && smtp_checks_failed(checks)) ||
            (conv && smtp_mime_out_errors(conv)))
            break;
    }
    if (t == REC_ERROR) {
        msg_warn("%s: error reading queue file: %s", m->rq->queue_id, str_cstr(&rd->error));
        rc = -2;
    } else if (checks && smtp_checks_end(checks) < 0) {
        rc = -3;
    } else if (conv && (*mime_errs = smtp_mime_out_end(conv)) != 0) {
        rc = -4;
    } else {
        smtp_text_end(&o.st, &o.buf);
        stream_write(ss->s, o.buf.data, o.buf.len);
        if (stream_flush(ss->s) < 0) {
            ss->broken = 1;
            if (stream_errno(ss->s) == ETIMEDOUT)
                smtp_fail_set(f, 4, "4.4.2",
                              "conversation with %s[%s] timed out while sending "
                              "message body",
                              ss->host, ss->addr);
            else
                smtp_fail_set(f, 4, "4.4.2",
                              "lost connection with %s[%s] while sending message "
                              "body",
                              ss->host, ss->addr);
            rc = -1;
        }
    }
    smtp_checks_free(checks);
    smtp_mime_out_free(conv);
    rec_reader_release(rd);
    free(rd);
    str_release(&data);
    str_release(&o.buf);
    return rc;
}

/* The replies after the final ".": one for SMTP, one per accepted recipient for LMTP. */
static void data_done(struct smtp_session *ss, const struct smtp_message *m,
                      struct smtp_rcpt_result *res, const int *accepted)
{
    struct smtp_reply r;
    struct smtp_fail f = {0, STR_INIT, STR_INIT, 0};
    struct str dsn = STR_INIT, why = STR_INIT;
    smtp_reply_init(&r);
    int have = 0;
    for (size_t i = 0; i < m->rq->nrcpt; i++) {
        if (!accepted[i])
            continue;
        if (smtp_cfg.lmtp || !have) {
            if (smtp_chat_read(ss, smtp_cfg.data_done_timeout,
                               "sending end of data -- message may be sent more than once", &r,
                               &f) < 0) {
                settle(m, res, 4, f.dsn.data, f.reason.data);
                break;
            }
            have = 1;
        }
        int st = r.code / 100;
        if (st == 2)
            set_result(&res[i], 2, r.dsn.data, r.text.data);
        else {
            said(ss, &r, "end of DATA", &st, &dsn, &why);
            set_result(&res[i], st == 5 ? 5 : 4, dsn.data, why.data);
        }
    }
    smtp_reply_release(&r);
    str_release(&f.dsn);
    str_release(&f.reason);
    str_release(&dsn);
    str_release(&why);
}

struct txn {
    struct smtp_session *ss;
    const struct smtp_message *m;
    struct smtp_rcpt_result *res;
    struct smtp_fail *f;
    struct smtp_reply r;
    struct str dsn, why;
    int *accepted;
    size_t naccepted;
    int mail_ok;
};

static int read_mail(struct txn *x)
{
    if (smtp_chat_read(x->ss, smtp_cfg.mail_timeout, "sending MAIL FROM", &x->r, x->f) < 0)
        return -1;
    x->mail_ok = x->r.code / 100 == 2;
    if (!x->mail_ok) {
        int st;
        said(x->ss, &x->r, "MAIL FROM", &st, &x->dsn, &x->why);
        settle(x->m, x->res, st == 5 ? 5 : 4, x->dsn.data, x->why.data);
    }
    return 0;
}

static int read_rcpt(struct txn *x, size_t i)
{
    if (smtp_chat_read(x->ss, smtp_cfg.rcpt_timeout, "sending RCPT TO", &x->r, x->f) < 0)
        return -1;
    if (!x->mail_ok)
        return 0;
    if (x->r.code / 100 == 2) {
        x->accepted[i] = 1;
        x->naccepted++;
        return 0;
    }
    int st;
    said(x->ss, &x->r, "RCPT TO", &st, &x->dsn, &x->why);
    set_result(&x->res[i], st == 5 ? 5 : 4, x->dsn.data, x->why.data);
    return 0;
}

/* DATA's reply; 1 when the server wants the content. */
static int read_data(struct txn *x)
{
    if (smtp_chat_read(x->ss, smtp_cfg.data_init_timeout, "sending DATA command", &x->r, x->f) < 0)
        return -1;
    if (x->r.code == 354)
        return 1;
    if (x->naccepted) {
        int st;
        said(x->ss, &x->r, "DATA", &st, &x->dsn, &x->why);
        for (size_t i = 0; i < x->m->rq->nrcpt; i++)
            if (x->accepted[i])
                set_result(&x->res[i], st == 5 ? 5 : 4, x->dsn.data, x->why.data);
    }
    return 0;
}

static int precheck(struct smtp_session *ss, const struct smtp_message *m,
                    struct smtp_rcpt_result *res)
{
    struct str why = STR_INIT;
    int stop = 0;
    if ((ss->features & SMTP_FEAT_SIZE) && ss->size_limit > 0 && m->size > ss->size_limit) {
        str_setf(&why, "message size %ld exceeds size limit %ld of server %s[%s]", m->size,
                 ss->size_limit, ss->host, ss->addr);
        settle(m, res, 5, "5.3.4", why.data);
        stop = 1;
    } else if (m->smtputf8 && !(ss->features & SMTP_FEAT_SMTPUTF8)) {
        str_setf(&why, "SMTPUTF8 is required, but was not offered by host %s[%s]", ss->host,
                 ss->addr);
        settle(m, res, 5, "5.6.7", why.data);
        stop = 1;
    }
    str_release(&why);
    return stop;
}

/* smtp_send_xforward_command: the original client and queue ID, before MAIL, to a server that
 * offers XFORWARD (a content filter's re-injection smtpd). A refusal only loses the logging
 * information: it is logged and the delivery goes on. -1 when the connection broke. */
static int send_xforward(struct txn *x)
{
    struct smtp_session *ss = x->ss;
    const struct queue_envelope *env = x->m->env;
    if (!smtp_cfg.send_xforward || !ss->xforward || env == NULL)
        return 0;
    const char *ctx = queue_envelope_attr(env, "rewrite_context");
    struct xforward_attrs a = {
        .name = queue_envelope_attr(env, "client_name"),
        .addr = queue_envelope_attr(env, "client_address"),
        .port = queue_envelope_attr(env, "client_port"),
        .proto = queue_envelope_attr(env, "client_protocol"),
        .helo = queue_envelope_attr(env, "client_helo"),
        .ident = x->m->rq->queue_id,
        .source = ctx && strcmp(ctx, "local") == 0 ? "LOCAL" : "REMOTE",
    };
    struct argv *cmds = argv_new();
    xforward_cmds(ss->xforward, &a, cmds);
    int rc = 0;
    for (size_t i = 0; i < cmds->n && rc == 0; i++) {
        smtp_chat_send(ss, smtp_cfg.xforward_timeout, cmds->v[i]);
        if (smtp_chat_read(ss, smtp_cfg.xforward_timeout, "sending XFORWARD", &x->r, x->f) < 0)
            rc = -1;
        else if (x->r.code / 100 != 2)
            msg_warn("%s: host %s[%s] refused XFORWARD: %s", x->m->rq->queue_id, ss->host, ss->addr,
                     x->r.text.data);
    }
    argv_free(cmds);
    return rc;
}

static void transaction(struct txn *x)
{
    struct smtp_session *ss = x->ss;
    const struct smtp_message *m = x->m;
    int pipelined = (ss->features & SMTP_FEAT_PIPELINING) != 0;
    struct str cmd = STR_INIT;
    if (send_xforward(x) < 0)
        goto io;
    mail_command(ss, m, &cmd);
    smtp_chat_send(ss, smtp_cfg.mail_timeout, cmd.data);
    if (!pipelined && read_mail(x) < 0)
        goto io;
    for (size_t i = 0; i < m->rq->nrcpt && (pipelined || x->mail_ok) && !ss->broken; i++) {
        rcpt_command(ss, m, i, &cmd);
        smtp_chat_send(ss, smtp_cfg.rcpt_timeout, cmd.data);
        if (!pipelined && read_rcpt(x, i) < 0)
            goto io;
    }
    if (pipelined) {
        smtp_chat_send(ss, smtp_cfg.data_init_timeout, "DATA");
        if (read_mail(x) < 0)
            goto io;
        for (size_t i = 0; i < m->rq->nrcpt; i++)
            if (!ss->broken && read_rcpt(x, i) < 0)
                goto io;
    } else if (x->mail_ok && x->naccepted && !ss->broken)
        smtp_chat_send(ss, smtp_cfg.data_init_timeout, "DATA");
    else
        goto out;
    if (ss->broken)
        goto out;
    int go = read_data(x);
    if (go < 0)
        goto io;
    if (go == 1 && x->naccepted == 0) { /* nobody to send to: an empty message is dropped */
        smtp_chat_send(ss, smtp_cfg.data_done_timeout, ".");
        if (smtp_chat_read(ss, smtp_cfg.data_done_timeout, "sending end of data", &x->r, x->f) < 0)
            goto io;
    } else if (go == 1) {
        int mime_errs = 0;
        int b = send_body(ss, m, x->f, &mime_errs);
        if (b == -4) { /* as Postfix: the message fails; the connection is dropped */
            ss->broken = 1;
            const struct mime_error_detail *d = mime_state_detail(mime_errs);
            settle(m, x->res, 5, d->dsn, d->text);
        } else if (b == -2) {
            ss->broken = 1;
            settle(m, x->res, 4, "4.3.0", "error reading queue file");
        } else if (b == -3) { /* the message must not go out: the connection is dropped */
            ss->broken = 1;
            struct str why = STR_INIT;
            str_setf(&why, "local data error while talking to %s[%s]", ss->host, ss->addr);
            settle(m, x->res, 4, "4.3.0", why.data);
            str_release(&why);
        } else if (b < 0)
            goto io;
        else
            data_done(ss, m, x->res, x->accepted);
    }
    goto out;
io:
    if (x->naccepted == 0 && !x->mail_ok)
        goto out; /* nothing final yet: the caller may try another server */
    settle(m, x->res, x->f->status, x->f->dsn.data, x->f->reason.data);
out:
    str_release(&cmd);
}

void smtp_session_deliver(struct smtp_session *ss, const struct smtp_message *m,
                          struct smtp_rcpt_result *res, struct smtp_fail *f)
{
    f->status = 0;
    if (precheck(ss, m, res))
        return;
    struct txn x = {ss, m, res, f, {0}, STR_INIT, STR_INIT, NULL, 0, 0};
    smtp_reply_init(&x.r);
    x.accepted = xmalloc((m->rq->nrcpt + 1) * sizeof *x.accepted);
    memset(x.accepted, 0, (m->rq->nrcpt + 1) * sizeof *x.accepted);
    transaction(&x);
    if (ss->broken && f->status == 0 && x.why.len) /* a 421: the rest wait for a retry */
        settle(m, res, 4, x.dsn.data[0] == '4' ? x.dsn.data : "4.4.2", x.why.data);
    ss->uses++;
    free(x.accepted);
    smtp_reply_release(&x.r);
    str_release(&x.dsn);
    str_release(&x.why);
}
