/* virtual.h: the virtual delivery agent (Postfix virtual(8)): its parameters, the resolution of
 * a recipient to a mailbox path and uid/gid, and the request handler. */
#ifndef KESTREL_VIRTUAL_VIRTUAL_H
#define KESTREL_VIRTUAL_VIRTUAL_H

#include "base/str.h"
#include "mail/deliver_request.h"
#include "mail/mailbox_maildir.h"
#include "mail/maps.h"

#include <sys/types.h>

struct virtual_params {
    const char *mailbox_base;    /* virtual_mailbox_base */
    struct maps *mailbox_maps;   /* virtual_mailbox_maps */
    struct maps *uid_maps;       /* virtual_uid_maps */
    struct maps *gid_maps;       /* virtual_gid_maps */
    long minimum_uid;            /* virtual_minimum_uid */
    int check_uid;               /* enforce minimum_uid (only when running as root) */
    const char *delimiters;      /* recipient_delimiter */
    struct mailbox_opts mailbox; /* virtual_mailbox_limit, virtual_mailbox_lock, ... */
    const char *hash_names;
    int depth;
};

/* The mailbox of one recipient. */
struct virtual_target {
    struct str path; /* base + "/" + map result; maildir when it ends in '/' */
    uid_t uid;
    gid_t gid;
};

/* Resolution outcome: VIRTUAL_OK, or a failure with status (DELIVER_*), dsn and reason set. */
enum { VIRTUAL_OK = -1 };
/* Looks the recipient up in the three maps and checks the values. Returns VIRTUAL_OK (t set)
 * or DELIVER_BOUNCED / DELIVER_DEFERRED with dsn and reason. */
int virtual_resolve(const struct virtual_params *p, const char *rcpt, struct virtual_target *t,
                    char *dsn, size_t dsnlen, struct str *reason);
void virtual_target_release(struct virtual_target *t);

/* The deliver_agent_serve() callback (ctx: struct virtual_params). */
void virtual_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx);
/* Fills p from main.cf. */
void virtual_params_load(struct virtual_params *p);

#endif
