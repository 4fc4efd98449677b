/* mastercf: master.cf, the table of services the master daemon runs. Each entry has eight
 * columns (service type private unpriv chroot wakeup maxproc command+args); "-" selects the
 * default. Also the editing used by postconf -M/-F/-P with -e, -X and -#. */
#ifndef KESTREL_MAIL_MASTERCF_H
#define KESTREL_MAIL_MASTERCF_H

#include "base/argv.h"
#include "base/str.h"

#include <stddef.h>

#define MASTERCF_MAX_ENTRIES 10000
#define MASTERCF_MAX_ARGS 1000

/* Column names as postconf -F shows them, in order. */
extern const char *const mastercf_field_names[8];

struct mastercf_entry {
    char *field[7]; /* raw text of columns 1-7: service type private unpriv chroot wakeup maxproc */
    struct argv *argv; /* command and arguments; -o {name = value} becomes -o name=value */
    int line;          /* line number of the entry's first line */
    /* Resolved columns. */
    int private_flag;   /* default y (inet services are never private) */
    int unpriv_flag;    /* default y */
    int chroot_flag;    /* default n */
    int wakeup;         /* seconds; 0: none */
    int wakeup_if_used; /* wakeup had a '?' suffix */
    int process_limit;  /* -1: $default_process_limit; 0: no limit */
};

#define MCF_SERVICE 0
#define MCF_TYPE 1
#define MCF_PRIVATE 2
#define MCF_UNPRIV 3
#define MCF_CHROOT 4
#define MCF_WAKEUP 5
#define MCF_MAXPROC 6

struct mastercf {
    char *path;
    struct mastercf_entry *v;
    size_t n, cap;
};

/* Parse master.cf; NULL with "<path>: line N: reason" in err. */
struct mastercf *mastercf_read(const char *path, struct str *err);
struct mastercf *mastercf_parse(const char *path, const char *text, size_t len, struct str *err);
void mastercf_free(struct mastercf *m);
/* Find the entry "service/type"; NULL if none. */
const struct mastercf_entry *mastercf_find(const struct mastercf *m, const char *service,
                                           const char *type);
/* The -o overrides of an entry as "name=value" strings (caller frees). */
struct argv *mastercf_overrides(const struct mastercf_entry *e);
/* Register the per-service parameters of every service with the parameter registry. */
void mastercf_register_params(const struct mastercf *m);
/* Append every -o name and value of every entry to out (for unused-parameter checks). */
void mastercf_collect_names(const struct mastercf *m, struct argv *out);
/* Render an entry in master.cf column layout; fold: -o options on their own lines and long
 * lines wrapped at 80 columns (continuations indented by two spaces). No final newline. */
void mastercf_format(const struct mastercf_entry *e, int fold, struct str *out);
/* The command column with its arguments, space-separated ({...} where needed). */
void mastercf_command_text(const struct mastercf_entry *e, struct str *out);

/* Editing master.cf text. Keys are "service/type". Each function reads `text`, writes the
 * result to `out`; returns 0, or -1 with the reason in err. */
/* Replace the entry (or append it): `entry` is a complete master.cf entry line. */
int mastercf_edit_entry(const char *path, const char *text, size_t len, const char *entry,
                        struct str *out, struct str *err);
/* Remove (comment=0) or comment out (comment=1) the entry service/type. */
int mastercf_remove_entry(const char *path, const char *text, size_t len, const char *key,
                          int comment, struct str *out, struct str *err);
/* Set a field: key "service/type/field" (a name from mastercf_field_names), value. */
int mastercf_edit_field(const char *path, const char *text, size_t len, const char *key,
                        const char *value, struct str *out, struct str *err);
/* Set (value non-NULL) or remove (value NULL) a -o parameter: key "service/type/name". */
int mastercf_edit_param(const char *path, const char *text, size_t len, const char *key,
                        const char *value, struct str *out, struct str *err);

#endif
