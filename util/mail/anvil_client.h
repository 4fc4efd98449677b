/* anvil_client: smtpd's side of the anvil service (private/anvil), which counts per client
 * (ident "service:addr") simultaneous connections and, per anvil_rate_time_unit, connections,
 * messages, recipients, new TLS sessions and AUTH attempts. Protocol: docs/anvil.md. */
#ifndef KESTREL_MAIL_ANVIL_CLIENT_H
#define KESTREL_MAIL_ANVIL_CLIENT_H

struct anvil_client;

/* Counts answered by anvil for one client. */
struct anvil_counts {
    long count;    /* simultaneous connections */
    long rate;     /* connections in the current time unit */
    long messages; /* message delivery requests (MAIL) */
    long recipients;
    long newtls;
    long auths;
};

/* path: the service socket relative to the queue directory ("private/anvil") or absolute.
 * Connects lazily; timeout_s bounds every exchange. Never NULL. */
struct anvil_client *anvil_client_new(const char *path, int timeout_s);
void anvil_client_free(struct anvil_client *a);

/* Each call sends one request for ident "service:addr" and fills *out (may be NULL) with the
 * counts after the event. Returns 0, or -1 when anvil cannot be reached or misbehaves (the
 * caller then does not enforce limits). The connection is retried once per call. */
int anvil_report_connect(struct anvil_client *a, const char *service, const char *addr,
                         struct anvil_counts *out);
int anvil_report_disconnect(struct anvil_client *a, const char *service, const char *addr);
int anvil_report_message(struct anvil_client *a, const char *service, const char *addr,
                         struct anvil_counts *out);
int anvil_report_recipient(struct anvil_client *a, const char *service, const char *addr,
                           struct anvil_counts *out);
int anvil_report_newtls(struct anvil_client *a, const char *service, const char *addr,
                        struct anvil_counts *out);
int anvil_report_auth(struct anvil_client *a, const char *service, const char *addr,
                      struct anvil_counts *out);
int anvil_lookup(struct anvil_client *a, const char *service, const char *addr,
                 struct anvil_counts *out);

#endif
