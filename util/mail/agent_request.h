/* agent_request: the agent side of the delivery request protocol (docs/architecture.md,
 * "Delivery requests"), shared by local, virtual and pipe: strict decoding of a request,
 * opening and validating its queue file, the per-recipient reply, the log line of one
 * recipient, and the connection loop. (To be reconciled with qmgr's deliver_request.h.)
 *
 *     static void deliver(const struct agent_request *rq, struct agent_reply *rp, void *ctx)
 *     { ... agent_reply_set(rp, i, AGENT_SENT, "2.0.0", "delivered to maildir", "virtual"); }
 *     serve(stream) { return agent_serve(stream, 300, deliver, ctx); } */
#ifndef KESTREL_MAIL_AGENT_REQUEST_H
#define KESTREL_MAIL_AGENT_REQUEST_H

#include "base/attr.h"
#include "base/stream.h"
#include "base/str.h"
#include "mail/queue_file.h"

#include <stddef.h>

#define AGENT_PROTOCOL "delivery"
#define AGENT_MAX_RCPTS 200 /* recipients in one request */

struct agent_rcpt {
    char *address;
    char *orig;  /* "" when none */
    char *orcpt; /* "" when none */
    long notify;
    long offset; /* of the R record in the queue file */
};

struct agent_request {
    char *queue_name, *queue_id, *sender, *nexthop, *transport; /* "" when absent */
    double arrival_time, queue_delay, active_time;
    char *dsn_envid, *dsn_ret;
    char *client_name, *client_address, *client_helo, *client_protocol;
    char *sasl_method, *sasl_username;
    struct agent_rcpt *rcpts;
    size_t nrcpt;
    double started; /* when the agent decoded it (epoch seconds) */
};

/* Results; worse results have larger values, as in mailbox_mbox.h. */
enum agent_status { AGENT_SENT = 0, AGENT_BOUNCED = 1, AGENT_DEFERRED = 2 };

struct agent_result {
    int status;
    char dsn[16];
    struct str reason;
    struct str relay;
};

struct agent_reply {
    struct agent_result *v;
    size_t n;
};

/* Strict: unknown or missing attributes, bad numbers, 0 or more than AGENT_MAX_RCPTS
 * recipients, a queue_name not [a-z]+ or an invalid queue_id fail (-1, err set). */
int agent_request_decode(const struct attr_list *in, struct agent_request *rq, struct str *err);
void agent_request_release(struct agent_request *rq);
/* Opens <queue_name>/<queue_id> (relative to the queue directory) read-only and validates it.
 * Returns the fd, or -1 with err set. */
int agent_open_queue_file(const struct agent_request *rq, const char *hash_names, int depth,
                          struct queue_envelope *env, struct str *err);

/* n results, each initially deferred "4.3.0" "unknown mail transport error" relay "none". */
void agent_reply_init(struct agent_reply *rp, size_t n);
void agent_reply_release(struct agent_reply *rp);
void agent_reply_set(struct agent_reply *rp, size_t i, int status, const char *dsn,
                     const char *reason, const char *relay);
/* Every recipient the same result (a queue file that cannot be read, a bad transport). */
void agent_reply_set_all(struct agent_reply *rp, int status, const char *dsn, const char *reason,
                         const char *relay);
void agent_reply_encode(const struct agent_reply *rp, struct attr_list *out);
const char *agent_status_name(int status);

/* Logs the delivery line of one recipient of rq. */
void agent_log_rcpt(const struct agent_request *rq, const char *rcpt, const char *orig,
                    const char *relay, int status, const char *dsn, const char *reason);
/* Sets the reply of recipient i and logs its line. */
void agent_report(const struct agent_request *rq, struct agent_reply *rp, size_t i, int status,
                  const char *dsn, const char *relay, const char *reason);

/* One connection: send protocol=delivery, then decode each request, call fn (the reply is
 * already sized to the request's recipients) and send the reply, until the client closes. A
 * malformed request ends the connection with a warning. timeout: seconds per request. */
typedef void (*agent_fn)(const struct agent_request *rq, struct agent_reply *rp, void *ctx);
int agent_serve(struct stream *client, int timeout, agent_fn fn, void *ctx);

#endif
