/* smtpd_proxy: the before-queue content filter client (smtpd_proxy_filter). Instead of
 * cleanup, smtpd talks SMTP to the filter: at the point where the queue file would be opened
 * (MAIL, or the first accepted RCPT with smtpd_delay_open_until_valid_rcpt) it connects,
 * reads the greeting, sends EHLO smtpd_proxy_ehlo, XFORWARD when the filter offers it, and
 * the MAIL FROM smtpd accepted; then each accepted RCPT, DATA, our Received header, the
 * content (clean CRLF lines, dot-stuffed: the assembler has already normalised every bare CR
 * and LF), and "." — whose reply is the client's end-of-data reply. With smtpd_proxy_options =
 * speed_adjust nothing is sent until the whole message is in: the content is kept in an
 * unlinked file under incoming/ and the transaction is replayed then. Every exchange is
 * bounded by smtpd_proxy_timeout; a filter that cannot be reached, times out or answers out
 * of protocol gives the client "451 4.3.0 Error: queue file write error". The connection ends
 * (RSET when unfinished, QUIT) with each transaction. Log lines are Postfix's. */
#include "smtpd_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "mail/config.h"
#include "mail/queue_record.h"
#include "smtpd.h"

static struct {
    int loaded;
    char *filter; /* as configured: also the name in log lines */
    char *ehlo;
    long timeout; /* seconds */
    int speed_adjust;
} conf;

struct smtpd_proxy {
    struct stream *s;        /* the filter; NULL until connected */
    struct stream *out;      /* where content goes: s, or the replay file */
    struct stream *replay;   /* speed_adjust: the content, in DATA form */
    struct str mail;         /* the MAIL FROM command */
    struct argv *rcpts;      /* speed_adjust: the RCPT TO commands */
    struct smtp_reply reply; /* the filter's last reply */
    struct argv *answer;     /* what the client gets: the filter's reply or our own */
    struct smtp_text_state ts;
    struct str buf;
    int in_data; /* DATA accepted, "." not sent: no command can follow */
    int done;    /* "." was answered */
    int broken;  /* the connection is unusable (I/O error, timeout, garbage) */
};

static void conf_load(void)
{
    if (conf.loaded)
        return;
    const char *v = config_get("smtpd_proxy_filter");
    conf.filter = xstrdup(v ? v : "");
    v = config_get("smtpd_proxy_ehlo");
    conf.ehlo = xstrdup(v && *v ? v : smtpd_conf.myhostname ? smtpd_conf.myhostname : "localhost");
    conf.timeout = config_get_time("smtpd_proxy_timeout");
    if (conf.timeout <= 0)
        conf.timeout = 100;
    struct argv *opts = argv_split(config_get("smtpd_proxy_options"), " \t,");
    for (size_t i = 0; i < opts->n; i++) {
        if (strcasecmp(opts->v[i], "speed_adjust") == 0)
            conf.speed_adjust = 1;
        else
            msg_warn("unknown smtpd_proxy_options value \"%s\" ignored", opts->v[i]);
    }
    argv_free(opts);
    conf.loaded = 1;
}

int smtpd_proxy_enabled(void)
{
    conf_load();
    return conf.filter[0] != 0;
}

/* ---- the client's view -------------------------------------------------------------------- */

static void answer_fail(struct smtpd_proxy *p)
{
    argv_clear(p->answer);
    argv_add(p->answer, SMTPD_PROXY_FAIL_REPLY);
}

static void answer_filter(struct smtpd_proxy *p)
{
    smtpd_proxy_client_lines(&p->reply, (size_t)smtpd_conf.line_length_limit, p->answer);
}

/* Sends the answer: continuation lines as they are, the last through smtpd_reply (error
 * counting). Every line was sanitised when it was made. */
static void send_answer(struct smtpd_state *st, const struct smtpd_proxy *p)
{
    for (size_t i = 0; i + 1 < p->answer->n; i++) {
        if (msg_verbose)
            msg_info("> %s: %s", st->namaddr, p->answer->v[i]);
        stream_puts(st->s, p->answer->v[i]);
        stream_puts(st->s, "\r\n");
    }
    smtpd_reply(st, "%s", p->answer->n ? p->answer->v[p->answer->n - 1] : SMTPD_PROXY_FAIL_REPLY);
}

static void answer_text(const struct smtpd_proxy *p, struct str *out)
{
    for (size_t i = 0; i < p->answer->n; i++) {
        if (i)
            str_appendc(out, ' ');
        str_append(out, p->answer->v[i]);
    }
}

/* ---- talking to the filter ---------------------------------------------------------------- */

static void io_error(struct smtpd_proxy *p)
{
    if (stream_status(p->s) & STREAM_ST_TIMEOUT)
        msg_warn("timeout talking to proxy %s", conf.filter);
    else
        msg_warn("lost connection with proxy %s", conf.filter);
    p->broken = 1;
    answer_fail(p);
}

/* Sends cmd (NULL: none, only a reply is due) and reads the reply within smtpd_proxy_timeout.
 * what names the exchange in a warning. 0 when the reply is as expected; -1 otherwise, with
 * the client's answer set (the filter's rejection, or our own 451). */
static int exchange(struct smtpd_proxy *p, const char *cmd, const char *what, int expect)
{
    if (p->broken) {
        answer_fail(p);
        return -1;
    }
    stream_set_deadline(p->s, deadline_after_ms(conf.timeout * 1000));
    if (cmd) {
        if (msg_verbose)
            msg_info("> %s: %s", conf.filter, cmd);
        stream_puts(p->s, cmd);
        stream_puts(p->s, "\r\n");
    }
    if (stream_flush(p->s) < 0) {
        io_error(p);
        return -1;
    }
    int rc = smtp_reply_read(p->s, &p->reply);
    if (rc == SMTP_REPLY_BAD) {
        msg_warn("received garbage from proxy %s", conf.filter);
        p->broken = 1;
        answer_fail(p);
        return -1;
    }
    if (rc != 0) {
        io_error(p);
        return -1;
    }
    if (msg_verbose)
        msg_info("< %s: %s", conf.filter, str_cstr(&p->reply.text));
    int j = smtpd_proxy_judge(&p->reply, expect);
    if (j == 0) {
        answer_filter(p);
        return 0;
    }
    if (expect != PROXY_WANT_ANY || j == -2)
        msg_warn("proxy %s rejected \"%s\": \"%s\"", conf.filter, what, str_cstr(&p->reply.text));
    if (j == -1)
        answer_filter(p);
    else
        answer_fail(p);
    return -1;
}

/* The reason of a net_connect failure without its "connect to ADDR: " prefix. */
static const char *reason(const struct str *why)
{
    const char *text = str_cstr(why), *colon = strrchr(text, ':');
    return colon && colon[1] == ' ' ? colon + 2 : text;
}

static void client_attrs(const struct smtpd_state *st, struct xforward_attrs *c, struct str *addr)
{
    memset(c, 0, sizeof(*c));
    c->name = st->name && strcmp(st->name, "unknown") != 0 ? st->name : NULL;
    if (st->addr && strchr(st->addr, ':'))
        str_setf(addr, "IPv6:%s", st->addr);
    else if (st->addr)
        str_set(addr, st->addr);
    c->addr = addr->len ? str_cstr(addr) : NULL;
    c->port = st->port;
    c->proto = st->protocol;
    c->helo = st->helo;
    c->source = "REMOTE";
}

static int send_xforward(struct smtpd_state *st, struct smtpd_proxy *p)
{
    unsigned features = xforward_features(p->reply.lines);
    if (!features)
        return 0;
    struct xforward_attrs c;
    struct str addr = STR_INIT;
    struct argv *cmds = argv_new();
    client_attrs(st, &c, &addr);
    xforward_cmds(features, &c, cmds);
    int rc = 0;
    for (size_t i = 0; i < cmds->n && rc == 0; i++)
        rc = exchange(p, cmds->v[i], cmds->v[i], PROXY_WANT_OK);
    argv_free(cmds);
    str_release(&addr);
    return rc;
}

/* Connects and runs the session up to MAIL FROM. Failures before MAIL give our own 451 (the
 * client is waiting for a MAIL or RCPT reply, not for the filter's greeting); MAIL's own
 * rejection goes to the client as it is. */
static int proxy_connect(struct smtpd_state *st, struct smtpd_proxy *p)
{
    struct net_endpoint ep;
    struct str why = STR_INIT;
    int fd = -1;
    if (net_parse_endpoint(conf.filter, &ep, &why) == 0) {
        int protocols = net_parse_protocols(config_get("inet_protocols"), NULL);
        fd = net_connect_endpoint(&ep, protocols > 0 ? protocols : NET_ALL,
                                  (int)conf.timeout * 1000, &why);
        net_endpoint_free(&ep);
    }
    if (fd < 0) {
        msg_warn("connect to proxy filter %s: %s", conf.filter, reason(&why));
        str_release(&why);
        answer_fail(p);
        return -1;
    }
    str_release(&why);
    p->s = stream_fdopen(fd);
    stream_set_timeout(p->s, (int)conf.timeout);
    struct str ehlo = STR_INIT;
    str_setf(&ehlo, "EHLO %s", conf.ehlo);
    int rc = 0;
    if (exchange(p, NULL, "connection request", PROXY_WANT_OK) < 0 ||
        exchange(p, str_cstr(&ehlo), str_cstr(&ehlo), PROXY_WANT_OK) < 0 ||
        send_xforward(st, p) < 0) {
        answer_fail(p);
        rc = -1;
    } else if (exchange(p, str_cstr(&p->mail), str_cstr(&p->mail), PROXY_WANT_OK) < 0) {
        rc = -1;
    }
    str_release(&ehlo);
    return rc;
}

/* ---- the speed_adjust replay file ---------------------------------------------------------- */

/* An unlinked file in incoming/ (the queue directory is the working directory). */
static int replay_open(struct smtpd_proxy *p)
{
    int fd = open("incoming", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        char path[] = "incoming/.proxy.XXXXXX";
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0 && unlink(path) < 0)
            msg_warn("remove before-queue filter speed-adjust log %s: %s", path, strerror(errno));
    }
    if (fd < 0) {
        msg_warn("proxy speed-adjust log I/O error: %s", strerror(errno));
        return -1;
    }
    p->replay = stream_fdopen(fd);
    return 0;
}

/* Copies the replay file (the content and its ".") to the filter. */
static int replay_content(struct smtpd_proxy *p)
{
    char buf[STREAM_BUFSIZE];
    int fd = stream_fd(p->replay);
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
        stream_write(p->s, buf, (size_t)n);
        off += n;
        if (stream_status(p->s))
            break;
    }
    if (n < 0) {
        msg_warn("proxy speed-adjust log I/O error: %s", strerror(errno));
        answer_fail(p);
        return -1;
    }
    return 0;
}

/* The whole transaction, now that the message is in: the first failure is the answer. */
static int replay(struct smtpd_state *st, struct smtpd_proxy *p)
{
    if (stream_flush(p->replay) < 0) {
        msg_warn("proxy speed-adjust log I/O error: %s", strerror(stream_errno(p->replay)));
        answer_fail(p);
        return -1;
    }
    if (proxy_connect(st, p) < 0)
        return -1;
    for (size_t i = 0; i < p->rcpts->n; i++)
        if (exchange(p, p->rcpts->v[i], p->rcpts->v[i], PROXY_WANT_OK) < 0)
            return -1;
    if (exchange(p, "DATA", "DATA", PROXY_WANT_MORE) < 0)
        return -1;
    p->in_data = 1;
    stream_set_deadline(p->s, -1);
    if (replay_content(p) < 0)
        return -1;
    int rc = exchange(p, NULL, ".", PROXY_WANT_ANY);
    p->in_data = 0;
    return rc;
}

/* ---- the transaction ----------------------------------------------------------------------- */

static void proxy_free(struct smtpd_proxy *p)
{
    if (p->s) {
        if (p->broken || p->in_data) {
            /* Nothing more may be said: whatever is buffered is dropped, the filter sees the
             * connection end without "." and discards the message. */
            close(stream_release(p->s));
        } else {
            stream_set_deadline(p->s, deadline_after_ms(conf.timeout * 1000));
            if (!p->done)
                stream_puts(p->s, "RSET\r\n");
            stream_puts(p->s, "QUIT\r\n");
            stream_close(p->s);
        }
    }
    if (p->replay)
        close(stream_release(p->replay));
    str_release(&p->mail);
    str_release(&p->buf);
    argv_free(p->rcpts);
    argv_free(p->answer);
    smtp_reply_release(&p->reply);
    free(p);
}

int smtpd_proxy_open(struct smtpd_state *st)
{
    if (st->proxy)
        return 0;
    struct smtpd_proxy *p = xcalloc(1, sizeof(*p));
    smtp_reply_init(&p->reply);
    p->rcpts = argv_new();
    p->answer = argv_new();
    smtpd_proxy_mail_cmd(str_cstr(&st->sender), st->size_param, st->body_8bit, st->smtputf8,
                         st->ret, st->envid, &p->mail);
    int rc = conf.speed_adjust ? replay_open(p) : proxy_connect(st, p);
    if (rc < 0) {
        if (conf.speed_adjust)
            answer_fail(p);
        send_answer(st, p);
        proxy_free(p);
        return -1;
    }
    st->proxy = p;
    return 0;
}

int smtpd_proxy_rcpt(struct smtpd_state *st, const char *rcpt, const struct smtpd_rcpt_params *rp)
{
    struct smtpd_proxy *p = st->proxy;
    struct str cmd = STR_INIT;
    int rc = 0;
    smtpd_proxy_rcpt_cmd(rcpt, rp->notify, rp->orcpt, &cmd);
    if (conf.speed_adjust) {
        argv_add(p->rcpts, str_cstr(&cmd));
    } else if (exchange(p, str_cstr(&cmd), str_cstr(&cmd), PROXY_WANT_OK) < 0) {
        send_answer(st, p);
        rc = -1;
    }
    str_release(&cmd);
    return rc;
}

static void emit_to_proxy(void *ctx, int type, const char *data, size_t len)
{
    struct smtpd_proxy *p = ctx;
    str_clear(&p->buf);
    smtpd_proxy_encode(&p->ts, &p->buf, type, data, len);
    stream_write(p->out, p->buf.data, p->buf.len);
}

/* A header line of ours (PREPEND, Received) as one content line; a CR or LF in it could only
 * come from a broken table entry and is made a space. */
static void put_header(struct smtpd_proxy *p, const char *line)
{
    struct str clean = STR_INIT;
    str_set(&clean, line);
    for (size_t i = 0; i < clean.len; i++)
        if (clean.data[i] == '\r' || clean.data[i] == '\n')
            clean.data[i] = ' ';
    emit_to_proxy(p, REC_LINE, clean.data, clean.len);
    str_release(&clean);
}

struct smtpd_content *smtpd_proxy_begin_content(struct smtpd_state *st)
{
    struct smtpd_proxy *p = st->proxy;
    if (conf.speed_adjust) {
        p->out = p->replay;
    } else {
        if (exchange(p, "DATA", "DATA", PROXY_WANT_MORE) < 0) {
            send_answer(st, p);
            return NULL;
        }
        stream_set_deadline(p->s, -1); /* the per-write timeout bounds the content */
        p->out = p->s;
    }
    p->in_data = 1;
    smtp_text_init(&p->ts);
    const struct argv *prepend = st->ctx.actions.prepend;
    for (size_t i = 0; prepend && i < prepend->n; i++)
        put_header(p, prepend->v[i]);
    struct argv *received = argv_new();
    smtpd_txn_received(st, received);
    for (size_t i = 0; i < received->n; i++)
        put_header(p, received->v[i]);
    argv_free(received);
    st->content = xmalloc(sizeof(*st->content));
    smtpd_content_init(st->content, (size_t)smtpd_conf.line_length_limit, smtpd_conf.bare_lf,
                       smtpd_conf.message_size_limit, emit_to_proxy, p);
    return st->content;
}

/* " from=<s> to=<r> proto=P helo=<h>", as the reject lines end. */
static void whatsup(const struct smtpd_state *st, struct str *out)
{
    str_append(out, " from=<");
    smtpd_sanitize(str_cstr(&st->sender), st->sender.len, out);
    str_append(out, ">");
    if (st->rcpts && st->rcpts->n > 0) {
        str_append(out, " to=<");
        smtpd_sanitize(st->rcpts->v[0], strlen(st->rcpts->v[0]), out);
        str_append(out, ">");
    }
    str_appendf(out, " proto=%s", st->protocol);
    if (st->helo)
        str_appendf(out, " helo=<%s>", st->helo);
}

/* Access actions that only cleanup can carry out have nowhere to go. */
static void warn_unavailable(const struct smtpd_state *st)
{
    const struct smtpd_check_actions *a = &st->ctx.actions;
    const char *names[] = {a->hold ? "HOLD" : NULL, a->discard ? "DISCARD" : NULL,
                           a->filter ? "FILTER" : NULL, a->redirect ? "REDIRECT" : NULL,
                           a->bcc && a->bcc->n ? "BCC" : NULL};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i])
            msg_warn("access table: with smtpd_proxy_filter specified, action %s is unavailable",
                     names[i]);
}

int smtpd_proxy_finish(struct smtpd_state *st)
{
    struct smtpd_proxy *p = st->proxy;
    warn_unavailable(st);
    str_clear(&p->buf);
    smtp_text_end(&p->ts, &p->buf);
    stream_write(p->out, p->buf.data, p->buf.len);
    int rc;
    if (conf.speed_adjust) {
        p->in_data = 0; /* that was the replay file; the filter has not been talked to */
        rc = replay(st, p);
    } else {
        rc = exchange(p, NULL, ".", PROXY_WANT_ANY);
        p->in_data = 0;
    }
    p->done = 1;
    send_answer(st, p);
    struct str m = STR_INIT;
    str_appendf(&m, "proxy-%s: END-OF-MESSAGE: ", rc == 0 ? "accept" : "reject");
    answer_text(p, &m);
    str_append(&m, ";");
    whatsup(st, &m);
    msg_info("%s", str_cstr(&m));
    str_release(&m);
    return rc == 0 ? 0 : -1;
}

void smtpd_proxy_close(struct smtpd_state *st)
{
    if (!st->proxy)
        return;
    proxy_free(st->proxy);
    st->proxy = NULL;
}
