/* queue_file: the life of a queue file on disk — creation under a unique queue ID, buffered
 * record output, durable publication (fsync before the ready bit), validation on reading, and
 * in-place marking of finished recipients. */
#include "mail/queue_file.h"

#include "base/mem.h"
#include "mail/queue_id.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SIZE_FIELD_WIDTH 15
#define FLUSH_THRESHOLD 65536

static void flush_buffer(struct queue_file_writer *w)
{
    size_t off = 0;
    while (off < w->buf.len && !w->failed) {
        ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            w->failed = errno;
        else
            off += (size_t)n;
    }
    w->written += (off_t)off;
    str_clear(&w->buf);
}

void queue_file_put(struct queue_file_writer *w, int type, const void *data, size_t len)
{
    rec_put(&w->buf, type, data, len);
    if (type == REC_RCPT)
        w->recipients++;
    else if (type == REC_LINE)
        w->content_bytes += (long)len + 1;
    else if (type == REC_PART)
        w->content_bytes += (long)len;
    if (w->buf.len >= FLUSH_THRESHOLD)
        flush_buffer(w);
}

void queue_file_puts(struct queue_file_writer *w, int type, const char *text)
{
    queue_file_put(w, type, text, strlen(text));
}

void queue_file_start_content(struct queue_file_writer *w)
{
    queue_file_put(w, REC_CONTENT, "", 0);
    w->content_offset = w->written + (off_t)w->buf.len;
}

static void size_record_data(struct str *out, long offset, long bytes, long rcpts)
{
    str_setf(out, "%*ld %*ld %*ld", SIZE_FIELD_WIDTH, offset, SIZE_FIELD_WIDTH, bytes,
             SIZE_FIELD_WIDTH, rcpts);
}

/* Creates the file under a temporary name and returns its descriptor. */
static int create_temp(const char *dir, struct str *tmp, struct str *err)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    str_setf(tmp, "%s/.tmp.%ld.%ld.%ld", dir, (long)getpid(), (long)tv.tv_sec, (long)tv.tv_usec);
    int fd =
        open(str_cstr(tmp), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, QUEUE_MODE_WRITING);
    if (fd < 0)
        str_setf(err, "create file %s: %s", str_cstr(tmp), strerror(errno));
    return fd;
}

static int make_parent_dirs(const char *queue_dir, const char *rel)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", queue_dir, rel);
    int rc = 0;
    for (char *slash = path.data + strlen(queue_dir) + 1; (slash = strchr(slash, '/')) != NULL;
         slash++) {
        *slash = 0;
        if (mkdir(path.data, 0700) < 0 && errno != EEXIST)
            rc = -1;
        *slash = '/';
    }
    str_release(&path);
    return rc;
}

/* Gives the temporary file its final name, derived from its inode and the time. */
static int name_file(struct queue_file_writer *w, const struct queue_naming *l, const char *queue,
                     const char *tmp, struct str *err)
{
    struct stat st;
    if (fstat(w->fd, &st) < 0) {
        str_setf(err, "fstat %s: %s", tmp, strerror(errno));
        return -1;
    }
    struct str rel = STR_INIT;
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        queue_id_make(&w->id, st.st_ino, (long)tv.tv_sec, (long)tv.tv_usec, l->long_queue_ids);
        queue_path(&rel, queue, str_cstr(&w->id), l->hash_queue_names, l->hash_queue_depth);
        str_setf(&w->path, "%s/%s", l->queue_directory, str_cstr(&rel));
        make_parent_dirs(l->queue_directory, str_cstr(&rel));
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, str_cstr(&w->path), RENAME_NOREPLACE) == 0) {
            str_release(&rel);
            return 0;
        }
        if (errno != EEXIST) {
            str_setf(err, "rename %s to %s: %s", tmp, str_cstr(&w->path), strerror(errno));
            break;
        }
        usleep(1);
    }
    if (str_cstr(err)[0] == 0)
        str_setf(err, "cannot find a unique name for %s", tmp);
    str_release(&rel);
    return -1;
}

int queue_file_create(struct queue_file_writer *w, const struct queue_naming *l, const char *queue,
                      struct str *err)
{
    memset(w, 0, sizeof(*w));
    str_clear(err);
    struct str dir = STR_INIT, tmp = STR_INIT;
    str_setf(&dir, "%s/%s", l->queue_directory, queue);
    w->fd = create_temp(str_cstr(&dir), &tmp, err);
    int rc = w->fd < 0 ? -1 : name_file(w, l, queue, str_cstr(&tmp), err);
    if (rc < 0 && w->fd >= 0) {
        unlink(str_cstr(&tmp));
        close(w->fd);
        w->fd = -1;
    }
    str_release(&dir);
    str_release(&tmp);
    if (rc < 0)
        return -1;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct str data = STR_INIT;
    queue_file_puts(w, REC_VERSION, "1");
    w->size_offset = (off_t)w->buf.len + 4; /* "C47:" precedes the data */
    size_record_data(&data, 0, 0, 0);
    queue_file_put(w, REC_SIZE, data.data, data.len);
    str_setf(&data, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
    queue_file_put(w, REC_TIME, data.data, data.len);
    str_release(&data);
    return 0;
}

static void writer_release(struct queue_file_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    str_release(&w->buf);
    str_release(&w->path);
}

void queue_file_abort(struct queue_file_writer *w)
{
    if (w->path.len)
        unlink(str_cstr(&w->path));
    writer_release(w);
    str_release(&w->id);
}

int queue_file_publish(struct queue_file_writer *w, struct str *err)
{
    queue_file_put(w, REC_END, "", 0);
    flush_buffer(w);
    struct str data = STR_INIT;
    size_record_data(&data, (long)w->content_offset, w->content_bytes, w->recipients);
    if (!w->failed && pwrite(w->fd, data.data, data.len, w->size_offset) != (ssize_t)data.len)
        w->failed = errno ? errno : EIO;
    str_release(&data);
    /* One fsync makes the data and the ready mode durable together, before the caller
     * answers anyone. A crash before it returns may leave a ready-looking file whose records
     * are incomplete; readers validate every file (end record, sizes), so such a file is
     * refused as corrupt — and its sender never got an acknowledgement. */
    if (!w->failed && fchmod(w->fd, QUEUE_MODE_READY) < 0)
        w->failed = errno;
    if (!w->failed && fsync(w->fd) < 0)
        w->failed = errno;
    if (w->failed) {
        str_setf(err, "queue file write error: %s", strerror(w->failed));
        queue_file_abort(w);
        return -1;
    }
    writer_release(w);
    return 0;
}
