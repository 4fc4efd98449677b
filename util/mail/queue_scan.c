/* queue_scan: a depth-first walk over a queue directory and its one-character hash
 * subdirectories, and lookup of a queue file by ID across queues. */
#include "mail/queue_scan.h"

#include "base/mem.h"
#include "mail/config.h"
#include "mail/queue_id.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const queue_scan_all[] = {"incoming", "active", "deferred", "hold", "maildrop", NULL};

struct scan_level {
    DIR *dir;
    char *rel; /* path relative to the queue directory */
};

struct queue_scan {
    char *base;
    struct scan_level levels[QUEUE_SCAN_DEPTH + 1];
    int depth; /* index of the innermost open level */
};

static DIR *open_level(const char *base, const char *rel)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", base, rel);
    DIR *d = opendir(str_cstr(&path));
    str_release(&path);
    return d;
}

struct queue_scan *queue_scan_open(const char *queue_dir, const char *queue)
{
    DIR *d = open_level(queue_dir, queue);
    if (d == NULL)
        return NULL;
    struct queue_scan *s = xcalloc(1, sizeof(*s));
    s->base = xstrdup(queue_dir);
    s->levels[0].dir = d;
    s->levels[0].rel = xstrdup(queue);
    return s;
}

static void pop_level(struct queue_scan *s)
{
    closedir(s->levels[s->depth].dir);
    free(s->levels[s->depth].rel);
    s->levels[s->depth].dir = NULL;
    s->levels[s->depth].rel = NULL;
    s->depth--;
}

/* Descends into a one-character subdirectory; 1 if it did. */
static int push_level(struct queue_scan *s, const char *rel)
{
    struct str path = STR_INIT;
    struct stat st;
    str_setf(&path, "%s/%s", s->base, rel);
    int is_dir = lstat(str_cstr(&path), &st) == 0 && S_ISDIR(st.st_mode);
    str_release(&path);
    if (!is_dir || s->depth >= QUEUE_SCAN_DEPTH)
        return 0;
    DIR *d = open_level(s->base, rel);
    if (d == NULL)
        return 0;
    s->depth++;
    s->levels[s->depth].dir = d;
    s->levels[s->depth].rel = xstrdup(rel);
    return 1;
}

int queue_scan_next(struct queue_scan *s, struct str *name, struct str *rel)
{
    while (s->depth >= 0) {
        struct dirent *e = readdir(s->levels[s->depth].dir);
        if (e == NULL) {
            if (s->depth == 0) {
                /* Keep level 0 open so a second call still returns 0. */
                return 0;
            }
            pop_level(s);
            continue;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        str_setf(rel, "%s/%s", s->levels[s->depth].rel, e->d_name);
        if (e->d_name[1] == 0 && push_level(s, str_cstr(rel)))
            continue;
        str_set(name, e->d_name);
        return 1;
    }
    return 0;
}

void queue_scan_close(struct queue_scan *s)
{
    if (s == NULL)
        return;
    while (s->depth > 0)
        pop_level(s);
    closedir(s->levels[0].dir);
    free(s->levels[0].rel);
    free(s->base);
    free(s);
}

void queue_scan_layout(struct queue_naming *l)
{
    l->queue_directory = config_get("queue_directory");
    l->hash_queue_names = config_get("hash_queue_names");
    l->hash_queue_depth = (int)config_get_int("hash_queue_depth");
    l->long_queue_ids = config_get_bool("enable_long_queue_ids");
    if (l->hash_queue_names == NULL)
        l->hash_queue_names = "";
    if (l->hash_queue_depth < 0 || l->hash_queue_depth > QUEUE_SCAN_DEPTH)
        l->hash_queue_depth = 1;
}

static int exists(const struct queue_naming *l, const char *rel)
{
    struct str path = STR_INIT;
    struct stat st;
    str_setf(&path, "%s/%s", l->queue_directory, rel);
    int ok = lstat(str_cstr(&path), &st) == 0 && S_ISREG(st.st_mode);
    str_release(&path);
    return ok;
}

static int scan_for(const struct queue_naming *l, const char *queue, const char *id,
                    struct str *rel)
{
    struct queue_scan *s = queue_scan_open(l->queue_directory, queue);
    struct str name = STR_INIT;
    int found = 0;
    while (s && !found && queue_scan_next(s, &name, rel) > 0)
        found = strcmp(str_cstr(&name), id) == 0 && exists(l, str_cstr(rel));
    queue_scan_close(s);
    str_release(&name);
    return found;
}

int queue_find(const struct queue_naming *l, const char *id, const char *const *queues,
               struct str *queue, struct str *rel)
{
    if (!queue_id_valid(id))
        return -1;
    for (int i = 0; queues[i]; i++) {
        queue_path(rel, queues[i], id, l->hash_queue_names, l->hash_queue_depth);
        if (exists(l, str_cstr(rel)) || scan_for(l, queues[i], id, rel)) {
            str_set(queue, queues[i]);
            return 1;
        }
    }
    return 0;
}
