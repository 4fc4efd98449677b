/* smtpd_cmd_data: DATA and BDAT (CHUNKING). DATA refuses message text sent before the 354
 * (SMTP protocol synchronization), reads to <CR><LF>.<CR><LF> through smtpd_read_data. BDAT
 * always reads its whole chunk, even after an error, so the framing stays in sync; chunks
 * stream through the assembler to cleanup, so memory is bounded whatever the chunk size;
 * DATA and BDAT cannot be mixed in one transaction. A return of SMTPD_GONE means the
 * connection broke (the caller logs "lost connection"/"timeout" and no queue file remains). */
#include "smtpd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"

static int end_of_message(struct smtpd_state *st)
{
    int rc;
    if (smtpd_run_check(st, smtpd_check_eod, "END-OF-MESSAGE", NULL) < 0)
        rc = -1;
    else
        rc = smtpd_txn_finish(st);
    if (rc == 0)
        st->error_count = 0;
    smtpd_txn_reset(st);
    return rc;
}

/* State errors common to DATA and BDAT; 0 when the transaction may take content. */
static const char *content_state_error(const struct smtpd_state *st)
{
    if (!st->in_mail)
        return "503 5.5.1 Error: need MAIL command";
    if (st->rcpt_count == 0)
        return "503 5.5.1 Error: need RCPT command";
    return NULL;
}

int smtpd_cmd_data(struct smtpd_state *st, const char *args)
{
    const char *e;
    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: DATA");
        return -1;
    }
    if (st->bdat_active) {
        smtpd_reply(st, "503 5.5.1 Error: DATA command cannot be mixed with BDAT");
        return -1;
    }
    if ((e = content_state_error(st)) != NULL) {
        smtpd_reply(st, "%s", e);
        return -1;
    }
    if (stream_pending(st->s) > 0) {
        msg_info("improper command pipelining after DATA from %s", st->namaddr);
        st->ctx.pipelining_seen = 1;
        smtpd_reply(st, "554 5.5.0 Error: SMTP protocol synchronization");
        st->quit = 1;
        return -1;
    }
    if (smtpd_run_check(st, smtpd_check_data, "DATA", NULL) < 0 ||
        smtpd_milter_data(st, "DATA") < 0)
        return -1;
    struct smtpd_content *c = smtpd_txn_begin_content(st);
    if (!c)
        return -1; /* the before-queue filter refused DATA (its reply was sent) */
    smtpd_reply(st, "354 End data with <CR><LF>.<CR><LF>");
    int rc = smtpd_read_data(st->s, c);
    if (rc != 0) {
        smtpd_txn_reset(st);
        return SMTPD_GONE;
    }
    return end_of_message(st);
}

/* "count [LAST]": 0, or -1 on bad syntax. */
static int bdat_args(const char *args, unsigned long long *count, int *last)
{
    size_t n = strspn(args, "0123456789");
    if (n == 0 || n > 18)
        return -1;
    errno = 0;
    *count = strtoull(args, NULL, 10);
    const char *p = args + n;
    p += strspn(p, " ");
    *last = 0;
    if (strcasecmp(p, "LAST") == 0)
        *last = 1;
    else if (*p)
        return -1;
    return 0;
}

/* Reads count bytes into the assembler (or nowhere); 0 or a stream error. */
static int bdat_read(struct smtpd_state *st, unsigned long long count, struct smtpd_content *c)
{
    char buf[STREAM_BUFSIZE];
    while (count > 0) {
        size_t want = count < sizeof(buf) ? (size_t)count : sizeof(buf);
        ssize_t n = stream_read(st->s, buf, want);
        if (n <= 0)
            return n == 0 ? STREAM_EOF : STREAM_ERROR;
        if (c)
            smtpd_content_feed(c, buf, (size_t)n);
        count -= (unsigned long long)n;
    }
    return 0;
}

int smtpd_cmd_bdat(struct smtpd_state *st, const char *args)
{
    unsigned long long count;
    int last;
    const char *e = NULL;

    if (!smtpd_ehlo_enabled("chunking")) {
        smtpd_reply(st, "500 5.5.2 Error: command not recognized");
        return -1;
    }
    if (bdat_args(args, &count, &last) < 0) {
        /* The chunk size is unknown: the framing is lost, so the session ends. */
        smtpd_reply(st, "501 5.5.4 Syntax: BDAT count [LAST]");
        st->quit = 1;
        return -1;
    }
    int replied = 0;
    if (st->bdat_failed) {
        e = "503 5.5.1 Error: BDAT transaction failed, send RSET";
    } else if (!st->bdat_active) {
        e = content_state_error(st);
        if (!e && (smtpd_run_check(st, smtpd_check_data, "BDAT", NULL) < 0 ||
                   smtpd_milter_data(st, "BDAT") < 0)) {
            replied = 1; /* the chunk is still read below, to keep the framing */
        } else if (!e && !smtpd_txn_begin_content(st)) {
            replied = 1; /* the before-queue filter refused DATA (its reply was sent) */
        } else if (!e) {
            st->bdat_active = 1;
        }
    }
    int discard = e != NULL || replied;
    int rc = bdat_read(st, count, discard ? NULL : st->content);
    if (rc != 0) {
        smtpd_txn_reset(st);
        return SMTPD_GONE;
    }
    if (discard) {
        if (e)
            smtpd_reply(st, "%s", e);
        if (last)
            smtpd_txn_reset(st);
        else if (st->in_mail)
            st->bdat_failed = 1;
        return -1;
    }
    if (!last) {
        if (st->content->too_big) {
            smtpd_reply(st, "552 5.3.4 Message size exceeds fixed limit");
            st->bdat_failed = 1;
            return -1;
        }
        smtpd_reply(st, "250 2.0.0 Ok: %llu bytes", count);
        return 0;
    }
    smtpd_content_end(st->content);
    return end_of_message(st);
}
