/* master_pid: the master's pid file, "pid/master.pid" relative to the queue directory, locked
 * with fcntl for the master's whole life; a lock held means a master is running. */
#ifndef KESTREL_SERVICE_MASTER_PID_H
#define KESTREL_SERVICE_MASTER_PID_H

#include "base/str.h"

#include <sys/types.h>

#define MASTER_PID_FILE "pid/master.pid"

/* Master: create, lock and fill the pid file; -1 with err ("... already running") if locked. */
int master_pid_lock(const char *pid_file, struct str *err);
void master_pid_remove(void);
/* 1 when a master holds the lock on pid_file (its pid in *pid), 0 when none runs. */
int master_pid_running(const char *pid_file, pid_t *pid);

#endif
