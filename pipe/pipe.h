/* pipe.h: the interfaces of the pipe delivery agent (Postfix pipe(8)): the master.cf command
 * attributes, the macro and flag expansion, and the delivery of one request to a command. */
#ifndef KESTREL_PIPE_PIPE_H
#define KESTREL_PIPE_PIPE_H

#include "base/argv.h"
#include "mail/command_attrs.h"
#include "base/str.h"
#include "mail/deliver_request.h"
#include "mail/message_copy.h"

#include <sys/types.h>

/* flags= letters. */
enum {
    PIPE_FLAG_B = 1 << 0,     /* blank line after the message */
    PIPE_FLAG_D = 1 << 1,     /* Delivered-To: */
    PIPE_FLAG_F = 1 << 2,     /* From_ line */
    PIPE_FLAG_O = 1 << 3,     /* X-Original-To: */
    PIPE_FLAG_R = 1 << 4,     /* Return-Path: */
    PIPE_FLAG_X = 1 << 5,     /* final delivery */
    PIPE_FLAG_h = 1 << 6,     /* lowercase domains, nexthop */
    PIPE_FLAG_q = 1 << 7,     /* quote address local parts */
    PIPE_FLAG_u = 1 << 8,     /* lowercase local parts */
    PIPE_FLAG_DOT = 1 << 9,   /* "." before lines starting with "." */
    PIPE_FLAG_QUOTE = 1 << 10 /* ">" before lines starting with "From " */
};

#define PIPE_MAX_ARGS 10000 /* expanded command arguments */

struct pipe_attr {
    int flags;
    struct command_user run_as; /* user= resolved */
    char *user;                 /* user= as given ("" when none) */
    struct argv *argv;          /* argv= and what follows (unexpanded) */
    long size_limit;            /* size= (0: none) */
    char *eol;                  /* eol= with escapes decoded ("\n" by default) */
    char *directory;            /* directory= (NULL: the queue directory) */
    char *null_sender;          /* null_sender= ("MAILER-DAEMON" by default) */
};

/* ---- args.c ---- */
/* Parses the master.cf attributes. am_root: user= is required and must not be root. Returns 0
 * or -1 with err set. */
int pipe_args_parse(int argc, char *const *argv, int am_root, struct pipe_attr *a, struct str *err);
void pipe_attr_release(struct pipe_attr *a);
/* Parses flags= letters into a mask; -1 on an unknown letter (err set). */
int pipe_parse_flags(const char *text, struct str *err);
/* Decodes C-style escapes (\n \r \t \\ \ooo) of eol=. */
void pipe_unescape(const char *text, struct str *out);

/* ---- expand.c ---- */
struct pipe_expand_ctx {
    const struct deliver_request *rq;
    const struct pipe_attr *attr;
    const char *delimiters; /* recipient_delimiter */
    long size;              /* ${size} */
};
/* Expands argv= for the request: per-recipient macros make one argument per recipient.
 * Returns the argument vector, or NULL with err set (unknown macro, too many arguments). */
struct argv *pipe_expand(const struct pipe_expand_ctx *c, struct str *err);

/* ---- deliver.c ---- */
struct pipe_config {
    struct pipe_attr attr;
    const char *service;    /* the transport name (relay= and messages) */
    const char *delimiters; /* recipient_delimiter */
    long time_limit_ms;     /* <service>_time_limit */
    const char *export_environment;
    const char *hash_names;
    int depth;
};
/* Builds the command input: prepended headers per flags, content with "." and ">From" quoting,
 * eol line endings, optional blank line. *size receives the message size without the
 * prepended lines (${size}). Returns 0 or -1 (err set: queue file error). */
int pipe_message(const struct pipe_attr *a, struct mail_message *m, const char *rcpt,
                 const char *orig, struct str *out, long *size, struct str *err);
/* Maps a finished command to a result: status (DELIVER_*), dsn and reason text. */
struct exec_result;
int pipe_map_result(const struct exec_result *res, const char *command, const char *service,
                    char *dsn, size_t dsnlen, struct str *reason);
/* The deliver_agent_serve() callback (ctx: struct pipe_config). */
void pipe_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx);

#endif
