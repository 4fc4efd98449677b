/* receive_override: receive_override_options (postconf(5)) — what the receiving side
 * (smtpd, pickup) switches off for mail it takes in, typically on the re-injection service
 * after a content filter: no_unknown_recipient_checks, no_address_mappings,
 * no_header_body_checks, no_milters. */
#ifndef KESTREL_MAIL_RECEIVE_OVERRIDE_H
#define KESTREL_MAIL_RECEIVE_OVERRIDE_H

/* 1 when the option is in receive_override_options (unknown words are warned about once). */
int receive_override_has(const char *option);
/* The cleanup request flags with what receive_override_options switches off cleared:
 * CLEANUP_FLAG_MAP_OK, CLEANUP_FLAG_FILTER, CLEANUP_FLAG_MILTER. */
int receive_override_flags(int flags);

#endif
