/* xforward: the XFORWARD extension (Postfix's XFORWARD_README) — the client-related logging
 * attributes an SMTP client forwards through an SMTP content filter: NAME, ADDR, PORT, PROTO,
 * HELO, IDENT (the original queue ID) and SOURCE (LOCAL or REMOTE). Values travel xtext-encoded;
 * "[UNAVAILABLE]" says a value is unknown ("[TEMPUNAVAIL]" for a name lookup that failed).
 * Used by the smtp client and smtpd's proxy (sending) and by smtpd (receiving). */
#ifndef KESTREL_MAIL_XFORWARD_H
#define KESTREL_MAIL_XFORWARD_H

#include "base/argv.h"
#include "base/str.h"

enum {
    XF_NAME = 1 << 0,
    XF_ADDR = 1 << 1,
    XF_PORT = 1 << 2,
    XF_PROTO = 1 << 3,
    XF_HELO = 1 << 4,
    XF_IDENT = 1 << 5,
    XF_SOURCE = 1 << 6,
};
#define XF_ALL ((1 << 7) - 1)
/* What a server announces: "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT". */
#define XFORWARD_EHLO "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT"

struct xforward_attrs {
    const char *name, *addr, *port, *proto, *helo, *ident, *source;
};

/* The attributes a server offers, from its EHLO reply lines (the first line is the greeting). */
unsigned xforward_features(const struct argv *ehlo_lines);
/* The XFORWARD commands for the offered attributes; a NULL or empty value is sent as
 * [UNAVAILABLE]; every command stays within the 512-byte SMTP command limit. */
void xforward_cmds(unsigned features, const struct xforward_attrs *a, struct argv *out);

/* Received side: the decoded values of one XFORWARD command's arguments ("NAME=x ADDR=y").
 * values[i] is set for each attribute present (index = bit position of XF_*), "" for
 * [UNAVAILABLE]/[TEMPUNAVAIL]. Returns the XF_* mask of what was present, or -1 with why set
 * ("Bad NAME syntax: ...", "Bad XFORWARD attribute name: ..."). */
int xforward_parse(const char *args, struct str values[7], struct str *why);

#endif
