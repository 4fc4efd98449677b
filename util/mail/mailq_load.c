/* mailq_load: reading the queue for a listing — one queued message's envelope (validated by
 * the queue file reader) with, for deferred mail, the delay reasons from defer/<id>, and the
 * walk over the queues in Postfix's order. */
#include "mail/mailq.h"

#include "base/fsutil.h"
#include "base/mem.h"
#include "mail/queue_id.h"
#include "mail/queue_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAILQ_RECORD_LIMIT (1024 * 1024)
#define MAILQ_DEFER_LOG_LIMIT (4 * 1024 * 1024)

static void load_reasons(const struct queue_naming *l, const char *id, struct mailq_msg *m)
{
    struct str rel = STR_INIT, path = STR_INIT, text = STR_INIT;
    queue_path(&rel, "defer", id, l->hash_queue_names, l->hash_queue_depth);
    str_setf(&path, "%s/%s", l->queue_directory, str_cstr(&rel));
    struct argv *rcpts = argv_new(), *reasons = argv_new();
    if (fs_read_file(str_cstr(&path), MAILQ_DEFER_LOG_LIMIT, &text, NULL) == 0)
        mailq_parse_defer_log(text.data ? text.data : "", text.len, rcpts, reasons);
    for (size_t i = 0; i < m->rcpts->n; i++) {
        for (size_t j = 0; j < rcpts->n; j++) {
            if (strcmp(rcpts->v[j], m->rcpts->v[i]) == 0) {
                free(m->reasons->v[i]);
                m->reasons->v[i] = xstrdup(reasons->v[j]);
            }
        }
    }
    argv_free(rcpts);
    argv_free(reasons);
    str_release(&rel);
    str_release(&path);
    str_release(&text);
}

int mailq_load(const struct queue_naming *l, const char *queue, const char *id, const char *rel,
               struct mailq_msg *m, struct str *err)
{
    struct str path = STR_INIT;
    struct queue_envelope env;
    memset(m, 0, sizeof(*m));
    str_setf(&path, "%s/%s", l->queue_directory, rel);
    int fd = open(str_cstr(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    str_release(&path);
    if (fd < 0) {
        str_setf(err, "open %s: %s", rel, strerror(errno));
        return -1;
    }
    int rc = queue_file_read_envelope(fd, MAILQ_RECORD_LIMIT, &env, err);
    close(fd);
    if (rc < 0) {
        queue_envelope_release(&env);
        return -1;
    }
    m->queue = xstrdup(queue);
    m->id = xstrdup(id);
    m->arrival = env.arrival_sec;
    m->size = env.content_bytes;
    m->sender = xstrdup(env.sender ? env.sender : "");
    const char *expire = queue_envelope_attr(&env, "forced_expire");
    m->forced_expire = expire && strcmp(expire, "0") != 0 && *expire;
    m->rcpts = argv_new();
    m->reasons = argv_new();
    for (size_t i = 0; i < env.nrcpt; i++) {
        if (env.rcpts[i].done)
            continue;
        argv_add(m->rcpts, env.rcpts[i].address);
        argv_add(m->reasons, "");
    }
    queue_envelope_release(&env);
    if (strcmp(queue, "deferred") == 0)
        load_reasons(l, id, m);
    return 0;
}

void mailq_msg_release(struct mailq_msg *m)
{
    free(m->queue);
    free(m->id);
    free(m->sender);
    if (m->rcpts)
        argv_free(m->rcpts);
    if (m->reasons)
        argv_free(m->reasons);
    memset(m, 0, sizeof(*m));
}

static int emit_piece(mailq_emit_fn emit, void *ctx, struct str *out)
{
    int rc = emit(ctx, out->data ? out->data : "", out->len);
    str_clear(out);
    return rc;
}

int mailq_list(const struct queue_naming *l, enum mailq_format format, mailq_emit_fn emit,
               void *ctx)
{
    static const char *const queues[] = {"incoming", "active", "deferred", "hold", NULL};
    struct str name = STR_INIT, rel = STR_INIT, err = STR_INIT, out = STR_INIT;
    long long total = 0;
    long count = 0;
    int rc = 0;
    for (int q = 0; queues[q] && rc == 0; q++) {
        struct queue_scan *s = queue_scan_open(l->queue_directory, queues[q]);
        while (rc == 0 && s && queue_scan_next(s, &name, &rel) > 0) {
            struct mailq_msg m;
            if (!queue_id_valid(str_cstr(&name)) ||
                mailq_load(l, queues[q], str_cstr(&name), str_cstr(&rel), &m, &err) < 0)
                continue;
            if (format == MAILQ_TEXT && count == 0)
                mailq_format_header(&out);
            (format == MAILQ_JSON ? mailq_format_json : mailq_format_text)(&out, &m);
            total += m.size;
            count++;
            mailq_msg_release(&m);
            rc = emit_piece(emit, ctx, &out);
        }
        queue_scan_close(s);
    }
    if (rc == 0 && format == MAILQ_TEXT) {
        mailq_format_trailer(&out, total, count);
        rc = emit_piece(emit, ctx, &out);
    }
    str_release(&name);
    str_release(&rel);
    str_release(&err);
    str_release(&out);
    return rc < 0 ? -1 : 0;
}
