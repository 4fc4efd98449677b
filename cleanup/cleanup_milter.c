/* cleanup_milter: non_smtpd_milters for local submissions (CLEANUP_FLAG_MILTER). The envelope
 * and headers are kept in memory and the body spooled to an unnamed file; once the content is
 * complete the filters see connect (localhost), HELO, MAIL, RCPT, DATA, the headers, body and
 * end of message. Their edits change the kept headers, recipients, sender and body; only then
 * is the queue file's envelope and content written, so a filter that fails half-way never
 * leaves a partial change behind. reject -> CONT status with the filter's text, tempfail ->
 * DEFER (4.x), discard -> discarded, quarantine -> hold/. */
#include "cleanup.h"

#include "base/fdpass.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/milter.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void cleanup_milter_open(struct cleanup_state *st)
{
    const char *list = cleanup_cfg.non_smtpd_milters;
    if (!(st->flags & CLEANUP_FLAG_MILTER) || (st->flags & CLEANUP_FLAG_SMTPD_MILTERS) ||
        list == NULL || list[strspn(list, ", \t\r\n")] == 0)
        return;
    struct str err = STR_INIT;
    st->milters = milters_create(list, &err);
    if (st->milters == NULL) {
        msg_warn("%s: non_smtpd_milters: %s", st->queue_id, err.data);
        cleanup_fail(st, CLEANUP_STAT_DEFER, "4.3.5 Server configuration error");
    } else if (cleanup_cfg.message_size_limit > 0)
        milters_set_body_limit(st->milters, (size_t)cleanup_cfg.message_size_limit + 65536);
    str_release(&err);
}

/* smtpd sends the descriptors right after the queue ID: a short wait is enough. */
static int handover_timeout_ms(void)
{
    long t = config_get_time("ipc_timeout");
    return (int)(t > 0 && t < 60 ? t : 60) * 1000;
}

int cleanup_milter_receive(struct cleanup_state *st, struct stream *client)
{
    struct str why = STR_INIT;
    int rc = -1;
    if (stream_pending(client))
        str_set(&why, "data before the descriptor hand-over");
    else if (fdpass_recv(stream_fd(client), st->milter_fds, handover_timeout_ms(), &why) >= 0)
        rc = 0;
    if (rc < 0)
        msg_warn("%s: smtpd milter hand-over: %s", st->queue_id, why.data);
    str_release(&why);
    return rc;
}

int cleanup_milter_import(struct cleanup_state *st, const char *text, struct str *err)
{
    if (!(st->flags & CLEANUP_FLAG_SMTPD_MILTERS) || st->milters) {
        str_set(err, "unexpected milters attribute");
        return -1;
    }
    struct str why = STR_INIT;
    st->milters = milters_import(text, st->milter_fds, MILTER_HANDOVER_MAX, &why);
    if (st->milters == NULL) {
        str_setf(err, "bad milters attribute: %s", why.data);
        str_release(&why);
        return -1;
    }
    st->smtpd_milters = 1;
    str_release(&why);
    return 0;
}

static void close_fds(struct cleanup_state *st)
{
    for (size_t i = 0; i < sizeof(st->milter_fds) / sizeof(st->milter_fds[0]); i++)
        if (st->milter_fds[i] >= 0) {
            close(st->milter_fds[i]);
            st->milter_fds[i] = -1;
        }
}

void cleanup_milter_release(struct cleanup_state *st)
{
    close_fds(st);
    milters_free(st->milters);
    st->milters = NULL;
    argv_free(st->mhdrs);
    st->mhdrs = NULL;
    if (st->spool)
        fclose(st->spool);
    st->spool = NULL;
    str_release(&st->mbody);
}

static FILE *open_spool(void)
{
    int fd = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        FILE *fp = fdopen(fd, "w+");
        if (fp)
            return fp;
        close(fd);
    }
    return tmpfile();
}

int cleanup_milter_hold_headers(struct cleanup_state *st, struct argv *out, struct str *received)
{
    if (st->milters == NULL)
        return 0;
    st->mhdrs = argv_new();
    if (received->len)
        argv_add(st->mhdrs, received->data);
    for (size_t i = 0; i < out->n; i++)
        argv_add(st->mhdrs, out->v[i]);
    st->spool = open_spool();
    if (st->spool == NULL) {
        msg_warn("%s: cannot create a spool file for milters: %s", st->queue_id, strerror(errno));
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
        return 1;
    }
    st->spooling = 1;
    st->spool_skip_sep = 1;
    return 1;
}

void cleanup_milter_spool_line(struct cleanup_state *st, const char *line, size_t len)
{
    if (st->spool_skip_sep) {
        st->spool_skip_sep = 0;
        if (len == 0) {
            st->spool_had_sep = 1;
            return;
        }
    }
    st->spool_had_sep = 1;
    unsigned char n[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
    if (fwrite(n, 1, 4, st->spool) != 4 || (len && fwrite(line, 1, len, st->spool) != len)) {
        msg_warn("%s: milter spool file: write error", st->queue_id);
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
    }
    st->spool_bytes += (long)len + 1;
    if (cleanup_cfg.message_size_limit > 0 && st->spool_bytes > cleanup_cfg.message_size_limit)
        cleanup_fail(st, CLEANUP_STAT_SIZE, NULL);
}

/* ---- the content as the filters see it ---- */

static int hdr_get(void *ctx, size_t i, struct str *name, struct str *value)
{
    struct cleanup_state *st = ctx;
    if (i >= st->mhdrs->n)
        return 0;
    const char *h = st->mhdrs->v[i], *colon = strchr(h, ':');
    size_t n = colon ? (size_t)(colon - h) : strlen(h);
    str_clear(name);
    str_appendn(name, h, n);
    str_trim_right(name);
    str_set(value, colon ? colon + 1 : "");
    return 1;
}

static int body_rewind(void *ctx)
{
    struct cleanup_state *st = ctx;
    st->mbody_pos = 0;
    if (st->mbody_set)
        return 0;
    return fflush(st->spool) == 0 && fseek(st->spool, 0, SEEK_SET) == 0 ? 0 : -1;
}

static int body_line(void *ctx, struct str *line)
{
    struct cleanup_state *st = ctx;
    if (st->mbody_set) {
        const char *p;
        size_t n;
        if (!milter_body_line(&st->mbody, &st->mbody_pos, &p, &n))
            return 0;
        str_clear(line);
        str_appendn(line, p, n);
        return 1;
    }
    unsigned char b[4];
    size_t got = fread(b, 1, 4, st->spool);
    if (got == 0 && feof(st->spool))
        return 0;
    if (got != 4)
        return -1;
    size_t len = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    if (len > CLEANUP_REC_LIMIT * 64UL)
        return -1;
    str_clear(line);
    str_reserve(line, len);
    if (len && fread(line->data, 1, len, st->spool) != len)
        return -1;
    line->len = len;
    line->data[len] = 0;
    return 1;
}

/* ---- edits ---- */

static void strip_brackets(const char *addr, struct str *out)
{
    size_t n = strlen(addr);
    if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
        str_setf(out, "%.*s", (int)(n - 2), addr + 1);
    else
        str_set(out, addr);
}

/* milter_header_checks on a header a filter added or changed; 0 drops it. */
static int header_allowed(struct cleanup_state *st, struct str *h)
{
    if (cleanup_cfg.milter_header_checks == NULL)
        return 1;
    struct argv *pre = argv_new();
    enum check_result r = cleanup_check(st, cleanup_cfg.milter_header_checks, "header", h, pre);
    argv_free(pre);
    return r != CHECK_DROP;
}

static void format_header(const struct milter_edits *ed, const struct milter_edit *e, struct str *h)
{
    const char *v = e->value;
    if (ed->leading_space || *v == ' ' || *v == '\t' || *v == 0)
        str_setf(h, "%s:%s", e->name, v);
    else
        str_setf(h, "%s: %s", e->name, v);
}

static void insert_header(struct argv *a, size_t at, const char *text)
{
    argv_add(a, text);
    if (at >= a->n - 1)
        return;
    char *last = a->v[a->n - 1];
    memmove(&a->v[at + 1], &a->v[at], (a->n - 1 - at) * sizeof(a->v[0]));
    a->v[at] = last;
}

static void delete_header(struct argv *a, size_t at)
{
    free(a->v[at]);
    memmove(&a->v[at], &a->v[at + 1], (a->n - at - 1) * sizeof(a->v[0]));
    a->n--;
    a->v[a->n] = NULL;
}

/* The position of the index-th (1-based) header called name, or (size_t)-1. */
static size_t find_header(const struct argv *a, const char *name, long index)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < a->n; i++) {
        const char *h = a->v[i];
        if (strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ' ' || h[n] == '\t') &&
            --index == 0)
            return i;
    }
    return (size_t)-1;
}

static void edit_header(struct cleanup_state *st, const struct milter_edits *ed,
                        const struct milter_edit *e)
{
    struct str h = STR_INIT;
    format_header(ed, e, &h);
    size_t at = e->type == MILTER_EDIT_CHG_HEADER ? find_header(st->mhdrs, e->name, e->index) : 0;
    if (e->type == MILTER_EDIT_CHG_HEADER && *e->value == 0) {
        if (at != (size_t)-1)
            delete_header(st->mhdrs, at);
    } else if (st->mhdrs->n >= CLEANUP_MAX_HEADERS || !header_allowed(st, &h)) {
        /* dropped */
    } else if (e->type == MILTER_EDIT_ADD_HEADER ||
               (e->type == MILTER_EDIT_CHG_HEADER && at == (size_t)-1))
        argv_add(st->mhdrs, h.data);
    else if (e->type == MILTER_EDIT_INS_HEADER)
        insert_header(st->mhdrs, (size_t)e->index, h.data);
    else {
        free(st->mhdrs->v[at]);
        st->mhdrs->v[at] = str_steal(&h);
    }
    str_release(&h);
}

static void add_rcpt(struct rcpt_list *l, const char *addr)
{
    if (l->n >= CLEANUP_MAX_RCPT)
        return;
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    l->v[l->n++].addr = xstrdup(addr);
}

static void del_rcpt(struct cleanup_state *st, const char *addr)
{
    struct rcpt_list *l = &st->rcpts;
    struct str canon = STR_INIT;
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++) {
        cleanup_canonicalize(l->v[i].addr, &canon);
        if (strcasecmp(l->v[i].addr, addr) == 0 || strcasecmp(canon.data, addr) == 0) {
            free(l->v[i].addr);
            free(l->v[i].orig);
            free(l->v[i].orcpt);
            continue;
        }
        l->v[j++] = l->v[i];
    }
    l->n = j;
    str_release(&canon);
}

static int clean_addr(const char *a)
{
    for (; *a; a++)
        if ((unsigned char)*a < 0x20 || *a == 0x7f)
            return 0;
    return 1;
}

static void edit_envelope(struct cleanup_state *st, const struct milter_edit *e)
{
    struct str a = STR_INIT;
    strip_brackets(e->addr, &a);
    if (!clean_addr(a.data) || a.len > CLEANUP_ENV_LIMIT)
        msg_warn("%s: milter: bad address in request -- ignored", st->queue_id);
    else if (e->type == MILTER_EDIT_ADD_RCPT) {
        if (e->args && *e->args) /* as Postfix: the recipient is added, its parameters not */
            msg_warn("%s: milter: ignoring ESMTP arguments \"%.100s\" of added recipient <%s>",
                     st->queue_id, e->args, a.data);
        add_rcpt(&st->rcpts, a.data);
    } else if (e->type == MILTER_EDIT_DEL_RCPT)
        del_rcpt(st, a.data);
    else
        str_set(&st->sender, a.data);
    str_release(&a);
}

static int apply_edits(void *ctx, const struct milter_edits *ed, const char *filter)
{
    struct cleanup_state *st = ctx;
    (void)filter;
    for (size_t i = 0; i < ed->n; i++) {
        const struct milter_edit *e = &ed->v[i];
        if (e->type <= MILTER_EDIT_CHG_HEADER)
            edit_header(st, ed, e);
        else
            edit_envelope(st, e);
    }
    if (ed->body_replaced) {
        str_set(&st->mbody, "");
        str_appendn(&st->mbody, ed->body.data, ed->body.len);
        st->mbody_set = 1;
    }
    return 0;
}

static const struct milter_content_ops content_ops = {
    .header = hdr_get,
    .body_rewind = body_rewind,
    .body_line = body_line,
    .apply = apply_edits,
};

/* ---- macros ---- */

struct macro_ctx {
    struct cleanup_state *st;
    const char *rcpt;
    struct str tmp;
};

static const char *macro_lookup(const char *name, void *vctx)
{
    struct macro_ctx *c = vctx;
    struct cleanup_state *st = c->st;
    if (strcmp(name, "i") == 0)
        return st->queue_id;
    if (st->smtpd_milters) /* the rest is what smtpd handed over */
        return NULL;
    if (strcmp(name, "j") == 0)
        return cleanup_cfg.myhostname;
    if (strcmp(name, "_") == 0)
        return "localhost [127.0.0.1]";
    if (strcmp(name, "client_addr") == 0)
        return "127.0.0.1";
    if (strcmp(name, "client_name") == 0 || strcmp(name, "client_ptr") == 0)
        return "localhost";
    if (strcmp(name, "mail_addr") == 0)
        return st->sender.data ? st->sender.data : "";
    if (strcmp(name, "rcpt_addr") == 0)
        return c->rcpt;
    const char *addr = strcmp(name, "mail_host") == 0   ? st->sender.data
                       : strcmp(name, "rcpt_host") == 0 ? c->rcpt
                                                        : NULL;
    if (addr && strrchr(addr, '@')) {
        str_set(&c->tmp, strrchr(addr, '@') + 1);
        return c->tmp.data;
    }
    return NULL;
}

/* ---- the run ---- */

/* "550 5.7.1 text" (CRLF-joined lines) -> "5.7.1 text ..." for the cleanup status. */
static void reply_to_reason(const char *reply, int temp, struct str *out)
{
    str_clear(out);
    const char *p = reply;
    while (*p) {
        const char *end = strstr(p, "\r\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *t = n > 4 ? p + 4 : p + n;
        size_t tn = (size_t)(p + n - t);
        if (out->len == 0 && !(tn && isdigit((unsigned char)*t)))
            str_append(out, temp ? "4.7.1 " : "5.7.1 ");
        else if (out->len)
            str_appendc(out, ' ');
        str_appendn(out, t, tn);
        p = end ? end + 2 : p + n;
    }
    if (out->len == 0)
        str_set(out,
                temp ? "4.7.1 Service unavailable - try again later" : "5.7.1 Command rejected");
}

static void log_verdict(struct cleanup_state *st, const char *what, const char *stage,
                        const char *text)
{
    const char *name = cleanup_attr(st, "client_name"), *addr = cleanup_attr(st, "client_address");
    const char *proto = cleanup_attr(st, "client_protocol"),
               *helo = cleanup_attr(st, "client_helo");
    struct str m = STR_INIT;
    str_setf(&m, "%s: milter-%s: %s from %s[%s]: %s; from=<%s> to=<%s>", st->queue_id, what, stage,
             st->smtpd_milters && name ? name : "localhost",
             st->smtpd_milters && addr ? addr : "127.0.0.1", text,
             st->sender.data ? st->sender.data : "", st->rcpts.n ? st->rcpts.v[0].addr : "");
    if (st->smtpd_milters && proto)
        str_appendf(&m, " proto=%s", proto);
    if (st->smtpd_milters && helo)
        str_appendf(&m, " helo=<%s>", helo);
    msg_info("%s", m.data);
    str_release(&m);
}

/* Applies a deciding verdict; returns 1 when the message is decided. */
static int verdict(struct cleanup_state *st, const char *stage, struct milter_verdict *v)
{
    struct str reason = STR_INIT;
    int done = 1;
    switch (v->action) {
    case MILTER_REJECT:
    case MILTER_TEMPFAIL: {
        int temp = v->action == MILTER_TEMPFAIL;
        reply_to_reason(v->reply.data ? v->reply.data : "", temp, &reason);
        log_verdict(st, "reject", stage, reason.data); /* "5.7.1 text", as Postfix logs it */
        cleanup_fail(st, temp ? CLEANUP_STAT_DEFER : CLEANUP_STAT_CONT, reason.data);
        break;
    }
    case MILTER_DISCARD:
        log_verdict(st, "discard", stage, "milter triggers DISCARD action");
        st->discard = 1;
        break;
    default:
        done = v->action == MILTER_ACCEPT;
    }
    str_release(&reason);
    return done;
}

/* sendmail -t and BCC recipients join the envelope before the filters see it. */
static void collect_recipients(struct cleanup_state *st)
{
    struct argv *ex = st->resent_extracted->n ? st->resent_extracted : st->extracted;
    for (size_t i = 0; i < ex->n; i++)
        add_rcpt(&st->rcpts, ex->v[i]);
    for (size_t i = 0; i < st->bcc->n; i++)
        add_rcpt(&st->rcpts, st->bcc->v[i]);
    argv_clear(st->extracted);
    argv_clear(st->resent_extracted);
    argv_clear(st->bcc);
}

static void run_envelope(struct cleanup_state *st, struct macro_ctx *mc, struct milter_verdict *v)
{
    struct milters *m = st->milters;
    struct str canon = STR_INIT;
    if (verdict(st, "CONNECT", (milters_connect(m, "localhost", "127.0.0.1", 0, v), v)) ||
        verdict(st, "HELO", (milters_helo(m, "localhost", v), v)))
        goto done;
    struct argv *args = argv_new();
    cleanup_canonicalize(st->sender.data ? st->sender.data : "", &canon);
    argv_add(args, st->sender.len ? canon.data : "");
    int decided = verdict(st, "MAIL", (milters_mail(m, args, v), v));
    for (size_t i = 0; !decided && i < st->rcpts.n; i++) {
        argv_clear(args);
        cleanup_canonicalize(st->rcpts.v[i].addr, &canon);
        argv_add(args, canon.data);
        mc->rcpt = canon.data;
        decided = verdict(st, "RCPT", (milters_rcpt(m, args, v), v));
    }
    argv_free(args);
    mc->rcpt = NULL;
    if (!decided && !verdict(st, "DATA", (milters_data(m, v), v)))
        verdict(st, "END-OF-MESSAGE", (milters_message(m, &content_ops, st, v), v));
done:
    str_release(&canon);
}

static void write_content(struct cleanup_state *st)
{
    st->spooling = 0; /* from here on cleanup_out_line writes the queue file */
    cleanup_envelope_write(st);
    if (st->status)
        return;
    queue_file_start_content(st->w);
    for (size_t i = 0; i < st->mhdrs->n; i++) {
        struct str h = {st->mhdrs->v[i], strlen(st->mhdrs->v[i]), 0};
        cleanup_out_header(st, &h);
    }
    if (body_rewind(st) < 0) {
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
        return;
    }
    struct str line = STR_INIT;
    int first = 1, rc;
    while ((rc = body_line(st, &line)) == 1) {
        if (first)
            cleanup_out_line(st, "", 0);
        first = 0;
        cleanup_out_line(st, line.data, line.len);
    }
    if (first && st->spool_had_sep)
        cleanup_out_line(st, "", 0);
    if (rc < 0)
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
    str_release(&line);
}

void cleanup_milter_finish(struct cleanup_state *st)
{
    if (st->status || st->mhdrs == NULL)
        return;
    struct macro_ctx mc = {.st = st};
    struct milter_verdict v;
    milter_verdict_init(&v);
    milters_set_macro_lookup(st->milters, macro_lookup, &mc);
    collect_recipients(st);
    if (st->smtpd_milters) /* smtpd ran the stages up to DATA */
        verdict(st, "END-OF-MESSAGE", (milters_message(st->milters, &content_ops, st, &v), &v));
    else
        run_envelope(st, &mc, &v);
    if (st->status == 0 && !st->discard) {
        if (v.quarantine.len) {
            log_verdict(st, "hold", "END-OF-MESSAGE", "milter triggers HOLD action");
            st->hold = 1;
        }
        write_content(st);
    }
    milter_verdict_release(&v);
    str_release(&mc.tmp);
    milters_free(st->milters); /* QUIT (not for smtpd's sessions, which go on) */
    st->milters = NULL;
}
