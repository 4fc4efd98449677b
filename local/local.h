/* local.h: the interfaces shared by the modules of the local delivery agent: its parameters
 * (filled from main.cf by params.c, or directly by unit tests), the message being delivered,
 * the recipient being expanded, the delivery result, and the per-module entry points. */
#ifndef KESTREL_LOCAL_LOCAL_H
#define KESTREL_LOCAL_LOCAL_H

#include "base/argv.h"
#include "base/str.h"
#include "mail/mailbox_maildir.h"
#include "mail/queue_file.h"
#include "mail/sysexits.h"

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* Where a delivery target came from (allow_mail_to_commands / allow_mail_to_files classes). */
enum {
    EXP_ALIAS = 1,
    EXP_FORWARD = 2,
    EXP_INCLUDE = 4,
};

/* prepend_delivered_header classes. */
enum {
    PREPEND_COMMAND = 1,
    PREPEND_FILE = 2,
    PREPEND_FORWARD = 4,
};

/* Hard limits for everything recipient data controls. */
#define LOCAL_MAX_DEPTH 20           /* alias/.forward/:include: nesting */
#define LOCAL_MAX_TARGETS 1000       /* targets expanded from one queue recipient */
#define LOCAL_MAX_INCLUDE (1L << 20) /* bytes of one :include: or .forward file */

struct table;

struct local_params {
    const char *myhostname;
    const char *myorigin;       /* appended to addresses without a domain */
    struct argv *local_domains; /* mydestination, lowercase (plus myhostname) */
    const char *recipient_delimiter;
    const char *mail_spool_directory;
    const char *home_mailbox;
    const char *mailbox_command;
    int lock_methods;            /* mailbox_delivery_lock as LOCK_METHOD_* */
    long lock_timeout_ms;        /* deliver_lock_attempts * deliver_lock_delay */
    int stale_lock_time;         /* seconds */
    long mailbox_size_limit;     /* 0: none */
    struct table **alias_tables; /* alias_maps, opened with TABLE_FLAG_NO_SUBST */
    size_t alias_count;
    const char *forward_path;
    int mail_to_commands;  /* EXP_* mask */
    int mail_to_files;     /* EXP_* mask */
    int prepend_delivered; /* PREPEND_* mask */
    uid_t default_uid;     /* default_privs */
    gid_t default_gid;
    const char *luser_relay;
    const char *command_expansion_filter;
    long command_time_limit_ms;
    const char *sendmail_path;
    const char *shell; /* local_command_shell, "" for /bin/sh */
    int enable_original_recipient;
    const char *export_environment; /* names copied from our environment */
};

/* A delivery result; worse results replace better ones (sent < bounced < deferred). */
enum {
    LOCAL_SENT = MAILBOX_SENT,
    LOCAL_BOUNCED = MAILBOX_BOUNCED,
    LOCAL_DEFERRED = MAILBOX_DEFERRED
};

struct local_result {
    int status;
    char dsn[16];
    struct str reason;
};

/* The queue recipient being delivered and the expansion state. */
struct local_rcpt {
    const char *address; /* the current address (user@domain), as given */
    const char *orig;    /* the original recipient for orig_to= and X-Original-To */
    const char *top;     /* the queue recipient (to= of every log line) */
    int depth;
    int exp_class;  /* EXP_* of the current expansion level (0: the recipient itself) */
    int have_owner; /* commands and files run as owner_uid/owner_gid */
    uid_t owner_uid;
    gid_t owner_gid;
    struct argv *path;           /* lowercased addresses on the expansion path (loop detection) */
    size_t *targets;             /* shared counter of expanded targets */
    struct local_result *result; /* the combined result for the queue recipient */
    struct argv *forward_to;     /* external addresses collected for re-injection */
    struct argv *seen;           /* terminal targets already delivered (duplicate filter) */
};

/* Account information of a local user. */
struct local_user {
    char *name;
    uid_t uid;
    gid_t gid;
    char *home;
    char *shell;
};

/* ---- deliver.c: results and logging ---- */
void result_init(struct local_result *r);
void result_release(struct local_result *r);
/* Records one delivery outcome for rcpt: logs the Postfix line and merges into rcpt->result. */
void local_report(struct mail_message *m, struct local_rcpt *rc, int status, const char *dsn,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The request being served (its queue ID and timing go into every log line). */
struct deliver_request;
extern const struct deliver_request *local_request;

/* ---- the mail layer's mailbox writers (util/mail/mailbox_*.h, message_copy.h) ---- */
/* The mailbox options from the local parameters. */
static inline struct mailbox_opts local_mailbox_opts(const struct local_params *p)
{
    struct mailbox_opts o = {.myhostname = p->myhostname,
                             .lock_methods = p->lock_methods,
                             .lock_timeout_ms = p->lock_timeout_ms,
                             .stale_lock_time = p->stale_lock_time,
                             .size_limit = p->mailbox_size_limit};
    return o;
}

/* ---- file.c ---- */
/* Delivers to a /file destination for the current expansion (checks allow_mail_to_files). */
void file_deliver(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                  const char *path);

/* ---- command.c ---- */
/* Runs cmd with the message on stdin as uid/gid with the documented environment. */
void command_deliver(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const char *cmd, const struct local_user *u, const char *user_part,
                     const char *extension, const char *domain, int mailbox_command);
/* Nonzero when every byte of s is in the command_expansion_filter set. */
int command_filter_ok(const char *filter, const char *s);

/* ---- alias.c / forward.c ---- */
/* Looks name up in alias_maps. Returns TABLE_FOUND (value set, *owner_uid the owner of the
 * table file or 0), TABLE_NOTFOUND or TABLE_ERROR (value holds the reason). */
int alias_lookup(const struct local_params *p, const char *name, struct str *value,
                 uid_t *owner_uid, gid_t *owner_gid);
/* Splits an alias value or .forward/:include: text into targets (commas and newlines; quotes,
 * comments in files). */
struct argv *alias_split(const char *text, int is_file);
/* Expands a list of targets at one level. */
void expand_targets(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                    struct argv *targets);
/* Reads an :include: file after the safety checks; returns 0 or -1 (result reported). */
int include_read(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                 const char *path, struct str *text);
/* Checks a .forward file (owned by uid, not group/world writable, regular). Returns 1 found
 * (text set), 0 none, -1 unusable (why set; deferred). */
int forward_read(const char *path, uid_t uid, struct str *text, struct str *why);
/* Expands forward_path macros ($home, $user, $extension, $recipient_delimiter, $domain,
 * $local, $recipient, $shell; ${name?text}, ${name:text}) into a list of paths. */
struct argv *forward_paths(const char *forward_path, const char *const *names,
                           const char *const *values);

/* ---- recipient.c ---- */
/* Lowercases the local part, splits off the extension at recipient_delimiter. user and ext
 * are set (ext empty when none); domain is the lowercased domain or "". */
void recipient_split(const struct local_params *p, const char *address, struct str *user,
                     struct str *ext, struct str *domain);
/* Nonzero when the domain is local (empty, myhostname or in mydestination). */
int recipient_domain_is_local(const struct local_params *p, const char *domain);
/* Looks up a user account (getpwnam). Returns 0, or -1 (not found). */
int local_user_find(const char *name, struct local_user *u);
void local_user_free(struct local_user *u);
/* Delivers one address (recursion entry for aliases and .forward). */
void deliver_address(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const char *address, int no_alias);
/* Mailbox delivery for a known user (home_mailbox, mailbox_command, or the spool). */
void deliver_mailbox(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const struct local_user *u, const char *user_part, const char *ext,
                     const char *domain);

/* ---- privileges (deliver.c) ---- */
/* Switch effective ids for file access (only when root); returns 0 or -1. */
int local_set_eugid(uid_t uid, gid_t gid);
void local_restore_eugid(void);

/* ---- deliver.c / request.c: the request level ---- */
struct attr_list;
struct stream;
/* Delivers one queue recipient (alias expansion, forwarding) and combines the results. */
void local_deliver_recipient(const struct local_params *p, struct mail_message *m,
                             const char *address, const char *orig, struct local_result *res);
/* Delivers one decoded request (the deliver_agent_serve() callback; ctx is the struct local_params
 * and the queue hashing below). */
struct local_ctx {
    const struct local_params *p;
    const char *hash_names;
    int depth;
};
struct deliver_reply;
void local_deliver_request(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx);

/* ---- params.c ---- */
/* Fills p from main.cf (opens alias_maps). */
void local_params_load(struct local_params *p);

#endif
