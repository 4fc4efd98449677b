/* scan: walking the queue directories (with hashed subdirectories), recovering active/ at
 * start-up, and moving queue files between queues. */
#include "qmgr.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/queue_id.h"

#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEBRIS_AGE (24 * 3600) /* a file still not ready after this long is removed */

struct qmgr_config qmgr_cfg;
size_t qmgr_active_count;

void qmgr_move_file(const char *id, const char *from_queue, const char *to_queue)
{
    struct str from = STR_INIT, to = STR_INIT;
    queue_path(&from, from_queue, id, qmgr_cfg.hash_names, qmgr_cfg.layout.hash_queue_depth);
    queue_path(&to, to_queue, id, qmgr_cfg.hash_names, qmgr_cfg.layout.hash_queue_depth);
    char *dir = fs_dirname(to.data);
    fs_mkdir_p(dir, 0700, NULL);
    free(dir);
    if (rename(from.data, to.data) < 0 && errno != ENOENT)
        msg_warn("rename %s to %s: %s", from.data, to.data, strerror(errno));
    str_release(&from);
    str_release(&to);
}

typedef void (*scan_fn)(const char *path, const char *queue, const char *id, const struct stat *st,
                        void *ctx);

/* Calls fn for every regular file with a queue ID name below dir; returns 0 when the walk was
 * stopped because the active limit was reached. */
static int walk(const char *dir, const char *queue, int depth, scan_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %s", dir, strerror(errno));
        return 1;
    }
    struct dirent *e;
    struct str path = STR_INIT;
    int more = 1;
    while (more && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        str_setf(&path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path.data, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && strlen(e->d_name) == 1 && depth < QMGR_SCAN_DEPTH)
            more = walk(path.data, queue, depth + 1, fn, ctx);
        else if (S_ISREG(st.st_mode) && queue_id_valid(e->d_name)) {
            if (qmgr_active_count >= (size_t)qmgr_cfg.active_limit)
                more = 0;
            else
                fn(path.data, queue, e->d_name, &st, ctx);
        }
    }
    closedir(d);
    str_release(&path);
    return more;
}

static void recover_one(const char *path, const char *queue, const char *id, const struct stat *st,
                        void *ctx)
{
    (void)path;
    (void)queue;
    (void)st;
    (void)ctx;
    qmgr_move_file(id, "active", "incoming");
}

void qmgr_recover_active(void)
{
    size_t saved = qmgr_active_count;
    qmgr_active_count = 0;
    walk("active", "active", 0, recover_one, NULL);
    qmgr_active_count = saved;
}

static void take_one(const char *path, const char *queue, const char *id, const struct stat *st,
                     void *ctx)
{
    int ignore_time = *(int *)ctx;
    time_t now = time(NULL);
    if ((st->st_mode & 0700) != QUEUE_MODE_READY) {
        if (now - st->st_mtime > DEBRIS_AGE) {
            msg_warn("%s: removing incomplete queue file older than %d seconds", path, DEBRIS_AGE);
            unlink(path);
        }
        return;
    }
    if (strcmp(queue, "deferred") == 0 && !ignore_time && st->st_mtime > now)
        return;
    qmgr_message_open(path, queue, id);
}

void qmgr_scan(const char *queue, int ignore_time)
{
    walk(queue, queue, 0, take_one, &ignore_time);
    qmgr_dispatch();
}
