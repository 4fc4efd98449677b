/* params: one registry over the per-subsystem parameter tables, kept as a sorted array and
 * searched by binary search; services from master.cf add their per-service parameters. */
#include "mail/params.h"

#include "base/mem.h"
#include "base/str.h"

#include <stdlib.h>
#include <string.h>

static const struct param_def *const param_tables[] = {
    params_global, params_smtpd, params_smtp,   params_local,   params_queue,
    params_tls,    params_sasl,  params_milter, params_virtual, params_services,
};

static const struct param_def **sorted; /* built-in and registered, by name */
static size_t sorted_count, sorted_cap;
static int sorted_dirty = 1;

struct computed {
    const struct param_def *def;
    const char *value;
};
static struct computed *computed_cache;
static size_t computed_count, computed_cap;

static int by_name(const void *a, const void *b)
{
    const struct param_def *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static void add_sorted(const struct param_def *p)
{
    sorted = xgrow(sorted, &sorted_cap, sorted_count + 1, sizeof(*sorted));
    sorted[sorted_count++] = p;
    sorted_dirty = 1;
}

/* Sort and drop later duplicates (a name defined twice keeps its first definition). */
static void rebuild(void)
{
    if (sorted == NULL) {
        for (size_t t = 0; t < sizeof(param_tables) / sizeof(param_tables[0]); t++)
            for (const struct param_def *p = param_tables[t]; p->name; p++)
                add_sorted(p);
    }
    if (!sorted_dirty)
        return;
    qsort(sorted, sorted_count, sizeof(*sorted), by_name);
    size_t out = 0;
    for (size_t i = 0; i < sorted_count; i++)
        if (out == 0 || strcmp(sorted[out - 1]->name, sorted[i]->name) != 0)
            sorted[out++] = sorted[i];
    sorted_count = out;
    sorted_dirty = 0;
}

const struct param_def *param_lookup(const char *name)
{
    rebuild();
    struct param_def key = {name, PARAM_STR, NULL, 0, NULL};
    const struct param_def *kp = &key;
    const struct param_def **hit = bsearch(&kp, sorted, sorted_count, sizeof(*sorted), by_name);
    return hit ? *hit : NULL;
}

size_t param_count(void)
{
    rebuild();
    return sorted_count;
}

const struct param_def *param_at(size_t i)
{
    rebuild();
    return i < sorted_count ? sorted[i] : NULL;
}

const char *param_default(const struct param_def *p)
{
    if (p->compute == NULL)
        return p->def ? p->def : "";
    for (size_t i = 0; i < computed_count; i++)
        if (computed_cache[i].def == p)
            return computed_cache[i].value;
    const char *v = p->compute();
    computed_cache =
        xgrow(computed_cache, &computed_cap, computed_count + 1, sizeof(*computed_cache));
    computed_cache[computed_count++] = (struct computed){p, v};
    return v;
}

void param_register(const char *name, enum param_type type, const char *def, char unit)
{
    if (param_lookup(name) != NULL)
        return;
    struct param_def *p = xcalloc(1, sizeof(*p));
    p->name = xstrdup(name);
    p->type = type;
    p->def = xstrdup(def ? def : "");
    p->unit = unit;
    add_sorted(p);
}

/* Per-transport parameters: suffix, type, default unit; the default is $default_<suffix>
 * (or $<suffix> for initial_destination_concurrency). */
static const struct {
    const char *suffix;
    enum param_type type;
    char unit;
} transport_params[] = {
    {"delivery_slot_cost", PARAM_INT, 0},
    {"delivery_slot_discount", PARAM_INT, 0},
    {"delivery_slot_loan", PARAM_INT, 0},
    {"destination_concurrency_failed_cohort_limit", PARAM_INT, 0},
    {"destination_concurrency_limit", PARAM_INT, 0},
    {"destination_concurrency_negative_feedback", PARAM_STR, 0},
    {"destination_concurrency_positive_feedback", PARAM_STR, 0},
    {"destination_rate_delay", PARAM_TIME, 's'},
    {"destination_recipient_limit", PARAM_INT, 0},
    {"extra_recipient_limit", PARAM_INT, 0},
    {"initial_destination_concurrency", PARAM_INT, 0},
    {"minimum_delivery_slots", PARAM_INT, 0},
    {"recipient_limit", PARAM_INT, 0},
    {"recipient_refill_delay", PARAM_TIME, 's'},
    {"recipient_refill_limit", PARAM_INT, 0},
    {"transport_rate_delay", PARAM_TIME, 's'},
};

static const char *const delivery_agents[] = {"smtp", "lmtp",  "local",   "virtual",
                                              "pipe", "error", "discard", NULL};

void param_register_service(const char *service, const char *command)
{
    int agent = 0;
    for (size_t i = 0; command && delivery_agents[i]; i++)
        if (strcmp(command, delivery_agents[i]) == 0)
            agent = 1;
    if (!agent)
        return;
    struct str name = STR_INIT, def = STR_INIT;
    for (size_t i = 0; i < sizeof(transport_params) / sizeof(transport_params[0]); i++) {
        const char *sfx = transport_params[i].suffix;
        str_setf(&name, "%s_%s", service, sfx);
        if (strcmp(sfx, "initial_destination_concurrency") == 0)
            str_setf(&def, "$%s", sfx);
        else
            str_setf(&def, "$default_%s", sfx);
        param_register(name.data, transport_params[i].type, def.data, transport_params[i].unit);
    }
    str_setf(&name, "%s_time_limit", service);
    param_register(name.data, PARAM_TIME, "$command_time_limit", 's');
    str_release(&name);
    str_release(&def);
}

const char *param_type_name(enum param_type type)
{
    static const char *const names[] = {"string", "boolean", "integer", "time", "size"};
    return names[type];
}
