/* master.h: the master daemon's shared state: services from master.cf, their listeners and
 * child processes. Each master_*.c file handles one role (see docs/architecture.md). */
#ifndef KESTREL_MASTER_H
#define KESTREL_MASTER_H

#include "base/argv.h"
#include "base/events.h"
#include "mail/mastercf.h"
#include "service/master_pid.h"

#include <sys/types.h>

#define MASTER_MAX_LISTENERS 64

struct master_service {
    char *key;      /* "name/type", the identity across reloads */
    char *name;     /* master.cf column 1 */
    char *type;     /* inet, unix, unix-dgram, fifo, pass */
    char *path;     /* absolute path of the daemon executable */
    char *endpoint; /* socket or fifo path (unix, fifo, pass, unix-dgram), relative to the queue */
    struct argv *args; /* master.cf command arguments after the command name */
    int private_flag, unpriv_flag, chroot_flag;
    int wakeup, wakeup_if_used;
    int max_proc; /* 0: unlimited */
    int listen_fds[MASTER_MAX_LISTENERS];
    int nlisten;
    int status_fd[2]; /* children write [1], master reads [0] */
    struct str status_buf;
    int total;    /* running children */
    int avail;    /* idle children */
    int watching; /* master watches the listeners (no idle child) */
    int throttled;
    int used;    /* a client came since the last wakeup (for '?' wakeups) */
    int removed; /* gone from master.cf: wait for the children, then free */
    unsigned long wakeup_timer, throttle_timer;
    struct master_service *next;
};

struct master_proc {
    pid_t pid;
    struct master_service *service;
    int avail;     /* reported idle */
    int use_count; /* busy reports seen */
    struct master_proc *next;
};

/* master_ent.c: master.cf entries to services. */
struct master_service *master_service_new(const struct mastercf_entry *e, struct str *err);
void master_service_free(struct master_service *s);
/* 1 when two services would run the same way (same command, args and flags). */
int master_service_same(const struct master_service *a, const struct master_service *b);

/* master_listen.c */
int master_listen_open(struct master_service *s, struct str *err);
void master_listen_close(struct master_service *s);

/* master_avail.c: who is idle, when to spawn, when to watch the listeners. */
void master_avail_update(struct event_loop *loop, struct master_service *s);
void master_status_watch(struct event_loop *loop, struct master_service *s);
void master_status_unwatch(struct event_loop *loop, struct master_service *s);

/* master_spawn.c */
void master_spawn(struct event_loop *loop, struct master_service *s);
void master_reap(struct event_loop *loop);
void master_signal_children(struct master_service *s, int signo);
void master_signal_all(int signo);
void master_cancel_throttle(struct event_loop *loop, struct master_service *s);
struct master_proc *master_proc_find(pid_t pid);
int master_proc_count(void);

/* master_wakeup.c */
void master_wakeup_start(struct event_loop *loop, struct master_service *s);
void master_wakeup_stop(struct event_loop *loop, struct master_service *s);

/* master_config.c: loading services and reloading. */
extern struct master_service *master_services;
int master_config_start(struct event_loop *loop, struct str *err);
void master_config_reload(struct event_loop *loop);
void master_config_stop(struct event_loop *loop);
/* A removed service whose last child is gone: free it. */
void master_config_forget(struct event_loop *loop, struct master_service *s);

#endif
