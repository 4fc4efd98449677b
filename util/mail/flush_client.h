/* flush_client: requests to the flush service (public/flush) — deliver the deferred mail of one
 * site now (smtpd ETRN, postqueue -s, sendmail -qR) or one message (postqueue -i, sendmail -qI).
 *
 *     S: protocol=flush
 *     C: request=send_site, site=<domain>      or   request=send_file, queue_id=<id>
 *     S: status=<FLUSH_STAT_*>
 */
#ifndef KESTREL_MAIL_FLUSH_CLIENT_H
#define KESTREL_MAIL_FLUSH_CLIENT_H

enum {
    FLUSH_STAT_OK = 0,   /* the mail (if any) is queued for delivery now */
    FLUSH_STAT_FAIL = 1, /* the service is unavailable */
    FLUSH_STAT_BAD = 2,  /* malformed request */
    FLUSH_STAT_DENY = 3, /* the site is not in fast_flush_domains */
};

/* queue_dir: where public/flush is; timeout in seconds. */
int flush_send_site(const char *queue_dir, const char *site, int timeout);
int flush_send_file(const char *queue_dir, const char *queue_id, int timeout);

#endif
