/* showq_client: relays the showq service's listing to stdout. */
#include "mail/showq_client.h"

#include "base/attr_io.h"
#include "base/log.h"
#include "base/stream.h"
#include "mail/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

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

void showq_relay(int fd, const char *path, enum mailq_format format)
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
