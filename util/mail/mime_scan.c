/* mime_scan: a streaming MIME structure scanner. Each physical line of a header section is
 * classified from its start (a header, a continuation, the empty line ending the section, or
 * other text, which also ends it and is body); logical headers are collected up to
 * header_size_limit. Body lines are compared with the boundaries of the enclosing multipart
 * levels ("--boundary" starts a part and its header section, "--boundary--" ends the level). */
#include "mail/mime_scan.h"

#include "base/mem.h"
#include "mail/header_info.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a physical line enough to classify it in a header section. */
#define CLASSIFY_BYTES 1000

enum line_mode { LINE_CLASSIFY, LINE_HEADER, LINE_BODY };

/* What a header section declared (Content-Type, Content-Transfer-Encoding). */
struct section {
    int seen_type;   /* a Content-Type header was seen */
    int multipart;   /* multipart type with a boundary */
    int digest;      /* multipart/digest */
    int message;     /* message type other than partial and external-body */
    int encoded;     /* a transfer encoding other than 7bit, 8bit, binary */
    int def_message; /* no Content-Type means message/rfc822 (a part of a digest) */
    struct str boundary;
};

struct level {
    char *boundary;
    size_t len;
    int digest;
};

struct mime_scan {
    struct mime_scan_opts o;
    const struct mime_scan_ops *ops;
    void *ctx;
    int in_head;             /* in a header section */
    enum mime_hdr_class cls; /* of that section */
    int bol;                 /* the next record starts a physical line */
    enum line_mode mode;     /* for the rest of the current physical line */
    struct str line;         /* the start of a line being classified */
    struct str hdr;          /* the logical header being collected */
    int have_hdr;
    struct section sec;
    struct level *stack;
    size_t depth, cap;
};

/* ---- Content-Type and Content-Transfer-Encoding ----------------------------------------- */

struct lex {
    const char *p, *end;
};

/* White space and (nested) comments. */
static void skip_cfws(struct lex *l)
{
    for (;;) {
        while (l->p < l->end && strchr(" \t\r\n", *l->p))
            l->p++;
        if (l->p >= l->end || *l->p != '(')
            return;
        int depth = 0;
        for (; l->p < l->end; l->p++) {
            if (*l->p == '\\' && l->p + 1 < l->end)
                l->p++;
            else if (*l->p == '(')
                depth++;
            else if (*l->p == ')' && --depth == 0) {
                l->p++;
                break;
            }
        }
    }
}

static int is_token_char(char c)
{
    return (unsigned char)c > ' ' && (unsigned char)c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static int token(struct lex *l, struct str *out)
{
    str_clear(out);
    while (l->p < l->end && is_token_char(*l->p))
        str_appendc(out, *l->p++);
    return out->len > 0;
}

/* A parameter value: a token or a quoted string. */
static int value(struct lex *l, struct str *out)
{
    if (l->p >= l->end || *l->p != '"')
        return token(l, out);
    str_clear(out);
    for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
        if (*l->p == '\\' && l->p + 1 < l->end)
            l->p++;
        str_appendc(out, *l->p);
    }
    if (l->p < l->end)
        l->p++;
    return 1;
}

static void parse_content_type(struct mime_scan *ms, const char *v, size_t len)
{
    struct section *s = &ms->sec;
    struct lex l = {v, v + len};
    struct str type = STR_INIT, sub = STR_INIT, name = STR_INIT, val = STR_INIT;
    s->seen_type = 1;
    s->multipart = s->digest = s->message = 0;
    str_clear(&s->boundary);
    skip_cfws(&l);
    token(&l, &type);
    skip_cfws(&l);
    if (l.p < l.end && *l.p == '/') {
        l.p++;
        skip_cfws(&l);
        token(&l, &sub);
    }
    while (l.p < l.end) {
        skip_cfws(&l);
        if (l.p < l.end && *l.p != ';') { /* junk: skip to the next parameter */
            l.p++;
            continue;
        }
        if (l.p < l.end)
            l.p++;
        skip_cfws(&l);
        if (!token(&l, &name))
            continue;
        skip_cfws(&l);
        if (l.p >= l.end || *l.p != '=')
            continue;
        l.p++;
        skip_cfws(&l);
        if (value(&l, &val) && strcasecmp(name.data, "boundary") == 0 && val.len > 0) {
            str_set(&s->boundary, val.data);
            if (s->boundary.len > ms->o.boundary_limit)
                str_truncate(&s->boundary, ms->o.boundary_limit);
        }
    }
    if (type.len && strcasecmp(type.data, "multipart") == 0) {
        s->multipart = s->boundary.len > 0;
        s->digest = sub.len && strcasecmp(sub.data, "digest") == 0;
    } else if (type.len && strcasecmp(type.data, "message") == 0)
        s->message = !(sub.len && (strcasecmp(sub.data, "partial") == 0 ||
                                   strcasecmp(sub.data, "external-body") == 0));
    str_release(&type);
    str_release(&sub);
    str_release(&name);
    str_release(&val);
}

static void parse_encoding(struct mime_scan *ms, const char *v, size_t len)
{
    struct lex l = {v, v + len};
    struct str enc = STR_INIT;
    skip_cfws(&l);
    token(&l, &enc);
    ms->sec.encoded = enc.len && strcasecmp(enc.data, "7bit") != 0 &&
                      strcasecmp(enc.data, "8bit") != 0 && strcasecmp(enc.data, "binary") != 0;
    str_release(&enc);
}

/* Notes what a header says about the structure. */
static void note_header(struct mime_scan *ms, const struct str *h)
{
    if (ms->o.disable_mime)
        return;
    size_t voff = 0, n = header_name_length(h->data, h->len, &voff);
    if (n == 12 && strncasecmp(h->data, "Content-Type", n) == 0)
        parse_content_type(ms, h->data + voff, h->len - voff);
    else if (n == 25 && strncasecmp(h->data, "Content-Transfer-Encoding", n) == 0)
        parse_encoding(ms, h->data + voff, h->len - voff);
}

/* ---- sections --------------------------------------------------------------------------- */

static void start_section(struct mime_scan *ms, enum mime_hdr_class cls, int def_message)
{
    ms->in_head = 1;
    ms->cls = cls;
    ms->sec.seen_type = ms->sec.multipart = ms->sec.digest = ms->sec.message = 0;
    ms->sec.encoded = 0;
    ms->sec.def_message = def_message;
    str_clear(&ms->sec.boundary);
}

static void flush_header(struct mime_scan *ms)
{
    if (!ms->have_hdr)
        return;
    ms->have_hdr = 0;
    note_header(ms, &ms->hdr);
    ms->ops->header(ms->ctx, ms->cls, &ms->hdr);
    str_clear(&ms->hdr);
}

/* The header section is over: what follows is body, or the headers of a nested message. */
static void end_section(struct mime_scan *ms)
{
    flush_header(ms);
    ms->in_head = 0;
    if (ms->o.disable_mime)
        return;
    struct section *s = &ms->sec;
    if (s->multipart) {
        if (ms->depth < ms->o.nesting_limit) {
            ms->stack = xgrow(ms->stack, &ms->cap, ms->depth + 1, sizeof *ms->stack);
            struct level *lv = &ms->stack[ms->depth++];
            lv->boundary = xstrndup(s->boundary.data, s->boundary.len);
            lv->len = s->boundary.len;
            lv->digest = s->digest;
        }
    } else if (((s->seen_type && s->message) || (!s->seen_type && s->def_message)) && !s->encoded)
        start_section(ms, MIME_HDR_NESTED, 0);
}

static void pop_to(struct mime_scan *ms, size_t depth)
{
    while (ms->depth > depth)
        free(ms->stack[--ms->depth].boundary);
}

/* A body line's start: a boundary of an enclosing level starts the next part's header
 * section (after this line) or ends that level. */
static void check_boundary(struct mime_scan *ms, const char *data, size_t len)
{
    if (len < 2 || data[0] != '-' || data[1] != '-')
        return;
    for (size_t k = ms->depth; k-- > 0;) {
        struct level *lv = &ms->stack[k];
        if (len < 2 + lv->len || memcmp(data + 2, lv->boundary, lv->len) != 0)
            continue;
        if (len >= 4 + lv->len && data[2 + lv->len] == '-' && data[3 + lv->len] == '-')
            pop_to(ms, k);
        else {
            int digest = lv->digest;
            pop_to(ms, k + 1);
            start_section(ms, MIME_HDR_MULTIPART, digest);
        }
        return;
    }
}

/* ---- records ---------------------------------------------------------------------------- */

static void append_bounded(struct mime_scan *ms, const char *data, size_t len)
{
    size_t limit = ms->o.header_limit;
    if (ms->hdr.len >= limit)
        return;
    if (len > limit - ms->hdr.len)
        len = limit - ms->hdr.len;
    str_appendn(&ms->hdr, data, len);
}

static void continue_line(struct mime_scan *ms, const char *data, size_t len, int eol);

static void start_line(struct mime_scan *ms, const char *data, size_t len, int eol)
{
    if (ms->in_head) {
        ms->mode = LINE_CLASSIFY;
        str_clear(&ms->line);
    } else {
        ms->mode = LINE_BODY; /* even a boundary line: the new section starts after it */
        check_boundary(ms, data, len);
    }
    continue_line(ms, data, len, eol);
}

/* The start of a header-section line is known (the whole line when eol). */
static void classify(struct mime_scan *ms, int eol)
{
    struct str *l = &ms->line;
    if (l->len == 0 && eol) { /* the empty line ending the section is body */
        end_section(ms);
        ms->mode = LINE_BODY;
        ms->ops->body(ms->ctx, "", 0, 1);
    } else if (header_is_continuation(l->data, l->len) && ms->have_hdr) {
        append_bounded(ms, "\n", 1);
        append_bounded(ms, l->data, l->len);
        ms->mode = LINE_HEADER;
    } else if (header_name_length(l->data, l->len, NULL) > 0) {
        flush_header(ms);
        ms->have_hdr = 1;
        append_bounded(ms, l->data, l->len);
        ms->mode = LINE_HEADER;
    } else { /* other text ends the section; the line is processed again as what follows */
        end_section(ms);
        struct str again = *l;
        *l = (struct str)STR_INIT;
        start_line(ms, again.data ? again.data : "", again.len, eol);
        str_release(&again);
    }
}

static void continue_line(struct mime_scan *ms, const char *data, size_t len, int eol)
{
    switch (ms->mode) {
    case LINE_CLASSIFY:
        str_appendn(&ms->line, data, len);
        if (eol || ms->line.len >= CLASSIFY_BYTES)
            classify(ms, eol);
        break;
    case LINE_HEADER:
        append_bounded(ms, data, len);
        break;
    case LINE_BODY:
        ms->ops->body(ms->ctx, data, len, eol);
        break;
    }
}

void mime_scan_put(struct mime_scan *ms, const char *data, size_t len, int eol)
{
    if (ms->bol)
        start_line(ms, data, len, eol);
    else
        continue_line(ms, data, len, eol);
    ms->bol = eol;
}

void mime_scan_end(struct mime_scan *ms)
{
    if (!ms->bol && ms->mode == LINE_CLASSIFY)
        classify(ms, 0);
    flush_header(ms);
    ms->bol = 1;
}

struct mime_scan *mime_scan_new(const struct mime_scan_opts *opts, const struct mime_scan_ops *ops,
                                void *ctx)
{
    struct mime_scan *ms = xcalloc(1, sizeof *ms);
    ms->o = *opts;
    if (ms->o.header_limit == 0)
        ms->o.header_limit = 102400;
    if (ms->o.boundary_limit == 0)
        ms->o.boundary_limit = 2048;
    ms->ops = ops;
    ms->ctx = ctx;
    ms->bol = 1;
    ms->line = (struct str)STR_INIT;
    ms->hdr = (struct str)STR_INIT;
    ms->sec.boundary = (struct str)STR_INIT;
    start_section(ms, MIME_HDR_PRIMARY, 0);
    return ms;
}

void mime_scan_free(struct mime_scan *ms)
{
    if (!ms)
        return;
    pop_to(ms, 0);
    free(ms->stack);
    str_release(&ms->line);
    str_release(&ms->hdr);
    str_release(&ms->sec.boundary);
    free(ms);
}
