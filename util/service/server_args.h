/* server_args: the command line master gives a service (and a person gives for -S). */
#ifndef KESTREL_SERVICE_SERVER_ARGS_H
#define KESTREL_SERVICE_SERVER_ARGS_H

#include "base/argv.h"

struct server_args {
    const char *service;    /* -n: master.cf service name (default: the program name) */
    const char *type;       /* -t: inet, unix, unix-dgram, fifo, pass */
    int listen_count;       /* -s: listeners passed from MASTER_LISTEN_FD on */
    int unprivileged;       /* -u: drop to mail_owner (master.cf "unpriv" column) */
    int chroot;             /* -c: chroot to queue_directory (master.cf "chroot" column) */
    int standalone;         /* -S: serve stdin/stdout once, no master */
    int verbose;            /* -v, repeatable */
    struct argv *overrides; /* -o name=value, in order */
    int argc;               /* the service's own arguments after the options */
    char **argv;
};

/* Parses argv; returns 0, or -1 with a usage message logged. */
int server_parse_args(int argc, char **argv, struct server_args *args);
void server_args_release(struct server_args *args);

#endif
