/* smtp_cache: the per-process connection cache. After a delivery the session stays open
 * (idle) for smtp_connection_cache_time_limit, keyed by transport and next hop; the next
 * request for that destination that reaches this process (qmgr's next job) reuses it after an
 * RSET. A session is not kept past smtp_connection_reuse_time_limit or
 * smtp_connection_reuse_count_limit. Idle sessions are closed (QUIT) by a timer in the
 * skeleton's event loop, and all of them when the process exits. */
#include "smtp.h"

#include "base/events.h"
#include "base/log.h"
#include "service/server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SMTP_CACHE_MAX 8

static struct {
    struct smtp_session *ss;
    unsigned long timer;
} cache[SMTP_CACHE_MAX];

static void expire(struct event_loop *loop, void *ctx)
{
    (void)loop;
    size_t i = (size_t)(uintptr_t)ctx;
    if (cache[i].ss) {
        smtp_session_close(cache[i].ss, 1);
        cache[i].ss = NULL;
    }
    cache[i].timer = 0;
}

static void take(size_t i)
{
    struct event_loop *loop = server_event_loop();
    if (cache[i].timer && loop)
        event_timer_cancel(loop, cache[i].timer);
    cache[i].timer = 0;
    cache[i].ss = NULL;
}

struct smtp_session *smtp_cache_get(const char *key)
{
    for (size_t i = 0; i < SMTP_CACHE_MAX; i++) {
        struct smtp_session *ss = cache[i].ss;
        if (!ss || strcmp(ss->key, key) != 0)
            continue;
        take(i);
        if (smtp_session_rset(ss) == 0)
            return ss;
        smtp_session_close(ss, 0); /* gone stale: the caller connects afresh */
    }
    return NULL;
}

static int listed(const char *list, const char *nexthop)
{
    if (!list || !*list)
        return 0;
    struct argv *a = argv_split(list, ", \t\r\n");
    int hit = 0;
    for (size_t i = 0; i < a->n && !hit; i++)
        hit = strcasecmp(a->v[i], nexthop) == 0;
    argv_free(a);
    return hit;
}

void smtp_cache_put(struct smtp_session *ss, const char *nexthop)
{
    int keep =
        !ss->broken && (smtp_cfg.cache_on_demand || listed(smtp_cfg.cache_destinations, nexthop));
    if (keep && time(NULL) - ss->created >= smtp_cfg.reuse_time_limit)
        keep = 0;
    if (keep && smtp_cfg.reuse_count_limit > 0 && ss->uses >= smtp_cfg.reuse_count_limit)
        keep = 0;
    struct event_loop *loop = server_event_loop();
    size_t slot = SMTP_CACHE_MAX;
    for (size_t i = 0; keep && loop && i < SMTP_CACHE_MAX && slot == SMTP_CACHE_MAX; i++)
        if (!cache[i].ss)
            slot = i;
    if (slot == SMTP_CACHE_MAX) {
        smtp_session_close(ss, 1);
        return;
    }
    cache[slot].ss = ss;
    cache[slot].timer =
        event_timer_add(loop, smtp_cfg.cache_time_limit * 1000, 0, expire, (void *)(uintptr_t)slot);
}

void smtp_cache_flush(void)
{
    for (size_t i = 0; i < SMTP_CACHE_MAX; i++)
        if (cache[i].ss) {
            struct smtp_session *ss = cache[i].ss;
            take(i);
            smtp_session_close(ss, 1);
        }
}
