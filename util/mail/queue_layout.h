/* queue_layout: the directories of the queue directory (maildrop, incoming, active, deferred,
 * hold, corrupt, bounce, defer, trace, flush, saved, public, private, pid) with their owners and
 * modes: creating missing ones (postfix check/start), resetting them (postfix
 * set-permissions) and the permission warnings of postfix check. Hashed subdirectories are
 * created by the programs that write them. Ownership is only changed when running as root;
 * otherwise everything belongs to the current user. */
#ifndef KESTREL_MAIL_QUEUE_LAYOUT_H
#define KESTREL_MAIL_QUEUE_LAYOUT_H

#include "base/str.h"

#include <sys/types.h>

/* Limits of the permission walk of queue_layout_check. */
#define QUEUE_LAYOUT_MAX_DEPTH 8
#define QUEUE_LAYOUT_MAX_ENTRIES 1000000L

struct queue_layout {
    char *queue_dir;
    uid_t owner_uid;  /* mail_owner (root) or the current user */
    gid_t owner_gid;  /* mail_owner's primary group */
    gid_t setgid_gid; /* setgid_group (root) or the current group */
    uid_t root_uid;   /* owner of pid/: 0 (root) or the current user */
    char *owner_name; /* for messages: the mail_owner name, or the current user's */
    char *group_name; /* the setgid_group name, or the current group's */
    int privileged;   /* running as root: chown and owner checks */
};

/* Resolve names to ids. When running as root mail_owner and setgid_group must exist;
 * otherwise they are ignored. 0, or -1 with the reason in err. */
int queue_layout_init(struct queue_layout *q, const char *queue_dir, const char *mail_owner,
                      const char *setgid_group, struct str *err);
void queue_layout_release(struct queue_layout *q);
/* Create the queue directory and every missing directory with its owner and mode; existing
 * directories are left alone. Idempotent. 0, or -1 with the reason in err. */
int queue_layout_create(const struct queue_layout *q, struct str *err);
/* Reset owner (as root) and mode of every directory to the specification. */
int queue_layout_set_permissions(const struct queue_layout *q, struct str *err);
/* Report problems, one call of warn per problem with the text of the warning:
 * "group or other writable: <path>", "not owned by <owner>: <path>",
 * "not owned by group <group>: <path>". Sockets and FIFOs are not checked. */
typedef void (*queue_layout_warn_fn)(const char *text, void *ctx);
void queue_layout_check(const struct queue_layout *q, queue_layout_warn_fn warn, void *ctx);

/* The specification, for tests and tools. */
enum queue_layout_owner { QL_OWNER_MAIL, QL_OWNER_ROOT };
struct queue_layout_dir {
    const char *name;
    mode_t mode;
    enum queue_layout_owner owner;
    int setgid_group; /* group is setgid_group (maildrop, public) */
};
extern const struct queue_layout_dir queue_layout_dirs[];
extern const size_t queue_layout_ndirs;

#endif
