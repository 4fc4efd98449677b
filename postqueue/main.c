/* postqueue: the user interface to the queue. -p lists it in the mailq layout, -j as JSON
 * lines (both from the showq service, pq_show.c), -f asks the queue manager to retry deferred
 * mail now, -i and -s do the same for one message or site. Installed set-group-id
 * setgid_group (like postdrop) so any local user reaches public/ (docs/submit.md). */
#include "postqueue.h"

#include "base/log.h"
#include "mail/command_config.h"
#include "mail/config.h"
#include "mail/flush_client.h"
#include "mail/user_acl.h"
#include "mail/maildrop.h"
#include "mail/qmgr_trigger.h"
#include "mail/queue_id.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

enum pq_mode { PQ_NONE, PQ_LIST, PQ_JSON, PQ_FLUSH, PQ_ID, PQ_SITE };

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
    command_config_load(config_dir);
    if (mode == PQ_ID && !queue_id_valid(arg))
        msg_fatal_status(EX_USAGE, "bad mail queue ID: %s", arg);
    if (mode == PQ_SITE && (!maildrop_text_ok(arg, strlen(arg)) || strlen(arg) > 255))
        msg_fatal_status(EX_USAGE, "bad site name: %s", arg);
    if (mode == PQ_LIST || mode == PQ_JSON) {
        user_acl_require("authorized_mailq_users", "view the mail queue", 1);
        pq_show(mode == PQ_JSON ? MAILQ_JSON : MAILQ_TEXT);
        return 0;
    }
    user_acl_require("authorized_flush_users", "flush the mail queue", 1);
    if (mode == PQ_SITE || mode == PQ_ID)
        return flush_one(mode == PQ_SITE, arg);
    return flush_queue();
}
