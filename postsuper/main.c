/* postsuper: queue maintenance — delete (-d), hold (-h), release (-H) and requeue (-r)
 * messages by queue ID or ALL, check the hashed directory structure (-s) and purge stale
 * temporary files (-p). Queue IDs from the command line or stdin are validated, so no argument
 * can name a path outside the queue. */
#include "base/argv.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "mail/command_config.h"
#include "mail/config.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "mail/queue_move.h"
#include "mail/queue_scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE 64
#define STALE_TEMP_AGE 3600
#define STDIN_ID_LIMIT 100000

enum op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE, OP_COUNT };

struct op_spec {
    const char *const *from; /* default source queues */
    const char *to;          /* destination queue, NULL for delete */
    const char *log;         /* "<id>: <log>" */
    const char *summary;     /* "<summary>: N message(s)" */
};

static const char *const all_queues[] = {"hold", "incoming", "active", "deferred", NULL};
static const char *const not_held[] = {"incoming", "active", "deferred", NULL};
static const char *const held[] = {"hold", NULL};

static const struct op_spec ops[OP_COUNT] = {
    [OP_DELETE] = {all_queues, NULL, "removed", "Deleted"},
    [OP_HOLD] = {not_held, "hold", "placed on hold", "Placed on hold"},
    [OP_RELEASE] = {held, "deferred", "released from hold", "Released from hold"},
    [OP_REQUEUE] = {all_queues, "incoming", "requeued", "Requeued"},
};

static struct queue_naming layout;

static void load_config(const char *dir)
{
    struct str err = STR_INIT;
    if (config_load(dir, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    command_log_open();
    str_release(&err);
    queue_scan_layout(&layout);
}

static void path_of(struct str *out, const char *rel)
{
    str_setf(out, "%s/%s", layout.queue_directory, rel);
}

static void remove_logs(const char *id)
{
    static const char *const logs[] = {"defer", "bounce", "trace", NULL};
    struct str rel = STR_INIT, path = STR_INIT;
    for (int i = 0; logs[i]; i++) {
        queue_path(&rel, logs[i], id, layout.hash_queue_names, layout.hash_queue_depth);
        path_of(&path, str_cstr(&rel));
        unlink(str_cstr(&path));
    }
    str_release(&rel);
    str_release(&path);
}

/* Applies op to the file at rel; 1 when done. */
static int apply(enum op op, const char *id, const char *rel)
{
    struct str from = STR_INIT;
    int done = 0;
    path_of(&from, rel);
    if (ops[op].to == NULL) {
        done = unlink(str_cstr(&from)) == 0;
        if (done)
            remove_logs(id);
    } else {
        done = queue_move(&layout, id, rel, ops[op].to) == 0;
    }
    if (done)
        msg_info("%s: %s", id, ops[op].log);
    else if (errno != ENOENT && errno != EEXIST) /* EEXIST: already in that queue */
        msg_warn("%s: %s", rel, strerror(errno));
    str_release(&from);
    return done;
}

static long apply_id(enum op op, const char *id, const char *const *queues)
{
    struct str queue = STR_INIT, rel = STR_INIT;
    long n = 0;
    if (!queue_id_valid(id)) {
        msg_warn("invalid mail queue id: %s", id);
        return 0;
    }
    if (queue_find(&layout, id, queues, &queue, &rel) > 0)
        n = apply(op, id, str_cstr(&rel));
    str_release(&queue);
    str_release(&rel);
    return n;
}

static long apply_all(enum op op, const char *const *queues)
{
    struct str name = STR_INIT, rel = STR_INIT;
    long n = 0;
    for (int q = 0; queues[q]; q++) {
        struct queue_scan *s = queue_scan_open(layout.queue_directory, queues[q]);
        /* Collect first: moving files while reading the directory could visit them twice. */
        struct argv *ids = argv_new(), *rels = argv_new();
        while (s && queue_scan_next(s, &name, &rel) > 0) {
            if (queue_id_valid(str_cstr(&name))) {
                argv_add(ids, str_cstr(&name));
                argv_add(rels, str_cstr(&rel));
            }
        }
        queue_scan_close(s);
        for (size_t i = 0; i < ids->n; i++)
            n += apply(op, ids->v[i], rels->v[i]);
        argv_free(ids);
        argv_free(rels);
    }
    str_release(&name);
    str_release(&rel);
    return n;
}

static long apply_stdin(enum op op, const char *const *queues)
{
    char *line = NULL;
    size_t cap = 0;
    long n = 0, lines = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0 && lines++ < STDIN_ID_LIMIT) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (len > 0)
            n += apply_id(op, line, queues);
    }
    free(line);
    return n;
}

/* -s: files in the wrong hashed subdirectory are moved where they belong. */
static void check_structure(void)
{
    struct str name = STR_INIT, rel = STR_INIT, want = STR_INIT, a = STR_INIT, b = STR_INIT;
    for (int q = 0; queue_scan_all[q]; q++) {
        if (strcmp(queue_scan_all[q], "maildrop") == 0)
            continue;
        struct queue_scan *s = queue_scan_open(layout.queue_directory, queue_scan_all[q]);
        struct argv *rels = argv_new(), *wants = argv_new();
        while (s && queue_scan_next(s, &name, &rel) > 0) {
            if (!queue_id_valid(str_cstr(&name)))
                continue;
            queue_path(&want, queue_scan_all[q], str_cstr(&name), layout.hash_queue_names,
                       layout.hash_queue_depth);
            if (strcmp(str_cstr(&want), str_cstr(&rel)) != 0) {
                argv_add(rels, str_cstr(&rel));
                argv_add(wants, str_cstr(&want));
            }
        }
        queue_scan_close(s);
        for (size_t i = 0; i < rels->n; i++) {
            path_of(&a, rels->v[i]);
            path_of(&b, wants->v[i]);
            char *dir = strrchr(b.data, '/');
            *dir = 0;
            fs_mkdir_p(b.data, 0700, NULL);
            *dir = '/';
            if (rename(a.data, b.data) == 0)
                msg_warn("moving %s to %s", rels->v[i], wants->v[i]);
        }
        argv_free(rels);
        argv_free(wants);
    }
    str_release(&name);
    str_release(&rel);
    str_release(&want);
    str_release(&a);
    str_release(&b);
}

/* -p: temporary files of crashed writers (".tmp.*") older than STALE_TEMP_AGE. */
static void purge_temp(void)
{
    struct str name = STR_INIT, rel = STR_INIT, path = STR_INIT;
    time_t now = time(NULL);
    for (int q = 0; queue_scan_all[q]; q++) {
        struct queue_scan *s = queue_scan_open(layout.queue_directory, queue_scan_all[q]);
        while (s && queue_scan_next(s, &name, &rel) > 0) {
            struct stat st;
            path_of(&path, str_cstr(&rel));
            if (strncmp(str_cstr(&name), ".tmp.", 5) == 0 && lstat(path.data, &st) == 0 &&
                S_ISREG(st.st_mode) && now - st.st_mtime > STALE_TEMP_AGE && unlink(path.data) == 0)
                msg_info("%s: removed stale temporary file", str_cstr(&rel));
        }
        queue_scan_close(s);
    }
    str_release(&name);
    str_release(&rel);
    str_release(&path);
}

struct request {
    enum op op;
    char *id;
};

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    struct request reqs[256];
    int nreq = 0, structure = 0, purge = 0, c;
    log_init("postsuper");
    log_set_stderr(1);
    while ((c = getopt(argc, argv, "c:d:h:H:r:spSv")) != -1) {
        enum op op = c == 'd' ? OP_DELETE : c == 'h' ? OP_HOLD : c == 'H' ? OP_RELEASE : OP_REQUEUE;
        switch (c) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
        case 'h':
        case 'H':
        case 'r':
            if (nreq >= (int)(sizeof(reqs) / sizeof(reqs[0])))
                msg_fatal_status(EX_USAGE, "too many queue ID arguments; use \"-%c -\"", c);
            reqs[nreq++] = (struct request){op, optarg};
            break;
        case 's':
            structure = 1;
            break;
        case 'p':
            purge = 1;
            break;
        case 'S':
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal_status(EX_USAGE, "usage: postsuper [-psSv] [-c config_dir] [-d queue_id] "
                                       "[-h queue_id] [-H queue_id] [-r queue_id] [queue...]");
        }
    }
    load_config(config_dir);
    const char *const *only = optind < argc ? (const char *const *)argv + optind : NULL;
    for (int i = 0; only && only[i]; i++)
        if ((strcmp(only[i], "hold") && strcmp(only[i], "incoming") && strcmp(only[i], "active") &&
             strcmp(only[i], "deferred")))
            msg_fatal_status(EX_USAGE, "invalid queue name: %s", only[i]);
    if (structure)
        check_structure();
    if (purge)
        purge_temp();
    long counts[OP_COUNT] = {0};
    for (int i = 0; i < nreq; i++) {
        const char *const *queues = only ? only : ops[reqs[i].op].from;
        if (strcmp(reqs[i].id, "ALL") == 0)
            counts[reqs[i].op] += apply_all(reqs[i].op, queues);
        else if (strcmp(reqs[i].id, "-") == 0)
            counts[reqs[i].op] += apply_stdin(reqs[i].op, queues);
        else
            counts[reqs[i].op] += apply_id(reqs[i].op, reqs[i].id, queues);
    }
    log_set_stderr(0);
    for (int op = 0; op < OP_COUNT; op++) {
        if (counts[op] == 0)
            continue;
        fprintf(stderr, "postsuper: %s: %ld message%s\n", ops[op].summary, counts[op],
                counts[op] == 1 ? "" : "s");
        msg_info("%s: %ld message%s", ops[op].summary, counts[op], counts[op] == 1 ? "" : "s");
    }
    return 0;
}
