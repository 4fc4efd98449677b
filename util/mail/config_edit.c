/* config_edit: in-place editing of main.cf (postconf -e, -X, -#) that keeps comments, order
 * and layout, and the atomic file replacement shared with master.cf editing. */
#include "mail/config.h"
#include "mail/config_parse.h"

#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long find_edit(const struct config_edit *edits, size_t count, const char *name)
{
    for (size_t i = count; i-- > 0;) /* the last edit of a name wins */
        if (strcmp(edits[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void write_setting(struct str *out, const struct config_edit *e)
{
    if (*e->value)
        str_appendf(out, "%s = %s\n", e->name, e->value);
    else
        str_appendf(out, "%s =\n", e->name);
}

void config_comment_out(struct str *out, const char *s, const char *e)
{
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        nl = nl ? nl + 1 : e;
        str_appendc(out, '#');
        str_appendn(out, s, (size_t)(nl - s));
        s = nl;
    }
    if (out->len && out->data[out->len - 1] != '\n')
        str_appendc(out, '\n');
}

void config_edit_text(const char *text, size_t len, enum config_edit_op op,
                      const struct config_edit *edits, size_t count, struct str *out)
{
    struct config_lline *ll;
    size_t n = config_split_lines(text, len, &ll);
    char *done = xcalloc(count + 1, 1);
    struct str name = STR_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *s = text + ll[i].start, *e = text + ll[i].end;
        long k = -1;
        if (ll[i].is_setting) {
            config_lline_name(text, &ll[i], &name);
            k = find_edit(edits, count, name.data);
        }
        if (k < 0) {
            str_appendn(out, s, (size_t)(e - s));
        } else if (op == CONFIG_EDIT_COMMENT) {
            config_comment_out(out, s, e);
        } else if (op == CONFIG_EDIT_SET && !done[k]) {
            write_setting(out, &edits[k]);
            done[k] = 1;
        }
    }
    if (op == CONFIG_EDIT_SET) {
        for (size_t k = 0; k < count; k++) {
            if (done[k] || find_edit(edits, count, edits[k].name) != (long)k)
                continue;
            if (out->len && out->data[out->len - 1] != '\n')
                str_appendc(out, '\n');
            write_setting(out, &edits[k]);
        }
    }
    str_release(&name);
    free(done);
    free(ll);
}

int config_write_file(const char *path, const char *data, size_t len, struct str *err)
{
    struct stat st;
    int have_st = stat(path, &st) == 0;
    struct str tmp = STR_INIT;
    str_setf(&tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        str_setf(err, "create temporary file for %s: %s", path, strerror(errno));
        str_release(&tmp);
        return -1;
    }
    if (have_st) {
        (void)fchmod(fd, st.st_mode & 07777);
        if (geteuid() == 0)
            (void)fchown(fd, st.st_uid, st.st_gid);
    } else {
        (void)fchmod(fd, 0644);
    }
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp.data, path) != 0)
        rc = -1;
    if (rc != 0) {
        str_setf(err, "write %s: %s", path, strerror(errno));
        unlink(tmp.data);
    }
    str_release(&tmp);
    return rc;
}

int config_edit_file(const char *path, enum config_edit_op op, const struct config_edit *edits,
                     size_t count, struct str *err)
{
    struct str data = STR_INIT, out = STR_INIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        str_setf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fd >= 0) {
        char buf[65536];
        ssize_t r;
        while ((r = read(fd, buf, sizeof(buf))) > 0 && data.len <= (size_t)CONFIG_MAX_FILE)
            str_appendn(&data, buf, (size_t)r);
        close(fd);
    }
    config_edit_text(str_cstr(&data), data.len, op, edits, count, &out);
    int rc = config_write_file(path, str_cstr(&out), out.len, err);
    str_release(&data);
    str_release(&out);
    return rc;
}
