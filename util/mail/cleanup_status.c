/* cleanup_status: maps CLEANUP_STAT_* bits to the DSN code and text clients report. */
#include "mail/cleanup_status.h"

#include <stddef.h>

static const struct cleanup_stat_detail details[] = {
    {CLEANUP_STAT_BAD, "4.3.0", "internal protocol error"},
    {CLEANUP_STAT_WRITE, "4.3.0", "queue file write error"},
    {CLEANUP_STAT_SIZE, "5.3.4", "message file too big"},
    {CLEANUP_STAT_CONT, "5.7.1", "message content rejected"},
    {CLEANUP_STAT_HOPS, "5.4.6", "too many hops"},
    {CLEANUP_STAT_RCPT, "5.1.0", "no recipients specified"},
    {CLEANUP_STAT_DEFER, "4.7.1", "service unavailable"},
};

static const struct cleanup_stat_detail ok_detail = {CLEANUP_STAT_OK, "2.0.0", "success"};
static const struct cleanup_stat_detail unknown_detail = {-1, "4.3.0", "unknown cleanup status"};

const struct cleanup_stat_detail *cleanup_stat_detail(int status)
{
    if (status == CLEANUP_STAT_OK)
        return &ok_detail;
    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
        if (status & details[i].status)
            return &details[i];
    return &unknown_detail;
}
