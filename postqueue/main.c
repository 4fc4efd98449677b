/* postqueue: the user interface to the queue. -p lists it in the mailq layout, -j as JSON
 * lines, -f asks the queue manager to retry deferred mail now, -i and -s do the same for one
 * message or site. It reads the queue directory directly (the sandbox runs as one user; a
 * set-group-id showq service is not needed there — docs/submit.md). */
#include "postqueue.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/flush_client.h"
#include "mail/user_acl.h"
#include "mail/maildrop.h"
#include "mail/qmgr_trigger.h"
#include "mail/queue_id.h"
#include "mail/queue_scan.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EX_USAGE 64
#define EX_UNAVAILABLE 69

enum pq_mode { PQ_NONE, PQ_LIST, PQ_JSON, PQ_FLUSH, PQ_ID, PQ_SITE };

static void load_config(const char *dir)
{
    struct str err = STR_INIT;
    if (config_load(dir, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    log_set_syslog_name(config_get("syslog_name"));
    const char *file = config_get("maillog_file");
    if (file && *file)
        log_open_file(file);
    else
        log_open_syslog(config_get("syslog_facility"));
    str_release(&err);
}

static void emit(struct str *out)
{
    fwrite(out->data ? out->data : "", 1, out->len, stdout);
    str_clear(out);
}

/* Lists every queue (maildrop files are not queue files and are not listed). */
static int show_queue(int json)
{
    static const char *const queues[] = {"incoming", "active", "deferred", "hold", NULL};
    struct queue_naming l;
    struct str name = STR_INIT, rel = STR_INIT, err = STR_INIT, out = STR_INIT;
    long long total = 0;
    long count = 0;
    queue_scan_layout(&l);
    for (int q = 0; queues[q]; q++) {
        struct queue_scan *s = queue_scan_open(l.queue_directory, queues[q]);
        while (s && queue_scan_next(s, &name, &rel) > 0) {
            struct pq_msg m;
            if (!queue_id_valid(str_cstr(&name)) ||
                pq_load(&l, queues[q], str_cstr(&name), str_cstr(&rel), &m, &err) < 0)
                continue;
            if (!json && count == 0)
                pq_format_header(&out);
            (json ? pq_format_json : pq_format_text)(&out, &m);
            total += m.size;
            count++;
            pq_msg_release(&m);
            emit(&out);
        }
        queue_scan_close(s);
    }
    if (!json)
        pq_format_trailer(&out, total, count);
    emit(&out);
    str_release(&name);
    str_release(&rel);
    str_release(&err);
    str_release(&out);
    return 0;
}

static int flush_queue(void)
{
    struct str why = STR_INIT;
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", config_get("queue_directory"), QMGR_TRIGGER_ENDPOINT);
    char req = QMGR_REQ_FLUSH;
    if (mail_trigger(str_cstr(&path), &req, 1, (int)config_get_time("trigger_timeout"), &why) < 0) {
        if (msg_verbose)
            msg_info("%s", str_cstr(&why));
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    }
    str_release(&why);
    str_release(&path);
    return 0;
}

/* -s site / -i queue_id through the flush service. */
static int flush_one(int site, const char *arg)
{
    const char *qdir = config_get("queue_directory");
    int timeout = (int)config_get_time("ipc_timeout");
    int status = site ? flush_send_site(qdir, arg, timeout) : flush_send_file(qdir, arg, timeout);
    switch (status) {
    case FLUSH_STAT_OK:
        return 0;
    case FLUSH_STAT_BAD:
        msg_fatal_status(EX_USAGE, "Invalid request: \"%s\"", arg);
    case FLUSH_STAT_DENY:
        msg_fatal_status(EX_UNAVAILABLE, "Flush service is not configured for destination \"%s\"",
                         arg);
    default:
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *arg = NULL;
    enum pq_mode mode = PQ_NONE;
    int c;
    log_init("postqueue");
    log_set_stderr(1);
    while ((c = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (c) {
        case 'c':
            config_dir = optarg;
            break;
        case 'f':
            mode = PQ_FLUSH;
            break;
        case 'i':
            mode = PQ_ID;
            arg = optarg;
            break;
        case 'j':
            mode = PQ_JSON;
            break;
        case 'p':
            mode = PQ_LIST;
            break;
        case 's':
            mode = PQ_SITE;
            arg = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            mode = PQ_NONE;
            optind = argc + 1;
        }
    }
    if (mode == PQ_NONE || optind != argc)
        msg_fatal_status(EX_USAGE, "usage: postqueue -f | postqueue -i queueid | postqueue -j | "
                                   "postqueue -p | postqueue -s site");
    load_config(config_dir);
    if (mode == PQ_ID && !queue_id_valid(arg))
        msg_fatal_status(EX_USAGE, "bad mail queue ID: %s", arg);
    if (mode == PQ_SITE && (!maildrop_text_ok(arg, strlen(arg)) || strlen(arg) > 255))
        msg_fatal_status(EX_USAGE, "bad site name: %s", arg);
    if (mode == PQ_LIST || mode == PQ_JSON) {
        user_acl_require("authorized_mailq_users", "view the mail queue", 1);
        return show_queue(mode == PQ_JSON);
    }
    user_acl_require("authorized_flush_users", "flush the mail queue", 1);
    if (mode == PQ_SITE || mode == PQ_ID)
        return flush_one(mode == PQ_SITE, arg);
    return flush_queue();
}
