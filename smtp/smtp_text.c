/* smtp_text: message content in SMTP DATA form (CRLF line ends, dot-stuffing, long lines
 * broken at smtp_line_length_limit) and the reply texts that go into log lines and DSNs. */
#include "smtp.h"

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

void smtp_text_said(struct str *out, const char *host, const char *addr, const char *text,
                    const char *cmd)
{
    str_setf(out, "host %s[%s] said: %s (in reply to %s command)", host, addr, text, cmd);
}
