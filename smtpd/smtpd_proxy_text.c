/* smtpd_proxy_text: the pure parts of the before-queue filter client — judging a filter reply
 * against what the command expects, the client-facing (sanitised, bounded) form of a reply,
 * the MAIL/RCPT/XFORWARD commands rebuilt from what smtpd accepted, and message content in
 * DATA form. No I/O here; smtpd_proxy.c does the talking. */
#include "smtpd_proxy.h"

#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "mail/queue_record.h"
#include "mail/xtext.h"
#include "smtpd.h"

int smtpd_proxy_judge(const struct smtp_reply *r, int expect)
{
    int cls = r->code / 100;
    if (expect == PROXY_WANT_ANY) {
        if (cls == 2)
            return 0;
        return cls == 4 || cls == 5 ? -1 : -2;
    }
    if (cls == expect)
        return 0;
    /* Since Postfix 2.6 an unexpected 2xx/3xx is never passed on: it would confuse the
     * client (a 354 to RCPT, a 250 to DATA). */
    return cls == 4 || cls == 5 ? -1 : -2;
}

void smtpd_proxy_client_lines(const struct smtp_reply *r, size_t limit, struct argv *out)
{
    struct str line = STR_INIT;
    size_t total = 0, n = r->lines->n;
    argv_clear(out);
    for (size_t i = 0; i < n; i++) {
        const char *text = r->lines->v[i];
        str_clear(&line);
        str_appendf(&line, "%03d", r->code);
        /* A multi-line reply that does not fit is cut; its last kept line ends it. */
        int last = i + 1 == n || total + strlen(text) + strlen(r->lines->v[i + 1]) + 10 > limit;
        str_appendc(&line, last ? ' ' : '-');
        smtpd_sanitize(text, strlen(text), &line);
        total += line.len + 2;
        argv_add(out, str_cstr(&line));
        if (last)
            break;
    }
    str_release(&line);
}

static void quote_path(const char *addr, struct str *out)
{
    str_appendc(out, '<');
    if (*addr)
        address_quote(addr, out);
    str_appendc(out, '>');
}

void smtpd_proxy_mail_cmd(const char *sender, long long size, int body_8bit, int smtputf8,
                          const char *ret, const char *envid, struct str *out)
{
    str_set(out, "MAIL FROM:");
    quote_path(sender, out);
    if (size > 0)
        str_appendf(out, " SIZE=%lld", size);
    if (body_8bit)
        str_append(out, " BODY=8BITMIME");
    if (smtputf8)
        str_append(out, " SMTPUTF8");
    if (ret && *ret)
        str_appendf(out, " RET=%s", ret);
    if (envid && *envid) {
        str_append(out, " ENVID=");
        xtext_encode(envid, strlen(envid), out);
    }
}

void smtpd_proxy_rcpt_cmd(const char *rcpt, int notify, const char *orcpt, struct str *out)
{
    static const struct {
        int bit;
        const char *name;
    } kw[] = {{DSN_NOTIFY_NEVER, "NEVER"},
              {DSN_NOTIFY_SUCCESS, "SUCCESS"},
              {DSN_NOTIFY_FAILURE, "FAILURE"},
              {DSN_NOTIFY_DELAY, "DELAY"}};
    str_set(out, "RCPT TO:");
    quote_path(rcpt, out);
    const char *sep = " NOTIFY=";
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        if (notify & kw[i].bit) {
            str_appendf(out, "%s%s", sep, kw[i].name);
            sep = ",";
        }
    }
    const char *semi = orcpt ? strchr(orcpt, ';') : NULL;
    if (semi && semi[1]) {
        str_append(out, " ORCPT=");
        str_appendn(out, orcpt, (size_t)(semi - orcpt + 1));
        struct str err = STR_INIT;
        if (strncasecmp(orcpt, "utf-8;", 6) == 0)
            utf8_addr_xtext_encode(semi + 1, strlen(semi + 1), 0, out, &err);
        else
            xtext_encode(semi + 1, strlen(semi + 1), out);
        str_release(&err);
    }
}

void smtpd_proxy_encode(struct smtp_text_state *ts, struct str *out, int type, const char *data,
                        size_t len)
{
    smtp_text_put(ts, out, data, len, type == REC_LINE, 0);
}
