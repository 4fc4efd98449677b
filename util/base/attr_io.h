/* attr_io: sending and receiving attribute lists (base/attr.h) over a stream, with the
 * receiver's limits enforced and the protocol-name handshake. */
#ifndef KESTREL_BASE_ATTR_IO_H
#define KESTREL_BASE_ATTR_IO_H

#include "base/stream.h"
#include "base/attr.h"

struct attr_limits {
    size_t max_line;  /* longest "name=value" line, encoded */
    size_t max_attrs; /* most attributes in one list */
};

extern const struct attr_limits attr_default_limits; /* 64 KiB lines, 1024 attributes */

/* Writes the list and flushes. Returns 0 or -1 (stream error or timeout). */
int attr_send(struct stream *s, const struct attr_list *a);
/* Reads one list into a (cleared first). Returns 0, or -1 with err set ("lost connection",
 * "timeout", "line too long", a decoding error). */
int attr_recv(struct stream *s, struct attr_list *a, const struct attr_limits *lim,
              struct str *err);
/* Server side of the handshake: send "protocol=<name>". */
int attr_send_protocol(struct stream *s, const char *protocol);
/* Client side: read the server's first list and check its protocol name. */
int attr_expect_protocol(struct stream *s, const char *protocol, struct str *err);

#endif
