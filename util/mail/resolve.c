/* resolve: address classes, *_transport/relayhost defaults and transport_maps (transport(5)
 * search order) for the queue manager. */
#include "mail/resolve.h"

#include "base/argv.h"
#include "base/cidr.h"
#include "base/mem.h"
#include "mail/address.h"
#include "mail/config.h"
#include "mail/maps.h"
#include "mail/match_list.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The lists that decide the class, in the order they are tried after "local". */
enum { L_MYDEST, L_ALIAS, L_VMAILBOX, L_RELAY, L_COUNT };
static const char *const list_params[L_COUNT] = {"mydestination", "virtual_alias_domains",
                                                 "virtual_mailbox_domains", "relay_domains"};

struct resolve_ctx {
    struct match_list *lists[L_COUNT]; /* NULL: broken (lookups defer) */
    struct str list_error[L_COUNT];
    struct argv *my_addrs;       /* inet_interfaces + proxy_interfaces, normalized */
    struct maps *transport_maps; /* NULL when empty */
    struct addr_ext_opts ext;
    int percent_hack, bangpath;
    int error; /* set by the is_local callback on a lookup error */
    struct str error_text;
};

static int pdms_has(const char *name)
{
    const char *v = config_get("parent_domain_matches_subdomains");
    return match_parent_style(v ? v : "", name);
}

static void add_addr(struct argv *out, const char *text)
{
    struct ip_addr a;
    struct str s = STR_INIT;
    if (ip_addr_parse(text, &a) == 0) {
        ip_addr_format(&a, &s);
        argv_add(out, s.data);
    }
    str_release(&s);
}

/* inet_interfaces and proxy_interfaces as normalized address texts. */
static struct argv *my_addresses(void)
{
    struct argv *out = argv_new();
    static const char *const params[] = {"inet_interfaces", "proxy_interfaces"};
    for (int p = 0; p < 2; p++) {
        const char *v = config_get(params[p]);
        struct argv *w = argv_split(v ? v : "", ", \t\r\n");
        for (size_t i = 0; i < w->n; i++) {
            if (strcasecmp(w->v[i], "all") == 0) {
                struct if_addr *ifs = NULL;
                struct str err = STR_INIT;
                long n = interface_addresses(&ifs, &err);
                for (long k = 0; k < n; k++) {
                    struct str s = STR_INIT;
                    ip_addr_format(&ifs[k].addr, &s);
                    argv_add(out, s.data);
                    str_release(&s);
                }
                free(ifs);
                str_release(&err);
            } else if (strcasecmp(w->v[i], "loopback-only") == 0 ||
                       strcasecmp(w->v[i], "localhost") == 0) {
                add_addr(out, "127.0.0.1");
                add_addr(out, "::1");
            } else {
                add_addr(out, w->v[i]);
            }
        }
        argv_free(w);
    }
    return out;
}

struct resolve_ctx *resolve_open(void)
{
    struct resolve_ctx *r = xcalloc(1, sizeof(*r));
    for (int i = 0; i < L_COUNT; i++) {
        const char *v = config_get(list_params[i]);
        int flags = pdms_has(list_params[i]) ? MATCH_FLAG_PARENT : 0;
        r->lists[i] = match_list_create(list_params[i], v ? v : "", MATCH_KIND_DOMAIN, flags,
                                        &r->list_error[i]);
    }
    r->my_addrs = my_addresses();
    const char *tm = config_get("transport_maps");
    if (tm && *tm)
        r->transport_maps = maps_open("transport_maps", tm, TABLE_FLAG_FOLD_KEY);
    r->ext.delimiters = config_get("recipient_delimiter");
    r->ext.double_bounce = config_get("double_bounce_sender");
    r->percent_hack = config_get_bool("allow_percent_hack");
    r->bangpath = config_get_bool("swap_bangpath");
    return r;
}

void resolve_free(struct resolve_ctx *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < L_COUNT; i++) {
        if (r->lists[i])
            match_list_free(r->lists[i]);
        str_release(&r->list_error[i]);
    }
    argv_free(r->my_addrs);
    if (r->transport_maps)
        maps_free(r->transport_maps);
    str_release(&r->error_text);
    free(r);
}

void resolve_reply_init(struct resolve_reply *rp)
{
    memset(rp, 0, sizeof(*rp));
}

void resolve_reply_release(struct resolve_reply *rp)
{
    str_release(&rp->transport);
    str_release(&rp->nexthop);
    str_release(&rp->recipient);
}

const char *resolve_class_name(enum resolve_class c)
{
    static const char *const names[] = {"local", "virtual alias", "virtual mailbox", "relay",
                                        "default"};
    return (unsigned)c <= RESOLVE_CLASS_DEFAULT ? names[c] : "default";
}

void resolve_split_transport(const char *value, struct str *transport, struct str *nexthop)
{
    const char *colon = strchr(value, ':');
    str_clear(transport);
    str_clear(nexthop);
    if (colon == NULL) {
        str_append(transport, value);
        return;
    }
    str_appendn(transport, value, (size_t)(colon - value));
    str_append(nexthop, colon + 1);
}

/* MATCH_YES/NO, or MATCH_ERROR with r->error_text set. */
static int in_list(struct resolve_ctx *r, int which, const char *domain)
{
    if (r->lists[which] == NULL) {
        str_set(&r->error_text, str_cstr(&r->list_error[which]));
        return MATCH_ERROR;
    }
    int m = match_list_match(r->lists[which], domain, NULL);
    if (m == MATCH_ERROR)
        str_set(&r->error_text, match_list_error(r->lists[which]));
    return m;
}

/* A domain literal "[1.2.3.4]" / "[IPv6:...]" naming one of our interfaces. */
static int literal_is_mine(struct resolve_ctx *r, const char *domain)
{
    size_t len = strlen(domain);
    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
        return 0;
    struct str inner = STR_INIT;
    const char *p = domain + 1;
    if (strncasecmp(p, "IPv6:", 5) == 0)
        p += 5;
    str_appendn(&inner, p, (size_t)(domain + len - 1 - p));
    struct argv *one = argv_new();
    add_addr(one, inner.data);
    int mine = 0;
    for (size_t i = 0; one->n && i < r->my_addrs->n && !mine; i++)
        mine = strcasecmp(one->v[0], r->my_addrs->v[i]) == 0;
    argv_free(one);
    str_release(&inner);
    return mine;
}

static int domain_is_local(const char *domain, void *ctx)
{
    struct resolve_ctx *r = ctx;
    if (literal_is_mine(r, domain))
        return 1;
    int m = in_list(r, L_MYDEST, domain);
    if (m == MATCH_ERROR)
        r->error = 1;
    return m == MATCH_YES;
}

/* One key over the transport_maps tables; partial keys skip pattern tables. */
static int tm_find(struct resolve_ctx *r, const char *key, int partial, struct str *value,
                   struct str *err)
{
    struct maps *m = r->transport_maps;
    for (size_t i = 0; i < m->n; i++) {
        struct table *t = m->tables[i];
        if (partial && (t->properties & TABLE_PROP_PATTERN))
            continue;
        int rc = table_lookup(t, key, value);
        if (rc == TABLE_ERROR) {
            str_set(err, "transport_maps: ");
            table_describe(t, err);
            str_appendf(err, ": %s", str_cstr(&t->error));
        }
        if (rc != TABLE_NOTFOUND)
            return rc;
    }
    return TABLE_NOTFOUND;
}

/* transport(5) order: full address, address without extension, domain, .parents, "*". */
static int transport_lookup(struct resolve_ctx *r, const char *addr, const char *domain,
                            struct str *value, struct str *err)
{
    struct argv *keys = argv_new();
    struct str stripped = STR_INIT;
    argv_add(keys, addr);
    if (address_strip_ext(addr, &r->ext, &stripped, NULL) == 1)
        argv_add(keys, stripped.data);
    size_t full = keys->n;
    if (*domain) {
        argv_add(keys, domain);
        for (const char *d = strchr(domain, '.'); d; d = strchr(d + 1, '.'))
            argv_add(keys, d);
    }
    argv_add(keys, "*");
    int rc = TABLE_NOTFOUND;
    for (size_t i = 0; i < keys->n && rc == TABLE_NOTFOUND; i++)
        rc = tm_find(r, keys->v[i], i >= full, value, err);
    argv_free(keys);
    str_release(&stripped);
    return rc;
}

/* The class's transport parameter and the next hop it implies. */
static void class_default(struct resolve_ctx *r, struct resolve_reply *out, const char *domain)
{
    static const char *const params[] = {"local_transport", NULL, "virtual_transport",
                                         "relay_transport", "default_transport"};
    (void)r;
    if (out->addr_class == RESOLVE_CLASS_ALIAS) {
        str_set(&out->transport, "error");
        str_set(&out->nexthop, "5.1.1 User unknown in virtual alias table");
        return;
    }
    const char *v = config_get(params[out->addr_class]);
    resolve_split_transport(v && *v ? v : "smtp", &out->transport, &out->nexthop);
    if (out->nexthop.len)
        return;
    const char *relayhost = config_get("relayhost");
    if (out->addr_class == RESOLVE_CLASS_LOCAL) {
        const char *h = config_get("myhostname");
        str_set(&out->nexthop, h ? h : "");
    } else if ((out->addr_class == RESOLVE_CLASS_RELAY ||
                out->addr_class == RESOLVE_CLASS_DEFAULT) &&
               relayhost && *relayhost) {
        str_set(&out->nexthop, relayhost);
    } else {
        str_set(&out->nexthop, domain);
    }
}

/* The class of a (routing-free) domain; -1 on a lookup error. */
static int classify(struct resolve_ctx *r, const char *domain, int local_domain)
{
    if (*domain == 0 || local_domain)
        return RESOLVE_CLASS_LOCAL;
    static const int order[] = {L_ALIAS, L_VMAILBOX, L_RELAY};
    static const int cls[] = {RESOLVE_CLASS_ALIAS, RESOLVE_CLASS_VIRTUAL, RESOLVE_CLASS_RELAY};
    for (int i = 0; i < 3; i++) {
        int m = in_list(r, order[i], domain);
        if (m == MATCH_ERROR)
            return -1;
        if (m == MATCH_YES)
            return cls[i];
    }
    return RESOLVE_CLASS_DEFAULT;
}

static void qualify(const char *addr, struct str *out)
{
    str_set(out, addr);
    if (strrchr(addr, '@') == NULL) {
        const char *o = config_get("myorigin");
        str_appendf(out, "@%s", o && *o ? o : "localhost");
    }
}

/* Routing operators; the final address goes to out->recipient. */
static int route(struct resolve_ctx *r, const char *addr, struct resolve_reply *out,
                 struct addr_resolved *res, struct str *err)
{
    struct addr_route_opts opts = {r->percent_hack, r->bangpath, domain_is_local, r};
    struct str q = STR_INIT;
    r->error = 0;
    qualify(addr, &q);
    int rc = address_resolve(q.data, &opts, res, err);
    if (rc == 0 && res->domain.len == 0) { /* "user%host" style reduced to a bare name */
        str_set(&q, res->local.data);
        qualify(res->local.data, &q);
        rc = address_resolve(q.data, &opts, res, err);
    }
    if (rc == 0 && r->error) {
        str_set(err, str_cstr(&r->error_text));
        rc = -1;
    }
    if (rc == 0) {
        str_set(&out->recipient, str_cstr(&res->local));
        if (res->domain.len)
            str_appendf(&out->recipient, "@%s", res->domain.data);
    }
    str_release(&q);
    return rc;
}

int resolve_recipient(struct resolve_ctx *r, const char *addr, struct resolve_reply *out,
                      struct str *err)
{
    struct addr_resolved res;
    addr_resolved_init(&res);
    str_clear(err);
    int rc = route(r, addr, out, &res, err);
    int cls = rc == 0 ? classify(r, str_cstr(&res.domain), res.local_domain) : -1;
    if (rc == 0 && cls < 0) {
        str_set(err, str_cstr(&r->error_text));
        rc = -1;
    }
    if (rc == 0) {
        out->addr_class = (enum resolve_class)cls;
        class_default(r, out, str_cstr(&res.domain));
    }
    if (rc == 0 && r->transport_maps && out->addr_class != RESOLVE_CLASS_ALIAS) {
        struct str value = STR_INIT, t = STR_INIT, n = STR_INIT;
        struct str lower = STR_INIT;
        str_set(&lower, res.domain.data ? res.domain.data : "");
        str_lower(&lower);
        int f = transport_lookup(r, out->recipient.data, lower.data, &value, err);
        if (f == TABLE_ERROR) {
            rc = -1;
        } else if (f == TABLE_FOUND) {
            resolve_split_transport(value.data ? value.data : "", &t, &n);
            str_trim_right(&n);
            if (t.len)
                str_set(&out->transport, t.data);
            if (n.len)
                str_set(&out->nexthop, n.data);
        }
        str_release(&value);
        str_release(&t);
        str_release(&n);
        str_release(&lower);
    }
    addr_resolved_release(&res);
    return rc;
}
