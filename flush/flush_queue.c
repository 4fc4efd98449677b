/* flush_queue: the work of the flush service — deferred messages back to incoming/ so the
 * queue manager tries them now. A site's messages are found by scanning deferred/ and reading
 * each envelope (Postfix keeps per-site logs instead; a scan needs no bookkeeping and cannot
 * miss a message, at the cost of reading the deferred queue once per request). */
#include "flush.h"

#include "base/log.h"
#include "mail/queue_id.h"
#include "mail/queue_move.h"
#include "mail/queue_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FLUSH_RECORD_LIMIT (1 << 20)

/* 1 when an undelivered recipient of the file at rel is in site. */
static int wanted(const struct queue_naming *layout, const char *rel, const char *site)
{
    struct str path = STR_INIT, err = STR_INIT;
    struct queue_envelope env;
    int hit = 0;
    str_setf(&path, "%s/%s", layout->queue_directory, rel);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    memset(&env, 0, sizeof(env));
    if (fd >= 0 && queue_file_read_envelope(fd, FLUSH_RECORD_LIMIT, &env, &err) == 0) {
        for (size_t i = 0; !hit && i < env.nrcpt; i++) {
            const char *at = strrchr(env.rcpts[i].address, '@');
            hit = !env.rcpts[i].done && at && strcasecmp(at + 1, site) == 0;
        }
        queue_envelope_release(&env);
    }
    if (fd >= 0)
        close(fd);
    str_release(&path);
    str_release(&err);
    return hit;
}

long flush_site(const struct queue_naming *layout, const char *site)
{
    struct str name = STR_INIT, rel = STR_INIT;
    long moved = 0;
    struct queue_scan *s = queue_scan_open(layout->queue_directory, "deferred");
    while (s && queue_scan_next(s, &name, &rel) > 0) {
        if (!queue_id_valid(name.data) || !wanted(layout, rel.data, site))
            continue;
        if (queue_move(layout, name.data, rel.data, "incoming") == 0)
            moved++;
        else if (errno != ENOENT)
            msg_warn("%s: move to incoming: %s", name.data, strerror(errno));
    }
    if (s)
        queue_scan_close(s);
    str_release(&name);
    str_release(&rel);
    return moved;
}

int flush_file(const struct queue_naming *layout, const char *queue_id)
{
    static const char *const deferred[] = {"deferred", NULL};
    struct str queue = STR_INIT, rel = STR_INIT;
    int moved = queue_find(layout, queue_id, deferred, &queue, &rel) > 0 &&
                queue_move(layout, queue_id, rel.data, "incoming") == 0;
    str_release(&queue);
    str_release(&rel);
    return moved;
}
