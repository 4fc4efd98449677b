/* queue_file_read: validating reader for queue files. It walks every record once, checks the
 * order of segments and the record types legal in each, and collects the envelope. Nothing in
 * the file is trusted: a file that breaks a rule is reported as corrupt with the reason. */
#include "mail/queue_file.h"

#include "base/mem.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum segment { SEG_START, SEG_ENVELOPE, SEG_CONTENT, SEG_FINAL, SEG_DONE };

struct reader_state {
    enum segment seg;
    int have_size, have_time, have_sender;
    char *pending_orig;
    char *pending_orcpt;
    long pending_notify;
};

static const char *const legal_types[] = {
    [SEG_START] = "V", [SEG_ENVELOPE] = "CTFAODNRrWM", [SEG_CONTENT] = "LPX", [SEG_FINAL] = "AE",
    [SEG_DONE] = "",
};

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno)
        return -1;
    while (*end == ' ')
        end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static void add_rcpt(struct queue_envelope *env, struct reader_state *st, const struct str *data,
                     int type, off_t at)
{
    env->rcpts = xgrow(env->rcpts, &env->rcpt_cap, env->nrcpt + 1, sizeof(*env->rcpts));
    struct queue_rcpt *r = &env->rcpts[env->nrcpt++];
    r->address = xstrndup(data->data, data->len);
    r->orig = st->pending_orig;
    r->orcpt = st->pending_orcpt;
    r->notify = st->pending_notify;
    r->offset = at;
    r->done = type == REC_DONE;
    st->pending_orig = NULL;
    st->pending_orcpt = NULL;
    st->pending_notify = 0;
}

static int add_attr(struct queue_envelope *env, const struct str *data)
{
    const char *eq = memchr(data->data, '=', data->len);
    if (eq == NULL || eq == data->data || memchr(data->data, 0, data->len))
        return -1;
    argv_addn(env->attr_names, data->data, (size_t)(eq - data->data));
    argv_add(env->attr_values, eq + 1);
    return 0;
}

static int parse_time(const char *s, struct queue_envelope *env)
{
    char *end;
    errno = 0;
    env->arrival_sec = strtol(s, &end, 10);
    if (errno || *end != '.' || env->arrival_sec < 0)
        return -1;
    env->arrival_usec = strtol(end + 1, &end, 10);
    return *end || env->arrival_usec < 0 || env->arrival_usec > 999999 ? -1 : 0;
}

/* Handles one envelope record; returns NULL or a reason. */
static const char *envelope_record(struct queue_envelope *env, struct reader_state *st, int type,
                                   const struct str *data, off_t at)
{
    int has_nul = memchr(data->data, 0, data->len) != NULL;
    switch (type) {
    case REC_SIZE: {
        long off, bytes, n;
        if (sscanf(data->data, "%ld %ld %ld", &off, &bytes, &n) != 3 || off < 0 || bytes < 0)
            return "malformed size record";
        env->content_offset = off;
        env->content_bytes = bytes;
        st->have_size = 1;
        return NULL;
    }
    case REC_TIME:
        st->have_time = 1;
        return parse_time(data->data, env) < 0 ? "malformed time record" : NULL;
    case REC_SENDER:
        if (st->have_sender++ || has_nul)
            return "bad sender record";
        env->sender = xstrndup(data->data, data->len);
        return NULL;
    case REC_ATTR:
        return add_attr(env, data) < 0 ? "malformed attribute record" : NULL;
    case REC_ORIG:
        if (st->pending_orig || has_nul)
            return "misplaced original recipient record";
        st->pending_orig = xstrndup(data->data, data->len);
        return NULL;
    case REC_DSN_ORCPT:
        if (st->pending_orcpt || has_nul)
            return "misplaced DSN original recipient record";
        st->pending_orcpt = xstrndup(data->data, data->len);
        return NULL;
    case REC_NOTIFY:
        return parse_long(data->data, &st->pending_notify) < 0 ? "malformed notify record" : NULL;
    case REC_RCPT:
    case REC_DONE:
        if (data->len == 0 || has_nul)
            return "bad recipient record";
        add_rcpt(env, st, data, type, at);
        return NULL;
    case REC_WARN:
        env->warn_offset = at + 1 + (off_t)snprintf(NULL, 0, "%zu:", data->len);
        return parse_long(data->data, &env->warn_time) < 0 ? "malformed warning record" : NULL;
    }
    return NULL;
}

static int type_legal(enum segment seg, int type)
{
    return strchr(legal_types[seg], type) != NULL;
}

/* Advances the segment state on V, M, X and E; returns NULL or a reason. */
static const char *segment_record(struct queue_envelope *env, struct reader_state *st, int type,
                                  const struct str *data, off_t at)
{
    switch (type) {
    case REC_VERSION:
        st->seg = SEG_ENVELOPE;
        return strcmp(str_cstr(data), "1") == 0 ? NULL : "unsupported queue file version";
    case REC_CONTENT:
        if (!st->have_size || !st->have_time || !st->have_sender)
            return "envelope incomplete at start of content";
        if (st->pending_orig || st->pending_orcpt || st->pending_notify)
            return "original recipient without recipient";
        if (env->content_offset != at + 4) /* "M0:\n" */
            return "size record does not match content offset";
        st->seg = SEG_CONTENT;
        return NULL;
    case REC_XTRA:
        st->seg = SEG_FINAL;
        return NULL;
    case REC_END:
        st->seg = SEG_DONE;
        return NULL;
    }
    return NULL;
}

int queue_file_read_envelope(int fd, size_t limit, struct queue_envelope *env, struct str *err)
{
    memset(env, 0, sizeof(*env));
    env->attr_names = argv_new();
    env->attr_values = argv_new();
    struct reader_state st = {SEG_START, 0, 0, 0, NULL, NULL, 0};
    struct rec_reader r;
    struct str data = STR_INIT;
    const char *why = NULL;
    rec_reader_init(&r, fd, 0);
    if (lseek(fd, 0, SEEK_SET) < 0)
        why = "cannot seek";
    int type = 0;
    while (why == NULL && st.seg != SEG_DONE) {
        off_t at;
        type = rec_get(&r, &data, limit, &at);
        if (type == REC_EOF)
            why = "premature end of file";
        else if (type == REC_ERROR)
            why = str_cstr(&r.error);
        else if (!type_legal(st.seg, type))
            why = "record type not allowed here";
        else if (st.seg == SEG_ENVELOPE && type != REC_CONTENT)
            why = envelope_record(env, &st, type, &data, at);
        else if (st.seg == SEG_FINAL && type == REC_ATTR) /* e.g. filter=, redirect= */
            why = add_attr(env, &data) < 0 ? "malformed attribute record" : NULL;
        else
            why = segment_record(env, &st, type, &data, at);
    }
    if (why == NULL && rec_get(&r, &data, limit, NULL) != REC_EOF)
        why = "data after end record";
    if (why)
        str_setf(err, "%s", why);
    free(st.pending_orig);
    free(st.pending_orcpt);
    rec_reader_release(&r);
    str_release(&data);
    return why ? -1 : 0;
}

void queue_envelope_release(struct queue_envelope *env)
{
    free(env->sender);
    argv_free(env->attr_names);
    argv_free(env->attr_values);
    for (size_t i = 0; i < env->nrcpt; i++) {
        free(env->rcpts[i].address);
        free(env->rcpts[i].orig);
        free(env->rcpts[i].orcpt);
    }
    free(env->rcpts);
    memset(env, 0, sizeof(*env));
}

const char *queue_envelope_attr(const struct queue_envelope *env, const char *name)
{
    for (size_t i = 0; i < env->attr_names->n; i++)
        if (strcmp(env->attr_names->v[i], name) == 0)
            return env->attr_values->v[i];
    return NULL;
}

int queue_file_mark_done(int fd, const struct queue_rcpt *rcpt)
{
    char done = REC_DONE;
    return pwrite(fd, &done, 1, rcpt->offset) == 1 ? 0 : -1;
}

void queue_content_open(struct rec_reader *r, int fd, const struct queue_envelope *env)
{
    lseek(fd, env->content_offset, SEEK_SET);
    rec_reader_init(r, fd, env->content_offset);
}

int queue_content_get(struct rec_reader *r, struct str *data, size_t limit)
{
    int type = rec_get(r, data, limit, NULL);
    if (type == REC_LINE || type == REC_PART)
        return type;
    if (type == REC_XTRA)
        return 0;
    if (type >= 0 || type == REC_EOF)
        str_setf(&r->error, "unexpected record in message content");
    return REC_ERROR;
}
