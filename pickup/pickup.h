/* pickup: the service that moves locally submitted mail from maildrop/ to cleanup. Internal
 * interface: opening a maildrop file safely, validating it completely, and replaying it to a
 * record sink (cleanup in production, a buffer in the unit tests). */
#ifndef KESTREL_PICKUP_H
#define KESTREL_PICKUP_H

#include "base/str.h"

#include <sys/stat.h>
#include <sys/types.h>

enum pickup_open_result {
    PICKUP_OPEN_OK,   /* *fd is the open file */
    PICKUP_OPEN_SKIP, /* not ready yet (mode 0600) or gone: leave it alone */
    PICKUP_OPEN_BAD,  /* refuse and remove it; why says why */
};

/* rel: "maildrop/<name>". Refuses non-regular files, links, files with another mode than 0700
 * (0600 means "still being written"), and files that change between lstat and open. */
enum pickup_open_result pickup_open(const char *rel, int *fd, struct stat *st, struct str *why);

struct pickup_info {
    struct str sender;
    int submit_flags;
    long rcpts;
};

/* Reads the whole file from offset 0 and checks every record (util/mail/maildrop.h rules).
 * 0, or -1 with why set. */
int pickup_validate(int fd, size_t content_limit, long long size_limit, struct pickup_info *info,
                    struct str *why);
void pickup_info_release(struct pickup_info *info);

/* Replays a validated file as a cleanup request: F, the local attributes (rewrite_context,
 * submit_uid, and the file's fullname/dsn_envid/dsn_ret), recipients, M, content, X.
 * submit_flags is not passed on (it becomes request flags). The E record is the sink's job
 * (cleanup_finish). 0, or -1 with why set. */
typedef void (*pickup_put_fn)(void *ctx, int type, const void *data, size_t len);
int pickup_replay(int fd, uid_t uid, size_t limit, pickup_put_fn put, void *ctx, struct str *why);

#endif
