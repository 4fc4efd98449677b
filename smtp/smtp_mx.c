/* smtp_mx: ordering of an MX answer list for delivery: by preference, equal preferences
 * shuffled, the null MX ("0 .", RFC 7505) recognised, and hosts at or after our own
 * preference dropped (mail must not loop back to this host). Input is the answer list of
 * dns_lookup(DNS_MX), so this is testable without DNS. */
#include "smtp.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mx {
    long pref;
    char *host;
    long rank;
};

static int by_pref(const void *a, const void *b)
{
    const struct mx *x = a, *y = b;
    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int same_host(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

int smtp_mx_order(const struct argv *answers, int randomize, long (*rnd)(void), const char *myname,
                  struct argv *hosts)
{
    struct mx *v = xmalloc((answers->n + 1) * sizeof *v);
    size_t n = 0;
    int rc = SMTP_MX_OK;
    for (size_t i = 0; i < answers->n; i++) {
        char *end;
        long pref = strtol(answers->v[i], &end, 10);
        if (end == answers->v[i] || *end != ' ' || pref < 0 || pref > 65535 || !end[1])
            continue;
        v[n].pref = pref;
        v[n].host = end + 1;
        v[n].rank = randomize ? (rnd ? rnd() : random()) : (long)i;
        n++;
    }
    if (n == 1 && strcmp(v[0].host, ".") == 0)
        rc = SMTP_MX_NULL;
    else if (n == 0)
        rc = SMTP_MX_BAD;
    qsort(v, n, sizeof *v, by_pref);
    long cut = -1;
    for (size_t i = 0; rc == SMTP_MX_OK && myname && i < n; i++)
        if (same_host(v[i].host, myname)) {
            cut = v[i].pref;
            break;
        }
    for (size_t i = 0; rc == SMTP_MX_OK && i < n; i++)
        if ((cut < 0 || v[i].pref < cut) && strcmp(v[i].host, ".") != 0)
            argv_add(hosts, v[i].host);
    if (rc == SMTP_MX_OK && cut >= 0 && hosts->n == 0)
        rc = SMTP_MX_SELF;
    free(v);
    return rc;
}
