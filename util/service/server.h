/* server: the one skeleton every Kestrel daemon uses. A daemon's main() is one call:
 *
 *     static const struct server_ops ops = {.shape = SERVER_SINGLE, .serve = smtpd_serve, ...};
 *     int main(int argc, char **argv) { return server_main(argc, argv, &ops); }
 *
 * The skeleton parses the arguments master passes (-n service -t type -s count -u -c
 * -o name=value -v, and -S for a stand-alone run on stdin/stdout), loads main.cf with the -o
 * overrides, sets up logging, calls pre_init (still privileged: open tables and keys), chroots
 * and drops to mail_owner when started as root, calls post_init, and then serves in one of
 * three shapes:
 *
 *   SERVER_SINGLE   one client at a time: accept, serve(stream) to completion, repeat
 *   SERVER_MULTI    many clients in one event loop: serve(stream) is called each time a
 *                   connected client has a request; it returns SERVER_KEEP or SERVER_CLOSE
 *   SERVER_TRIGGER  wake-up requests on a fifo or unix socket: trigger(data, len)
 *
 * It tells master through the status pipe when it is busy or idle, exits after max_use clients
 * or max_idle idle seconds, finishes the current client and exits on SIGHUP (reload) or when
 * master goes away, and exits at once on SIGTERM. Master protocol: docs/architecture.md. */
#ifndef KESTREL_SERVICE_SERVER_H
#define KESTREL_SERVICE_SERVER_H

#include "base/events.h"
#include "base/stream.h"

#include <stddef.h>

enum server_shape { SERVER_SINGLE, SERVER_MULTI, SERVER_TRIGGER };
enum { SERVER_KEEP = 0, SERVER_CLOSE = -1 };

/* Descriptors master hands a child: the status pipe, then the listeners. */
#define MASTER_STATUS_FD 3
#define MASTER_LISTEN_FD 4
#define MASTER_LISTEN_MAX 64

struct server_ops {
    enum server_shape shape;
    /* Optional: called before chroot and privilege drop (open tables, keys, log files). */
    void (*pre_init)(const char *service);
    /* Optional: called after privileges were dropped, before the first client. */
    void (*post_init)(const char *service);
    /* SINGLE and MULTI: serve a client (see above). The stream is closed by the skeleton. */
    int (*serve)(struct stream *client, const char *service);
    /* TRIGGER: a wake-up arrived (data is what the sender wrote, at most 1 KiB). */
    void (*trigger)(const char *data, size_t len, const char *service);
    /* Optional: called before waiting for the next client; return nonzero to exit now (e.g.
     * a lookup table changed on disk, so a fresh process should take over). */
    int (*should_exit)(void);
    /* Optional: called once before a normal exit. */
    void (*pre_exit)(void);
    /* Idle seconds before exiting: 0 uses main.cf's max_idle (and max_use applies); -1 means
     * never exit on idle or use count (long-running services such as qmgr). */
    int max_idle;
};

/* Never returns on success paths (exits with status 0); returns non-zero on a usage error. */
int server_main(int argc, char **argv, const struct server_ops *ops);

/* For services that add their own watches and timers (e.g. qmgr): the skeleton's event loop.
 * Valid after pre_init. */
struct event_loop *server_event_loop(void);
/* The service name (master.cf first column). */
const char *server_service_name(void);
/* The service's own master.cf arguments that follow the standard options (e.g. pipe's
 * "flags=... argv=..."); *argc receives their count. */
char **server_service_args(int *argc);
/* Ask the skeleton to exit after the current client (e.g. a fatal configuration change). */
void server_request_exit(void);

#endif
