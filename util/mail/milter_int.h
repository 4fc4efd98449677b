/* milter_int: the milter client's internal state, shared by milter.c (the events) and
 * milter_handover.c (passing the end-of-message stage to the cleanup service). */
#ifndef KESTREL_MAIL_MILTER_INT_H
#define KESTREL_MAIL_MILTER_INT_H

#include "base/argv.h"
#include "base/stream.h"
#include "mail/milter.h"
#include "mail/milter_proto.h"

#include <stdint.h>

enum default_action { DA_ACCEPT, DA_REJECT, DA_TEMPFAIL, DA_QUARANTINE };

enum filter_state {
    F_IDLE,        /* not connected yet */
    F_READY,       /* in use */
    F_ACCEPT_MSG,  /* accepted the current message */
    F_ACCEPT_CONN, /* accepted the connection (or refused it): no more events */
    F_FAILED,      /* unreachable or broken: its default action applies */
};

struct filter {
    char *endpoint;
    long conn_to, cmd_to, content_to;
    int default_action;
    int version;
    struct stream *s;
    enum filter_state state;
    uint32_t actions, steps;
    struct argv *macros[MILTER_STAGE_COUNT]; /* the filter's own lists, or NULL */
};

struct milters {
    struct filter *v;
    size_t n;
    struct argv *macros[MILTER_STAGE_COUNT];
    const char *(*lookup)(const char *, void *);
    void *lookup_ctx;
    size_t body_limit;
    /* Handed over by smtpd (milter_handover.c): macro values, and borrowed = 1 when the
     * connections belong to the submitting smtpd (no QUIT at the end). */
    struct argv *given_names, *given_values;
    int borrowed;
    struct argv *defaults; /* milter_macro_defaults, parsed on first use */
};

/* A macro list word ("{name}" or "j") as the bare name. */
void milter_macro_key(const char *word, struct str *key);
/* The value of a macro: the caller's lookup, the handed-over values, then the defaults. */
const char *milter_macro_value(struct milters *m, const char *name);

#endif
