/* cleanup_client: how every message enters the queue — pickup, smtpd, the bounce service and
 * local forwarding all submit through the cleanup service (protocol: docs/architecture.md,
 * "The cleanup protocol").
 *
 *     struct str id = STR_INIT, why = STR_INIT;
 *     struct cleanup_client *c = cleanup_open("public/cleanup", CLEANUP_FLAG_..., 30, &id, &why);
 *     cleanup_put(c, REC_SENDER, ...); cleanup_put(c, REC_RCPT, ...); cleanup_put(c, REC_CONTENT,
 * "", 0); cleanup_put(c, REC_LINE, ...) ...; cleanup_put(c, REC_XTRA, "", 0); int status =
 * cleanup_finish(c, &why);   (0: queued, durable; else CLEANUP_STAT_* bits)
 */
#ifndef KESTREL_MAIL_CLEANUP_CLIENT_H
#define KESTREL_MAIL_CLEANUP_CLIENT_H

#include "base/str.h"

#include <stddef.h>
#include "mail/cleanup_status.h"

/* Request flags (the "flags" attribute of the open request). */
#define CLEANUP_FLAG_BOUNCE (1 << 0)  /* unacceptable mail is bounced, not refused */
#define CLEANUP_FLAG_FILTER (1 << 1)  /* apply header_checks and body_checks */
#define CLEANUP_FLAG_MAP_OK (1 << 2)  /* apply canonical and virtual alias mappings */
#define CLEANUP_FLAG_MILTER (1 << 3)  /* apply non_smtpd_milters */
#define CLEANUP_FLAG_EXTRACT (1 << 4) /* sendmail -t: recipients from To/Cc/Bcc headers */
#define CLEANUP_FLAG_LOCAL (1 << 5)   /* local submission: Received/From/Date/Message-ID fix-ups */
#define CLEANUP_FLAG_HOLD (1 << 6)    /* put the message on hold */
#define CLEANUP_FLAG_DISCARD (1 << 7) /* accept but discard */
#define CLEANUP_FLAG_SMTPD_MILTERS (1 << 8) /* smtpd hands over its milter sessions */
#define CLEANUP_FLAG_MASK ((1 << 9) - 1)

struct cleanup_client;

/* Connects (endpoint is a unix socket path, normally "public/cleanup" relative to the queue
 * directory), checks the protocol, sends the flags and receives the queue ID. NULL with why
 * set ("4.3.0 ..." text) on failure. timeout bounds every read and write, in seconds. */
struct cleanup_client *cleanup_open(const char *endpoint, int flags, int timeout,
                                    struct str *queue_id, struct str *why);
/* The same, with CLEANUP_FLAG_SMTPD_MILTERS added: right after the queue ID, the descriptors
 * of smtpd's milter connections (n slots, -1 for none) are handed over (base/fdpass.h). */
struct cleanup_client *cleanup_open_milters(const char *endpoint, int flags, int timeout,
                                            const int *fds, size_t n, struct str *queue_id,
                                            struct str *why);
/* Sends one record (buffered). Errors are sticky and reported by cleanup_finish. */
void cleanup_put(struct cleanup_client *c, int type, const void *data, size_t len);
void cleanup_puts(struct cleanup_client *c, int type, const char *text);
/* After the content (the X record), names a content filter ("transport:nexthop") that qmgr
 * sends the message to instead of its recipients' own transports; nothing when empty. */
void cleanup_put_filter(struct cleanup_client *c, const char *filter);
/* Ends the message (sends the E record), waits for the verdict and closes. Returns 0 when the
 * message is safely queued, else CLEANUP_STAT_* bits with why set to "<dsn> <text>". */
int cleanup_finish(struct cleanup_client *c, struct str *why);
/* Gives up on the message (the service removes its file) and closes. */
void cleanup_abort(struct cleanup_client *c);

#endif
