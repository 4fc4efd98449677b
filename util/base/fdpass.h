/* fdpass: hand open descriptors to another process over a unix stream socket (SCM_RIGHTS).
 * A hand-over is one fixed-size message of FDPASS_SLOTS bytes, one per slot: '1' where a
 * descriptor follows (in slot order), '0' where none does. The fixed size lets the receiver
 * read exactly the hand-over and nothing after it, so the descriptors are never lost to a
 * buffered read; the receiver must call fdpass_recv before any buffered read of what follows. */
#ifndef KESTREL_BASE_FDPASS_H
#define KESTREL_BASE_FDPASS_H

#include "base/str.h"

#include <stddef.h>

#define FDPASS_SLOTS 32

/* Sends n (<= FDPASS_SLOTS) slots; fds[i] < 0 marks an empty slot. Returns 0 or -1 (why set). */
int fdpass_send(int sock, const int *fds, size_t n, int timeout_ms, struct str *why);
/* Receives one hand-over: fds[0..FDPASS_SLOTS) are set (-1 for empty slots), close-on-exec.
 * Returns the number of descriptors received, or -1 (why set) on error, timeout, a malformed
 * message or descriptors that do not match the slots (any received are closed then). */
int fdpass_recv(int sock, int *fds, int timeout_ms, struct str *why);

#endif
