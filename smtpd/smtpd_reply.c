/* smtpd_reply: replies to the client (with error counting and smtpd_error_sleep_time
 * tarpitting), the sanitiser every echoed text goes through, the Postfix-shaped reject log
 * line and the disconnect statistics. */
#include "smtpd.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "mail/address.h"

void smtpd_sanitize(const char *text, size_t len, struct str *out)
{
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)text[i];
        if (ch >= 0x20 && ch < 0x7f) {
            str_appendc(out, ch);
            i++;
            continue;
        }
        if (ch >= 0x80) {
            size_t n = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
            if (i + n <= len && address_valid_utf8(text + i, n)) {
                str_appendn(out, text + i, n);
                i += n;
                continue;
            }
        }
        str_appendc(out, '?');
        i++;
    }
}

void smtpd_reply(struct smtpd_state *st, const char *fmt, ...)
{
    struct str raw = STR_INIT, line = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&raw, fmt, ap);
    va_end(ap);
    /* Belt and braces: nothing in a reply line may end it early. */
    smtpd_sanitize(raw.data ? raw.data : "", raw.len, &line);
    if (line.len > 0 && (line.data[0] == '4' || line.data[0] == '5')) {
        st->error_count++;
        if (st->error_count > smtpd_conf.soft_error_limit && smtpd_conf.error_sleep > 0) {
            stream_flush(st->s);
            sleep((unsigned)smtpd_conf.error_sleep);
        }
    }
    if (msg_verbose)
        msg_info("> %s: %s", st->namaddr, str_cstr(&line));
    str_append(&line, "\r\n");
    stream_write(st->s, line.data, line.len);
    str_release(&raw);
    str_release(&line);
}

void smtpd_log_reject(struct smtpd_state *st, const char *stage, const char *reply, const char *to)
{
    smtpd_log_action(st, "reject", stage, reply, to);
}

void smtpd_log_action(struct smtpd_state *st, const char *action, const char *stage,
                      const char *reply, const char *to)
{
    struct str m = STR_INIT;
    str_appendf(&m, "%s: %s: %s from %s: %s;", st->queue_id.len ? st->queue_id.data : "NOQUEUE",
                action, stage, st->namaddr, reply);
    if (st->in_mail) {
        str_append(&m, " from=<");
        smtpd_sanitize(str_cstr(&st->sender), st->sender.len, &m);
        str_append(&m, ">");
    }
    if (to) {
        str_append(&m, " to=<");
        smtpd_sanitize(to, strlen(to), &m);
        str_append(&m, ">");
    }
    str_appendf(&m, " proto=%s", st->protocol);
    if (st->helo)
        str_appendf(&m, " helo=<%s>", st->helo);
    msg_info("%s", str_cstr(&m));
    str_release(&m);
}

static const char *const count_names[CNT_MAX] = {
    "helo", "ehlo", "xforward", "starttls", "auth", "mail", "rcpt", "data",
    "bdat", "rset", "noop",     "vrfy",     "etrn", "quit", "help", "unknown"};

void smtpd_format_counts(const struct smtpd_state *st, struct str *out)
{
    int ok = 0, total = 0;
    for (int i = 0; i < CNT_MAX; i++) {
        const struct smtpd_count *c = &st->counts[i];
        if (c->total == 0)
            continue;
        ok += c->ok;
        total += c->total;
        if (c->ok == c->total)
            str_appendf(out, " %s=%d", count_names[i], c->ok);
        else
            str_appendf(out, " %s=%d/%d", count_names[i], c->ok, c->total);
    }
    if (ok == total)
        str_appendf(out, " commands=%d", ok);
    else
        str_appendf(out, " commands=%d/%d", ok, total);
}
