/* tls_cache: the TLS session cache ($role_tls_session_cache_database, e.g. btree:/path),
 * shared by every process of a service. Each operation opens the table with an exclusive lock
 * and closes it, so concurrent smtpd processes never corrupt it. Entries are
 * "<expiry time>:<base64 data>"; expired ones are removed when met. */
#include "mail/tls_int.h"

#include "base/codec.h"
#include "base/log.h"
#include "base/mem.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TLS_CACHE_MAX_ENTRY (64 * 1024)

struct tls_cache {
    char *spec;
    long timeout;
};

static struct table *cache_table(const struct tls_cache *c, struct str *err)
{
    return table_open(c->spec, TABLE_FLAG_WRITE | TABLE_FLAG_LOCK, err);
}

struct tls_cache *tls_cache_open(const char *spec, long timeout, const char *param_name)
{
    if (spec == NULL || *spec == 0 || timeout <= 0)
        return NULL;
    struct tls_cache *c = xcalloc(1, sizeof(*c));
    c->spec = xstrdup(spec);
    c->timeout = timeout;
    struct str err = STR_INIT;
    struct table *t = cache_table(c, &err);
    if (t == NULL) {
        msg_warn("%s: %s: TLS session caching disabled", param_name, str_cstr(&err));
        str_release(&err);
        tls_cache_close(c);
        return NULL;
    }
    table_close(t);
    str_release(&err);
    return c;
}

void tls_cache_close(struct tls_cache *c)
{
    if (c == NULL)
        return;
    free(c->spec);
    free(c);
}

long tls_cache_timeout(const struct tls_cache *c)
{
    return c ? c->timeout : 0;
}

void tls_cache_put(struct tls_cache *c, const char *key, const void *data, size_t len,
                   long lifetime)
{
    if (c == NULL || len > TLS_CACHE_MAX_ENTRY)
        return;
    struct str err = STR_INIT, value = STR_INIT;
    struct table *t = cache_table(c, &err);
    if (t == NULL) {
        msg_warn("TLS session cache: %s", str_cstr(&err));
    } else {
        str_setf(&value, "%lld:", (long long)time(NULL) + (lifetime > 0 ? lifetime : c->timeout));
        base64_encode(&value, data, len);
        if (table_update(t, key, str_cstr(&value)) == TABLE_ERROR)
            msg_warn("TLS session cache: update %s: %s", c->spec, str_cstr(&t->error));
        table_close(t);
    }
    str_release(&err);
    str_release(&value);
}

int tls_cache_get(struct tls_cache *c, const char *key, struct str *data)
{
    if (c == NULL)
        return -1;
    struct str err = STR_INIT, value = STR_INIT;
    struct table *t = cache_table(c, &err);
    int rc = -1;
    if (t == NULL) {
        msg_warn("TLS session cache: %s", str_cstr(&err));
    } else if (table_lookup(t, key, &value) == TABLE_FOUND) {
        char *end;
        long long expiry = strtoll(str_cstr(&value), &end, 10);
        str_clear(data);
        if (*end == ':' && expiry > (long long)time(NULL) &&
            base64_decode(data, end + 1, strlen(end + 1)) == 0)
            rc = 0;
        else
            (void)table_remove(t, key);
    }
    if (t)
        table_close(t);
    str_release(&err);
    str_release(&value);
    return rc;
}

void tls_cache_remove(struct tls_cache *c, const char *key)
{
    struct str err = STR_INIT;
    struct table *t = c ? cache_table(c, &err) : NULL;
    if (t) {
        (void)table_remove(t, key);
        table_close(t);
    }
    str_release(&err);
}
