/* cleanup_session: one client of the cleanup protocol (docs/architecture.md): handshake,
 * flags, queue_minfree, the queue file in incoming/, the record stream with its segment
 * order (envelope, content, final), and the verdict — status=0 only after the file is
 * published. A client that goes away leaves no file behind. */
#include "cleanup.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/stream.h"
#include "mail/config.h"
#include "mail/qmgr_trigger.h"
#include "mail/queue_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum segment { SEG_ENVELOPE, SEG_CONTENT, SEG_FINAL, SEG_DONE };

struct session {
    struct stream *client;
    struct cleanup_state st;
    struct queue_file_writer w;
    enum segment seg;
    int headers_done;
    int lost; /* the client went away: no reply */
    char *queue_id;
    struct str err;
};

static int send_reply(struct stream *s, int status, const char *reason)
{
    struct attr_list *a = attr_list_new();
    attr_add_long(a, "status", status);
    if (status) {
        const struct cleanup_stat_detail *d = cleanup_stat_detail(status);
        struct str r = STR_INIT;
        if (reason && *reason)
            str_set(&r, reason);
        else
            str_setf(&r, "%s %s", d->dsn, d->text);
        attr_add(a, "reason", r.data);
        str_release(&r);
    }
    int rc = attr_send(s, a);
    attr_list_free(a);
    return rc;
}

static int read_flags(struct stream *s, long *flags)
{
    static const char *const names[] = {"flags", NULL};
    struct attr_list *a = attr_list_new();
    struct str err = STR_INIT;
    int rc = attr_recv(s, a, &attr_default_limits, &err);
    if (rc == 0)
        rc = attr_check(a, names, names, &err);
    if (rc == 0)
        rc = attr_get_long(a, "flags", 0, CLEANUP_FLAG_MASK, flags);
    if (rc < 0 && err.len && strcmp(err.data, "lost connection") != 0)
        msg_warn("cleanup: bad open request: %s", err.data);
    attr_list_free(a);
    str_release(&err);
    return rc;
}

static int enough_space(void)
{
    struct statvfs sv;
    if (cleanup_cfg.queue_minfree <= 0 || statvfs(".", &sv) < 0)
        return 1;
    unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
    if (avail >= (unsigned long long)cleanup_cfg.queue_minfree)
        return 1;
    msg_warn("not enough free space in mail queue: %llu bytes < queue_minfree %lld bytes", avail,
             cleanup_cfg.queue_minfree);
    return 0;
}

/* Writes the qmgr wake-up; a missing or busy qmgr is not an error. */
static void trigger_qmgr(void)
{
    struct stat sb;
    char req = QMGR_REQ_SCAN_INCOMING;
    if (stat(QMGR_TRIGGER_ENDPOINT, &sb) < 0)
        return;
    int fd = -1;
    if (S_ISFIFO(sb.st_mode))
        fd = open(QMGR_TRIGGER_ENDPOINT, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    else if (S_ISSOCK(sb.st_mode))
        fd = net_connect_unix(QMGR_TRIGGER_ENDPOINT, 1000, NULL);
    if (fd < 0)
        return;
    if (write(fd, &req, 1) != 1)
        msg_info("cleanup: qmgr trigger: %s", strerror(errno));
    close(fd);
}

static void protocol_error(struct session *ss, const char *what)
{
    msg_warn("%s: cleanup protocol error: %s", ss->st.queue_id, what);
    cleanup_fail(&ss->st, CLEANUP_STAT_BAD, NULL);
    ss->seg = SEG_DONE;
}

/* A complete logical content line. */
static void content_line(struct session *ss, struct str *line)
{
    struct cleanup_state *st = &ss->st;
    if (ss->headers_done) {
        cleanup_body_line(st, line);
        return;
    }
    st->header_bytes += line->len + 1;
    if (cleanup_cfg.message_size_limit > 0 &&
        st->header_bytes > (size_t)cleanup_cfg.message_size_limit) {
        cleanup_fail(st, CLEANUP_STAT_SIZE, NULL);
        return;
    }
    if (cleanup_header_line(st, line->data, line->len) == 0)
        return;
    ss->headers_done = 1;
    cleanup_headers_done(st);
    cleanup_out_line(st, "", 0); /* the separator, inserted when the body line is not empty */
    if (line->len > 0)
        cleanup_body_line(st, line);
}

static void end_headers(struct session *ss)
{
    if (!ss->headers_done) {
        ss->headers_done = 1;
        cleanup_headers_done(&ss->st);
    }
}

static void content_record(struct session *ss, int type, struct str *data)
{
    struct cleanup_state *st = &ss->st;
    if (type == REC_XTRA) {
        if (st->line.len)
            return protocol_error(ss, "content ends inside a line");
        if (!st->status)
            end_headers(ss);
        cleanup_body_end(st); /* a part header still pending at the end of the content */
        ss->seg = SEG_FINAL;
        return;
    }
    if (type != REC_LINE && type != REC_PART)
        return protocol_error(ss, "unexpected record in content");
    if (st->status)
        return; /* already refused: read and discard the rest */
    size_t limit = cleanup_cfg.message_size_limit > 0 ? (size_t)cleanup_cfg.message_size_limit
                                                      : (size_t)1 << 30;
    if (st->line.len + data->len > limit) {
        cleanup_fail(st, CLEANUP_STAT_SIZE, NULL);
        str_clear(&st->line);
        return;
    }
    str_appendn(&st->line, data->data, data->len);
    if (type == REC_LINE) {
        content_line(ss, &st->line);
        str_clear(&st->line);
    }
}

static void final_record(struct session *ss, int type, struct str *data)
{
    if (type == REC_END) {
        ss->seg = SEG_DONE;
        return;
    }
    if (type != REC_ATTR)
        return protocol_error(ss, "unexpected record after content");
    if (cleanup_final_attr(&ss->st, data, &ss->err) < 0)
        protocol_error(ss, ss->err.data);
}

static void envelope_record(struct session *ss, int type, struct str *data)
{
    if (type == REC_CONTENT) {
        if (cleanup_envelope_complete(&ss->st, &ss->err) < 0)
            return protocol_error(ss, ss->err.data);
        ss->seg = SEG_CONTENT;
        return;
    }
    if (cleanup_envelope_record(&ss->st, type, data, &ss->err) < 0)
        protocol_error(ss, ss->err.data);
}

/* Moves the (not yet ready) file to hold/; the ready bit is set there by publish. */
static int move_to_hold(struct session *ss)
{
    struct str rel = STR_INIT, path = STR_INIT;
    queue_path(&rel, "hold", ss->w.id.data, config_get("hash_queue_names"),
               (int)config_get_int("hash_queue_depth"));
    str_setf(&path, "%s/%s", cleanup_cfg.layout.queue_directory, rel.data);
    int rc = rename(ss->w.path.data, path.data);
    if (rc == 0)
        str_set(&ss->w.path, path.data);
    else
        msg_warn("%s: rename to %s: %s", ss->w.id.data, path.data, strerror(errno));
    str_release(&rel);
    str_release(&path);
    return rc;
}

static int finish(struct session *ss)
{
    struct cleanup_state *st = &ss->st;
    if (st->status || st->discard || (st->flags & CLEANUP_FLAG_DISCARD)) {
        queue_file_abort(&ss->w);
        return 0;
    }
    if (st->milters) {
        cleanup_milter_finish(st);
        if (st->status || st->discard) {
            queue_file_abort(&ss->w);
            return 0;
        }
    }
    queue_file_put(&ss->w, REC_XTRA, "", 0);
    for (size_t i = 0; i < st->final_names->n; i++) {
        struct str a = STR_INIT;
        str_setf(&a, "%s=%s", st->final_names->v[i], st->final_values->v[i]);
        queue_file_put(&ss->w, REC_ATTR, a.data, a.len);
        str_release(&a);
    }
    if ((st->hold || (st->flags & CLEANUP_FLAG_HOLD)) && move_to_hold(ss) < 0) {
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
        queue_file_abort(&ss->w);
        return 0;
    }
    if (queue_file_publish(&ss->w, &ss->err) < 0) {
        msg_warn("%s: %s", st->queue_id, ss->err.data);
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
        return 0;
    }
    return 1;
}

static void run_records(struct session *ss)
{
    struct str data = STR_INIT;
    while (ss->seg != SEG_DONE) {
        int type = rec_get_stream(ss->client, &data, CLEANUP_REC_LIMIT, &ss->err);
        if (type == REC_EOF || type == REC_ERROR) {
            if (type == REC_ERROR && strcmp(ss->err.data, "lost connection") != 0)
                msg_warn("%s: cleanup protocol error: %s", ss->st.queue_id, ss->err.data);
            ss->seg = SEG_DONE;
            ss->lost = 1;
            break;
        }
        if (ss->seg == SEG_ENVELOPE)
            envelope_record(ss, type, &data);
        else if (ss->seg == SEG_CONTENT)
            content_record(ss, type, &data);
        else
            final_record(ss, type, &data);
    }
    str_release(&data);
}

static void serve_message(struct session *ss)
{
    run_records(ss);
    if (ss->lost) {
        queue_file_abort(&ss->w);
        return;
    }
    int published = finish(ss);
    send_reply(ss->client, ss->st.status, ss->st.reason.data);
    if (published)
        trigger_qmgr();
}

void cleanup_session(struct stream *client)
{
    long flags = 0;
    stream_set_timeout(client, (int)config_get_time("ipc_timeout"));
    if (attr_send_protocol(client, "cleanup") < 0 || read_flags(client, &flags) < 0)
        return;
    if (!enough_space()) {
        send_reply(client, CLEANUP_STAT_WRITE, "4.3.1 Insufficient system storage");
        return;
    }
    struct session ss = {.client = client};
    if (queue_file_create(&ss.w, &cleanup_cfg.layout, "incoming", &ss.err) < 0) {
        msg_warn("cleanup: %s", ss.err.data);
        send_reply(client, CLEANUP_STAT_WRITE, NULL);
        str_release(&ss.err);
        return;
    }
    struct attr_list *a = attr_list_new();
    attr_add(a, "queue_id", ss.w.id.data);
    int rc = attr_send(client, a);
    attr_list_free(a);
    cleanup_state_init(&ss.st, (int)flags);
    ss.queue_id = xstrdup(ss.w.id.data);
    ss.st.queue_id = ss.queue_id;
    ss.st.w = &ss.w;
    cleanup_milter_open(&ss.st);
    if (rc == 0 && (flags & CLEANUP_FLAG_SMTPD_MILTERS))
        rc = cleanup_milter_receive(&ss.st, client);
    if (rc == 0)
        serve_message(&ss);
    else
        queue_file_abort(&ss.w);
    cleanup_state_release(&ss.st);
    free(ss.queue_id);
    str_release(&ss.w.id);
    str_release(&ss.err);
}
