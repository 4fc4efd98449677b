/* smtpd_data: the message content reader. DATA content ends only at <CR><LF>.<CR><LF> (no
 * smuggling variant such as <LF>.<LF>, <LF>.<CR><LF> or <CR>.<CR> ends it), dot-stuffing is
 * undone, and the assembler turns bytes into queue-file lines: CRLF ends a line, a bare LF
 * ends a line too (smtpd_forbid_bare_newline = normalize/no; "yes" also flags it), a bare CR
 * becomes a space, and lines longer than line_length_limit go out in REC_PART pieces, never
 * truncated. Memory stays bounded by the line limit whatever the input. */
#include "smtpd.h"

#include <string.h>

#include "mail/queue_record.h"

void smtpd_content_init(struct smtpd_content *c, size_t line_limit, int bare_lf_mode,
                        long long size_limit, smtpd_emit_fn emit, void *ctx)
{
    struct str empty = STR_INIT;
    c->line = empty;
    c->line_limit = line_limit ? line_limit : 2048;
    c->bare_lf_mode = bare_lf_mode;
    c->pending_cr = c->bare_lf = c->bare_cr = c->too_big = 0;
    c->bytes = 0;
    c->size_limit = size_limit;
    c->emit = emit;
    c->ctx = ctx;
}

void smtpd_content_release(struct smtpd_content *c)
{
    str_release(&c->line);
}

static void emit(struct smtpd_content *c, int type)
{
    c->bytes += (long long)c->line.len + (type == REC_LINE ? 1 : 0);
    if (c->size_limit > 0 && c->bytes > c->size_limit)
        c->too_big = 1;
    if (!c->too_big)
        c->emit(c->ctx, type, c->line.data ? c->line.data : "", c->line.len);
    str_clear(&c->line);
}

static void add_byte(struct smtpd_content *c, int ch)
{
    if (c->line.len >= c->line_limit)
        emit(c, REC_PART);
    str_appendc(&c->line, ch);
}

static void flush_pending_cr(struct smtpd_content *c)
{
    if (c->pending_cr) {
        c->pending_cr = 0;
        c->bare_cr = 1;
        add_byte(c, ' ');
    }
}

void smtpd_content_feed(struct smtpd_content *c, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch == '\n') {
            if (!c->pending_cr)
                c->bare_lf = 1;
            c->pending_cr = 0;
            emit(c, REC_LINE);
        } else if (ch == '\r') {
            flush_pending_cr(c);
            c->pending_cr = 1;
        } else {
            flush_pending_cr(c);
            add_byte(c, ch);
        }
    }
}

void smtpd_content_end(struct smtpd_content *c)
{
    flush_pending_cr(c);
    if (c->line.len > 0)
        emit(c, REC_LINE);
}

/* One physical piece of input as stream_getline returned it. at_start: it begins a line;
 * prev_crlf: the previous line ended in CRLF (or this is the first line). */
int smtpd_read_data(struct stream *s, struct smtpd_content *c)
{
    struct str buf = STR_INIT;
    int at_start = 1, prev_crlf = 1, tail_cr = 0, rc;
    size_t limit = c->line_limit + 2;

    for (;;) {
        str_clear(&buf);
        rc = stream_getline(s, &buf, limit);
        if (rc != STREAM_LINE && rc != STREAM_PARTIAL) {
            str_release(&buf);
            return rc == STREAM_EOF ? STREAM_EOF : rc;
        }
        const char *p = buf.data;
        size_t n = buf.len;
        if (rc == STREAM_LINE && at_start && prev_crlf && n == 3 && memcmp(p, ".\r\n", 3) == 0)
            break;
        if (at_start && n > 0 && p[0] == '.') {
            p++;
            n--;
        }
        smtpd_content_feed(c, p, n);
        if (rc == STREAM_LINE) {
            at_start = 1;
            /* A CR at the end of the previous piece belongs to this line ending. */
            prev_crlf =
                (buf.len >= 2 && buf.data[buf.len - 2] == '\r') || (buf.len == 1 && tail_cr);
        } else {
            at_start = 0;
        }
        tail_cr = buf.len > 0 && buf.data[buf.len - 1] == '\r';
    }
    str_release(&buf);
    return 0;
}
