/* showq_client: the client side of the showq protocol (docs/architecture.md, "showq"):
 * handshake, one format request, then the listing copied to stdout until the service closes.
 * Used by postqueue, and by postdrop -Q for users who cannot reach public/ themselves. */
#ifndef KESTREL_MAIL_SHOWQ_CLIENT_H
#define KESTREL_MAIL_SHOWQ_CLIENT_H

#include "mail/mailq.h"

/* fd: connected to public/showq (path for messages). Exits the program on any error. */
void showq_relay(int fd, const char *path, enum mailq_format format);

#endif
