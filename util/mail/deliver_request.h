/* deliver_request: the delivery request protocol between qmgr and the delivery agents
 * (docs/architecture.md, "Delivery requests"): request and reply structures, their encoding to
 * and strict decoding from attribute lists, and the agent side of a connection.
 *
 * Agent:   static void deliver(const struct deliver_request *rq, struct deliver_reply *rp,
 *                              void *ctx)
 *          { fd = deliver_open_queue_file(rq, hash_names, depth, &env, &err); ...
 *            deliver_report(rq, rp, i, DELIVER_SENT, "2.0.0", "delivered to maildir", "virtual"); }
 *          serve(stream) { return deliver_agent_serve(stream, 300, deliver, ctx); }
 * qmgr:    deliver_request_encode(&rq, list); attr_encode(list, &out); ...
 *          deliver_reply_decode(list, rq.nrcpt, &reply, &err); */
#ifndef KESTREL_MAIL_DELIVER_REQUEST_H
#define KESTREL_MAIL_DELIVER_REQUEST_H

#include "base/attr.h"
#include "base/attr_io.h"
#include "base/stream.h"
#include "base/str.h"

#include <stddef.h>

struct queue_envelope;

#define DELIVER_PROTOCOL "delivery"
#define DELIVER_MAX_RCPTS 200 /* recipients in one request */
/* Attribute limits for a request or reply of DELIVER_MAX_RCPTS recipients. */
extern const struct attr_limits deliver_attr_limits;
#define DELIVER_MAX_TIME 1e11 /* largest time value accepted (seconds) */

struct deliver_rcpt {
    char *address;
    char *orig;  /* "" when none */
    char *orcpt; /* "" when none */
    long notify;
    long offset; /* of the R record in the queue file */
};

struct deliver_request {
    char *queue_name, *queue_id, *sender, *nexthop, *transport;
    double arrival_time;       /* sec.usec */
    double queue_delay;        /* seconds before qmgr (delays a) */
    double active_time;        /* seconds in qmgr (delays b) */
    char *dsn_envid, *dsn_ret; /* "" when none */
    char *client_name, *client_address, *client_helo, *client_protocol;
    char *sasl_method, *sasl_username;
    struct deliver_rcpt *rcpts;
    size_t nrcpt, cap;
    double started; /* when the agent decoded it (epoch seconds); 0 when not decoded */
};

/* Results. On the wire a status travels as its name (sent/bounced/deferred, see
 * deliver_status_name()), never as a number, so the values are in-process only and are ordered
 * so that a worse result has a larger value: SENT < BOUNCED < DEFERRED (the same order as
 * mailbox_mbox.h's MAILBOX_*). An agent that expands one recipient into several deliveries
 * replies with the largest (worst) status of them. */
enum deliver_status { DELIVER_SENT = 0, DELIVER_BOUNCED = 1, DELIVER_DEFERRED = 2 };

struct deliver_result {
    enum deliver_status status;
    char *dsn;    /* "2.0.0" */
    char *reason; /* text of the log line's parentheses */
    char *relay;  /* "local", "host[addr]:port", "none" */
};

struct deliver_reply {
    struct deliver_result *v;
    size_t n;
};

/* Every string of a fresh request is "" (never NULL). */
void deliver_request_init(struct deliver_request *rq);
void deliver_request_release(struct deliver_request *rq);
/* Replace one string field (e.g. &rq->sender) with a copy of value (NULL: ""). */
void deliver_request_set(char **field, const char *value);
void deliver_request_add_rcpt(struct deliver_request *rq, const char *address, const char *orig,
                              const char *orcpt, long notify, long offset);
void deliver_request_encode(const struct deliver_request *rq, struct attr_list *out);
/* Strict: unknown or missing attributes, bad numbers, 0 or more than DELIVER_MAX_RCPTS
 * recipients, a queue_name that is not [a-z]+ or an invalid queue_id fail (-1, err set).
 * Sets rq->started to the current time. */
int deliver_request_decode(const struct attr_list *in, struct deliver_request *rq, struct str *err);
/* Agent: opens <queue_name>/<queue_id> (relative to the queue directory, hashed as
 * hash_names/depth say) read-only and validates its envelope into env. Returns the fd, or -1
 * with err set. */
int deliver_open_queue_file(const struct deliver_request *rq, const char *hash_names, int depth,
                            struct queue_envelope *env, struct str *err);

/* n results, each initially DELIVER_DEFERRED "4.3.0" "unknown mail transport error" "none". */
void deliver_reply_init(struct deliver_reply *rp, size_t n);
void deliver_reply_release(struct deliver_reply *rp);
void deliver_reply_set(struct deliver_reply *rp, size_t i, enum deliver_status status,
                       const char *dsn, const char *reason, const char *relay);
/* Every recipient the same result (a queue file that cannot be read, a bad transport). */
void deliver_reply_set_all(struct deliver_reply *rp, enum deliver_status status, const char *dsn,
                           const char *reason, const char *relay);
/* Agent: logs the delivery line (deliver_log_agent()) of recipient rcpt (original orig) of rq,
 * with rq's delays; d is the agent's own time since rq->started. */
void deliver_log_rcpt(const struct deliver_request *rq, const char *rcpt, const char *orig,
                      enum deliver_status status, const char *dsn, const char *reason,
                      const char *relay);
/* Agent: sets the reply of recipient i of rq and logs its line (deliver_log_rcpt()). */
void deliver_report(const struct deliver_request *rq, struct deliver_reply *rp, size_t i,
                    enum deliver_status status, const char *dsn, const char *reason,
                    const char *relay);
void deliver_reply_encode(const struct deliver_reply *rp, struct attr_list *out);
/* Strict: rcpt_count must equal expect; each status sent/deferred/bounced. */
int deliver_reply_decode(const struct attr_list *in, size_t expect, struct deliver_reply *rp,
                         struct str *err);
/* "sent", "bounced" or "deferred" (anything else). */
const char *deliver_status_name(enum deliver_status s);

/* The agent side of one connection: send protocol=delivery, then for each request decode it,
 * call fn (which fills the reply, already sized to the request's recipients) and send the reply,
 * until the client closes. A malformed request ends the connection with a warning. timeout
 * bounds the wait for each request (seconds). Returns 0 or -1 (protocol or I/O error). */
typedef void (*deliver_fn)(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx);
int deliver_agent_serve(struct stream *client, int timeout, deliver_fn fn, void *ctx);

#endif
