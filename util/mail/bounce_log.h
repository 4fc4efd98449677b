/* bounce_log: the per-message delivery status logs bounce/<id>, defer/<id> (and trace/<id>)
 * that qmgr appends to and the bounce service reads (docs/architecture.md, "The bounce
 * service"): one attribute list per recipient with recipient, orig, orcpt, notify, status,
 * action, reason, relay, time. */
#ifndef KESTREL_MAIL_BOUNCE_LOG_H
#define KESTREL_MAIL_BOUNCE_LOG_H

#include "base/str.h"

#include <stddef.h>

#define BOUNCE_LOG_MAX_BYTES (16L * 1024 * 1024) /* larger logs are refused */
#define BOUNCE_LOG_MAX_ENTRIES 100000

struct bounce_entry {
    char *recipient;
    char *orig;   /* "" when none */
    char *orcpt;  /* "" when none ("rfc822;addr") */
    long notify;  /* DSN_NOTIFY_* mask */
    char *status; /* DSN code "5.1.1" */
    char *action; /* "failed", "delayed" */
    char *reason;
    char *relay; /* "none", "host[addr]:port" */
    long time;   /* epoch seconds */
};

/* Appends the encoded entry to out. */
void bounce_log_encode(const struct bounce_entry *e, struct str *out);
/* Appends one entry to <queue>/<id> (queue "bounce", "defer" or "trace"; hashed per
 * hash_queue_names/depth; directories created) and fsyncs. 0, or -1 with err set. */
int bounce_log_append(const char *queue, const char *id, const struct bounce_entry *e,
                      const char *hash_names, int depth, struct str *err);
/* Decodes a whole log (text of len bytes). Malformed entries fail (-1, err set). */
int bounce_log_decode(const char *text, size_t len, struct bounce_entry **out, size_t *n,
                      struct str *err);
/* Reads <queue>/<id>: 0 (entries set; a missing file gives none), or -1 with err set. */
int bounce_log_read(const char *queue, const char *id, const char *hash_names, int depth,
                    struct bounce_entry **out, size_t *n, struct str *err);
/* Removes <queue>/<id>; 0, or -1 (errno) except for a missing file. */
int bounce_log_remove(const char *queue, const char *id, const char *hash_names, int depth);
void bounce_entries_free(struct bounce_entry *v, size_t n);

#endif
