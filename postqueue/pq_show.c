/* pq_show: postqueue -p and -j. The listing comes from the showq service over public/showq
 * (so a user who cannot read the queue still sees it); when nothing answers there, root, the
 * mail owner and whoever can read the queue directories (the one-user sandbox) get it straight
 * from the queue with a warning, as Postfix's postqueue does; anyone else is told the mail
 * system is down. */
#include "postqueue.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/net.h"
#include "base/stream.h"
#include "mail/config.h"
#include "mail/showq_client.h"
#include "mail/queue_scan.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* Root, the mail owner, or someone who can read every queue directory (real IDs). */
static int may_read_queue(const char *queue_dir)
{
    const char *owner = config_get("mail_owner");
    struct passwd *pw = owner ? getpwnam(owner) : NULL;
    if (getuid() == 0 || (pw && pw->pw_uid == getuid()))
        return 1;
    static const char *const queues[] = {"incoming", "active", "deferred", "hold", NULL};
    struct str path = STR_INIT;
    int ok = 1;
    for (int i = 0; queues[i] && ok; i++) {
        str_setf(&path, "%s/%s", queue_dir, queues[i]);
        ok = access(str_cstr(&path), R_OK | X_OK) == 0;
    }
    str_release(&path);
    return ok;
}

static int emit_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static void show_directly(enum mailq_format format)
{
    struct queue_naming l;
    queue_scan_layout(&l);
    if (mailq_list(&l, format, emit_stdout, NULL) < 0 || fflush(stdout) != 0)
        msg_fatal_status(EX_IOERR, "write error: %s", strerror(errno));
}

/* Runs "$command_directory/postdrop -Q format" in this process's place (never returns). */
static void via_postdrop(enum mailq_format format)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/postdrop", config_get("command_directory"));
    const char *dir = config_directory();
    char *args[] = {path.data, "-Q", (char *)mailq_format_name(format), NULL, NULL, NULL};
    if (dir && *dir) {
        args[3] = "-c";
        args[4] = (char *)dir;
    }
    fflush(NULL);
    execv(path.data, args);
    msg_fatal_status(EX_UNAVAILABLE, "execute %s: %s", path.data, strerror(errno));
}

void pq_show(enum mailq_format format)
{
    const char *queue_dir = config_get("queue_directory");
    const char *service = config_get("showq_service_name");
    const char *mail_name = config_get("mail_name");
    struct str path = STR_INIT, why = STR_INIT;
    str_setf(&path, "%s/public/%s", queue_dir, service);
    int fd = net_connect_unix(str_cstr(&path), (int)config_get_time("ipc_timeout") * 1000, &why);
    if (fd >= 0) {
        showq_relay(fd, str_cstr(&path), format);
    } else {
        int err = errno;
        if (msg_verbose)
            msg_info("%s", str_cstr(&why));
        /* public/ is for the set-group-id postdrop only (the one privileged command): it
         * relays the listing for a user who cannot reach the socket. */
        if (err == EACCES || err == EPERM)
            via_postdrop(format);
        if (!may_read_queue(queue_dir))
            msg_fatal_status(EX_UNAVAILABLE,
                             "Queue report unavailable - mail system is down"
                             " (Connect to the %s %s service: %s)",
                             mail_name, service, strerror(err));
        msg_warn("Mail system is down -- accessing queue directly"
                 " (Connect to the %s %s service: %s)",
                 mail_name, service, strerror(err));
        show_directly(format);
    }
    str_release(&path);
    str_release(&why);
}
