/* bounce: the bounce service's modules: request handling (main.c) and building and queueing
 * one notification (notice.c). */
#ifndef KESTREL_BOUNCE_H
#define KESTREL_BOUNCE_H

#include "base/str.h"
#include "mail/dsn_report.h"

#define BOUNCE_PROTOCOL "bounce"
#define BOUNCE_RECORD_LIMIT (1L << 20)
#define BOUNCE_MAX_ORIGINAL_LINES 1000000

struct bounce_job {
    enum dsn_report_kind kind;
    const char *queue_name, *queue_id, *sender, *envid, *ret;
};

/* Builds the notice for the entries and queues it from notice_sender to `to`; headers_only
 * forces a header-only copy (postmaster notices). 0 with new_id set, or -1 with why set. */
int bounce_notice(const struct bounce_job *job, const struct bounce_entry *v, size_t n,
                  const char *to, const char *notice_sender, int headers_only, struct str *new_id,
                  struct str *why);

#endif
