/* make_queue_file: writes a queue file with the library's writer, for the queue tool tests.
 *   make_queue_file <queue_directory> <queue> <sender> [rcpt...] < content lines
 * A recipient written as "-addr" is marked done. Prints the queue ID. Hashing follows
 * hash_queue_names/hash_queue_depth defaults ("deferred, defer", 1). */
#include "base/str.h"
#include "mail/queue_file.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: make_queue_file queue_dir queue sender [rcpt...]\n");
        return 2;
    }
    struct queue_naming l = {argv[1], "deferred, defer", 1, 0};
    struct queue_file_writer w;
    struct str err = STR_INIT;
    if (queue_file_create(&w, &l, argv[2], &err) < 0) {
        fprintf(stderr, "%s\n", str_cstr(&err));
        return 1;
    }
    queue_file_puts(&w, REC_SENDER, argv[3]);
    for (int i = 4; i < argc; i++)
        queue_file_puts(&w, argv[i][0] == '-' ? REC_DONE : REC_RCPT, argv[i] + (argv[i][0] == '-'));
    queue_file_start_content(&w);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = 0;
        queue_file_puts(&w, REC_LINE, line);
    }
    queue_file_put(&w, REC_XTRA, "", 0);
    printf("%s\n", str_cstr(&w.id));
    if (queue_file_publish(&w, &err) < 0) {
        fprintf(stderr, "%s\n", str_cstr(&err));
        return 1;
    }
    return 0;
}
