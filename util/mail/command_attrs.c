/* command_attrs: user= and argv= parsing shared by pipe and spawn. */
#include "mail/command_attrs.h"

#include "base/mem.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

int command_user_parse(const char *value, struct command_user *u, struct str *err)
{
    char *name = xstrdup(value), *group = strchr(name, ':');
    int rc = -1;
    if (group)
        *group++ = 0;
    struct passwd *pw = getpwnam(name);
    struct group *gr = group ? getgrnam(group) : NULL;
    if (pw == NULL)
        str_setf(err, "user= command-line attribute specifies unknown user: %s", name);
    else if (group && gr == NULL)
        str_setf(err, "user= command-line attribute specifies unknown group: %s", group);
    else if (pw->pw_uid == 0 || (gr && gr->gr_gid == 0))
        str_setf(err, "user= command-line attribute specifies privileged user or group: %s", value);
    else {
        u->set = 1;
        u->uid = pw->pw_uid;
        u->gid = gr ? gr->gr_gid : pw->pw_gid;
        rc = 0;
    }
    free(name);
    return rc;
}

int command_argv_take(int argc, char *const *argv, int i, int am_root, const struct command_user *u,
                      struct argv *out, struct str *err)
{
    if (i >= argc || strncmp(argv[i], "argv=", 5) != 0 || argv[i][5] == 0) {
        str_set(err, "missing argv= command-line attribute");
        return -1;
    }
    argv_add(out, argv[i] + 5);
    for (i++; i < argc; i++)
        argv_add(out, argv[i]);
    if (am_root && !u->set) {
        str_set(err, "missing user= command-line attribute");
        return -1;
    }
    return 0;
}
