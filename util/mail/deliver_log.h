/* deliver_log: the per-recipient delivery log line every delivery agent (and qmgr, for
 * recipients it defers itself) writes, in Postfix's shape:
 *   <ID>: to=<rcpt>, orig_to=<orig>, relay=R, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)
 * orig_to appears only when it differs from the recipient (case-insensitively). delays: a =
 * before the queue manager, b = in the queue manager, c = connection set-up, d = transmission
 * (what remains of the total delay; for a delivery agent, its own time since it took the
 * request: deliver_log_agent()). */
#ifndef KESTREL_MAIL_DELIVER_LOG_H
#define KESTREL_MAIL_DELIVER_LOG_H

#include "base/str.h"

struct deliver_log_info {
    const char *queue_id;
    const char *recipient; /* internal form; quoted for the log */
    const char *orig;      /* NULL or "" when none */
    const char *relay;     /* "none", "local", "host[addr]:port" */
    const char *dsn;       /* "2.0.0" */
    const char *status;    /* "sent", "deferred", "bounced", "expired" */
    const char *reason;    /* text in parentheses; NULL: no parentheses */
    double arrival;        /* arrival time (epoch seconds) */
    double queue_delay;    /* a */
    double active_time;    /* b */
    double conn_time;      /* c */
};

/* A delay the way Postfix prints it: "0", "0.01", "0.5", "1.2", "12", "1234". */
void deliver_log_delay(struct str *out, double seconds);
/* Formats the line (without the program prefix) for the time now. */
void deliver_log_format(struct str *out, const struct deliver_log_info *info, double now);
/* msg_info() of the formatted line at the current time. */
void deliver_log(const struct deliver_log_info *info);
/* The same for a delivery agent (local, pipe, virtual) that took the request at started
 * (epoch seconds, > 0): d is now - started - c. Addresses are quoted in both (Postfix's
 * default info_log_address_format = external). */
void deliver_log_agent_format(struct str *out, const struct deliver_log_info *info, double started,
                              double now);
void deliver_log_agent(const struct deliver_log_info *info, double started);
/* The current time as epoch seconds with microseconds. */
double deliver_log_now(void);

#endif
