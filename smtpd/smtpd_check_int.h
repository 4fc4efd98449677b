/* smtpd_check_int: the internals shared by the smtpd_check modules (compiled restriction
 * lists, the checker's tables and settings, one evaluation's state and the reply helpers).
 * Not for the protocol engine: it uses smtpd_check.h only. */
#ifndef KESTREL_SMTPD_CHECK_INT_H
#define KESTREL_SMTPD_CHECK_INT_H

#include "smtpd_check.h"

#include <stddef.h>

#include "mail/address.h"
#include "mail/maps.h"
#include "mail/match_list.h"

/* Results of one restriction or list (SMTPD_CHECK_OK / SMTPD_CHECK_REJECT from the header). */
enum { SMTPD_CHECK_DUNNO = 2 };

/* Nesting of restriction classes and lists named in access map results. */
#define SMTPD_CHECK_MAX_DEPTH 20
/* Restrictions in one list; compiled lists from table results kept per process. */
#define SMTPD_CHECK_MAX_ITEMS 1000
#define SMTPD_CHECK_MAX_DYNAMIC 100

struct sc_eval;
struct sc_item;
typedef int (*sc_fn)(struct sc_eval *ev, const struct sc_item *it);

struct sc_item {
    char *name; /* the restriction name, or a class name */
    char *arg;  /* table spec, DNS list domain, service, number; NULL when none */
    sc_fn fn;
    struct maps *maps; /* check_*_access tables */
    int class_index;   /* a restriction class: index into checker->classes, else -1 */
};

struct sc_list {
    char *title;
    struct sc_item *items;
    size_t n;
};

struct sc_class {
    char *name;
    struct sc_list list;
};

struct sc_dynamic {
    char *value;
    struct sc_list list;
};

struct smtpd_checker {
    struct sc_list client, helo, sender, relay, recipient, data, eod, etrn;
    struct sc_class *classes;
    size_t nclasses;
    struct sc_dynamic dynamic[SMTPD_CHECK_MAX_DYNAMIC];
    size_t ndynamic;
    struct match_list *mynetworks, *mydestination, *relay_domains, *virtual_alias_domains,
        *virtual_mailbox_domains, *mx_backup_networks, *event_exceptions, *debug_peers;
    struct maps *local_rcpt, *virtual_alias, *virtual_mailbox, *relay_rcpt, *sender_login,
        *relay_clientcerts, *rbl_reply;
    struct argv *interfaces; /* our addresses (inet_interfaces/proxy_interfaces) as text */
    int delay_reject, reject_unlisted_rcpt, reject_unlisted_sender, access_parent_style;
    int allow_percent_hack, swap_bangpath, soft_bounce;
    int show_unknown_table; /* show_user_unknown_table_name */
    int no_unknown_rcpt;    /* receive_override_options = no_unknown_recipient_checks */
    char *null_key, *delimiters, *double_bounce, *myhostname, *default_rbl_reply;
    int reject_code, defer_code, access_reject_code, access_defer_code, relay_code, rbl_code,
        non_fqdn_code, invalid_hostname_code, unknown_address_code, unknown_client_code,
        unknown_hostname_code, unknown_local_code, unknown_relay_code, unknown_valias_code,
        unknown_vmailbox_code, multi_bounce_code, nullmx_code;
    struct anvil_client *anvil;
    int conn_count_limit, conn_rate_limit, msg_rate_limit, rcpt_rate_limit, newtls_limit,
        auth_limit;
    char *service;
    struct sc_policy *policies; /* check_policy_service clients (smtpd_check_policy.c) */
    size_t npolicies;
    struct sc_rewrite_item *rewrite; /* local_header_rewrite_clients (smtpd_check_rewrite.c) */
    size_t nrewrite;
};

/* A deferred verdict (defer_if_permit / defer_if_reject). */
struct sc_defer {
    int active;
    struct str reply;
};

/* Per-session state behind ctx->priv. */
struct smtpd_check_priv {
    /* Verdicts of the client, HELO and sender stages (reported at RCPT). */
    int done[3], status[3];
    struct str reply[3];
    struct sc_defer dip[3]; /* defer_if_permit raised at each of those stages */
    struct str scratch;
    int anvil_connected; /* smtpd_check_connect_limits reported a connect */
    struct str instance; /* the policy "instance" attribute of this message */
};

enum { SC_STAGE_CLIENT, SC_STAGE_HELO, SC_STAGE_SENDER };

/* One evaluation of a stage. */
struct sc_eval {
    struct smtpd_checker *c;
    struct smtpd_check_ctx *ctx;
    struct str *reply;
    const char *cmd;            /* the SMTP command for log lines: CONNECT, HELO, MAIL, RCPT, ... */
    const char *rname, *rclass; /* "<rname>: rclass rejected: ..." of the list evaluated */
    struct sc_defer dip, dir;
    int warn_if_reject, warn_next;
    int depth;
};

/* smtpd_check_rewrite.c: compiles / frees local_header_rewrite_clients (warnings for unknown
 * words, as Postfix logs them). */
void sc_rewrite_compile(struct smtpd_checker *c);
void sc_rewrite_free(struct smtpd_checker *c);

/* smtpd_check.c */
int sc_eval_list(struct sc_eval *ev, const struct sc_list *l);
/* Evaluates a table result that names restrictions ("permit_mynetworks, reject", a class). */
int sc_eval_words(struct sc_eval *ev, const char *value, int *known);
int sc_compile(struct smtpd_checker *c, const char *title, const char *value, struct sc_list *l,
               struct str *err);
void sc_list_free(struct sc_list *l);
/* A list of tables ("proxy:" is a transparent prefix; "nis:" tables are left out). */
struct maps *sc_maps_open(const char *title, const char *value);
/* Rejects with "code dsn text" (the dsn class follows the code's first digit). Honors
 * warn_if_reject, defer_if_reject and soft_bounce. Returns SMTPD_CHECK_REJECT or DUNNO. */
int sc_reject(struct sc_eval *ev, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records defer_if_permit / defer_if_reject with their reply. Returns DUNNO. */
int sc_defer_if(struct sc_eval *ev, struct sc_defer *d, int code, const char *dsn, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
/* "NOQUEUE: <what>: RCPT from name[addr]: <text>; from=<> to=<> proto=ESMTP helo=<>". */
void sc_log(struct sc_eval *ev, const char *what, const char *text);
const char *sc_client_name(const struct smtpd_check_ctx *ctx);
/* The "name[addr]" of the client. */
const char *sc_client_id(struct sc_eval *ev);

/* smtpd_check_limits.c */
void smtpd_check_limits_free(struct smtpd_checker *c);

/* smtpd_check_access.c: check_*_access and table results. */
int sc_table_result(struct sc_eval *ev, const struct sc_item *it, const char *value,
                    const char *reply_name, const char *reply_class, const char *key);
int sc_check_client_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_reverse_client_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_helo_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_sender_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_recipient_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_ccert_access(struct sc_eval *ev, const struct sc_item *it);
int sc_check_mx_ns_a_access(struct sc_eval *ev, const struct sc_item *it);

/* smtpd_check_policy.c: check_policy_service. */
int sc_check_policy_service(struct sc_eval *ev, const struct sc_item *it);
/* The policy request for the current stage (the exact wire text, with the final empty line). */
void sc_policy_request(struct sc_eval *ev, const char *context, struct str *req);
void sc_policy_free(struct smtpd_checker *c);
/* Connections opened to the policy service spec so far (-1: not used yet). For tests. */
long sc_policy_connections(struct smtpd_checker *c, const char *spec);

/* smtpd_check_addr.c: relay control, recipient tables, address and HELO syntax. */
int sc_domain_class(struct smtpd_checker *c, const char *domain); /* SC_DOM_* or -1 (error) */
enum { SC_DOM_OTHER, SC_DOM_LOCAL, SC_DOM_VALIAS, SC_DOM_VMAILBOX, SC_DOM_RELAY };
int sc_permit_mynetworks(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unauth_destination(struct sc_eval *ev, const struct sc_item *it);
int sc_defer_unauth_destination(struct sc_eval *ev, const struct sc_item *it);
int sc_permit_auth_destination(struct sc_eval *ev, const struct sc_item *it);
int sc_permit_mx_backup(struct sc_eval *ev, const struct sc_item *it);
int sc_rcpt_maps(struct sc_eval *ev, const char *addr, const char *reply_class, int sender);
int sc_reject_unlisted_sender(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unlisted_recipient(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_non_fqdn_sender(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_non_fqdn_recipient(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_invalid_helo(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_non_fqdn_helo(struct sc_eval *ev, const struct sc_item *it);
int sc_sender_login_mismatch(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_multi_recipient_bounce(struct sc_eval *ev, const struct sc_item *it);
/* The domain of an address after routing operators ("" when none); 1 when the local part
 * carried routing operators. */
int sc_resolve(struct smtpd_checker *c, const char *addr, struct str *domain);

/* smtpd_check_dns.c: DNS based restrictions. */
int sc_reject_unknown_helo(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unknown_sender_domain(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unknown_recipient_domain(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unknown_client(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_unknown_reverse_client(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_rbl_client(struct sc_eval *ev, const struct sc_item *it);
int sc_permit_dnswl_client(struct sc_eval *ev, const struct sc_item *it);
int sc_reject_rhsbl(struct sc_eval *ev, const struct sc_item *it);
int sc_permit_rhswl_client(struct sc_eval *ev, const struct sc_item *it);
/* Template expansion of rbl replies: $name, ${name}, ${name?text}, ${name:text}. */
void sc_expand_template(const char *tmpl, const char *const *names, const char *const *values,
                        struct str *out);

#endif
