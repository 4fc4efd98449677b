/* queue_move: a queue file from one queue to another by rename(2), so it is never in two
 * queues and never half-moved. */
#include "mail/queue_move.h"

#include "base/fsutil.h"
#include "mail/queue_id.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int queue_move(const struct queue_naming *layout, const char *id, const char *rel,
               const char *to_queue)
{
    struct str from = STR_INIT, to = STR_INIT, trel = STR_INIT, why = STR_INIT;
    str_setf(&from, "%s/%s", layout->queue_directory, rel);
    queue_path(&trel, to_queue, id, layout->hash_queue_names, layout->hash_queue_depth);
    str_setf(&to, "%s/%s", layout->queue_directory, trel.data);
    char *slash = strrchr(to.data, '/');
    *slash = 0;
    int rc = fs_mkdir_p(to.data, 0700, &why); /* the hashed subdirectory; errno on failure */
    *slash = '/';
    if (rc == 0 && strcmp(from.data, to.data) == 0) {
        errno = EEXIST;
        rc = -1;
    } else if (rc == 0)
        rc = rename(from.data, to.data);
    int saved = errno;
    str_release(&from);
    str_release(&to);
    str_release(&trel);
    str_release(&why);
    errno = saved;
    return rc;
}
