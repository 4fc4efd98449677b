/* cleanup_mime: the content after the primary headers, through the MIME parser
 * (util/mail/mime_state), as cleanup(8) and header_checks(5) describe it: the headers after a
 * multipart boundary and every MIME header (Content-*, MIME-Version) go to mime_header_checks,
 * the other headers of an attached message/rfc822 message to nested_header_checks, and all
 * other lines (part bodies, boundaries, the blank line after each header block) to body_checks,
 * but only the first body_checks_size_limit bytes of each body segment. The primary headers are
 * cleanup_headers.c's; the parser only notes their Content-Type. With
 * disable_mime_input_processing everything after the primary headers is body. MIME errors the
 * strict_* settings ask for, and a multipart nested deeper than mime_nesting_limit (when any
 * header check or strict setting is on, as Postfix does), reject the message with 5.6.0. */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/mime_state.h"

#include <string.h>

static void out_text(struct cleanup_state *st, const char *text)
{
    struct str h = {(char *)text, strlen(text), 0};
    cleanup_out_header(st, &h);
}

static void on_header(void *ctx, enum mime_hdr_class cls, const struct header_info *hi,
                      struct str *text)
{
    struct cleanup_state *st = ctx;
    if (st->status || st->discard)
        return;
    struct maps *m = mime_hdr_checks_class(cls, hi) == MIME_HDR_MULTIPART
                         ? cleanup_cfg.mime_header_checks
                         : cleanup_cfg.nested_header_checks;
    if ((st->flags & CLEANUP_FLAG_FILTER) && m) {
        struct argv *pre = argv_new();
        st->in_headers = 1;
        enum check_result r = cleanup_check(st, m, "header", text, pre);
        st->in_headers = 0;
        for (size_t i = 0; i < pre->n; i++)
            out_text(st, pre->v[i]);
        argv_free(pre);
        if (r == CHECK_DROP)
            return;
    }
    cleanup_out_header(st, text);
}

static void on_body(void *ctx, const char *line, size_t len, long offset)
{
    struct cleanup_state *st = ctx;
    if (st->status || st->discard)
        return;
    long limit = cleanup_cfg.body_checks_size_limit;
    if (!(st->flags & CLEANUP_FLAG_FILTER) || cleanup_cfg.body_checks == NULL ||
        (limit > 0 && offset >= limit)) {
        cleanup_out_line(st, line, len);
        return;
    }
    str_clear(&st->scratch);
    str_appendn(&st->scratch, line, len);
    struct argv *pre = argv_new();
    enum check_result r = cleanup_check(st, cleanup_cfg.body_checks, "body", &st->scratch, pre);
    for (size_t i = 0; i < pre->n; i++)
        cleanup_out_line(st, pre->v[i], strlen(pre->v[i]));
    argv_free(pre);
    if (r == CHECK_REPLACED)
        cleanup_out_line(st, st->scratch.data, st->scratch.len);
    else if (r == CHECK_KEEP)
        cleanup_out_line(st, line, len);
}

/* "<ID>: reject: mime-error <error>: <text> from <origin>; from=<s> to=<r>" */
static void on_error(void *ctx, int code, const char *text, size_t len)
{
    struct cleanup_state *st = ctx;
    const struct mime_error_detail *d = mime_state_detail(code);
    struct str origin = STR_INIT, reason = STR_INIT;
    cleanup_log_origin(st, &origin);
    msg_info("%s: reject: mime-error %s: %.*s from %s; from=<%s> to=<%s>", st->queue_id, d->text,
             len < 100 ? (int)len : 100, text, origin.data, st->sender.data ? st->sender.data : "",
             st->rcpts.n ? st->rcpts.v[0].addr : "unknown");
    str_setf(&reason, "%s %s", d->dsn, d->text);
    cleanup_fail(st, CLEANUP_STAT_CONT, reason.data);
    str_release(&origin);
    str_release(&reason);
}

static const struct mime_callbacks callbacks = {
    .header = on_header, .body = on_body, .error = on_error};

static int mime_options(const struct cleanup_state *st)
{
    const struct cleanup_config *c = &cleanup_cfg;
    if (c->disable_mime)
        return MIME_OPT_DISABLE_MIME;
    if (!(st->flags & CLEANUP_FLAG_FILTER))
        return 0;
    int opts = 0, strict = c->strict_8bitmime || c->strict_7bit_headers ||
                           c->strict_8bitmime_body || c->strict_encoding;
    if (c->strict_8bitmime || c->strict_7bit_headers)
        opts |= MIME_OPT_REPORT_8BIT_IN_HEADER;
    if (c->strict_8bitmime || c->strict_8bitmime_body)
        opts |= MIME_OPT_REPORT_8BIT_IN_7BIT_BODY;
    if (c->strict_encoding)
        opts |= MIME_OPT_REPORT_ENCODING_DOMAIN;
    if (strict || c->header_checks || c->mime_header_checks || c->nested_header_checks)
        opts |= MIME_OPT_REPORT_NESTING;
    return opts;
}

void cleanup_mime_start(struct cleanup_state *st)
{
    struct mime_limits lim = {
        .header_limit = (size_t)cleanup_cfg.header_size_limit,
        .boundary_limit =
            cleanup_cfg.mime_boundary_limit > 0 ? (size_t)cleanup_cfg.mime_boundary_limit : 0,
        .nesting_limit = (int)cleanup_cfg.mime_nesting_limit,
    };
    mime_state_free(st->mime);
    st->mime = mime_state_create(mime_options(st), &lim, &callbacks, st);
}

void cleanup_mime_primary_header(struct cleanup_state *st, const struct str *hdr)
{
    if (st->mime)
        mime_state_primary_header(st->mime, hdr->data, hdr->len);
}

void cleanup_mime_primary_end(struct cleanup_state *st)
{
    if (st->mime)
        mime_state_primary_end(st->mime);
}

void cleanup_body_line(struct cleanup_state *st, struct str *line)
{
    if (st->status || st->discard)
        return;
    if (st->mime == NULL) { /* not started by cleanup_headers_done: no MIME structure known */
        cleanup_mime_start(st);
        cleanup_mime_primary_end(st);
    }
    mime_state_update(st->mime, line->data, line->len);
}

void cleanup_body_end(struct cleanup_state *st)
{
    if (st->mime && st->status == 0 && !st->discard)
        mime_state_finish(st->mime);
}

void cleanup_mime_release(struct cleanup_state *st)
{
    mime_state_free(st->mime);
    st->mime = NULL;
    str_release(&st->scratch);
}
