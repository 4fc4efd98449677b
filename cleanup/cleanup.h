/* cleanup: the cleanup daemon's internal interface — its configuration, the per-message state,
 * and the modules: session (protocol), envelope, headers, rewrite, checks and output. */
#ifndef KESTREL_CLEANUP_H
#define KESTREL_CLEANUP_H

#include "base/argv.h"
#include "base/str.h"
#include "base/stream.h"
#include "mail/cleanup_client.h"
#include "mail/maps.h"
#include "mail/queue_file.h"

#include <stdio.h>
#include <time.h>

struct mime_state;

/* Address classes (canonical_classes, masquerade_classes). */
#define CLASS_ENV_SENDER (1 << 0)
#define CLASS_ENV_RCPT (1 << 1)
#define CLASS_HDR_SENDER (1 << 2)
#define CLASS_HDR_RCPT (1 << 3)

/* Fixed protocol limits (everything else comes from main.cf). */
#define CLEANUP_REC_LIMIT (1024 * 1024)  /* longest record a client may send */
#define CLEANUP_ENV_LIMIT 4096           /* longest envelope address or attribute */
#define CLEANUP_MILTER_STATE_LIMIT 65536 /* smtpd's milter state attribute */
#define CLEANUP_MAX_RCPT 100000          /* envelope recipients per message */
#define CLEANUP_MAX_ATTRS 100            /* A records per message */
#define CLEANUP_MAX_HEADERS 10000        /* header fields per message */
#define CLEANUP_CANON_DEPTH 10           /* canonical mapping repetitions */

struct cleanup_config {
    const char *myhostname, *myorigin, *mydomain, *mail_name;
    const char *undisclosed_header, *header_from_format, *remote_header_domain;
    const char *recipient_delimiter, *propagate_ext;
    int append_at_myorigin, append_dot_mydomain, always_add, enable_orig;
    long message_size_limit, header_size_limit, token_limit, line_length_limit, hopcount_limit;
    long dup_limit, virt_recursion, virt_expansion, body_checks_size_limit;
    long long queue_minfree;
    long delay_warning_time; /* seconds; 0: no W record */
    struct maps *canonical, *send_canon, *rcpt_canon, *virtual_alias;
    struct maps *header_checks, *mime_header_checks, *nested_header_checks, *body_checks;
    struct maps *milter_header_checks;
    /* MIME processing (cleanup_mime.c) */
    int disable_mime, strict_7bit_headers, strict_8bitmime, strict_8bitmime_body, strict_encoding;
    long mime_nesting_limit, mime_boundary_limit;
    const char *non_smtpd_milters;
    int canon_classes, send_canon_classes, rcpt_canon_classes, masq_classes;
    struct argv *masq_domains, *masq_exceptions, *local_domains;
    struct queue_naming layout;
};

extern struct cleanup_config cleanup_cfg;

/* Loads cleanup_cfg from main.cf (opens the tables). */
void cleanup_config_load(void);

struct cleanup_rcpt {
    char *addr;  /* as it will be written (R) */
    char *orig;  /* original recipient (O) or NULL */
    char *orcpt; /* DSN ORCPT (D) or NULL */
    long notify; /* N, 0 when absent */
};

struct rcpt_list {
    struct cleanup_rcpt *v;
    size_t n, cap;
};

struct cleanup_header {
    struct str text; /* the logical header, physical lines joined by '\n' */
};

struct cleanup_state {
    int flags;
    int status;        /* CLEANUP_STAT_* bits */
    struct str reason; /* "<dsn> <text>" when not the default for status */
    int discard, hold;
    const char *queue_id;
    time_t arrival;
    /* envelope */
    struct str sender;
    int have_sender;
    struct argv *attr_names, *attr_values;
    struct rcpt_list rcpts;      /* as received */
    struct cleanup_rcpt pending; /* O/D/N waiting for their R */
    struct argv *extracted;      /* sendmail -t recipients */
    struct argv *resent_extracted;
    struct argv *final_names, *final_values; /* A records after the content */
    struct argv *bcc;                        /* BCC actions */
    /* headers */
    struct cleanup_header *hdrs;
    size_t nhdr, hdr_cap;
    size_t header_bytes;
    int in_headers;
    int hops;
    int seen;              /* HDR_SEEN_* bits */
    struct str message_id; /* for the log */
    int message_id_resent;
    /* body */
    struct mime_state *mime; /* the MIME structure after the primary headers */
    struct str scratch;      /* a body line under body_checks */
    struct str line;         /* the logical line being assembled from P/L records */
    struct queue_file_writer *w;
    /* non_smtpd_milters (cleanup_milter.c): the envelope and headers wait in memory and the
     * body in an unnamed spool file until the filters have seen the message */
    struct milters *milters;
    int milter_fds[32]; /* smtpd's milter connections, until the state arrives */
    int smtpd_milters;  /* the milters are smtpd's: only the end-of-message stage runs here */
    struct argv *mhdrs; /* the headers to write, in order */
    FILE *spool;        /* body lines: 4-byte length + bytes */
    long spool_bytes;
    int spooling, spool_skip_sep, spool_had_sep;
    struct str mbody; /* a filter's replacement body (CRLF lines) */
    int mbody_set;
    size_t mbody_pos;
};

#define SEEN_FROM (1 << 0)
#define SEEN_DATE (1 << 1)
#define SEEN_MSGID (1 << 2)
#define SEEN_TO_CC (1 << 3)
#define SEEN_RESENT (1 << 4)
#define SEEN_RESENT_FROM (1 << 5)
#define SEEN_RESENT_DATE (1 << 6)
#define SEEN_RESENT_MSGID (1 << 7)
#define SEEN_RESENT_TO_CC (1 << 8)

void cleanup_state_init(struct cleanup_state *st, int flags);
void cleanup_state_release(struct cleanup_state *st);
/* Sets status bits; the first reason given is kept. */
void cleanup_fail(struct cleanup_state *st, int status, const char *reason);
const char *cleanup_attr(const struct cleanup_state *st, const char *name);

/* cleanup_session.c: one client. */
struct stream;
void cleanup_session(struct stream *client);

/* cleanup_envelope.c: client envelope records (validation) and the written envelope. */
int cleanup_envelope_record(struct cleanup_state *st, int type, const struct str *data,
                            struct str *err);
/* An A record after the content (same names as in the envelope). */
int cleanup_final_attr(struct cleanup_state *st, const struct str *data, struct str *err);
int cleanup_envelope_complete(struct cleanup_state *st, struct str *err);
/* Rewrites and expands recipients and the sender; writes the envelope segment. */
void cleanup_envelope_write(struct cleanup_state *st);

/* cleanup_headers.c */
/* A physical content line while in the header section; returns 0 while still in headers,
 * 1 when the line ended the header section (and was consumed as the first body line). */
int cleanup_header_line(struct cleanup_state *st, const char *line, size_t len);
/* The header section is complete: checks, rewriting, added headers, then the envelope and
 * the headers are written. */
void cleanup_headers_done(struct cleanup_state *st);
void cleanup_format_date(time_t when, struct str *out);

/* cleanup_rewrite.c */
void cleanup_canonicalize(const char *addr, struct str *out);
/* Canonical mapping for one class, then masquerading. Returns 0 or -1 (table error). */
int cleanup_map_address(struct cleanup_state *st, int class, const char *addr, struct str *out);
void cleanup_masquerade(const char *addr, struct str *out);
/* Expands addr through virtual_alias_maps into out (leaves). 0, or -1 with status set. */
int cleanup_virtual_expand(struct cleanup_state *st, const char *addr, struct argv *out);

/* cleanup_checks.c */
enum check_result { CHECK_KEEP, CHECK_DROP, CHECK_REPLACED };
/* Applies a check table to a header or body line. REPLACE/PREPEND results go to replacement /
 * prepend (prepend text is appended to the argv). */
enum check_result cleanup_check(struct cleanup_state *st, struct maps *m, const char *class,
                                struct str *text, struct argv *prepend);
/* Appends the client for log lines: "name[address]", or "local". */
void cleanup_log_origin(const struct cleanup_state *st, struct str *out);

/* cleanup_milter.c: non_smtpd_milters (docs/milter.md). */
/* Opens the filters for a message with CLEANUP_FLAG_MILTER (status set on a bad list). */
void cleanup_milter_open(struct cleanup_state *st);
/* CLEANUP_FLAG_SMTPD_MILTERS: receives the descriptors of smtpd's milter sessions (right after
 * the queue ID is sent, before anything else is read); -1 on a broken hand-over. */
int cleanup_milter_receive(struct cleanup_state *st, struct stream *client);
/* The "milters=" attribute of an smtpd submission: the filters' state (0, or -1 with err). */
int cleanup_milter_import(struct cleanup_state *st, const char *text, struct str *err);
/* The header section is complete: keeps the headers (out, received) for the filters and
 * starts spooling the body. Returns 1 when milters are active (nothing written yet). */
int cleanup_milter_hold_headers(struct cleanup_state *st, struct argv *out, struct str *received);
/* A body line while spooling. */
void cleanup_milter_spool_line(struct cleanup_state *st, const char *line, size_t len);
/* All content is in: runs the filters, applies their verdict and edits, and writes the
 * envelope, headers and body to the queue file. */
void cleanup_milter_finish(struct cleanup_state *st);
void cleanup_milter_release(struct cleanup_state *st);

/* cleanup_out.c */
void cleanup_out_line(struct cleanup_state *st, const char *line, size_t len);
void cleanup_out_header(struct cleanup_state *st, const struct str *hdr);

/* cleanup_mime.c: the content after the primary headers, through the MIME parser: part
 * headers -> mime_header_checks, attached message headers -> nested_header_checks, body
 * lines -> body_checks (body_checks_size_limit bytes of each body segment); MIME errors
 * reject (5.6.0). */
/* Starts the parser (cleanup_headers_done, before the primary headers are processed). */
void cleanup_mime_start(struct cleanup_state *st);
/* A primary header, as received (for its Content-Type / Content-Transfer-Encoding). */
void cleanup_mime_primary_header(struct cleanup_state *st, const struct str *hdr);
/* The primary header section is over (its separator is written by the caller). */
void cleanup_mime_primary_end(struct cleanup_state *st);
/* A body line (any line after the primary header section). */
void cleanup_body_line(struct cleanup_state *st, struct str *line);
/* The end of the content (before the X record): a part header still pending goes out. */
void cleanup_body_end(struct cleanup_state *st);
void cleanup_mime_release(struct cleanup_state *st);

#endif
