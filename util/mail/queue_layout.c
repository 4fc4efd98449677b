/* queue_layout: creation, permission reset and permission check of the queue directory tree.
 * The table below is the whole specification; the functions only walk it. */
#include "mail/queue_layout.h"

#include "base/fsutil.h"
#include "base/mem.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct queue_layout_dir queue_layout_dirs[] = {
    {"maildrop", 01730, QL_OWNER_MAIL, 1}, {"incoming", 0700, QL_OWNER_MAIL, 0},
    {"active", 0700, QL_OWNER_MAIL, 0},    {"deferred", 0700, QL_OWNER_MAIL, 0},
    {"hold", 0700, QL_OWNER_MAIL, 0},      {"corrupt", 0700, QL_OWNER_MAIL, 0},
    {"bounce", 0700, QL_OWNER_MAIL, 0},    {"defer", 0700, QL_OWNER_MAIL, 0},
    {"trace", 0700, QL_OWNER_MAIL, 0},     {"flush", 0700, QL_OWNER_MAIL, 0},
    {"saved", 0700, QL_OWNER_MAIL, 0},     {"public", 0710, QL_OWNER_MAIL, 1},
    {"private", 0700, QL_OWNER_MAIL, 0},   {"pid", 0755, QL_OWNER_ROOT, 0},
};
const size_t queue_layout_ndirs = sizeof(queue_layout_dirs) / sizeof(queue_layout_dirs[0]);

static char *id_name(const char *name, unsigned long id)
{
    struct str s = STR_INIT;
    if (name)
        str_set(&s, name);
    else
        str_setf(&s, "%lu", id);
    return str_steal(&s);
}

static int init_privileged(struct queue_layout *q, const char *mail_owner, const char *setgid_group,
                           struct str *err)
{
    struct passwd *pw = getpwnam(mail_owner);
    if (pw == NULL) {
        str_setf(err, "parameter mail_owner: unknown user name value: %s", mail_owner);
        return -1;
    }
    q->owner_uid = pw->pw_uid;
    q->owner_gid = pw->pw_gid;
    struct group *gr = getgrnam(setgid_group);
    if (gr == NULL) {
        str_setf(err, "parameter setgid_group: unknown group name: %s", setgid_group);
        return -1;
    }
    q->setgid_gid = gr->gr_gid;
    q->root_uid = 0;
    q->owner_name = xstrdup(mail_owner);
    q->group_name = xstrdup(setgid_group);
    return 0;
}

int queue_layout_init(struct queue_layout *q, const char *queue_dir, const char *mail_owner,
                      const char *setgid_group, struct str *err)
{
    memset(q, 0, sizeof(*q));
    q->queue_dir = xstrdup(queue_dir);
    q->privileged = geteuid() == 0;
    if (q->privileged) {
        if (init_privileged(q, mail_owner, setgid_group, err) < 0) {
            queue_layout_release(q);
            return -1;
        }
        return 0;
    }
    q->owner_uid = q->root_uid = geteuid();
    q->owner_gid = q->setgid_gid = getegid();
    struct passwd *pw = getpwuid(q->owner_uid);
    struct group *gr = getgrgid(q->setgid_gid);
    q->owner_name = id_name(pw ? pw->pw_name : NULL, q->owner_uid);
    q->group_name = id_name(gr ? gr->gr_name : NULL, q->setgid_gid);
    return 0;
}

void queue_layout_release(struct queue_layout *q)
{
    free(q->queue_dir);
    free(q->owner_name);
    free(q->group_name);
    memset(q, 0, sizeof(*q));
}

static void owner_of(const struct queue_layout *q, const struct queue_layout_dir *d, uid_t *uid,
                     gid_t *gid)
{
    *uid = d->owner == QL_OWNER_ROOT ? q->root_uid : q->owner_uid;
    *gid = d->setgid_group ? q->setgid_gid : d->owner == QL_OWNER_ROOT ? 0 : q->owner_gid;
    if (!q->privileged && d->owner == QL_OWNER_ROOT)
        *gid = getegid();
}

/* Owner and mode of one directory, as the specification says. */
static int apply(const struct queue_layout *q, const struct queue_layout_dir *d, const char *path,
                 struct str *err)
{
    uid_t uid;
    gid_t gid;
    owner_of(q, d, &uid, &gid);
    if (q->privileged && chown(path, uid, gid) < 0) {
        str_setf(err, "chown %s: %s", path, strerror(errno));
        return -1;
    }
    if (chmod(path, d->mode) < 0) { /* mkdir's mode is subject to the umask and drops 01000 */
        str_setf(err, "chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int for_each_dir(const struct queue_layout *q, int reset, struct str *err)
{
    struct str path = STR_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < queue_layout_ndirs; i++) {
        const struct queue_layout_dir *d = &queue_layout_dirs[i];
        str_setf(&path, "%s/%s", q->queue_dir, d->name);
        struct stat st;
        if (mkdir(path.data, 0700) == 0) {
            rc = apply(q, d, path.data, err);
        } else if (errno != EEXIST) {
            str_setf(err, "mkdir %s: %s", path.data, strerror(errno));
            rc = -1;
        } else if (lstat(path.data, &st) < 0 || !S_ISDIR(st.st_mode)) {
            str_setf(err, "%s: not a directory", path.data);
            rc = -1;
        } else if (reset) {
            rc = apply(q, d, path.data, err);
        }
    }
    str_release(&path);
    return rc;
}

int queue_layout_create(const struct queue_layout *q, struct str *err)
{
    if (fs_mkdir_p(q->queue_dir, 0755, err) < 0)
        return -1;
    return for_each_dir(q, 0, err);
}

int queue_layout_set_permissions(const struct queue_layout *q, struct str *err)
{
    if (fs_mkdir_p(q->queue_dir, 0755, err) < 0)
        return -1;
    return for_each_dir(q, 1, err);
}

/* ---- postfix check ---- */

struct walk {
    const struct queue_layout *q;
    const struct queue_layout_dir *d;
    queue_layout_warn_fn warn;
    void *ctx;
    long entries;
};

static void warnf(struct walk *w, const char *what, const char *path)
{
    struct str text = STR_INIT;
    str_setf(&text, "%s: %s", what, path);
    w->warn(text.data, w->ctx);
    str_release(&text);
}

static void check_entry(struct walk *w, const char *path, const struct stat *st, int top)
{
    if (S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode))
        return;
    mode_t allowed = top ? w->d->mode : 0;
    if (st->st_mode & 022 & ~allowed)
        warnf(w, "group or other writable", path);
    if (w->d->owner == QL_OWNER_MAIL && st->st_uid != w->q->owner_uid) {
        struct str what = STR_INIT;
        str_setf(&what, "not owned by %s", w->q->owner_name);
        warnf(w, what.data, path);
        str_release(&what);
    }
    if (top && w->q->privileged && w->d->setgid_group && st->st_gid != w->q->setgid_gid) {
        struct str what = STR_INIT;
        str_setf(&what, "not owned by group %s", w->q->group_name);
        warnf(w, what.data, path);
        str_release(&what);
    }
}

static void walk_dir(struct walk *w, const char *dir, int depth)
{
    if (depth > QUEUE_LAYOUT_MAX_DEPTH)
        return;
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return;
    struct dirent *de;
    struct str path = STR_INIT;
    while ((de = readdir(dp)) != NULL && w->entries < QUEUE_LAYOUT_MAX_ENTRIES) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        w->entries++;
        str_setf(&path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path.data, &st) < 0)
            continue;
        check_entry(w, path.data, &st, 0);
        if (S_ISDIR(st.st_mode))
            walk_dir(w, path.data, depth + 1);
    }
    closedir(dp);
    str_release(&path);
}

void queue_layout_check(const struct queue_layout *q, queue_layout_warn_fn warn, void *ctx)
{
    struct walk w = {.q = q, .warn = warn, .ctx = ctx};
    struct str path = STR_INIT;
    for (size_t i = 0; i < queue_layout_ndirs; i++) {
        w.d = &queue_layout_dirs[i];
        str_setf(&path, "%s/%s", q->queue_dir, w.d->name);
        struct stat st;
        if (lstat(path.data, &st) < 0)
            continue;
        check_entry(&w, path.data, &st, 1);
        /* maildrop files belong to the users who submitted them; pid/ is master's. */
        if (S_ISDIR(st.st_mode) && w.d->owner == QL_OWNER_MAIL && strcmp(w.d->name, "maildrop"))
            walk_dir(&w, path.data, 1);
    }
    str_release(&path);
}
