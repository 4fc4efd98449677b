/* cleanup_submit: a test client of the cleanup service through cleanup_client.h. Usage:
 * cleanup_submit <endpoint> <flags>; stdin has one record per line, "<type><data>" (e.g.
 * "Fa@b", "Rc@d", "M", "LSubject: x", "X"). Prints "queue_id=<id>" and then
 * "status=<n> reason=<text>"; exits 0 when queued. */
#include "base/str.h"
#include "mail/cleanup_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cleanup_submit endpoint flags\n");
        return 2;
    }
    struct str id = STR_INIT, why = STR_INIT;
    struct cleanup_client *c = cleanup_open(argv[1], atoi(argv[2]), 10, &id, &why);
    if (c == NULL) {
        printf("open failed: %s\n", str_cstr(&why));
        str_release(&id);
        str_release(&why);
        return 1;
    }
    printf("queue_id=%s\n", str_cstr(&id));
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = 0;
        if (n > 0)
            cleanup_put(c, line[0], line + 1, (size_t)n - 1);
    }
    free(line);
    int status = cleanup_finish(c, &why);
    printf("status=%d reason=%s\n", status, str_cstr(&why));
    str_release(&id);
    str_release(&why);
    return status == 0 ? 0 : 1;
}
