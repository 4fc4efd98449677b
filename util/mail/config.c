/* config: the main.cf store. Settings from main.cf and overrides are kept raw; lookups expand
 * them on demand and cache the result until the configuration changes. */
#include "mail/config.h"
#include "mail/config_int.h"
#include "mail/config_map.h"
#include "mail/config_parse.h"
#include "mail/mastercf.h"
#include "mail/params.h"
#include "mail/paths.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct cfmap settings, overrides, cache, derived;
static char *loaded_dir, *loaded_file;
static int defaults_only;

static void invalidate(void)
{
    cfmap_clear(&cache);
    cfmap_clear(&derived);
}

void config_reset(void)
{
    cfmap_clear(&settings);
    cfmap_clear(&overrides);
    invalidate();
    defaults_only = 0;
}

const char *config_directory(void)
{
    return loaded_dir ? loaded_dir : paths_default("config_directory");
}

const char *config_file(void)
{
    return loaded_file ? loaded_file : "main.cf";
}

void config_defaults_only(int on)
{
    defaults_only = on;
    invalidate();
}

void config_override(const char *name, const char *value)
{
    cfmap_put(&overrides, name, value, 0);
    invalidate();
}

/* Defaults computed from other parameters: mydomain from myhostname, mynetworks from
 * mynetworks_style and inet_protocols. */
static const char *derived_default(const struct param_def *p)
{
    static int busy;
    int is_domain = p->compute == param_compute_mydomain;
    int is_nets = p->compute == param_compute_mynetworks;
    if ((!is_domain && !is_nets) || busy)
        return param_default(p);
    struct cfmap_entry *e = cfmap_find(&derived, p->name);
    if (e)
        return e->value;
    busy = 1;
    char *v = is_domain ? param_mydomain_of(config_get("myhostname"))
                        : param_mynetworks_of(config_get("mynetworks_style"),
                                              config_get("inet_protocols"));
    busy = 0;
    e = cfmap_put(&derived, p->name, v, 0);
    free(v);
    return e->value;
}

const char *config_get_raw(const char *name)
{
    struct cfmap_entry *e;
    if (!defaults_only && (e = cfmap_find(&overrides, name)) != NULL)
        return e->value;
    if (!defaults_only && (e = cfmap_find(&settings, name)) != NULL)
        return e->value;
    /* $config_directory is the directory actually in use (-c, MAIL_CONFIG), as in Postfix. */
    if (!defaults_only && loaded_dir && strcmp(name, "config_directory") == 0)
        return loaded_dir;
    const struct param_def *p = param_lookup(name);
    return p ? derived_default(p) : NULL;
}

const char *config_expand_name(const char *name, struct argv *chain, struct str *err)
{
    struct cfmap_entry *e = cfmap_find(&cache, name);
    if (e)
        return e->value;
    const char *raw = config_get_raw(name);
    if (raw == NULL)
        return "";
    for (size_t i = 0; i < chain->n; i++) {
        if (strcmp(chain->v[i], name) != 0)
            continue;
        str_setf(err, "%s: parameter %s: recursive $ expansion: ", config_file(), chain->v[0]);
        for (size_t j = i; j < chain->n; j++)
            str_appendf(err, "$%s -> ", chain->v[j]);
        str_appendf(err, "$%s", name);
        return NULL;
    }
    if (chain->n >= CONFIG_MAX_DEPTH) {
        str_setf(err, "%s: parameter %s: unreasonable macro call nesting (over %d levels)",
                 config_file(), chain->v[0], CONFIG_MAX_DEPTH);
        return NULL;
    }
    argv_add(chain, name);
    struct str out = STR_INIT;
    int rc = config_expand_text(raw, &out, chain, err);
    free(chain->v[--chain->n]);
    chain->v[chain->n] = NULL;
    if (rc != 0) {
        str_release(&out);
        return NULL;
    }
    e = cfmap_put(&cache, name, str_cstr(&out), 0);
    str_release(&out);
    return e->value;
}

const char *config_get_checked(const char *name, struct str *err)
{
    if (config_get_raw(name) == NULL)
        return NULL;
    struct argv *chain = argv_new();
    const char *v = config_expand_name(name, chain, err);
    argv_free(chain);
    return v;
}

const char *config_get(const char *name)
{
    struct str err = STR_INIT;
    const char *v = config_get_checked(name, &err);
    if (v == NULL && err.len) {
        static struct str last_error; /* survives the fatal exit (tests longjmp out) */
        str_set(&last_error, err.data);
        str_release(&err);
        msg_fatal("%s", last_error.data);
    }
    str_release(&err);
    return v;
}

int config_expand(const char *text, struct str *out, struct str *err)
{
    struct argv *chain = argv_new();
    int rc = config_expand_text(text, out, chain, err);
    argv_free(chain);
    return rc;
}

/* ---- loading ---- */

static int store_setting(const char *name, const char *value, int line, void *ctx)
{
    cfmap_put(ctx, name, value, line);
    return 0;
}

/* Restriction class names are parameters too (their value is a restriction list). */
static void register_classes(void)
{
    const char *classes = config_get_raw("smtpd_restriction_classes");
    struct argv *names = argv_split(classes ? classes : "", ", \t\n\r");
    for (size_t i = 0; i < names->n; i++)
        if (names->v[i][0] != '$')
            param_register(names->v[i], PARAM_STR, "", 0);
    argv_free(names);
}

int config_load_text(const char *path, const char *text, size_t len, struct str *err)
{
    struct cfmap fresh = {0};
    cfmap_init(&fresh);
    if (config_parse(path, text, len, store_setting, &fresh, err) != 0) {
        cfmap_clear(&fresh);
        free(fresh.buckets);
        return -1;
    }
    cfmap_clear(&settings);
    free(settings.buckets);
    settings = fresh;
    free(loaded_file);
    loaded_file = xstrdup(path);
    invalidate();
    register_classes();
    return 0;
}

static int read_file(const char *path, struct str *data, struct str *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        str_setf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        str_appendn(data, buf, (size_t)n);
        if (data->len > (size_t)CONFIG_MAX_FILE) {
            str_setf(err, "%s: file too large (over %ld bytes)", path, CONFIG_MAX_FILE);
            close(fd);
            return -1;
        }
    }
    int saved = errno;
    close(fd);
    if (n < 0) {
        str_setf(err, "read %s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

/* Per-service parameters of master.cf services (errors are reported by master/postconf). */
static void register_services(const char *dir)
{
    struct str path = STR_INIT, err = STR_INIT;
    str_setf(&path, "%s/master.cf", dir);
    struct mastercf *m = mastercf_read(path.data, &err);
    if (m) {
        mastercf_register_params(m);
        mastercf_free(m);
    }
    str_release(&path);
    str_release(&err);
}

int config_load(const char *config_dir, struct str *err)
{
    const char *dir = config_dir;
    if (dir == NULL || *dir == 0)
        dir = getenv("MAIL_CONFIG");
    if (dir == NULL || *dir == 0)
        dir = paths_default("config_directory");
    struct str path = STR_INIT, data = STR_INIT;
    str_setf(&path, "%s/main.cf", dir);
    int rc = read_file(path.data, &data, err);
    if (rc == 0)
        rc = config_load_text(path.data, str_cstr(&data), data.len, err);
    if (rc == 0) {
        free(loaded_dir);
        loaded_dir = xstrdup(dir);
        register_services(dir);
    }
    str_release(&path);
    str_release(&data);
    return rc;
}

/* ---- main.cf settings ---- */

struct argv *config_set_names(void)
{
    return cfmap_names(&settings);
}

const char *config_set_value(const char *name)
{
    struct cfmap_entry *e = cfmap_find(&settings, name);
    return e ? e->value : NULL;
}

int config_set_line(const char *name)
{
    struct cfmap_entry *e = cfmap_find(&settings, name);
    return e ? e->line : 0;
}

static int in_argv(const struct argv *a, const char *s)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return 1;
    return 0;
}

void config_warn_unused(const struct argv *used)
{
    struct argv *refs = argv_new();
    struct argv *names = config_set_names();
    for (size_t i = 0; i < names->n; i++)
        config_collect_refs(config_set_value(names->v[i]), refs);
    for (size_t i = 0; i < param_count(); i++) {
        const struct param_def *p = param_at(i);
        if (p->def)
            config_collect_refs(p->def, refs);
    }
    for (size_t i = 0; used && i < used->n; i++)
        config_collect_refs(used->v[i], refs);
    for (size_t i = 0; i < names->n; i++) {
        const char *n = names->v[i];
        if (param_lookup(n) || in_argv(refs, n) || in_argv(used, n))
            continue;
        msg_warn("%s: unused parameter: %s=%s", config_file(), n, config_set_value(n));
    }
    argv_free(names);
    argv_free(refs);
}
