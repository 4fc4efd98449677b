/* qmgr_test_agent: a scripted delivery agent for the qmgr/bounce tests. Its one master.cf
 * argument names a script file; each line "<recipient> <sent|deferred|bounced> [dsn [reason]]"
 * decides a recipient's fate (default: sent 2.0.0), and a line "sleep <n>" makes every reply
 * wait n seconds. Each delivery appends "<queue_id> <recipient> <status>" to <script>.log and
 * copies the queue file to <script>.msgs/<queue_id> (the first time). */
#include "base/fsutil.h"
#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"
#include "mail/deliver_log.h"
#include "mail/deliver_request.h"
#include "mail/queue_id.h"
#include "service/server.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *script;

static void decide(const char *rcpt, struct str *status, struct str *dsn, struct str *reason,
                   int *sleep_s)
{
    str_set(status, "sent");
    str_set(dsn, "2.0.0");
    str_set(reason, "delivered by test agent");
    struct str text = STR_INIT;
    fs_read_file(script, 1 << 20, &text, NULL);
    struct argv *lines = argv_split(str_cstr(&text), "\n");
    for (size_t i = 0; i < lines->n; i++) {
        char addr[512], st[32], code[32];
        int off = 0;
        int n = sscanf(lines->v[i], "%511s %31s %31s %n", addr, st, code, &off);
        if (n >= 2 && strcmp(addr, "sleep") == 0)
            *sleep_s = atoi(st);
        if (n < 2 || strcmp(addr, rcpt) != 0)
            continue;
        str_set(status, st);
        if (n >= 3)
            str_set(dsn, code);
        if (n >= 3 && off > 0)
            str_set(reason, lines->v[i] + off);
    }
    argv_free(lines);
    str_release(&text);
}

static void record(const struct deliver_request *rq, const char *rcpt, const char *status)
{
    struct str path = STR_INIT, line = STR_INIT, qf = STR_INIT, data = STR_INIT;
    str_setf(&path, "%s.log", script);
    str_setf(&line, "%s %s %s\n", rq->queue_id, rcpt, status);
    int fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
        if (write(fd, line.data, line.len) < 0)
            msg_warn("write %s", path.data);
        close(fd);
    }
    str_setf(&path, "%s.msgs", script);
    fs_mkdir_p(path.data, 0755, NULL);
    str_appendf(&path, "/%s", rq->queue_id);
    queue_path(&qf, rq->queue_name, rq->queue_id, config_get("hash_queue_names"),
               (int)config_get_int("hash_queue_depth"));
    if (access(path.data, F_OK) != 0 && fs_read_file(qf.data, 1 << 24, &data, NULL) == 0)
        fs_write_atomic(path.data, data.data, data.len, 0644, NULL);
    str_release(&path);
    str_release(&line);
    str_release(&qf);
    str_release(&data);
}

static void deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    (void)ctx;
    struct str status = STR_INIT, dsn = STR_INIT, reason = STR_INIT;
    int sleep_s = 0;
    for (size_t i = 0; i < rq->nrcpt; i++) {
        decide(rq->rcpts[i].address, &status, &dsn, &reason, &sleep_s);
        enum deliver_status st = strcmp(status.data, "bounced") == 0    ? DELIVER_BOUNCED
                                 : strcmp(status.data, "deferred") == 0 ? DELIVER_DEFERRED
                                                                        : DELIVER_SENT;
        record(rq, rq->rcpts[i].address, deliver_status_name(st));
        struct deliver_log_info info = {rq->queue_id,
                                        rq->rcpts[i].address,
                                        rq->rcpts[i].orig,
                                        "test",
                                        dsn.data,
                                        deliver_status_name(st),
                                        reason.data,
                                        rq->arrival_time,
                                        rq->queue_delay,
                                        rq->active_time,
                                        0};
        deliver_log(&info);
        deliver_reply_set(rp, i, st, dsn.data, reason.data, "test");
    }
    if (sleep_s > 0)
        sleep((unsigned)sleep_s);
    str_release(&status);
    str_release(&dsn);
    str_release(&reason);
}

static int serve(struct stream *client, const char *service)
{
    (void)service;
    int argc;
    char **args = server_service_args(&argc);
    script = argc > 0 ? args[0] : "/dev/null";
    deliver_agent_serve(client, 60, deliver, NULL);
    return SERVER_CLOSE;
}

static const struct server_ops ops = {.shape = SERVER_SINGLE, .serve = serve};

int main(int argc, char **argv)
{
    return server_main(argc, argv, &ops);
}
