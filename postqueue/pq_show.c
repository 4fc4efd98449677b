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
#include "mail/queue_scan.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* The server's answer to a request: exactly status=0. */
static int read_status(struct stream *s, struct str *err)
{
    static const struct attr_limits limits = {256, 4};
    struct attr_list *a = attr_list_new();
    int rc = attr_recv(s, a, &limits, err);
    if (rc == 0 &&
        (a->names->n != 1 || !attr_get(a, "status") || strcmp(attr_get(a, "status"), "0") != 0)) {
        str_set(err, "request refused");
        rc = -1;
    }
    attr_list_free(a);
    return rc;
}

/* Handshake, request, then the listing copied to stdout until the server closes. */
static void show_via_service(int fd, const char *path, enum mailq_format format)
{
    struct stream *s = stream_fdopen(fd);
    struct attr_list *req = attr_list_new();
    struct str err = STR_INIT;
    char buf[STREAM_BUFSIZE];
    ssize_t n;
    stream_set_timeout(s, (int)config_get_time("ipc_timeout"));
    attr_add(req, "format", mailq_format_name(format));
    if (attr_expect_protocol(s, MAILQ_PROTOCOL, &err) < 0 || attr_send(s, req) < 0 ||
        read_status(s, &err) < 0)
        msg_fatal_status(EX_SOFTWARE, "%s: %s", path, err.len ? str_cstr(&err) : "write error");
    while ((n = stream_read(s, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            msg_fatal_status(EX_IOERR, "write error: %s", strerror(errno));
    if (n < 0)
        msg_fatal_status(EX_SOFTWARE, "%s: read error: %s", path,
                         strerror(stream_errno(s) ? stream_errno(s) : EIO));
    if (fflush(stdout) != 0)
        msg_fatal_status(EX_IOERR, "write error: %s", strerror(errno));
    attr_list_free(req);
    str_release(&err);
    stream_close(s);
}

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

void pq_show(enum mailq_format format)
{
    const char *queue_dir = config_get("queue_directory");
    const char *service = config_get("showq_service_name");
    const char *mail_name = config_get("mail_name");
    struct str path = STR_INIT, why = STR_INIT;
    str_setf(&path, "%s/public/%s", queue_dir, service);
    int fd = net_connect_unix(str_cstr(&path), (int)config_get_time("ipc_timeout") * 1000, &why);
    if (fd >= 0) {
        show_via_service(fd, str_cstr(&path), format);
    } else {
        int err = errno;
        if (msg_verbose)
            msg_info("%s", str_cstr(&why));
        /* A permission problem is not a mail system that is down. */
        if (err == EACCES || err == EPERM)
            msg_fatal_status(EX_SOFTWARE, "Connect to the %s %s service: %s", mail_name, service,
                             strerror(err));
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
