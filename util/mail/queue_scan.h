/* queue_scan: walking a queue directory (deferred/, hold/, ...) including its hashed
 * one-character subdirectories, and finding a queue file by ID. Used by postqueue, postsuper
 * and postcat (and later qmgr).
 *
 *     struct queue_scan *s = queue_scan_open(queue_dir, "deferred");
 *     while (queue_scan_next(s, &name, &rel) > 0) ...   rel = "deferred/A/B/AB12C3D4"
 *     queue_scan_close(s);
 *
 * Every subdirectory whose name is one character is descended into (up to QUEUE_SCAN_DEPTH
 * levels), whatever hash_queue_depth says now, so files hashed under an older setting are
 * found too. Other entries are returned as they are (callers check queue_id_valid()); "." and
 * ".." are skipped. */
#ifndef KESTREL_MAIL_QUEUE_SCAN_H
#define KESTREL_MAIL_QUEUE_SCAN_H

#include "base/str.h"
#include "mail/queue_file.h"

#define QUEUE_SCAN_DEPTH 16

struct queue_scan;

/* NULL (errno set) when <queue_dir>/<queue> cannot be opened. */
struct queue_scan *queue_scan_open(const char *queue_dir, const char *queue);
/* 1 with the entry's name and its path relative to queue_dir, 0 at the end. Entries that are
 * directories with longer names are returned too (the caller refuses them). */
int queue_scan_next(struct queue_scan *s, struct str *name, struct str *rel);
void queue_scan_close(struct queue_scan *s);

/* The queue layout from main.cf (queue_directory, hash_queue_names, hash_queue_depth,
 * enable_long_queue_ids). The strings belong to the configuration. */
void queue_scan_layout(struct queue_naming *layout);
/* Finds the file of a (valid) queue ID in the first of `queues` (NULL-terminated) that has it,
 * first at its hashed path, then by scanning. 1 with queue and rel set, 0 if not found, -1 if
 * id is not a valid queue ID. */
int queue_find(const struct queue_naming *layout, const char *id, const char *const *queues,
               struct str *queue, struct str *rel);

/* The queues postqueue and postsuper look at, in Postfix's order. */
extern const char *const queue_scan_all[]; /* incoming active deferred hold maildrop */

#endif
