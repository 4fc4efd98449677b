/* pickup_file: the untrusted side of pickup — opening maildrop files without following links,
 * validating every record before anything is sent, and replaying the file as cleanup records. */
#include "pickup.h"

#include "mail/maildrop.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum pickup_open_result pickup_open(const char *rel, int *fd, struct stat *st, struct str *why)
{
    struct stat fst;
    *fd = -1;
    if (lstat(rel, st) < 0)
        return PICKUP_OPEN_SKIP;
    if (!S_ISREG(st->st_mode)) {
        str_set(why, "not a regular file");
        return PICKUP_OPEN_BAD;
    }
    if ((st->st_mode & 07777) == MAILDROP_MODE_WRITING)
        return PICKUP_OPEN_SKIP;
    if ((st->st_mode & 07777) != MAILDROP_MODE_READY) {
        str_setf(why, "bad file mode %04o", (unsigned)(st->st_mode & 07777));
        return PICKUP_OPEN_BAD;
    }
    if (st->st_nlink != 1) {
        str_set(why, "file has multiple hard links");
        return PICKUP_OPEN_BAD;
    }
    *fd = open(rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? PICKUP_OPEN_SKIP
                               : (str_setf(why, "open: %s", strerror(errno)), PICKUP_OPEN_BAD);
    if (fstat(*fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino ||
        !S_ISREG(fst.st_mode) || fst.st_nlink != 1) {
        close(*fd);
        *fd = -1;
        str_set(why, "file changed while it was opened");
        return PICKUP_OPEN_BAD;
    }
    return PICKUP_OPEN_OK;
}

int pickup_validate(int fd, size_t content_limit, long long size_limit, struct pickup_info *info,
                    struct str *why)
{
    struct maildrop_check chk;
    struct rec_reader r;
    struct str data = STR_INIT;
    int rc = 0;
    memset(info, 0, sizeof(*info));
    maildrop_check_init(&chk, content_limit, size_limit);
    lseek(fd, 0, SEEK_SET);
    rec_reader_init(&r, fd, 0);
    while (rc == 0 && !maildrop_check_complete(&chk)) {
        int type = rec_get(&r, &data, maildrop_record_limit(&chk), NULL);
        if (type == REC_EOF) {
            str_set(why, "premature end of file");
            rc = -1;
        } else if (type == REC_ERROR) {
            str_set(why, str_cstr(&r.error));
            rc = -1;
        } else if ((rc = maildrop_check_record(&chk, type, &data, why)) == 0 &&
                   type == REC_SENDER) {
            str_set(&info->sender, str_cstr(&data));
        }
    }
    if (rc == 0 && rec_get(&r, &data, maildrop_record_limit(&chk), NULL) != REC_EOF) {
        str_set(why, "data after end record");
        rc = -1;
    }
    info->submit_flags = chk.submit_flags;
    info->rcpts = chk.rcpts;
    rec_reader_release(&r);
    str_release(&data);
    return rc;
}

void pickup_info_release(struct pickup_info *info)
{
    str_release(&info->sender);
}

static void put_text(pickup_put_fn put, void *ctx, int type, const char *text)
{
    put(ctx, type, text, strlen(text));
}

int pickup_replay(int fd, uid_t uid, size_t limit, pickup_put_fn put, void *ctx, struct str *why)
{
    struct rec_reader r;
    struct str data = STR_INIT, attr = STR_INIT;
    int rc = 0, type;
    lseek(fd, 0, SEEK_SET);
    rec_reader_init(&r, fd, 0);
    while ((type = rec_get(&r, &data, limit, NULL)) != REC_END) {
        if (type < 0) {
            str_set(why, type == REC_ERROR ? str_cstr(&r.error) : "premature end of file");
            rc = -1;
            break;
        }
        if (type == REC_ATTR && strncmp(str_cstr(&data), "submit_flags=", 13) == 0)
            continue;
        if (type == REC_ATTR && strncmp(str_cstr(&data), "rewrite_context=", 16) == 0)
            continue;
        put(ctx, type, data.data, data.len);
        if (type == REC_SENDER) {
            put_text(put, ctx, REC_ATTR, "rewrite_context=local");
            str_setf(&attr, "submit_uid=%ld", (long)uid);
            put(ctx, REC_ATTR, attr.data, attr.len);
        }
    }
    rec_reader_release(&r);
    str_release(&data);
    str_release(&attr);
    return rc;
}
