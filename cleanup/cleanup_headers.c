/* cleanup_headers: the message header section — collecting logical headers (folded lines,
 * header_size_limit), header checks, hop counting, sendmail -t extraction, address rewriting
 * in sender/recipient headers, and the headers added when missing (Received for local
 * submission, Message-Id, Date, From, the undisclosed-recipients header, Resent- variants). */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "mail/address_header.h"
#include "mail/header_info.h"
#include "mail/mime_state.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Appends a physical line to the current header, dropping what exceeds header_size_limit. */
static void append_bounded(struct str *h, const char *line, size_t len)
{
    size_t limit = (size_t)cleanup_cfg.header_size_limit;
    if (h->len >= limit)
        return;
    if (len > limit - h->len)
        len = limit - h->len;
    str_appendn(h, line, len);
}

int cleanup_header_line(struct cleanup_state *st, const char *line, size_t len)
{
    if (len == 0)
        return 1;
    if (header_is_continuation(line, len) && st->nhdr > 0) {
        struct str *h = &st->hdrs[st->nhdr - 1].text;
        if (h->len < (size_t)cleanup_cfg.header_size_limit) {
            str_appendc(h, '\n');
            append_bounded(h, line, len);
        }
        return 0;
    }
    size_t voff = 0, nlen = header_name_length(line, len, &voff);
    if (st->nhdr >= CLEANUP_MAX_HEADERS || nlen == 0)
        return 1;
    st->hdrs = xgrow(st->hdrs, &st->hdr_cap, st->nhdr + 1, sizeof(*st->hdrs));
    struct str *h = &st->hdrs[st->nhdr++].text;
    *h = (struct str)STR_INIT;
    str_set(h, "");
    append_bounded(h, line, nlen); /* the obsolete "Name :" becomes "Name:", as in Postfix */
    append_bounded(h, line + voff - 1, len - voff + 1);
    return 0;
}

void cleanup_format_date(time_t when, struct str *out)
{
    struct tm tm;
    char buf[128];
    localtime_r(&when, &tm);
    strftime(buf, sizeof(buf), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
    str_set(out, buf);
}

static int header_rewrite_context_remote(const struct cleanup_state *st)
{
    const char *ctx = cleanup_attr(st, "rewrite_context");
    return ctx && strcmp(ctx, "remote") == 0;
}

struct rewrite_ctx {
    struct cleanup_state *st;
    int class;
};

static int rewrite_cb(const char *internal, struct str *replacement, void *vctx)
{
    struct rewrite_ctx *c = vctx;
    struct str canon = STR_INIT;
    const char *remote_domain = cleanup_cfg.remote_header_domain;
    if (header_rewrite_context_remote(c->st)) {
        str_set(&canon, internal);
        if (strchr(internal, '@') == NULL)
            str_appendf(&canon, "@%s", remote_domain);
    } else
        cleanup_canonicalize(internal, &canon);
    if (c->st->flags & CLEANUP_FLAG_MAP_OK)
        cleanup_map_address(c->st, c->class, canon.data, replacement);
    else
        str_set(replacement, canon.data);
    str_release(&canon);
    return strcmp(replacement->data, internal) != 0;
}

static void rewrite_addresses(struct cleanup_state *st, struct str *h, size_t voff, int class)
{
    if (header_rewrite_context_remote(st) &&
        (cleanup_cfg.remote_header_domain == NULL || *cleanup_cfg.remote_header_domain == 0))
        return;
    struct rewrite_ctx c = {st, class};
    struct str out = STR_INIT, err = STR_INIT;
    int n = header_addr_rewrite(h->data + voff, h->len - voff, (size_t)cleanup_cfg.token_limit,
                                rewrite_cb, &c, &out, &err);
    if (n > 0) {
        str_truncate(h, voff);
        str_appendn(h, out.data, out.len);
    }
    str_release(&out);
    str_release(&err);
}

static void extract(struct cleanup_state *st, const struct str *h, size_t voff, int resent)
{
    struct str err = STR_INIT;
    header_addr_extract(h->data + voff, h->len - voff, (size_t)cleanup_cfg.token_limit,
                        resent ? st->resent_extracted : st->extracted, &err);
    str_release(&err);
}

static void note_seen(struct cleanup_state *st, const struct header_info *hi, const struct str *h,
                      size_t voff)
{
    static const struct {
        enum header_id id;
        int bit;
    } map[] = {
        {HDR_FROM, SEEN_FROM},
        {HDR_DATE, SEEN_DATE},
        {HDR_MESSAGE_ID, SEEN_MSGID},
        {HDR_TO, SEEN_TO_CC},
        {HDR_CC, SEEN_TO_CC},
        {HDR_RESENT_FROM, SEEN_RESENT_FROM},
        {HDR_RESENT_DATE, SEEN_RESENT_DATE},
        {HDR_RESENT_MESSAGE_ID, SEEN_RESENT_MSGID},
        {HDR_RESENT_TO, SEEN_RESENT_TO_CC},
        {HDR_RESENT_CC, SEEN_RESENT_TO_CC},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].id == hi->id)
            st->seen |= map[i].bit;
    if (hi->flags & HDR_F_RESENT)
        st->seen |= SEEN_RESENT;
    if ((hi->id == HDR_MESSAGE_ID && st->message_id.len == 0) ||
        (hi->id == HDR_RESENT_MESSAGE_ID && !st->message_id_resent)) {
        const char *v = h->data + voff;
        v += strspn(v, " \t\n");
        str_set(&st->message_id, v);
        str_trim_right(&st->message_id);
        st->message_id_resent = hi->id == HDR_RESENT_MESSAGE_ID;
    }
}

/* One header: checks, hop count, extraction, rewriting. Appends the result (and any PREPEND
 * texts) to out. */
static void process_header(struct cleanup_state *st, struct str *h, struct argv *out)
{
    size_t voff = 0;
    size_t nlen = header_name_length(h->data, h->len, &voff);
    const struct header_info *hi = header_info_find(h->data, nlen);
    if (st->flags & CLEANUP_FLAG_FILTER) {
        struct argv *pre = argv_new();
        struct maps *m = mime_hdr_checks_class(MIME_HDR_PRIMARY, hi) == MIME_HDR_MULTIPART
                             ? cleanup_cfg.mime_header_checks
                             : cleanup_cfg.header_checks;
        enum check_result r = cleanup_check(st, m, "header", h, pre);
        for (size_t i = 0; i < pre->n; i++)
            argv_add(out, pre->v[i]);
        argv_free(pre);
        if (r == CHECK_DROP)
            return;
        if (r == CHECK_REPLACED) {
            argv_add(out, h->data);
            return;
        }
    }
    if (hi->flags & HDR_F_HOP)
        st->hops++;
    note_seen(st, hi, h, voff);
    int bcc = hi->id == HDR_BCC || hi->id == HDR_RESENT_BCC;
    if ((st->flags & CLEANUP_FLAG_EXTRACT) && (hi->flags & HDR_F_RECIPIENT) &&
        hi->id != HDR_APPARENTLY_TO)
        extract(st, h, voff, (hi->flags & HDR_F_RESENT) != 0);
    if ((st->flags & CLEANUP_FLAG_EXTRACT) && bcc)
        return;
    if (hi->flags & (HDR_F_SENDER | HDR_F_RECIPIENT))
        rewrite_addresses(st, h, voff,
                          (hi->flags & HDR_F_SENDER) ? CLASS_HDR_SENDER : CLASS_HDR_RCPT);
    argv_add(out, h->data);
}

static int add_missing_allowed(const struct cleanup_state *st)
{
    const char *ctx = cleanup_attr(st, "rewrite_context");
    return (st->flags & CLEANUP_FLAG_LOCAL) || cleanup_cfg.always_add ||
           (ctx && strcmp(ctx, "local") == 0);
}

static int needs_quotes(const char *name)
{
    return strpbrk(name, "()<>@,;:\\\".[]") != NULL;
}

static void from_header(struct cleanup_state *st, const char *prefix, struct str *out)
{
    struct str addr = STR_INIT, canon = STR_INIT, ext = STR_INIT;
    cleanup_canonicalize(st->sender.len ? st->sender.data : "MAILER-DAEMON", &canon);
    if (st->flags & CLEANUP_FLAG_MAP_OK)
        cleanup_map_address(st, CLASS_HDR_SENDER, canon.data, &addr);
    else
        str_set(&addr, canon.data);
    address_quote(addr.data, &ext);
    const char *full = cleanup_attr(st, "fullname");
    str_setf(out, "%sFrom: ", prefix);
    if (full == NULL || *full == 0)
        str_append(out, ext.data);
    else if (cleanup_cfg.header_from_format &&
             strcmp(cleanup_cfg.header_from_format, "obsolete") == 0)
        str_appendf(out, "%s (%s)", ext.data, full);
    else if (needs_quotes(full)) {
        str_appendc(out, '"');
        for (const char *p = full; *p; p++) {
            if (*p == '"' || *p == '\\')
                str_appendc(out, '\\');
            str_appendc(out, *p);
        }
        str_appendf(out, "\" <%s>", ext.data);
    } else
        str_appendf(out, "%s <%s>", full, ext.data);
    str_release(&addr);
    str_release(&canon);
    str_release(&ext);
}

/* The headers Postfix adds when missing, appended to out (Received goes to received). */
static void add_missing(struct cleanup_state *st, struct argv *out, struct str *received)
{
    struct str h = STR_INIT, date = STR_INIT;
    cleanup_format_date(st->arrival, &date);
    const char *uid = cleanup_attr(st, "submit_uid");
    if ((st->flags & CLEANUP_FLAG_LOCAL) && uid)
        str_setf(received, "Received: by %s (%s, from userid %s)\n\tid %s; %s",
                 cleanup_cfg.myhostname, cleanup_cfg.mail_name, uid, st->queue_id, date.data);
    if (!add_missing_allowed(st))
        goto done;
    int resent = (st->seen & SEEN_RESENT) != 0;
    const char *prefix = resent ? "Resent-" : "";
    if (!(st->seen & (resent ? SEEN_RESENT_MSGID : SEEN_MSGID))) {
        char stamp[32];
        struct tm tm;
        gmtime_r(&st->arrival, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
        str_setf(&h, "%sMessage-Id: <%s.%s@%s>", prefix, stamp, st->queue_id,
                 cleanup_cfg.myhostname);
        argv_add(out, h.data);
        str_setf(&st->message_id, "<%s.%s@%s>", stamp, st->queue_id, cleanup_cfg.myhostname);
        st->message_id_resent = resent;
    }
    if (!(st->seen & (resent ? SEEN_RESENT_DATE : SEEN_DATE))) {
        str_setf(&h, "%sDate: %s", prefix, date.data);
        argv_add(out, h.data);
    }
    if (!(st->seen & (resent ? SEEN_RESENT_FROM : SEEN_FROM))) {
        from_header(st, prefix, &h);
        argv_add(out, h.data);
    }
    const char *undisclosed = cleanup_cfg.undisclosed_header;
    if (!(st->seen & (resent ? SEEN_RESENT_TO_CC : SEEN_TO_CC)) && undisclosed && *undisclosed)
        argv_add(out, undisclosed);
done:
    str_release(&h);
    str_release(&date);
}

void cleanup_headers_done(struct cleanup_state *st)
{
    struct argv *out = argv_new();
    struct str received = STR_INIT;
    st->in_headers = 1;
    cleanup_mime_start(st);
    for (size_t i = 0; i < st->nhdr; i++) {
        cleanup_mime_primary_header(st, &st->hdrs[i].text);
        process_header(st, &st->hdrs[i].text, out);
    }
    cleanup_mime_primary_end(st);
    if (cleanup_cfg.hopcount_limit > 0 && st->hops > cleanup_cfg.hopcount_limit)
        cleanup_fail(st, CLEANUP_STAT_HOPS, NULL);
    add_missing(st, out, &received);
    st->in_headers = 0;
    msg_info("%s: %smessage-id=%s", st->queue_id, st->message_id_resent ? "resent-" : "",
             st->message_id.len ? st->message_id.data : "<>");
    if (st->status == 0 && cleanup_milter_hold_headers(st, out, &received)) {
        argv_free(out);
        str_release(&received);
        return;
    }
    if (st->status == 0)
        cleanup_envelope_write(st);
    if (st->status == 0) {
        queue_file_start_content(st->w);
        if (received.len)
            cleanup_out_header(st, &received);
        for (size_t i = 0; i < out->n; i++) {
            struct str h = {out->v[i], strlen(out->v[i]), 0};
            cleanup_out_header(st, &h);
        }
    }
    argv_free(out);
    str_release(&received);
}
