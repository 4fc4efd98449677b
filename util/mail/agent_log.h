/* agent_log: the per-recipient line every delivery agent logs, in Postfix's shape:
 *   <ID>: to=<rcpt>, orig_to=<orig>, relay=R, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)
 * orig_to appears only when it differs from the recipient (case-insensitively). delays: a =
 * before the queue manager, b = in the queue manager, c = connection set-up, d = the agent's
 * own time. (To be reconciled with qmgr's deliver_log.h, which has the same shape.) */
#ifndef KESTREL_MAIL_AGENT_LOG_H
#define KESTREL_MAIL_AGENT_LOG_H

#include "base/str.h"

struct agent_log_info {
    const char *queue_id;
    const char *recipient;
    const char *orig;   /* NULL or "" when none */
    const char *relay;  /* "local", "virtual", "spamassassin", "host[addr]:port", "none" */
    const char *dsn;    /* "2.0.0" */
    const char *status; /* "sent", "bounced", "deferred" */
    const char *reason; /* the text in parentheses */
    double arrival;     /* epoch seconds */
    double queue_delay; /* a */
    double active_time; /* b */
    double conn_time;   /* c */
    double started;     /* epoch seconds when the agent took the request (d = now - started - c) */
};

/* A delay as Postfix prints it: "0", "0.01", "0.5", "1.2", "12", "1234". */
void agent_log_delay(struct str *out, double seconds);
/* Appends the line (without the program prefix) for the time now. */
void agent_log_format(struct str *out, const struct agent_log_info *info, double now);
/* msg_info() of the line at the current time. */
void agent_log(const struct agent_log_info *info);
/* The current time as epoch seconds with microseconds. */
double agent_log_now(void);

#endif
