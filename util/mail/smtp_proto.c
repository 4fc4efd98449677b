/* smtp_proto: SMTP client pieces shared by smtp(8) and smtpd's proxy: bounded reply reading
 * and parsing, enhanced status codes, and message content in DATA form. */
#include "mail/smtp_proto.h"

#include <ctype.h>
#include <string.h>

#include "mail/dsn.h"

void smtp_reply_init(struct smtp_reply *r)
{
    r->code = 0;
    r->dsn = (struct str)STR_INIT;
    r->text = (struct str)STR_INIT;
    r->lines = argv_new();
}

void smtp_reply_release(struct smtp_reply *r)
{
    str_release(&r->dsn);
    str_release(&r->text);
    argv_free(r->lines);
    r->lines = NULL;
}

int smtp_reply_parse_line(const char *line, int *code, int *more, const char **text)
{
    if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]))
        return -1;
    if (line[0] < '2' || line[0] > '5')
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line[3] == 0) {
        *more = 0;
        *text = line + 3;
        return 0;
    }
    if (line[3] != ' ' && line[3] != '-')
        return -1;
    *more = line[3] == '-';
    *text = line + 4;
    return 0;
}

void smtp_reply_dsn(int code, const char *text, struct str *dsn)
{
    size_t len = 0;
    char cls = (char)('0' + code / 100);
    if (dsn_code_valid(text, &len) && text[0] == cls && (text[len] == 0 || text[len] == ' ')) {
        str_clear(dsn);
        str_appendn(dsn, text, len);
        return;
    }
    str_setf(dsn, "%c.0.0", cls);
}

static int read_line(struct stream *s, struct str *line)
{
    str_clear(line);
    int rc = stream_getline(s, line, SMTP_REPLY_LINE_MAX);
    if (rc == STREAM_PARTIAL)
        return SMTP_REPLY_BAD;
    if (rc == STREAM_EOF)
        return STREAM_EOF;
    if (rc < 0)
        return rc;
    while (line->len && (line->data[line->len - 1] == '\n' || line->data[line->len - 1] == '\r'))
        line->data[--line->len] = 0;
    return 0;
}

int smtp_reply_read(struct stream *s, struct smtp_reply *r)
{
    struct str line = STR_INIT;
    int rc = 0, more = 1;
    r->code = 0;
    str_clear(&r->text);
    argv_clear(r->lines);
    for (size_t n = 0; more; n++) {
        int code;
        const char *text;
        if (n >= SMTP_REPLY_LINES_MAX) {
            rc = SMTP_REPLY_BAD;
            break;
        }
        if ((rc = read_line(s, &line)) != 0)
            break;
        if (smtp_reply_parse_line(line.data, &code, &more, &text) < 0 ||
            (r->code && code != r->code)) {
            rc = SMTP_REPLY_BAD;
            break;
        }
        r->code = code;
        argv_add(r->lines, text);
        if (r->text.len)
            str_appendc(&r->text, ' ');
        str_append(&r->text, line.data);
    }
    if (rc == 0)
        smtp_reply_dsn(r->code, r->lines->v[0], &r->dsn);
    str_release(&line);
    return rc;
}

/* ---- message text ------------------------------------------------------------------------ */

void smtp_text_init(struct smtp_text_state *st)
{
    st->bol = 1;
    st->col = 0;
}

void smtp_text_put(struct smtp_text_state *st, struct str *out, const char *data, size_t len,
                   int eol, size_t limit)
{
    for (size_t i = 0; i < len;) {
        if (st->bol) {
            if (data[i] == '.')
                str_appendc(out, '.');
            st->bol = 0;
        }
        if (limit && st->col >= limit) {
            str_append(out, "\r\n ");
            st->col = 1;
        }
        size_t n = len - i;
        if (limit && n > limit - st->col)
            n = limit - st->col;
        str_appendn(out, data + i, n);
        st->col += n;
        i += n;
    }
    if (eol) {
        str_append(out, "\r\n");
        st->bol = 1;
        st->col = 0;
    }
}

void smtp_text_end(struct smtp_text_state *st, struct str *out)
{
    if (!st->bol)
        str_append(out, "\r\n");
    str_append(out, ".\r\n");
    smtp_text_init(st);
}
