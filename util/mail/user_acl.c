/* user_acl: the authorized_*_users checks of the local commands. */
#include "mail/user_acl.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/match_list.h"

#include <pwd.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

int user_acl_allowed(const char *param, uid_t uid, struct str *name, struct str *why)
{
    const char *acl = config_get(param);
    struct passwd *pw = getpwuid(uid);
    str_set(name, pw ? pw->pw_name : "unknown");
    if (acl == NULL || strcmp(acl, "static:anyone") == 0)
        return 1;
    struct match_list *l = match_list_create(param, acl, MATCH_KIND_STRING, 0, why);
    if (l == NULL)
        return -1;
    int rc = match_list_match(l, name->data, NULL);
    if (rc == MATCH_ERROR)
        str_set(why, match_list_error(l));
    match_list_free(l);
    return rc == MATCH_ERROR ? -1 : rc == MATCH_YES;
}

void user_acl_require(const char *param, const char *what, int exempt)
{
    uid_t uid = getuid();
    if (exempt) {
        struct passwd *owner = getpwnam(config_get("mail_owner"));
        if (uid == 0 || (owner && owner->pw_uid == uid))
            return;
    }
    struct str name = STR_INIT, why = STR_INIT;
    int rc = user_acl_allowed(param, uid, &name, &why);
    if (rc < 0)
        msg_fatal_status(EX_TEMPFAIL, "%s", why.data);
    if (rc == 0)
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to %s", name.data, (long)uid,
                         what);
    str_release(&name);
    str_release(&why);
}
