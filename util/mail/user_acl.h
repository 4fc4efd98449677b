/* user_acl: authorized_submit_users, authorized_mailq_users and authorized_flush_users — which
 * local users may submit mail (sendmail, postdrop), list the queue and flush it (postqueue).
 * The list is a match list of user names (names, /file/name, type:table, !negation);
 * "static:anyone" allows everybody. */
#ifndef KESTREL_MAIL_USER_ACL_H
#define KESTREL_MAIL_USER_ACL_H

#include "base/str.h"

#include <sys/types.h>

/* 1 when the user with this uid is in the list named by param, 0 when not (name set to the
 * user's name, "unknown" without a passwd entry), -1 on a list or table error (why set). */
int user_acl_allowed(const char *param, uid_t uid, struct str *name, struct str *why);

/* The same check for a command: returns when allowed, otherwise exits with EX_NOPERM and
 * "User NAME(UID) is not allowed to WHAT" (EX_TEMPFAIL for a list error). root and
 * mail_owner pass without a lookup when exempt is set (postqueue), as in Postfix. */
void user_acl_require(const char *param, const char *what, int exempt);

#endif
