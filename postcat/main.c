/* postcat: prints queue files in Postfix's postcat layout — envelope records by name, the
 * message content, the records after the content — for files named on the command line or
 * found by queue ID (-q). -e, -h and -b select envelope, header and body. */
#include "base/log.h"
#include "mail/config.h"
#include "mail/queue_record.h"
#include "mail/queue_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE 64
#define POSTCAT_RECORD_LIMIT (4 * 1024 * 1024)

enum { SHOW_ENV = 1, SHOW_HDR = 2, SHOW_BODY = 4 };

static const struct {
    int type;
    const char *name;
} rec_names[] = {
    {REC_SIZE, "message_size"},
    {REC_SENDER, "sender"},
    {REC_ATTR, "named_attribute"},
    {REC_ORIG, "original_recipient"},
    {REC_DSN_ORCPT, "dsn_orig_rcpt"},
    {REC_NOTIFY, "dsn_notify_flags"},
    {REC_RCPT, "recipient"},
    {REC_DONE, "done_recipient"},
    {REC_WARN, "warning_message_time"},
    {REC_VERSION, "queue_file_version"},
};

static const char *rec_name(int type)
{
    for (size_t i = 0; i < sizeof(rec_names) / sizeof(rec_names[0]); i++)
        if (rec_names[i].type == type)
            return rec_names[i].name;
    return NULL;
}

static void print_time(const char *label, const char *data)
{
    time_t t = (time_t)atol(data);
    char buf[64];
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
    printf("%s: %s\n", label, buf);
}

/* Prints one envelope or final-segment record. */
static void print_record(int type, const struct str *d)
{
    if (type == REC_TIME) {
        print_time("message_arrival_time", str_cstr(d));
        return;
    }
    const char *name = rec_name(type);
    if (type == REC_VERSION)
        return;
    if (name)
        printf("%s: %s\n", name, str_cstr(d));
    else
        printf("record type %c: %s\n", type, str_cstr(d));
}

struct cat_state {
    int in_header; /* content: still in the primary header */
    int bol;       /* at the start of a content line */
};

static void print_content(struct cat_state *st, int type, const struct str *d, int show)
{
    if (st->bol && type == REC_LINE && d->len == 0 && st->in_header) {
        st->in_header = 0;
        if (show & SHOW_HDR && show & SHOW_BODY)
            printf("\n");
        st->bol = 1;
        return;
    }
    if (st->bol && st->in_header && d->len && d->data[0] != ' ' && d->data[0] != '\t' &&
        strchr(str_cstr(d), ':') == NULL)
        st->in_header = 0;
    int want = st->in_header ? SHOW_HDR : SHOW_BODY;
    if (show & want) {
        fwrite(d->data ? d->data : "", 1, d->len, stdout);
        if (type == REC_LINE)
            putchar('\n');
    }
    st->bol = type == REC_LINE;
}

static int cat_file(int fd, const char *name, int show)
{
    struct rec_reader r;
    struct str d = STR_INIT;
    struct cat_state st = {1, 1};
    int seg = 0, type, rc = 0; /* 0 envelope, 1 content, 2 final */
    rec_reader_init(&r, fd, 0);
    if (show & SHOW_ENV)
        printf("*** ENVELOPE RECORDS %s ***\n", name);
    while ((type = rec_get(&r, &d, POSTCAT_RECORD_LIMIT, NULL)) >= 0 && type != REC_END) {
        if (type == REC_CONTENT) {
            seg = 1;
            if (show & SHOW_ENV)
                printf("*** MESSAGE CONTENTS %s ***\n", name);
        } else if (type == REC_XTRA) {
            seg = 2;
            if (show & SHOW_ENV)
                printf("*** HEADER EXTRACTED %s ***\n", name);
        } else if (seg == 1) {
            print_content(&st, type, &d, show);
        } else if (show & SHOW_ENV) {
            print_record(type, &d);
        }
    }
    if (type == REC_END && show & SHOW_ENV)
        printf("*** MESSAGE FILE END %s ***\n", name);
    if (type < 0) {
        fflush(stdout);
        msg_warn("%s: %s", name, type == REC_ERROR ? str_cstr(&r.error) : "premature end of file");
        rc = 1;
    }
    rec_reader_release(&r);
    str_release(&d);
    return rc;
}

static int cat_path(const char *path, const char *name, int show)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        msg_warn("open %s: %s", name, strerror(errno));
        return 1;
    }
    int rc = cat_file(fd, name, show);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    struct argv *ids = argv_new();
    int show = 0, c, rc = 0;
    log_init("postcat");
    log_set_stderr(1);
    while ((c = getopt(argc, argv, "bc:ehoq:rsv")) != -1) {
        switch (c) {
        case 'b':
            show |= SHOW_BODY;
            break;
        case 'e':
            show |= SHOW_ENV;
            break;
        case 'h':
            show |= SHOW_HDR;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'q':
            argv_add(ids, optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'o':
        case 'r':
        case 's':
            break;
        default:
            msg_fatal_status(EX_USAGE, "usage: postcat [-bdehnoqv] [-c config_dir] [files...]");
        }
    }
    if (show == 0)
        show = SHOW_ENV | SHOW_HDR | SHOW_BODY;
    struct str err = STR_INIT, queue = STR_INIT, rel = STR_INIT, path = STR_INIT;
    /* Files named on the command line need no configuration. */
    if (config_load(config_dir, &err) < 0 && ids->n > 0)
        msg_fatal("%s", str_cstr(&err));
    struct queue_naming l;
    queue_scan_layout(&l);
    for (size_t i = 0; i < ids->n; i++) {
        int found = queue_find(&l, ids->v[i], queue_scan_all, &queue, &rel);
        if (found <= 0) {
            msg_warn(found < 0 ? "invalid mail queue id: %s" : "%s: not found", ids->v[i]);
            rc = 1;
            continue;
        }
        str_setf(&path, "%s/%s", l.queue_directory, str_cstr(&rel));
        rc |= cat_path(str_cstr(&path), str_cstr(&rel), show);
    }
    for (int i = optind; i < argc; i++)
        rc |= cat_path(argv[i], argv[i], show);
    if (ids->n == 0 && optind == argc)
        rc |= cat_file(0, "stdin", show);
    argv_free(ids);
    str_release(&err);
    str_release(&queue);
    str_release(&rel);
    str_release(&path);
    return rc;
}
