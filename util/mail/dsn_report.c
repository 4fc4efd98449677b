/* dsn_report: RFC 3464 notification text. The human-readable wording is Kestrel's own. */
#include "mail/dsn_report.h"

#include "base/str.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void addf(struct argv *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct argv *out, const char *fmt, ...)
{
    struct str s = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&s, fmt, ap);
    va_end(ap);
    argv_add(out, str_cstr(&s));
    str_release(&s);
}

void dsn_report_date(long t, struct str *out)
{
    char buf[128];
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
    str_append(out, buf);
}

void dsn_report_orcpt(const char *orcpt, struct str *out)
{
    const char *semi = strchr(orcpt, ';');
    str_clear(out);
    if (semi == NULL) {
        str_appendf(out, "rfc822; %s", orcpt);
        return;
    }
    str_appendn(out, orcpt, (size_t)(semi - orcpt));
    semi++;
    while (*semi == ' ')
        semi++;
    str_appendf(out, "; %s", semi);
}

static void headers(const struct dsn_report *r, struct argv *out)
{
    int failed = r->kind == DSN_REPORT_FAILED;
    addf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)", r->myhostname);
    addf(out, "To: <%s>", r->to);
    addf(out, "Subject: %s",
         failed ? "Returned mail: delivery failed"
                : "Delayed mail: delivery is still being attempted");
    addf(out, "Date: %s", r->date);
    addf(out, "Message-Id: <%s>", r->message_id);
    addf(out, "Auto-Submitted: auto-replied");
    addf(out, "MIME-Version: 1.0");
    addf(out, "Content-Type: multipart/report; report-type=delivery-status;");
    addf(out, "\tboundary=\"%s\"", r->boundary);
    addf(out, "Content-Transfer-Encoding: 8bit");
    argv_add(out, "");
    argv_add(out, "This is a MIME-encapsulated message.");
    argv_add(out, "");
}

static void human(const struct dsn_report *r, const struct bounce_entry *v, size_t n,
                  struct argv *out)
{
    addf(out, "--%s", r->boundary);
    argv_add(out, "Content-Description: Notification");
    argv_add(out, "Content-Type: text/plain; charset=us-ascii");
    argv_add(out, "");
    addf(out, "This report comes from the mail system at host %s.", r->myhostname);
    argv_add(out, "");
    if (r->kind == DSN_REPORT_FAILED) {
        argv_add(out, "Your message could not be delivered to some or all of its recipients,");
        argv_add(out, "and the mail system has given up. The failed addresses and the reasons");
        argv_add(out, "are listed below; a copy of your message is attached.");
    } else {
        argv_add(out, "Your message has not been delivered yet to the recipients listed");
        argv_add(out, "below. The mail system keeps trying; you do not need to resend it.");
        argv_add(out, "You will be told if it finally cannot be delivered.");
    }
    argv_add(out, "");
    argv_add(out, "If you need help, write to the postmaster of this site and include this");
    argv_add(out, "report. The attached copy of your message may be left out.");
    argv_add(out, "");
    argv_add(out, "                   The Kestrel mail system");
    argv_add(out, "");
    for (size_t i = 0; i < n; i++)
        addf(out, "<%s>: %s", v[i].recipient, v[i].reason);
    argv_add(out, "");
}

/* "host[addr]:port" -> "host"; "none", "local" and "" give no Remote-MTA. */
static void remote_mta(const char *relay, struct argv *out)
{
    if (*relay == 0 || strcmp(relay, "none") == 0 || strcmp(relay, "local") == 0)
        return;
    size_t len = strcspn(relay, "[:");
    if (len)
        addf(out, "Remote-MTA: dns; %.*s", (int)len, relay);
}

static void machine(const struct dsn_report *r, const struct bounce_entry *v, size_t n,
                    struct argv *out)
{
    struct str orcpt = STR_INIT;
    addf(out, "--%s", r->boundary);
    argv_add(out, "Content-Description: Delivery report");
    argv_add(out, "Content-Type: message/delivery-status");
    argv_add(out, "");
    addf(out, "Reporting-MTA: dns; %s", r->myhostname);
    addf(out, "X-Kestrel-Queue-ID: %s", r->queue_id);
    addf(out, "X-Kestrel-Sender: rfc822; %s", r->sender);
    if (r->envid && *r->envid)
        addf(out, "Original-Envelope-Id: %s", r->envid);
    addf(out, "Arrival-Date: %s", r->arrival_date);
    for (size_t i = 0; i < n; i++) {
        argv_add(out, "");
        addf(out, "Final-Recipient: rfc822; %s", v[i].recipient);
        if (v[i].orcpt && *v[i].orcpt) {
            dsn_report_orcpt(v[i].orcpt, &orcpt);
            addf(out, "Original-Recipient: %s", orcpt.data);
        } else if (v[i].orig && *v[i].orig && strcasecmp(v[i].orig, v[i].recipient) != 0) {
            addf(out, "Original-Recipient: rfc822; %s", v[i].orig);
        }
        addf(out, "Action: %s", r->kind == DSN_REPORT_FAILED ? "failed" : "delayed");
        addf(out, "Status: %s", v[i].status);
        remote_mta(v[i].relay ? v[i].relay : "", out);
        addf(out, "Diagnostic-Code: X-Postfix; %s", v[i].reason);
    }
    argv_add(out, "");
    str_release(&orcpt);
}

void dsn_report_begin(const struct dsn_report *r, const struct bounce_entry *v, size_t n,
                      struct argv *out)
{
    headers(r, out);
    human(r, v, n, out);
    machine(r, v, n, out);
    addf(out, "--%s", r->boundary);
    addf(out, "Content-Description: %s",
         r->headers_only ? "Undelivered Message Headers" : "Undelivered Message");
    addf(out, "Content-Type: %s", r->headers_only ? "text/rfc822-headers" : "message/rfc822");
    argv_add(out, "");
}

void dsn_report_end(const struct dsn_report *r, struct argv *out)
{
    argv_add(out, "");
    addf(out, "--%s--", r->boundary);
}
