/* master_status: the status messages a child sends master over the status pipe
 * (MASTER_STATUS_FD): one line "<pid> busy\n" or "<pid> idle\n", short enough to be written
 * atomically. Master trusts a message only for a pid it spawned for that service. */
#ifndef KESTREL_SERVICE_MASTER_STATUS_H
#define KESTREL_SERVICE_MASTER_STATUS_H

#include <stddef.h>
#include <sys/types.h>

enum { MASTER_STATUS_IDLE = 0, MASTER_STATUS_BUSY = 1 };

/* Child side: returns 0, or -1 when master is gone (the pipe is closed). */
int master_status_send(int fd, pid_t pid, int status);
/* Master side: parses one line (without '\n'); returns 0 or -1 if malformed. */
int master_status_parse(const char *line, size_t len, pid_t *pid, int *status);

#endif
