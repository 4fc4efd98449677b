/* anvil: the counters of the anvil service — per client ident ("service:addr") the number of
 * simultaneous connections and, per anvil_rate_time_unit, the connections, messages,
 * recipients, new TLS sessions and AUTH attempts; plus the maxima logged as statistics. */
#ifndef KESTREL_ANVIL_H
#define KESTREL_ANVIL_H

#include <time.h>

#include "base/attr.h"
#include "mail/anvil_client.h"

/* Most clients tracked at once, buckets of the hash table, longest ident. */
#define ANVIL_MAX_ENTRIES 100000
#define ANVIL_BUCKETS 4096
#define ANVIL_MAX_IDENT 512

struct anvil_table;

struct anvil_table *anvil_table_new(long rate_unit_s);
void anvil_table_free(struct anvil_table *t);
/* Applies request ("connect", "disconnect", "message", "recipient", "newtls", "auth",
 * "lookup") for ident at time now; fills *out with the counts after it. -1: unknown request
 * or bad ident. */
int anvil_table_event(struct anvil_table *t, const char *request, const char *ident, time_t now,
                      struct anvil_counts *out);
/* Drops idle entries whose window has passed. Returns how many remain. */
long anvil_table_expire(struct anvil_table *t, time_t now);
/* Logs "statistics: max ... for (ident) at <time>" lines for the maxima since the last call
 * (nothing when there was no activity) and resets them. */
void anvil_table_log_stats(struct anvil_table *t, time_t now);

/* One request of the protocol (docs/anvil.md): builds the reply list. */
void anvil_handle(struct anvil_table *t, const struct attr_list *req, struct attr_list *rep,
                  time_t now);

#endif
