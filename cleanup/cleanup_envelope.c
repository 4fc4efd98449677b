/* cleanup_envelope: the envelope records a client sends (F, A, O, D, N, R) with strict order
 * and content validation, and the envelope cleanup writes: rewritten sender, attributes, and
 * per recipient O? D? N? R after canonical mapping, virtual alias expansion and duplicate
 * elimination. */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const client_attrs[] = {
    "client_name",
    "client_address",
    "client_port",
    "client_helo",
    "client_protocol",
    "sasl_method",
    "sasl_username",
    "sasl_sender",
    "dsn_envid",
    "dsn_ret",
    "encoding",
    "smtputf8",
    "fullname",
    "log_ident",
    "rewrite_context",
    "submit_uid",
    NULL,
};

static int clean_text(const struct str *d)
{
    if (d->len > CLEANUP_ENV_LIMIT)
        return 0;
    for (size_t i = 0; i < d->len; i++)
        if ((unsigned char)d->data[i] < 0x20 || d->data[i] == 0x7f)
            return 0;
    return 1;
}

/* After the content a client may name a content filter (smtpd's FILTER action, pickup's
 * return of refused mail through the error transport); qmgr honours it. */
static const char *const final_attrs[] = {"filter", NULL};

static int add_attr_to(struct argv *names, struct argv *values, const char *const *allowed,
                       const struct str *d, struct str *err)
{
    const char *eq = memchr(d->data, '=', d->len);
    if (eq == NULL) {
        str_set(err, "malformed attribute record");
        return -1;
    }
    size_t n = (size_t)(eq - d->data), i;
    for (i = 0; allowed[i]; i++)
        if (strlen(allowed[i]) == n && memcmp(allowed[i], d->data, n) == 0)
            break;
    if (allowed[i] == NULL || names->n >= CLEANUP_MAX_ATTRS) {
        str_setf(err, "unexpected attribute %.*s", (int)(n > 64 ? 64 : n), d->data);
        return -1;
    }
    argv_addn(names, d->data, n);
    argv_add(values, eq + 1);
    return 0;
}

static int add_attr(struct cleanup_state *st, const struct str *d, struct str *err)
{
    return add_attr_to(st->attr_names, st->attr_values, client_attrs, d, err);
}

int cleanup_final_attr(struct cleanup_state *st, const struct str *d, struct str *err)
{
    if (!clean_text(d) || memchr(d->data, 0, d->len)) {
        str_set(err, "bad A record content");
        return -1;
    }
    return add_attr_to(st->final_names, st->final_values, final_attrs, d, err);
}

static int add_rcpt(struct cleanup_state *st, const struct str *d, struct str *err)
{
    if (st->rcpts.n >= CLEANUP_MAX_RCPT) {
        str_set(err, "too many recipients");
        return -1;
    }
    st->rcpts.v = xgrow(st->rcpts.v, &st->rcpts.cap, st->rcpts.n + 1, sizeof(*st->rcpts.v));
    struct cleanup_rcpt *r = &st->rcpts.v[st->rcpts.n++];
    *r = st->pending;
    r->addr = xstrdup(d->data);
    memset(&st->pending, 0, sizeof(st->pending));
    return 0;
}

int cleanup_envelope_record(struct cleanup_state *st, int type, const struct str *d,
                            struct str *err)
{
    /* smtpd's milter state (xtext, larger than other attributes), after the sender */
    if (type == REC_ATTR && d->len > 8 && memcmp(d->data, "milters=", 8) == 0 && st->have_sender &&
        st->rcpts.n == 0 && d->len <= CLEANUP_MILTER_STATE_LIMIT && !memchr(d->data, 0, d->len))
        return cleanup_milter_import(st, d->data + 8, err);
    if (!clean_text(d) || memchr(d->data, 0, d->len)) {
        str_setf(err, "bad %c record content", type);
        return -1;
    }
    if (strchr("FAODNR", type) == NULL) {
        str_setf(err, "unexpected %c record in envelope", type);
        return -1;
    }
    if (!st->have_sender && type != REC_SENDER) {
        str_setf(err, "%c record before sender", type);
        return -1;
    }
    struct cleanup_rcpt *p = &st->pending;
    switch (type) {
    case REC_SENDER:
        if (st->have_sender)
            break;
        st->have_sender = 1;
        str_set(&st->sender, d->data);
        return 0;
    case REC_ATTR:
        if (st->rcpts.n || p->orig || p->orcpt || p->notify)
            break;
        return add_attr(st, d, err);
    case REC_ORIG:
        if (p->orig || p->orcpt || p->notify)
            break;
        p->orig = xstrdup(d->data);
        return 0;
    case REC_DSN_ORCPT:
        if (p->orcpt || p->notify)
            break;
        p->orcpt = xstrdup(d->data);
        return 0;
    case REC_NOTIFY: {
        char *end;
        long v = strtol(d->data, &end, 10);
        if (p->notify || d->len == 0 || *end || v <= 0 || v > 15)
            break;
        p->notify = v;
        return 0;
    }
    case REC_RCPT:
        if (d->len == 0)
            break;
        return add_rcpt(st, d, err);
    }
    str_setf(err, "unexpected %c record in envelope", type);
    return -1;
}

int cleanup_envelope_complete(struct cleanup_state *st, struct str *err)
{
    if (!st->have_sender || st->pending.orig || st->pending.orcpt || st->pending.notify) {
        str_set(err, st->have_sender ? "incomplete recipient" : "missing sender");
        return -1;
    }
    return 0;
}

/* Duplicate filter: at most dup_limit remembered addresses. */
static int is_duplicate(struct argv *seen, const char *addr)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcasecmp(seen->v[i], addr) == 0)
            return 1;
    if ((long)seen->n < cleanup_cfg.dup_limit)
        argv_add(seen, addr);
    return 0;
}

static void write_rcpt(struct cleanup_state *st, const struct cleanup_rcpt *in, const char *addr,
                       struct argv *seen)
{
    if (is_duplicate(seen, addr))
        return;
    const char *orig = in->orig ? in->orig : in->addr;
    if (cleanup_cfg.enable_orig && (in->orig || strcmp(orig, addr) != 0))
        queue_file_puts(st->w, REC_ORIG, orig);
    if (in->orcpt)
        queue_file_puts(st->w, REC_DSN_ORCPT, in->orcpt);
    if (in->notify) {
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%ld", in->notify);
        queue_file_put(st->w, REC_NOTIFY, buf, (size_t)n);
    }
    queue_file_puts(st->w, REC_RCPT, addr);
}

/* One recipient as received: canonicalize, map, expand, write. */
static void do_rcpt(struct cleanup_state *st, const struct cleanup_rcpt *in, struct argv *seen)
{
    struct str canon = STR_INIT, mapped = STR_INIT;
    cleanup_canonicalize(in->addr, &canon);
    struct argv *leaves = argv_new();
    if (!(st->flags & CLEANUP_FLAG_MAP_OK))
        argv_add(leaves, canon.data);
    else if (cleanup_map_address(st, CLASS_ENV_RCPT, canon.data, &mapped) == 0)
        cleanup_virtual_expand(st, mapped.data, leaves);
    for (size_t i = 0; st->status == 0 && i < leaves->n; i++)
        write_rcpt(st, in, leaves->v[i], seen);
    argv_free(leaves);
    str_release(&canon);
    str_release(&mapped);
}

static void add_extra(struct rcpt_list *l, const char *addr)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    l->v[l->n++].addr = xstrdup(addr);
}

void cleanup_envelope_write(struct cleanup_state *st)
{
    struct str sender = STR_INIT;
    cleanup_canonicalize(st->sender.data ? st->sender.data : "", &sender);
    if (st->flags & CLEANUP_FLAG_MAP_OK) {
        struct str tmp = STR_INIT;
        cleanup_map_address(st, CLASS_ENV_SENDER, sender.data, &tmp);
        str_set(&sender, tmp.data);
        str_release(&tmp);
    }
    queue_file_put(st->w, REC_SENDER, sender.data, sender.len);
    str_release(&sender);
    if (cleanup_cfg.delay_warning_time > 0) { /* fixed width: qmgr zeroes it in place */
        struct str w = STR_INIT;
        str_setf(&w, "%15ld", (long)st->arrival + cleanup_cfg.delay_warning_time);
        queue_file_put(st->w, REC_WARN, w.data, w.len);
        str_release(&w);
    }
    for (size_t i = 0; i < st->attr_names->n; i++) {
        struct str a = STR_INIT;
        str_setf(&a, "%s=%s", st->attr_names->v[i], st->attr_values->v[i]);
        queue_file_put(st->w, REC_ATTR, a.data, a.len);
        str_release(&a);
    }
    /* sendmail -t: the Resent- recipients when there are any, else To/Cc/Bcc. */
    struct argv *ex = st->resent_extracted->n ? st->resent_extracted : st->extracted;
    for (size_t i = 0; i < ex->n && st->rcpts.n < CLEANUP_MAX_RCPT; i++)
        add_extra(&st->rcpts, ex->v[i]);
    for (size_t i = 0; i < st->bcc->n && st->rcpts.n < CLEANUP_MAX_RCPT; i++)
        add_extra(&st->rcpts, st->bcc->v[i]);
    struct argv *seen = argv_new();
    for (size_t i = 0; i < st->rcpts.n && st->status == 0; i++)
        do_rcpt(st, &st->rcpts.v[i], seen);
    if (st->status == 0 && st->w->recipients == 0)
        cleanup_fail(st, CLEANUP_STAT_RCPT, NULL);
    argv_free(seen);
}
