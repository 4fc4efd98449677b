/* policy_client: the client side of the Postfix policy delegation protocol (SMTPD_POLICY_README):
 * "name=value\n" attribute requests ended by an empty line, answered the same way with an
 * "action=..." attribute. Builds requests with every value sanitised (no control character, so
 * no newline, reaches the server), parses replies within limits, and keeps one connection per
 * server open across requests (max_idle, max_ttl, request_limit), retrying a failed request
 * (try_limit, retry_delay) with a per-request timeout. */
#ifndef KESTREL_MAIL_POLICY_CLIENT_H
#define KESTREL_MAIL_POLICY_CLIENT_H

#include <stddef.h>

#include "base/str.h"

/* Reply limits: bytes per attribute line (without the newline) and attributes per reply. */
#define POLICY_LINE_LIMIT 4096
#define POLICY_ATTR_LIMIT 100

/* ---- request encoding ---- */

/* Appends "name=value\n" to req. Every byte of value below 0x20 or equal to 0x7f becomes '?'
 * (so a newline or NUL never reaches the server); a NULL value is sent as empty. */
void policy_request_add(struct str *req, const char *name, const char *value);
/* The same with a number. */
void policy_request_addl(struct str *req, const char *name, long value);
/* Appends the empty line that ends a request. */
void policy_request_end(struct str *req);

/* ---- reply parsing ---- */

enum {
    POLICY_REPLY_OK = 0,         /* action set */
    POLICY_REPLY_NO_ACTION = -1, /* a well-formed reply without an action attribute */
    POLICY_REPLY_BAD = -2,       /* malformed: err says why */
};

/* Parses one complete reply text (the attribute lines and the final empty line). The last
 * "action=" attribute wins (Postfix's attribute reader keeps the last value). Lines without '='
 * or with an empty name, more than POLICY_ATTR_LIMIT attributes, a line longer than
 * POLICY_LINE_LIMIT, a NUL byte or a missing final empty line are POLICY_REPLY_BAD. */
int policy_reply_parse(const char *text, size_t len, struct str *action, struct str *err);

/* ---- connections ---- */

struct policy_client_opts {
    int timeout;       /* seconds for connect, write and read (smtpd_policy_service_timeout) */
    int max_idle;      /* seconds a connection may sit unused before it is closed */
    int max_ttl;       /* seconds a connection may live */
    int try_limit;     /* attempts per request (>= 1) */
    int retry_delay;   /* seconds between attempts */
    int request_limit; /* requests per connection (0: no limit) */
};

struct policy_client;

/* endpoint is "inet:host:port", "unix:path" (relative to the current directory — the queue
 * directory in a daemon) or "/path". NULL with err set for a malformed endpoint. */
struct policy_client *policy_client_new(const char *endpoint, const struct policy_client_opts *o,
                                        struct str *err);
void policy_client_free(struct policy_client *pc);

/* Sends one complete request and reads the reply. Returns POLICY_REPLY_OK with action set,
 * POLICY_REPLY_NO_ACTION (the server answered without action=; logged), or POLICY_REPLY_BAD
 * after try_limit failed attempts, each logged as
 * "warning: problem talking to server NAME: reason" (NAME is the endpoint without "unix:" or
 * "inet:"; a failed connect also logs "warning: connect to NAME: reason"). */
int policy_client_query(struct policy_client *pc, const struct str *request, struct str *action);

/* Statistics for tests: connections opened, requests on the current connection. */
long policy_client_connections(const struct policy_client *pc);
const char *policy_client_endpoint(const struct policy_client *pc);

#endif
