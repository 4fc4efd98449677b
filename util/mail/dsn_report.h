/* dsn_report: composition of an RFC 3464 delivery status notification (multipart/report):
 * message headers, a human-readable part, the message/delivery-status part, and the header of
 * the third part (message/rfc822, or text/rfc822-headers when only headers are returned).
 * The caller adds the original message lines and then dsn_report_end(). Lines have no line
 * endings (they become queue file L records). */
#ifndef KESTREL_MAIL_DSN_REPORT_H
#define KESTREL_MAIL_DSN_REPORT_H

#include "base/argv.h"
#include "mail/bounce_log.h"

enum dsn_report_kind { DSN_REPORT_FAILED, DSN_REPORT_DELAYED };

struct dsn_report {
    enum dsn_report_kind kind;
    const char *myhostname;
    const char *queue_id;     /* of the original message */
    const char *sender;       /* original envelope sender (internal form) */
    const char *to;           /* the notice's recipient */
    const char *envid;        /* DSN ENVID or "" */
    const char *date;         /* RFC 5322 date of the notice */
    const char *arrival_date; /* RFC 5322 date of the original's arrival */
    const char *boundary;
    const char *message_id; /* without brackets */
    int headers_only;       /* RET=HDRS or over bounce_size_limit */
};

/* Appends everything up to and including the blank line that starts the original message. */
void dsn_report_begin(const struct dsn_report *r, const struct bounce_entry *v, size_t n,
                      struct argv *out);
/* Appends the closing boundary. */
void dsn_report_end(const struct dsn_report *r, struct argv *out);
/* "rfc822;addr" or "rfc822; addr" -> "rfc822; addr"; an address without type gets rfc822. */
void dsn_report_orcpt(const char *orcpt, struct str *out);
/* An RFC 5322 date for t in local time: "Sun, 23 Nov 2025 10:13:10 +0000 (UTC)". */
void dsn_report_date(long t, struct str *out);

#endif
