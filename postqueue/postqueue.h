/* postqueue: listing (-p, -j) and flushing (-f, -i, -s) the mail queue. Internal interface. */
#ifndef KESTREL_POSTQUEUE_H
#define KESTREL_POSTQUEUE_H

#include "mail/mailq.h"

/* Prints the queue listing on stdout: through the showq service, or, when the mail system is
 * down, directly for a caller who can read the queue. Exits on failure (Postfix's statuses). */
void pq_show(enum mailq_format format);

#endif
