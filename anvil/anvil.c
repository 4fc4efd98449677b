/* anvil: the per-client counter table (hash of idents with a fixed rate window per entry),
 * its request handler and the statistics maxima. */
#include "anvil.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

enum { A_CONN, A_MSG, A_RCPT, A_TLS, A_AUTH, A_NRATES };

struct anvil_entry {
    char *ident;
    long count;
    long rate[A_NRATES];
    time_t start; /* start of the current rate window */
    struct anvil_entry *next;
};

struct anvil_max {
    long value;
    char *ident;
    time_t when;
};

struct anvil_table {
    struct anvil_entry *bucket[ANVIL_BUCKETS];
    long entries;
    long unit;
    struct anvil_max max_count, max_rate[A_NRATES], max_size;
};

static const char *const anvil_rate_names[A_NRATES] = {"connection", "message", "recipient",
                                                       "newtls", "auth"};
static const char *const anvil_stat_names[A_NRATES] = {
    "connection rate", "message rate", "recipient rate", "new TLS session rate", "AUTH rate"};

struct anvil_table *anvil_table_new(long rate_unit_s)
{
    struct anvil_table *t = xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->unit = rate_unit_s > 0 ? rate_unit_s : 60;
    return t;
}

static unsigned anvil_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % ANVIL_BUCKETS;
}

static void anvil_entry_free(struct anvil_entry *e)
{
    free(e->ident);
    free(e);
}

void anvil_table_free(struct anvil_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < ANVIL_BUCKETS; i++) {
        for (struct anvil_entry *e = t->bucket[i], *n; e; e = n) {
            n = e->next;
            anvil_entry_free(e);
        }
    }
    free(t->max_count.ident);
    free(t->max_size.ident);
    for (int i = 0; i < A_NRATES; i++)
        free(t->max_rate[i].ident);
    free(t);
}

static void anvil_note_max(struct anvil_max *m, long value, const char *ident, time_t now)
{
    if (value <= m->value)
        return;
    m->value = value;
    m->when = now;
    free(m->ident);
    m->ident = ident ? xstrdup(ident) : NULL;
}

long anvil_table_expire(struct anvil_table *t, time_t now)
{
    for (size_t i = 0; i < ANVIL_BUCKETS; i++) {
        struct anvil_entry **pp = &t->bucket[i];
        while (*pp) {
            struct anvil_entry *e = *pp;
            if (e->count == 0 && now - e->start >= t->unit) {
                *pp = e->next;
                anvil_entry_free(e);
                t->entries--;
            } else {
                pp = &e->next;
            }
        }
    }
    return t->entries;
}

static struct anvil_entry *anvil_find(struct anvil_table *t, const char *ident, time_t now,
                                      int create)
{
    unsigned h = anvil_hash(ident);
    for (struct anvil_entry *e = t->bucket[h]; e; e = e->next)
        if (strcmp(e->ident, ident) == 0)
            return e;
    if (!create)
        return NULL;
    if (t->entries >= ANVIL_MAX_ENTRIES && anvil_table_expire(t, now) >= ANVIL_MAX_ENTRIES) {
        msg_warn("anvil: table full (%d clients); not counting %s", ANVIL_MAX_ENTRIES, ident);
        return NULL;
    }
    struct anvil_entry *e = xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->ident = xstrdup(ident);
    e->start = now;
    e->next = t->bucket[h];
    t->bucket[h] = e;
    t->entries++;
    anvil_note_max(&t->max_size, t->entries, NULL, now);
    return e;
}

static int anvil_rate_index(const char *request)
{
    for (int i = 0; i < A_NRATES; i++)
        if (strcmp(request, i == A_CONN ? "connect" : anvil_rate_names[i]) == 0)
            return i;
    return -1;
}

int anvil_table_event(struct anvil_table *t, const char *request, const char *ident, time_t now,
                      struct anvil_counts *out)
{
    int idx = anvil_rate_index(request);
    int disconnect = strcmp(request, "disconnect") == 0, lookup = strcmp(request, "lookup") == 0;
    memset(out, 0, sizeof *out);
    if ((idx < 0 && !disconnect && !lookup) || !*ident || strlen(ident) > ANVIL_MAX_IDENT)
        return -1;
    struct anvil_entry *e = anvil_find(t, ident, now, idx >= 0);
    if (!e)
        return 0;
    if (now - e->start >= t->unit) {
        memset(e->rate, 0, sizeof e->rate);
        e->start = now;
    }
    if (idx >= 0) {
        e->rate[idx]++;
        anvil_note_max(&t->max_rate[idx], e->rate[idx], ident, now);
        if (idx == A_CONN) {
            e->count++;
            anvil_note_max(&t->max_count, e->count, ident, now);
        }
    } else if (disconnect && e->count > 0) {
        e->count--;
    }
    out->count = e->count;
    out->rate = e->rate[A_CONN];
    out->messages = e->rate[A_MSG];
    out->recipients = e->rate[A_RCPT];
    out->newtls = e->rate[A_TLS];
    out->auths = e->rate[A_AUTH];
    return 0;
}

static void anvil_stat_line(const char *what, const struct anvil_max *m, long unit)
{
    char when[64];
    struct tm tm;
    localtime_r(&m->when, &tm);
    strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
    if (unit > 0)
        msg_info("statistics: max %s %ld/%lds for (%s) at %s", what, m->value, unit, m->ident,
                 when);
    else if (m->ident)
        msg_info("statistics: max %s %ld for (%s) at %s", what, m->value, m->ident, when);
    else
        msg_info("statistics: max %s %ld at %s", what, m->value, when);
}

static void anvil_max_reset(struct anvil_max *m)
{
    free(m->ident);
    memset(m, 0, sizeof *m);
}

void anvil_table_log_stats(struct anvil_table *t, time_t now)
{
    (void)now;
    for (int i = 0; i < A_NRATES; i++) {
        if (t->max_rate[i].value > 0)
            anvil_stat_line(anvil_stat_names[i], &t->max_rate[i], t->unit);
        anvil_max_reset(&t->max_rate[i]);
    }
    if (t->max_count.value > 0)
        anvil_stat_line("connection count", &t->max_count, 0);
    if (t->max_size.value > 0)
        anvil_stat_line("cache size", &t->max_size, 0);
    anvil_max_reset(&t->max_count);
    anvil_max_reset(&t->max_size);
}

void anvil_handle(struct anvil_table *t, const struct attr_list *req, struct attr_list *rep,
                  time_t now)
{
    static const char *const allowed[] = {"request", "ident", NULL};
    struct str err = STR_INIT;
    struct anvil_counts c;
    attr_list_clear(rep);
    if (attr_check(req, allowed, allowed, &err) < 0 ||
        anvil_table_event(t, attr_get(req, "request"), attr_get(req, "ident"), now, &c) < 0) {
        msg_warn("anvil: bad request: %s", err.len ? err.data : "unknown request or ident");
        attr_add(rep, "status", "1");
        str_release(&err);
        return;
    }
    attr_add(rep, "status", "0");
    attr_add_long(rep, "count", c.count);
    attr_add_long(rep, "rate", c.rate);
    attr_add_long(rep, "message", c.messages);
    attr_add_long(rep, "recipient", c.recipients);
    attr_add_long(rep, "newtls", c.newtls);
    attr_add_long(rep, "auth", c.auths);
    str_release(&err);
}
