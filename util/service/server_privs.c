/* server_privs: become the unprivileged mail_owner (after an optional chroot), the order being
 * look up the account, chroot, set groups, set gid, set uid, then verify root cannot return. */
#include "service/server_privs.h"

#include "base/log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

void server_drop_privileges(const char *mail_owner, const char *chroot_dir, int want_chroot)
{
    if (geteuid() != 0)
        return;
    struct passwd *pw = getpwnam(mail_owner);
    if (pw == NULL)
        msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
                  "$config_directory", mail_owner);
    if (pw->pw_uid == 0)
        msg_fatal("mail_owner %s has privileged user ID 0", mail_owner);
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (want_chroot) {
        if (chroot(chroot_dir) < 0)
            msg_fatal("chroot(%s): %s", chroot_dir, strerror(errno));
        if (chdir("/") < 0)
            msg_fatal("chdir(/): %s", strerror(errno));
    }
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups: %s", strerror(errno));
    if (setgid(gid) < 0)
        msg_fatal("setgid(%ld): %s", (long)gid, strerror(errno));
    if (setuid(uid) < 0)
        msg_fatal("setuid(%ld): %s", (long)uid, strerror(errno));
    if (setuid(0) == 0 || geteuid() == 0)
        msg_fatal("privileges could not be dropped");
}
