/* queue_move: moving a queue file between queues (postsuper -h/-H/-r, the flush service),
 * creating the hashed subdirectory of the destination when needed. */
#ifndef KESTREL_MAIL_QUEUE_MOVE_H
#define KESTREL_MAIL_QUEUE_MOVE_H

#include "mail/queue_file.h"

/* Renames <queue_directory>/<rel> to its place in to_queue. 0, or -1 with errno set (ENOENT
 * when the file is gone, EEXIST when it is already there, else why the destination directory
 * could not be made or the rename failed). */
int queue_move(const struct queue_naming *layout, const char *id, const char *rel,
               const char *to_queue);

#endif
