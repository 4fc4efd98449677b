/* qmgr: the queue manager's internal interfaces. Messages move incoming/deferred -> active;
 * each pending recipient is resolved, grouped per transport and next hop into jobs of at most
 * the transport's recipient limit, and jobs run as non-blocking delivery-request connections
 * to private/<transport> in the skeleton's event loop, within per-transport process limits
 * and per-destination concurrency windows. docs/qmgr.md has the details. */
#ifndef KESTREL_QMGR_H
#define KESTREL_QMGR_H

#include "base/str.h"
#include "mail/deliver_request.h"
#include "mail/queue_file.h"

#include <stddef.h>

#define QMGR_RECORD_LIMIT (1L << 20)    /* longest queue file record read */
#define QMGR_DEFAULT_ACTIVE_LIMIT 20000 /* messages in active/ at once */
#define QMGR_REPLY_LIMIT (1L << 20)     /* bytes of one agent reply */
#define QMGR_MAX_TRANSPORTS 1000
#define QMGR_SCAN_DEPTH 8 /* hashed queue subdirectory levels walked */

/* Per-recipient outcome of the current run. */
enum qrcpt_state { QR_IDLE, QR_QUEUED, QR_DONE, QR_DEFERRED };

struct qrcpt {
    enum qrcpt_state state;
    struct str dsn, reason; /* last deferral */
};

struct qmsg {
    char *id;
    int fd; /* the file in active/ */
    struct queue_envelope env;
    struct qrcpt *rcpt; /* env.nrcpt entries */
    double arrival, queue_delay, active_since;
    size_t jobs_pending;
    int deferred; /* some recipient deferred in this run */
    int bounced;  /* some recipient bounced in this run */
    struct qmsg *next, *prev;
};

struct qtransport {
    char *name;
    int proc_limit; /* master.cf maxproc / default_process_limit */
    int dest_limit; /* <transport>_destination_concurrency_limit */
    int rcpt_limit; /* <transport>_destination_recipient_limit */
    int active;
    struct qtransport *next;
};

struct qdest {
    struct qtransport *tr;
    char *nexthop;
    int active, window;
    struct qjob *head, *tail;
    struct qdest *next;
};

struct qjob {
    struct qmsg *msg;
    struct qdest *dest;
    size_t *idx;    /* recipient indexes in msg->env.rcpts */
    char **address; /* the address to deliver to (after resolving/redirect) */
    size_t n, cap;
    /* connection */
    int fd, state;
    struct str in, out;
    size_t out_done;
    unsigned long timer;
    double started;
    struct qjob *next;
};

struct qmgr_config {
    struct queue_naming layout;
    char *hash_names;
    long queue_run_delay, min_backoff, max_backoff, max_lifetime, bounce_lifetime;
    long delay_warning, ipc_timeout, agent_timeout;
    long active_limit;
    int initial_concurrency;
};

extern struct qmgr_config qmgr_cfg;
extern size_t qmgr_active_count;

/* backoff.c */
long qmgr_backoff(double age, long min_backoff, long max_backoff);
int qmgr_expired(double age, int null_sender, long max_lifetime, long bounce_lifetime);

/* scan.c */
void qmgr_recover_active(void);
void qmgr_scan(const char *queue, int ignore_time);
void qmgr_move_file(const char *id, const char *from_queue, const char *to_queue);

/* message.c */
void qmgr_message_open(const char *path, const char *queue, const char *id);
void qmgr_job_result(struct qjob *job, const struct deliver_reply *reply, const char *failure);
void qmgr_message_check_done(struct qmsg *m);

/* transport.c */
void qmgr_transport_init(void);
struct qdest *qmgr_dest_find(const char *transport, const char *nexthop);
void qmgr_job_enqueue(struct qjob *job);
void qmgr_dispatch(void);
void qmgr_job_finished(struct qjob *job, int agent_ok);
void qmgr_job_free(struct qjob *job);

/* agent.c */
int qmgr_agent_start(struct qjob *job); /* 0 started, 1 retry later (busy), -1 failed */

/* bounce_client.c */
int qmgr_bounce_request(const char *op, struct qmsg *m, struct str *why);
int qmgr_notify_2bounce(void); /* notify_classes has 2bounce */

#endif
