/* cleanup_status: the verdicts of the cleanup service, and their DSN codes and texts. */
#ifndef KESTREL_MAIL_CLEANUP_STATUS_H
#define KESTREL_MAIL_CLEANUP_STATUS_H

#define CLEANUP_STAT_OK 0
#define CLEANUP_STAT_BAD (1 << 0)   /* internal protocol error (4.3.0) */
#define CLEANUP_STAT_WRITE (1 << 1) /* error writing the queue file, e.g. disk full (4.3.0) */
#define CLEANUP_STAT_SIZE (1 << 2)  /* message_size_limit exceeded (5.3.4) */
#define CLEANUP_STAT_CONT (1 << 3)  /* content rejected by header/body checks or milter (5.7.1) */
#define CLEANUP_STAT_HOPS (1 << 4)  /* hopcount_limit exceeded (5.4.6) */
#define CLEANUP_STAT_RCPT (1 << 5)  /* no recipients (5.1.0) */
#define CLEANUP_STAT_DEFER (1 << 6) /* temporary rejection (4.7.1) */

/* The DSN code and the text for the most important bit of status (the first in the order
 * above wins), e.g. {"5.3.4", "message file too big"}. */
struct cleanup_stat_detail {
    int status;
    const char *dsn;
    const char *text;
};
const struct cleanup_stat_detail *cleanup_stat_detail(int status);

#endif
