/* queue_id: queue IDs and where a queue file lives.
 *
 * Short IDs (the default) are the arrival microseconds as 5 upper-case hex digits followed by the
 * file's inode number in hex, e.g. 0C261A1F0F. Long IDs (enable_long_queue_ids) are the arrival
 * time in base 52 (6 digits seconds, 4 digits microseconds), 'z', and the inode in base 51;
 * they sort by time and stay unique across inode reuse. Both are unique among files that exist
 * at the same time because an inode number is. */
#ifndef KESTREL_MAIL_QUEUE_ID_H
#define KESTREL_MAIL_QUEUE_ID_H

#include "base/str.h"

#include <sys/types.h>

#define QUEUE_ID_MAX 40

void queue_id_make(struct str *out, ino_t inode, long sec, long usec, int long_ids);
/* 1 if text has the shape of a short or long queue ID (safe to use as a file name). */
int queue_id_valid(const char *text);
/* The path, relative to queue_directory, of id in queue (e.g. "deferred/A/A1B2C3"): queues named
 * in hash_queue_names (comma/space list) get `depth` levels of one-character subdirectories. */
void queue_path(struct str *out, const char *queue, const char *id, const char *hash_queue_names,
                int depth);

#endif
