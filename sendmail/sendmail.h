/* sendmail: the Sendmail-compatible submission command (also run as mailq and newaliases).
 * Internal interface between its modules: option parsing, message input, the maildrop record
 * stream handed to postdrop, and the -bs SMTP dialogue. */
#ifndef KESTREL_SENDMAIL_H
#define KESTREL_SENDMAIL_H

#include "base/argv.h"
#include "base/str.h"

#include <stdio.h>

/* sysexits(3) codes. */
#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_SOFTWARE 70
#define EX_TEMPFAIL 75
#define EX_CONFIG 78

enum sm_mode {
    SM_MODE_DELIVER,    /* -bm (default): read a message, submit it */
    SM_MODE_SMTP,       /* -bs */
    SM_MODE_MAILQ,      /* -bp, mailq */
    SM_MODE_NEWALIASES, /* -bi, newaliases */
    SM_MODE_VERIFY,     /* -bv */
    SM_MODE_FLUSH,      /* -q */
};

struct sm_opts {
    enum sm_mode mode;
    const char *sender;     /* -f / -r; NULL: the login name */
    const char *fullname;   /* -F */
    const char *config_dir; /* -C (a directory, or a main.cf path) */
    int extract;            /* -t */
    int dot_ok;             /* -i, -oi: a lone "." does not end the input */
    int notify;             /* -N as DSN_NOTIFY_* bits; 0: not given */
    const char *ret;        /* -R: "FULL" or "HDRS" */
    const char *envid;      /* -V */
    const char *queue_site; /* -qR site, -qS site */
    const char *queue_id;   /* -qI id */
    struct argv *rcpts;     /* the command-line recipients, as given */
};

/* Parses the command line (argv[0] selects mailq/newaliases). 0, or -1 with err set (the
 * caller exits EX_USAGE). o->rcpts is allocated; free it with argv_free(). */
int sm_parse_args(int argc, char **argv, struct sm_opts *o, struct str *err);
/* "never,success,delay,failure" to a mask; -1 for a bad list. */
int sm_parse_notify(const char *text);

/* Message input: lines (LF or CRLF) become L records, over-long lines are split into P pieces
 * of at most line_limit bytes. The first line is dropped when it starts with "From ". */
typedef void (*sm_put_fn)(void *ctx, int type, const char *data, size_t len);
struct sm_input_opts {
    size_t line_limit;
    int dot_ends; /* a lone "." line ends the input (sendmail without -i; SMTP DATA) */
    int unstuff;  /* SMTP: a leading "." of a line is removed */
    int from_ok;  /* drop a leading "From " line */
};
/* 1 when a lone dot ended the input, 0 at end of file, -1 on a read error. */
int sm_read_message(FILE *in, const struct sm_input_opts *o, sm_put_fn put, void *ctx);
/* Reads one line of at most limit bytes (CRLF or LF removed). 1: complete line, 2: limit
 * reached (more follows), 0: end of file with nothing read. */
int sm_getline(FILE *in, struct str *line, size_t limit, int *had_cr);

/* Header tracking for -t: counts the recipients of To/Cc/Bcc (and Resent-*) headers. */
struct sm_headers {
    int in_headers; /* still in the header section */
    struct str current;
    size_t limit; /* header_size_limit */
    long rcpts;
};
void sm_headers_init(struct sm_headers *h, size_t limit);
/* Feeds a content record; returns 1 when this record ended the header section. */
int sm_headers_put(struct sm_headers *h, int type, const char *data, size_t len);
/* Ends the header section at end of input. */
void sm_headers_finish(struct sm_headers *h);
void sm_headers_release(struct sm_headers *h);

/* Submission: the record stream to postdrop. Records are buffered until the header section
 * ends, so "-t" without recipients fails before anything is written. */
struct sm_submit;
struct sm_submit *sm_submit_begin(const struct sm_opts *o, const char *sender,
                                  const struct argv *rcpts);
void sm_submit_put(void *submit, int type, const char *data, size_t len);
/* Sends the rest, waits for postdrop. Returns 0 or an EX_* code (message printed). */
int sm_submit_end(struct sm_submit *s);
void sm_submit_free(struct sm_submit *s);

/* Runs the -bs dialogue on in/out; returns the exit status. */
int sm_smtp(FILE *in, FILE *out, const struct sm_opts *o);

/* The login name of the real uid ("#<uid>" when it has none). */
const char *sm_login_name(void);
/* Checks an address given by the user (no CR, LF or NUL, bounded). */
int sm_address_ok(const char *addr);

#endif
