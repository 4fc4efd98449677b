/* dsn: delivery status notification basics shared by qmgr, the agents and the bounce service:
 * the NOTIFY bit mask of the queue file's N record, RFC 3463 enhanced status codes, and the
 * RFC 3464 report pieces (dsn_report.c). */
#ifndef KESTREL_MAIL_DSN_H
#define KESTREL_MAIL_DSN_H

#include "base/str.h"

/* NOTIFY bits (N record, rcpt_<i>_notify). 0 means "not specified" (FAILURE,DELAY). */
#define DSN_NOTIFY_NEVER (1 << 0)
#define DSN_NOTIFY_SUCCESS (1 << 1)
#define DSN_NOTIFY_FAILURE (1 << 2)
#define DSN_NOTIFY_DELAY (1 << 3)
#define DSN_NOTIFY_ALL 15

/* 1 when a recipient with this mask wants a notice of the given kind (FAILURE or DELAY). */
int dsn_notify_wants(long notify, int kind);

/* 1 when text starts with an enhanced status code "c.s.d" (c 2, 4 or 5; s up to 3 digits,
 * d up to 3 digits) followed by the end or white space; *len receives its length. */
int dsn_code_valid(const char *text, size_t *len);
/* Split "5.1.1 text" into code and text; when text has no code, code is def. */
void dsn_split(const char *text, const char *def, struct str *code, struct str *rest);

#endif
