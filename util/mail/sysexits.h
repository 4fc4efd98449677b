/* sysexits: the meaning of a delivery command's exit status (sysexits.h codes) as local(8) and
 * pipe(8) report it: 0 delivered; EX_TEMPFAIL (75) and EX_OSERR (71) deferred; the other
 * sysexits codes and any other non-zero status bounced. */
#ifndef KESTREL_MAIL_SYSEXITS_H
#define KESTREL_MAIL_SYSEXITS_H

#include <stddef.h>

/* Returns DELIVER_SENT, DELIVER_BOUNCED or DELIVER_DEFERRED (mail/deliver_request.h) and sets dsn;
 * *text is the sysexits description ("user unknown") or NULL for a status outside the table. */
int sysexits_map(int status, char *dsn, size_t dsnlen, const char **text);
/* When text starts with an RFC 3463 enhanced status code ("5.1.1 ..." / "4.2.2 ...") followed by
 * white space or the end, copies it to dsn and returns 1; else 0. */
int sysexits_leading_dsn(const char *text, char *dsn, size_t dsnlen);

#endif
