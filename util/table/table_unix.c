/* table_unix: "unix:passwd.byname" and "unix:group.byname" — the system user and group
 * databases; the value is the entry in passwd(5)/group(5) line form. */
#include "table/table.h"
#include "table/table_types.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

static int passwd_lookup(struct table *t, const char *key, struct str *value)
{
    errno = 0;
    struct passwd *pw = getpwnam(key);
    if (pw == NULL) {
        if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM)
            return TABLE_NOTFOUND;
        return table_fail(t, "unix:%s: getpwnam(%s): %s", t->name, key, strerror(errno));
    }
    str_setf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd, (long)pw->pw_uid,
             (long)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    return TABLE_FOUND;
}

static int group_lookup(struct table *t, const char *key, struct str *value)
{
    errno = 0;
    struct group *gr = getgrnam(key);
    if (gr == NULL) {
        if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM)
            return TABLE_NOTFOUND;
        return table_fail(t, "unix:%s: getgrnam(%s): %s", t->name, key, strerror(errno));
    }
    str_setf(value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long)gr->gr_gid);
    for (char **m = gr->gr_mem; m && *m; m++)
        str_appendf(value, "%s%s", m == gr->gr_mem ? "" : ",", *m);
    return TABLE_FOUND;
}

static void unix_close(struct table *t)
{
    table_free(t);
}

static const struct table_ops passwd_ops = {.lookup = passwd_lookup, .close = unix_close};
static const struct table_ops group_ops = {.lookup = group_lookup, .close = unix_close};

struct table *table_unix_open(const char *name, int flags, struct str *err)
{
    const struct table_ops *ops = NULL;
    if (strcmp(name, "passwd.byname") == 0)
        ops = &passwd_ops;
    else if (strcmp(name, "group.byname") == 0)
        ops = &group_ops;
    if (ops == NULL) {
        str_setf(err, "open unix:%s: unknown table (use passwd.byname or group.byname)", name);
        return NULL;
    }
    return table_alloc("unix", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_FIXED, ops, NULL);
}
