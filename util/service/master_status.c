/* master_status: formatting and strict parsing of child-to-master status lines. */
#include "service/master_status.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int master_status_send(int fd, pid_t pid, int status)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "%ld %s\n", (long)pid,
                     status == MASTER_STATUS_BUSY ? "busy" : "idle");
    ssize_t w;
    do
        w = write(fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
    return w == n ? 0 : -1;
}

int master_status_parse(const char *line, size_t len, pid_t *pid, int *status)
{
    long v = 0;
    size_t i = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9' && i < 10)
        v = v * 10 + (line[i++] - '0');
    if (i == 0 || i >= len || line[i] != ' ' || v <= 0)
        return -1;
    const char *word = line + i + 1;
    size_t wlen = len - i - 1;
    if (wlen == 4 && memcmp(word, "busy", 4) == 0)
        *status = MASTER_STATUS_BUSY;
    else if (wlen == 4 && memcmp(word, "idle", 4) == 0)
        *status = MASTER_STATUS_IDLE;
    else
        return -1;
    *pid = (pid_t)v;
    return 0;
}
