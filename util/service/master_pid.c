/* master_pid: one master per queue directory (used by master, and by the postfix command to
 * find it). The pid file is locked with fcntl for the master's
 * whole life, so a master killed with SIGKILL leaves a file the next start can reuse. */
#include "service/master_pid.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pid_fd = -1;
static char *pid_path;

int master_pid_lock(const char *pid_file, struct str *err)
{
    int fd = open(pid_file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        str_setf(err, "open lock file %s: %s", pid_file, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        str_setf(err, "the Postfix mail system is already running");
        close(fd);
        return -1;
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "%*ld\n", 10, (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        str_setf(err, "write lock file %s: %s", pid_file, strerror(errno));
        close(fd);
        return -1;
    }
    pid_fd = fd;
    pid_path = xstrdup(pid_file);
    return 0;
}

void master_pid_remove(void)
{
    if (pid_path)
        unlink(pid_path);
}

int master_pid_running(const char *pid_file, pid_t *pid)
{
    int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int running = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    if (running)
        *pid = fl.l_pid;
    close(fd);
    return running;
}
