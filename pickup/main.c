/* pickup: a trigger service (public/pickup; woken by postdrop's "W" and by master every
 * wakeup seconds) that hands each ready maildrop file to cleanup, logs
 * "<id>: uid=<uid> from=<sender>", and removes the file once cleanup has queued it. */
#include "pickup.h"

#include "base/log.h"
#include "mail/cleanup_client.h"
#include "mail/receive_override.h"
#include "mail/config.h"
#include "mail/maildrop.h"
#include "mail/queue_id.h"
#include "mail/queue_record.h"
#include "service/server.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define PICKUP_FLAGS                                                                               \
    (CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MILTER |        \
     CLEANUP_FLAG_BOUNCE)
#define PICKUP_BATCH_LIMIT 10000 /* files per wake-up */

enum pickup_result { PICKUP_DONE, PICKUP_KEEP, PICKUP_REMOVE, PICKUP_STOP };

static size_t content_limit(void)
{
    long n = config_get_int("line_length_limit");
    return n > 0 ? (size_t)n : 2048;
}

/* Where replayed records go: cleanup, with an optional content filter named after the
 * content, and optionally without the body (a refused message too big to return whole). */
struct replay_out {
    struct cleanup_client *c;
    const char *filter;
    int headers_only, in_body;
};

static void put_record(void *ctx, int type, const void *data, size_t len)
{
    struct replay_out *o = ctx;
    if ((type == REC_LINE || type == REC_PART) && o->in_body && o->headers_only)
        return;
    if (type == REC_LINE && len == 0)
        o->in_body = 1; /* the empty line that ends the headers is kept */
    cleanup_put(o->c, type, data, len);
    if (type == REC_XTRA)
        cleanup_put_filter(o->c, o->filter);
}

/* Local mail that cleanup refused for good (content, size, hop count, ...) cannot be handed
 * back to its sender as an SMTP reply: it is queued again, without content inspection, for
 * the error transport, so the sender gets a delivery status notification with the reason
 * (Postfix's "bounce, don't refuse" rule for local submissions). */
static enum pickup_result return_to_sender(int fd, const struct stat *st,
                                           const struct pickup_info *info, int status,
                                           struct str *why)
{
    struct str id = STR_INIT, why2 = STR_INIT, filter = STR_INIT;
    int flags = CLEANUP_FLAG_MAP_OK | (info->submit_flags & CLEANUP_FLAG_EXTRACT);
    str_setf(&filter, "error:%s", why->data);
    struct replay_out b = {NULL, filter.data, (status & CLEANUP_STAT_SIZE) != 0, 0};
    enum pickup_result result = PICKUP_KEEP;
    if (lseek(fd, 0, SEEK_SET) == 0 &&
        (b.c = cleanup_open("public/cleanup", flags, (int)config_get_time("ipc_timeout"), &id,
                            &why2)) != NULL) {
        if (pickup_replay(fd, st->st_uid,
                          MAILDROP_ENVELOPE_LIMIT > content_limit() ? MAILDROP_ENVELOPE_LIMIT
                                                                    : content_limit(),
                          put_record, &b, &why2) < 0)
            cleanup_abort(b.c);
        else if (cleanup_finish(b.c, &why2) == 0)
            result = PICKUP_DONE;
    }
    if (result == PICKUP_DONE)
        msg_info("%s: uid=%ld from=<%s>: returned to sender: %s", str_cstr(&id), (long)st->st_uid,
                 str_cstr(&info->sender), why->data);
    else
        str_appendf(why, " (and returning it failed: %s)", str_cstr(&why2));
    str_release(&id);
    str_release(&why2);
    str_release(&filter);
    return result;
}

/* Submits one validated file; PICKUP_DONE when cleanup queued it. */
static enum pickup_result submit(int fd, const struct stat *st, const struct pickup_info *info,
                                 struct str *why)
{
    struct str id = STR_INIT;
    int flags = receive_override_flags(PICKUP_FLAGS) | (info->submit_flags & CLEANUP_FLAG_EXTRACT);
    int timeout = (int)config_get_time("ipc_timeout");
    struct cleanup_client *c = cleanup_open("public/cleanup", flags, timeout, &id, why);
    if (c == NULL) {
        str_release(&id);
        return PICKUP_STOP;
    }
    size_t limit =
        content_limit() > MAILDROP_ENVELOPE_LIMIT ? content_limit() : MAILDROP_ENVELOPE_LIMIT;
    struct replay_out out = {c, config_get("content_filter"), 0, 0};
    if (pickup_replay(fd, st->st_uid, limit, put_record, &out, why) < 0) {
        cleanup_abort(c);
        str_release(&id);
        return PICKUP_REMOVE;
    }
    msg_info("%s: uid=%ld from=<%s>", str_cstr(&id), (long)st->st_uid, str_cstr(&info->sender));
    int status = cleanup_finish(c, why);
    str_release(&id);
    if (status != 0 && why->data && why->data[0] == '5')
        return return_to_sender(fd, st, info, status, why);
    return status == 0 ? PICKUP_DONE : PICKUP_KEEP;
}

static enum pickup_result pickup_one(const char *name)
{
    struct str rel = STR_INIT, why = STR_INIT;
    struct stat st;
    struct pickup_info info;
    int fd;
    str_setf(&rel, "%s/%s", MAILDROP_QUEUE, name);
    enum pickup_result result = PICKUP_KEEP;
    switch (pickup_open(str_cstr(&rel), &fd, &st, &why)) {
    case PICKUP_OPEN_SKIP:
        break;
    case PICKUP_OPEN_BAD:
        result = PICKUP_REMOVE;
        break;
    case PICKUP_OPEN_OK:
        if (pickup_validate(fd, content_limit(), config_get_size("message_size_limit"), &info,
                            &why) < 0)
            result = PICKUP_REMOVE;
        else
            result = submit(fd, &st, &info, &why);
        pickup_info_release(&info);
        close(fd);
        break;
    }
    if (result == PICKUP_REMOVE)
        msg_warn("%s: %s -- removed", str_cstr(&rel), str_cstr(&why));
    else if (result == PICKUP_KEEP && why.len)
        msg_warn("%s: %s -- kept for a later attempt", str_cstr(&rel), str_cstr(&why));
    else if (result == PICKUP_STOP)
        msg_warn("%s: cannot submit to cleanup: %s", str_cstr(&rel), str_cstr(&why));
    if ((result == PICKUP_REMOVE || result == PICKUP_DONE) && unlink(str_cstr(&rel)) < 0 &&
        errno != ENOENT)
        msg_warn("remove %s: %s", str_cstr(&rel), strerror(errno));
    str_release(&rel);
    str_release(&why);
    return result;
}

static void pickup_scan(const char *data, size_t len, const char *service)
{
    (void)data;
    (void)len;
    (void)service;
    DIR *d = opendir(MAILDROP_QUEUE);
    if (d == NULL) {
        msg_warn("open directory %s: %s", MAILDROP_QUEUE, strerror(errno));
        return;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL && n++ < PICKUP_BATCH_LIMIT) {
        if (!queue_id_valid(e->d_name))
            continue;
        if (pickup_one(e->d_name) == PICKUP_STOP)
            break;
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {.shape = SERVER_TRIGGER, .trigger = pickup_scan};
    return server_main(argc, argv, &ops);
}
