/* qmgr_inject: writes a complete queue file into incoming/ (standing in for cleanup in the
 * qmgr tests) and prints its queue ID.
 *   qmgr_inject <queue_dir> [-a name=value]... [-n notify] [-o orig] <sender> <rcpt>...
 * The message content is read from stdin, one L record per line. */
#include "base/log.h"
#include "base/str.h"
#include "mail/queue_file.h"
#include "mail/queue_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    log_init("qmgr_inject");
    if (argc < 4) {
        fprintf(stderr, "usage: qmgr_inject queue_dir [-a n=v] [-n notify] sender rcpt...\n");
        return 2;
    }
    struct queue_naming layout = {argv[1], "deferred, defer", 1, 0};
    struct queue_file_writer w;
    struct str err = STR_INIT, line = STR_INIT;
    if (queue_file_create(&w, &layout, "incoming", &err) < 0) {
        fprintf(stderr, "%s\n", err.data);
        return 1;
    }
    int i = 2;
    const char *notify = NULL, *orig = NULL;
    struct str attrs = STR_INIT;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-a") == 0)
            str_appendf(&attrs, "%s\n", argv[i + 1]);
        else if (strcmp(argv[i], "-n") == 0)
            notify = argv[i + 1];
        else if (strcmp(argv[i], "-o") == 0)
            orig = argv[i + 1];
    }
    queue_file_puts(&w, REC_SENDER, argv[i++]);
    for (char *p = attrs.data, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = 0;
        queue_file_puts(&w, REC_ATTR, p);
    }
    for (; i < argc; i++) {
        if (orig)
            queue_file_puts(&w, REC_ORIG, orig);
        if (notify)
            queue_file_puts(&w, REC_NOTIFY, notify);
        queue_file_puts(&w, REC_RCPT, argv[i]);
    }
    queue_file_start_content(&w);
    char buf[4096];
    while (fgets(buf, sizeof(buf), stdin)) {
        size_t n = strcspn(buf, "\r\n");
        queue_file_put(&w, REC_LINE, buf, n);
    }
    queue_file_put(&w, REC_XTRA, "", 0);
    struct str id = STR_INIT;
    str_set(&id, w.id.data);
    if (queue_file_publish(&w, &err) < 0) {
        fprintf(stderr, "%s\n", err.data);
        return 1;
    }
    str_release(&w.id);
    printf("%s\n", id.data);
    str_release(&err);
    str_release(&line);
    str_release(&attrs);
    str_release(&id);
    return 0;
}
