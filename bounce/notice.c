/* notice: one delivery status notification: read the original message, compose the report
 * (util/mail/dsn_report.h) and submit it through cleanup as a new message with the given
 * sender. */
#include "bounce.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/cleanup_client.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Appends the original message's lines (headers only when asked) to out. */
static int original(const struct bounce_job *job, int headers_only, long *arrival, struct argv *out,
                    struct str *why)
{
    struct str path = STR_INIT, line = STR_INIT, piece = STR_INIT;
    struct queue_envelope env;
    memset(&env, 0, sizeof(env));
    queue_path(&path, job->queue_name, job->queue_id, config_get("hash_queue_names"),
               (int)config_get_int("hash_queue_depth"));
    int fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = -1;
    if (fd < 0) {
        str_setf(why, "open %s: %s", path.data, strerror(errno));
    } else if (queue_file_read_envelope(fd, BOUNCE_RECORD_LIMIT, &env, why) == 0) {
        long limit = config_get_int("bounce_size_limit");
        if (limit > 0 && env.content_bytes > limit)
            headers_only = 1;
        *arrival = env.arrival_sec;
        struct rec_reader r;
        queue_content_open(&r, fd, &env);
        int t;
        size_t lines = 0;
        while ((t = queue_content_get(&r, &piece, BOUNCE_RECORD_LIMIT)) > 0) {
            str_appendn(&line, piece.data, piece.len);
            if (t == REC_PART)
                continue;
            if (headers_only && line.len == 0)
                break;
            if (lines++ < BOUNCE_MAX_ORIGINAL_LINES)
                argv_add(out, str_cstr(&line));
            str_clear(&line);
        }
        rc = t == REC_ERROR ? -1 : 0;
        if (rc < 0)
            str_set(why, str_cstr(&r.error));
        rec_reader_release(&r);
    }
    if (fd >= 0)
        close(fd);
    queue_envelope_release(&env);
    str_release(&path);
    str_release(&line);
    str_release(&piece);
    return rc;
}

#define NOTICE_CLEANUP_TIMEOUT 100

/* Submits the notice through cleanup, like any other new message (internal mail: address
 * mappings apply, content checks do not). */
static int queue_it(const char *sender, const char *to, const struct argv *lines,
                    struct str *new_id, struct str *why)
{
    struct cleanup_client *c =
        cleanup_open("public/cleanup", CLEANUP_FLAG_MAP_OK, NOTICE_CLEANUP_TIMEOUT, new_id, why);
    if (c == NULL)
        return -1;
    cleanup_puts(c, REC_SENDER, sender);
    cleanup_puts(c, REC_RCPT, to);
    cleanup_put(c, REC_CONTENT, "", 0);
    for (size_t i = 0; i < lines->n; i++)
        cleanup_puts(c, REC_LINE, lines->v[i]);
    cleanup_put(c, REC_XTRA, "", 0);
    return cleanup_finish(c, why) == 0 ? 0 : -1;
}

int bounce_notice(const struct bounce_job *job, const struct bounce_entry *v, size_t n,
                  const char *to, const char *notice_sender, int headers_only, struct str *new_id,
                  struct str *why)
{
    struct argv *orig = argv_new(), *lines = argv_new();
    struct str date = STR_INIT, arrival = STR_INIT, boundary = STR_INIT, msgid = STR_INIT;
    long arrived = 0;
    if (strcasecmp(job->ret, "HDRS") == 0 || strcmp(job->ret, "2") == 0)
        headers_only = 1;
    int rc = original(job, headers_only, &arrived, orig, why);
    if (rc == 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        const char *host = config_get("myhostname");
        dsn_report_date((long)tv.tv_sec, &date);
        dsn_report_date(arrived, &arrival);
        str_setf(&boundary, "%s.%ld/%s", job->queue_id, (long)tv.tv_sec, host);
        str_setf(&msgid, "%ld.%06ld.%s@%s", (long)tv.tv_sec, (long)tv.tv_usec, job->queue_id, host);
        struct dsn_report r = {job->kind,   host,      job->queue_id, job->sender,   to,
                               job->envid,  date.data, arrival.data,  boundary.data, msgid.data,
                               headers_only};
        dsn_report_begin(&r, v, n, lines);
        for (size_t i = 0; i < orig->n; i++)
            argv_add(lines, orig->v[i]);
        dsn_report_end(&r, lines);
        rc = queue_it(notice_sender, to, lines, new_id, why);
    }
    argv_free(orig);
    argv_free(lines);
    str_release(&date);
    str_release(&arrival);
    str_release(&boundary);
    str_release(&msgid);
    return rc;
}
