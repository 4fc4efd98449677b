/* flush_client: one request to the flush service and its status. */
#include "mail/flush_client.h"

#include "base/attr_io.h"
#include "base/net.h"
#include "base/stream.h"

#include <stdlib.h>
#include <unistd.h>

static int request(const char *queue_dir, const char *name, const char *key, const char *value,
                   int timeout)
{
    struct str path = STR_INIT, err = STR_INIT;
    str_setf(&path, "%s/public/flush", queue_dir);
    int fd = net_connect_unix(path.data, timeout * 1000, &err);
    str_release(&path);
    if (fd < 0) {
        str_release(&err);
        return FLUSH_STAT_FAIL;
    }
    struct stream *s = stream_fdopen(fd);
    stream_set_timeout(s, timeout);
    struct attr_list *a = attr_list_new();
    long status = FLUSH_STAT_FAIL;
    if (attr_expect_protocol(s, "flush", &err) == 0) {
        attr_add(a, "request", name);
        attr_add(a, key, value);
        static const char *const names[] = {"status", NULL};
        if (attr_send(s, a) == 0 && attr_recv(s, a, &attr_default_limits, &err) == 0 &&
            attr_check(a, names, names, &err) == 0 &&
            attr_get_long(a, "status", FLUSH_STAT_OK, FLUSH_STAT_DENY, &status) < 0)
            status = FLUSH_STAT_FAIL;
    }
    attr_list_free(a);
    stream_close(s);
    str_release(&err);
    return (int)status;
}

int flush_send_site(const char *queue_dir, const char *site, int timeout)
{
    return request(queue_dir, "send_site", "site", site, timeout);
}

int flush_send_file(const char *queue_dir, const char *queue_id, int timeout)
{
    return request(queue_dir, "send_file", "queue_id", queue_id, timeout);
}
