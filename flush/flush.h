/* flush: the flush service's internal interface (flush/main.c serves the protocol of
 * util/mail/flush_client.h; flush_queue.c finds and requeues deferred mail). */
#ifndef KESTREL_FLUSH_H
#define KESTREL_FLUSH_H

#include "mail/queue_file.h"

/* Moves every deferred message with an undelivered recipient in site (a domain, compared
 * without case) to incoming/. Returns the number moved. */
long flush_site(const struct queue_naming *layout, const char *site);
/* Moves one deferred message to incoming/; 1 when moved, 0 when it is not deferred. */
int flush_file(const struct queue_naming *layout, const char *queue_id);

#endif
