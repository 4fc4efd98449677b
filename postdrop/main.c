/* postdrop: the set-group-id privilege boundary of local submission. Reads a maildrop record
 * stream on stdin (sendmail writes it), checks every record against the maildrop rules
 * (util/mail/maildrop.h), writes maildrop/<id> (mode 0600, fsync, then 0700) and wakes up
 * pickup. Nothing from the caller is trusted: on any error or signal the file is removed. */
#include "base/log.h"
#include "base/net.h"
#include "base/mem.h"
#include "base/str.h"
#include "mail/command_config.h"
#include "mail/config.h"
#include "mail/showq_client.h"
#include "mail/user_acl.h"
#include "mail/maildrop.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_TEMPFAIL 75
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70

static struct maildrop_writer writer = {.fd = -1};
static char *volatile cleanup_path;

static void remove_file(void)
{
    if (cleanup_path)
        unlink(cleanup_path);
}

static void on_signal(int sig)
{
    (void)sig;
    remove_file();
    _exit(EX_TEMPFAIL);
}

static void setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGXFSZ};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_set_cleanup(remove_file);
}

/* Copies the checked record stream from stdin into the file. */
static void copy_records(void)
{
    struct maildrop_check chk;
    long line_limit = config_get_int("line_length_limit");
    maildrop_check_init(&chk, line_limit > 0 ? (size_t)line_limit : 2048,
                        config_get_size("message_size_limit"));
    struct rec_reader r;
    struct str data = STR_INIT, why = STR_INIT;
    rec_reader_init(&r, 0, 0);
    while (!maildrop_check_complete(&chk)) {
        int type = rec_get(&r, &data, maildrop_record_limit(&chk), NULL);
        if (type == REC_EOF)
            msg_fatal_status(EX_DATAERR, "uid=%ld: premature end of input", (long)getuid());
        if (type == REC_ERROR)
            msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s", (long)getuid(),
                             str_cstr(&r.error));
        if (maildrop_check_record(&chk, type, &data, &why) < 0)
            msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s", (long)getuid(),
                             str_cstr(&why));
        maildrop_put(&writer, type, data.data, data.len);
    }
    if (rec_get(&r, &data, maildrop_record_limit(&chk), NULL) != REC_EOF)
        msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: data after end record",
                         (long)getuid());
    rec_reader_release(&r);
    str_release(&data);
    str_release(&why);
}

/* -Q text|json: postqueue's way to the showq service for users who cannot reach public/
 * (postdrop is the one set-group-id command). The mailq ACL is checked here too. */
static int relay_listing(const char *name)
{
    enum mailq_format format;
    if (mailq_format_parse(name, &format) < 0)
        msg_fatal_status(EX_USAGE, "bad listing format: %s", name);
    user_acl_require("authorized_mailq_users", "view the mail queue", 1);
    struct str path = STR_INIT, why = STR_INIT;
    str_setf(&path, "%s/public/%s", config_get("queue_directory"),
             config_get("showq_service_name"));
    int fd = net_connect_unix(path.data, (int)config_get_time("ipc_timeout") * 1000, &why);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) /* not installed set-group-id */
        msg_fatal_status(EX_SOFTWARE, "Connect to the %s %s service: %s", config_get("mail_name"),
                         config_get("showq_service_name"), strerror(errno));
    if (fd < 0)
        msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down (%s)",
                         why.data);
    showq_relay(fd, path.data, format);
    str_release(&path);
    str_release(&why);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int c;
    log_init("postdrop");
    log_set_stderr(1);
    umask(077);
    const char *listing = NULL;
    while ((c = getopt(argc, argv, "c:Q:rv")) != -1) {
        if (c == 'c')
            config_dir = optarg;
        else if (c == 'v')
            msg_verbose++;
        else if (c == 'Q')
            listing = optarg;
        else if (c != 'r')
            msg_fatal_status(EX_USAGE, "usage: postdrop [-rv] [-c config_dir] [-Q text|json]");
    }
    command_config_load(config_dir);
    if (listing)
        return relay_listing(listing);
    user_acl_require("authorized_submit_users", "submit mail", 0);
    const char *queue_dir = config_get("queue_directory");
    if (chdir(queue_dir) < 0)
        msg_fatal_status(EX_TEMPFAIL, "chdir %s: %s", queue_dir, strerror(errno));
    sigset_t all, old;
    sigfillset(&all);
    setup_signals();
    struct str err = STR_INIT;
    sigprocmask(SIG_BLOCK, &all, &old);
    if (maildrop_create(&writer, ".", &err) < 0)
        msg_fatal_status(EX_TEMPFAIL, "%s", str_cstr(&err));
    cleanup_path = xstrdup(str_cstr(&writer.path));
    sigprocmask(SIG_SETMASK, &old, NULL);
    copy_records();
    sigprocmask(SIG_BLOCK, &all, &old);
    if (maildrop_finish(&writer, &err) < 0)
        msg_fatal_status(EX_TEMPFAIL, "%s", str_cstr(&err));
    char *published = cleanup_path;
    cleanup_path = NULL; /* the file is pickup's now: the signal handler must not remove it */
    free(published);
    maildrop_release(&writer);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (mail_trigger("public/pickup", "W", 1, (int)config_get_time("trigger_timeout"), &err) < 0 &&
        msg_verbose)
        msg_info("pickup trigger: %s", str_cstr(&err));
    str_release(&err);
    return 0;
}
