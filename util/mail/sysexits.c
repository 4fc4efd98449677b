/* sysexits: the exit status table of delivery commands (sysexits.h) with the enhanced status
 * code and text each one reports, and the leading enhanced status code of command output. */
#include "mail/sysexits.h"

#include "mail/deliver_request.h"

#include <stdio.h>
#include <ctype.h>
#include <string.h>

static const struct {
    int status;
    const char *dsn;
    const char *text;
} sysexits[] = {
    {64, "5.3.0", "command line usage error"},  {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},         {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},         {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},   {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},  {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},        {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},  {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

int sysexits_map(int status, char *dsn, size_t dsnlen, const char **text)
{
    for (size_t i = 0; i < sizeof(sysexits) / sizeof(sysexits[0]); i++) {
        if (sysexits[i].status == status) {
            snprintf(dsn, dsnlen, "%s", sysexits[i].dsn);
            *text = sysexits[i].text;
            return sysexits[i].dsn[0] == '4' ? DELIVER_DEFERRED : DELIVER_BOUNCED;
        }
    }
    *text = NULL;
    snprintf(dsn, dsnlen, "%s", status == 0 ? "2.0.0" : "5.3.0");
    return status == 0 ? DELIVER_SENT : DELIVER_BOUNCED;
}

int sysexits_leading_dsn(const char *t, char *dsn, size_t dsnlen)
{
    const char *p = t;
    if ((*p != '4' && *p != '5') || p[1] != '.')
        return 0;
    p += 2;
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        while (isdigit((unsigned char)p[n]))
            n++;
        if (n < 1 || n > 3)
            return 0;
        p += n;
        if (part == 0 && *p++ != '.')
            return 0;
    }
    if (*p != 0 && !isspace((unsigned char)*p))
        return 0;
    snprintf(dsn, dsnlen, "%.*s", (int)(p - t), t);
    return 1;
}
