/* bounce_log: encoding, appending and reading of per-message delivery status logs. */
#include "mail/bounce_log.h"

#include "base/attr.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "mail/queue_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const entry_attrs[] = {"recipient", "orig",   "orcpt", "notify", "status",
                                          "action",    "reason", "relay", "time",   NULL};
static const char *const entry_required[] = {"recipient", "status", "action", NULL};

void bounce_log_encode(const struct bounce_entry *e, struct str *out)
{
    struct attr_list *a = attr_list_new();
    attr_add(a, "recipient", e->recipient);
    attr_add(a, "orig", e->orig ? e->orig : "");
    attr_add(a, "orcpt", e->orcpt ? e->orcpt : "");
    attr_add_long(a, "notify", e->notify);
    attr_add(a, "status", e->status);
    attr_add(a, "action", e->action);
    attr_add(a, "reason", e->reason ? e->reason : "");
    attr_add(a, "relay", e->relay ? e->relay : "none");
    attr_add_long(a, "time", e->time);
    attr_encode(a, out);
    attr_list_free(a);
}

int bounce_log_append(const char *queue, const char *id, const struct bounce_entry *e,
                      const char *hash_names, int depth, struct str *err)
{
    struct str path = STR_INIT, data = STR_INIT;
    queue_path(&path, queue, id, hash_names, depth);
    char *dir = fs_dirname(path.data);
    fs_mkdir_p(dir, 0700, NULL);
    free(dir);
    bounce_log_encode(e, &data);
    int rc = -1;
    int fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        str_setf(err, "open %s: %s", path.data, strerror(errno));
    else if (write(fd, data.data, data.len) != (ssize_t)data.len)
        str_setf(err, "write %s: %s", path.data, strerror(errno ? errno : EIO));
    else if (fsync(fd) < 0)
        str_setf(err, "fsync %s: %s", path.data, strerror(errno));
    else
        rc = 0;
    if (fd >= 0)
        close(fd);
    str_release(&path);
    str_release(&data);
    return rc;
}

static void entry_from(struct bounce_entry *e, const struct attr_list *a)
{
    const char *v;
    e->recipient = xstrdup(attr_get(a, "recipient"));
    e->orig = xstrdup((v = attr_get(a, "orig")) ? v : "");
    e->orcpt = xstrdup((v = attr_get(a, "orcpt")) ? v : "");
    e->status = xstrdup(attr_get(a, "status"));
    e->action = xstrdup(attr_get(a, "action"));
    e->reason = xstrdup((v = attr_get(a, "reason")) ? v : "");
    e->relay = xstrdup((v = attr_get(a, "relay")) ? v : "none");
    if (attr_get_long(a, "notify", 0, 255, &e->notify) < 0)
        e->notify = 0;
    if (attr_get_long(a, "time", 0, 1L << 40, &e->time) < 0)
        e->time = 0;
}

/* Decodes the list at text[*pos..]; -1 on bad syntax or an unterminated list. */
static int decode_list(const char *text, size_t len, size_t *pos, struct attr_list *a,
                       struct str *err)
{
    struct str name = STR_INIT, value = STR_INIT;
    int rc = -1;
    attr_list_clear(a);
    while (*pos < len) {
        const char *nl = memchr(text + *pos, '\n', len - *pos);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (text + *pos));
        size_t at = *pos;
        *pos += n + 1;
        if (n == 0) {
            rc = 0;
            break;
        }
        if (a->names->n >= 64 || attr_decode_line(text + at, n, &name, &value, err) < 0)
            break;
        attr_addn(a, name.data, value.data, value.len);
    }
    if (rc < 0 && str_cstr(err)[0] == 0)
        str_set(err, "truncated or oversized entry");
    str_release(&name);
    str_release(&value);
    return rc;
}

int bounce_log_decode(const char *text, size_t len, struct bounce_entry **out, size_t *n,
                      struct str *err)
{
    struct attr_list *a = attr_list_new();
    size_t pos = 0, cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    str_clear(err);
    while (pos < len && rc == 0) {
        if (*n >= BOUNCE_LOG_MAX_ENTRIES) {
            str_set(err, "too many entries");
            rc = -1;
        } else if (decode_list(text, len, &pos, a, err) < 0 ||
                   attr_check(a, entry_attrs, entry_required, err) < 0) {
            rc = -1;
        } else {
            *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
            entry_from(&(*out)[(*n)++], a);
        }
    }
    attr_list_free(a);
    if (rc < 0) {
        bounce_entries_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int bounce_log_read(const char *queue, const char *id, const char *hash_names, int depth,
                    struct bounce_entry **out, size_t *n, struct str *err)
{
    struct str path = STR_INIT, text = STR_INIT;
    queue_path(&path, queue, id, hash_names, depth);
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (fs_read_file(path.data, BOUNCE_LOG_MAX_BYTES, &text, err) < 0)
        rc = errno == ENOENT ? 0 : -1;
    else if (bounce_log_decode(text.data ? text.data : "", text.len, out, n, err) < 0)
        rc = -1;
    if (rc < 0 && err->len && strncmp(err->data, path.data, path.len) != 0) {
        struct str tmp = STR_INIT;
        str_setf(&tmp, "%s: %s", path.data, err->data);
        str_set(err, tmp.data);
        str_release(&tmp);
    }
    str_release(&path);
    str_release(&text);
    return rc;
}

int bounce_log_remove(const char *queue, const char *id, const char *hash_names, int depth)
{
    struct str path = STR_INIT;
    queue_path(&path, queue, id, hash_names, depth);
    int rc = unlink(path.data) < 0 && errno != ENOENT ? -1 : 0;
    str_release(&path);
    return rc;
}

void bounce_entries_free(struct bounce_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].recipient);
        free(v[i].orig);
        free(v[i].orcpt);
        free(v[i].status);
        free(v[i].action);
        free(v[i].reason);
        free(v[i].relay);
    }
    free(v);
}
