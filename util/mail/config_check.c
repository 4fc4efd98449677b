/* config_check: whole-configuration validation. Every problem is collected with its file and
 * line so an administrator sees all of them at once; nothing here is fatal. */
#include "mail/config_check.h"
#include "mail/config.h"
#include "mail/params.h"
#include "mail/restriction_names.h"

#include "base/mem.h"
#include "base/textsplit.h"
#include "table/table.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WORD_DELIMS ", \t\r\n"

struct check_ctx {
    struct argv *errors;
    int count;        /* problems found, including ones not stored */
    const char *file; /* location of the value being checked */
    int line;
    struct argv *classes; /* smtpd_restriction_classes names */
};

static int in_list(const struct argv *a, const char *s)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return 1;
    return 0;
}

static void add_error(struct check_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_error(struct check_ctx *c, const char *fmt, ...)
{
    struct str msg = STR_INIT;
    if (c->line > 0)
        str_appendf(&msg, "%s, line %d: ", c->file, c->line);
    else
        str_appendf(&msg, "%s: ", c->file);
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&msg, fmt, ap);
    va_end(ap);
    if (!in_list(c->errors, msg.data)) { /* a table reached through $name is reported once */
        c->count++;
        if (c->errors->n < CONFIG_CHECK_MAX_ERRORS)
            argv_add(c->errors, msg.data);
    }
    str_release(&msg);
}

/* Expansion errors start with "<main.cf path>: "; the location is added again by add_error. */
static const char *strip_file_prefix(const char *text)
{
    const char *file = config_file();
    size_t n = strlen(file);
    if (strncmp(text, file, n) == 0 && strncmp(text + n, ": ", 2) == 0)
        return text + n + 2;
    return text;
}

static void check_type(struct check_ctx *c, const char *name, const char *value)
{
    const struct param_def *p = param_lookup(name);
    if (p == NULL)
        return;
    int b;
    long n;
    long long ll;
    switch (p->type) {
    case PARAM_BOOL:
        if (config_parse_bool(value, &b) != 0)
            add_error(c, "bad boolean configuration: %s = %s", name, value);
        break;
    case PARAM_INT:
        if (config_parse_int(value, &n) != 0)
            add_error(c, "bad numerical configuration: %s = %s", name, value);
        break;
    case PARAM_SIZE:
        if (config_parse_size(value, &ll) != 0)
            add_error(c, "bad numerical configuration: %s = %s", name, value);
        break;
    case PARAM_TIME:
        if (config_parse_time(value, p->unit ? p->unit : 's', &n) != 0)
            add_error(c, "parameter %s: bad time value or unit: %s", name, value);
        break;
    case PARAM_STR:
        break;
    }
}

static void check_table(struct check_ctx *c, const char *param, const char *spec)
{
    struct str err = STR_INIT;
    struct table *t = table_open(spec, 0, &err);
    if (t == NULL)
        add_error(c, "parameter %s: open %s: %s", param, spec, str_cstr(&err));
    else
        table_close(t);
    str_release(&err);
}

/* "type:" prefix of a word: letters, digits and '_' before the first ':' (0 if none). */
static size_t table_type_length(const char *word)
{
    size_t i = 0;
    while (isalnum((unsigned char)word[i]) || word[i] == '_')
        i++;
    return i > 0 && word[i] == ':' ? i : 0;
}

/* Split a list value; an unbalanced brace is reported when report is set (lists), and
 * ignored in free text (banners, footers), where braces mean nothing. */
static int split_value(struct check_ctx *c, const char *param, const char *value,
                       struct argv *words, int report)
{
    struct str err = STR_INIT;
    int rc = split_words(value, WORD_DELIMS, SPLIT_KEEP_BRACES, words, &err);
    if (rc < 0 && report)
        add_error(c, "parameter %s: %s", param, str_cstr(&err));
    str_release(&err);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Table references in an ordinary value. In *_maps and *_checks lists every type:name word
 * is a table; elsewhere only words whose type is a known table type are (so transport:nexthop
 * values and addresses are left alone). Milter lists hold endpoints, not tables. */
static void scan_tables(struct check_ctx *c, const char *param, const char *value)
{
    if (ends_with(param, "_milters") || strcmp(param, "smtpd_restriction_classes") == 0)
        return;
    int strict = ends_with(param, "_maps") || ends_with(param, "_checks");
    struct argv *words = argv_new();
    if (split_value(c, param, value, words, strict) == 0) {
        for (size_t i = 0; i < words->n; i++) {
            size_t tl = table_type_length(words->v[i]);
            if (tl == 0)
                continue;
            char *type = xstrndup(words->v[i], tl);
            if (strict || table_type_find(type))
                check_table(c, param, words->v[i]);
            free(type);
        }
    }
    argv_free(words);
}

/* One restriction list: names, their arguments, class names and bare type:table words. */
static void check_restrictions(struct check_ctx *c, const char *param, const char *value)
{
    struct argv *words = argv_new();
    if (split_value(c, param, value, words, 1) < 0) {
        argv_free(words);
        return;
    }
    for (size_t i = 0; i < words->n; i++) {
        const char *w = words->v[i];
        const struct restriction_name *r = restriction_lookup(w);
        if (r == NULL) {
            if (in_list(c->classes, w))
                continue;
            if (table_type_length(w))
                check_table(c, param, w);
            else
                add_error(c, "unknown restriction \"%s\" in %s", w, param);
            continue;
        }
        if (r->arg == RESTRICTION_ARG_NONE)
            continue;
        if (i + 1 >= words->n) {
            add_error(c, "restriction \"%s\" in %s: missing argument", w, param);
            continue;
        }
        const char *arg = words->v[++i];
        long n;
        if (r->arg == RESTRICTION_ARG_TABLE) {
            if (table_type_length(arg))
                check_table(c, param, arg);
            else
                add_error(c, "restriction \"%s\" in %s: \"%s\" is not a type:table", w, param, arg);
        } else if (r->arg == RESTRICTION_ARG_NUMBER && config_parse_int(arg, &n) != 0) {
            add_error(c, "restriction \"%s\" in %s: bad number \"%s\"", w, param, arg);
        }
    }
    argv_free(words);
}

static int is_restriction_list(struct check_ctx *c, const char *name)
{
    for (const char *const *p = restriction_list_params; *p; p++)
        if (strcmp(*p, name) == 0)
            return 1;
    return in_list(c->classes, name);
}

/* The checks of one expanded value. */
static void check_value(struct check_ctx *c, const char *name, const char *value)
{
    check_type(c, name, value);
    if (is_restriction_list(c, name))
        check_restrictions(c, name, value);
    else
        scan_tables(c, name, value);
}

static void load_classes(struct check_ctx *c)
{
    struct str err = STR_INIT;
    const char *v = config_get_checked("smtpd_restriction_classes", &err);
    struct argv *names = argv_split(v ? v : "", WORD_DELIMS);
    for (size_t i = 0; i < names->n; i++)
        argv_add(c->classes, names->v[i]);
    argv_free(names);
    str_release(&err);
}

/* Report in file order: sort the set names by their main.cf line. */
static int by_line(const void *a, const void *b)
{
    int la = config_set_line(*(char *const *)a), lb = config_set_line(*(char *const *)b);
    return la < lb ? -1 : la > lb;
}

static void check_main(struct check_ctx *c)
{
    struct argv *names = config_set_names();
    qsort(names->v, names->n, sizeof(names->v[0]), by_line);
    c->file = config_file();
    for (size_t i = 0; i < names->n; i++) {
        const char *name = names->v[i];
        struct str err = STR_INIT;
        c->line = config_set_line(name);
        const char *value = config_get_checked(name, &err);
        if (value == NULL)
            add_error(c, "%s", err.len ? strip_file_prefix(err.data) : "cannot expand");
        else
            check_value(c, name, value);
        str_release(&err);
    }
    argv_free(names);
}

/* One master.cf -o name=value: expanded like main.cf values, then checked the same way. */
static void check_override(struct check_ctx *c, const char *setting)
{
    const char *eq = strchr(setting, '=');
    if (eq == NULL || eq == setting) {
        add_error(c, "bad -o parameter setting: \"%s\"", setting);
        return;
    }
    char *name = xstrndup(setting, (size_t)(eq - setting));
    struct str out = STR_INIT, err = STR_INIT;
    if (config_expand(eq + 1, &out, &err) != 0)
        add_error(c, "parameter %s: %s", name, strip_file_prefix(str_cstr(&err)));
    else
        check_value(c, name, str_cstr(&out));
    str_release(&out);
    str_release(&err);
    free(name);
}

static void check_master(struct check_ctx *c, const struct mastercf *m)
{
    c->file = m->path;
    for (size_t i = 0; i < m->n; i++) {
        c->line = m->v[i].line;
        struct argv *o = mastercf_overrides(&m->v[i]);
        for (size_t j = 0; j < o->n; j++)
            check_override(c, o->v[j]);
        argv_free(o);
    }
}

int config_check_loaded(const struct mastercf *m, struct argv *errors)
{
    struct check_ctx c = {.errors = errors, .classes = argv_new()};
    load_classes(&c);
    check_main(&c);
    if (m)
        check_master(&c, m);
    argv_free(c.classes);
    return c.count;
}

int config_check_dir(const char *config_dir, struct argv *errors)
{
    struct str err = STR_INIT, path = STR_INIT;
    if (config_load(config_dir, &err) < 0) {
        argv_add(errors, str_cstr(&err));
        str_release(&err);
        return 1;
    }
    str_setf(&path, "%s/master.cf", config_directory());
    struct mastercf *m = mastercf_read(path.data, &err);
    int count = 0;
    if (m == NULL) {
        argv_add(errors, str_cstr(&err));
        count++;
    }
    count += config_check_loaded(m, errors);
    mastercf_free(m);
    str_release(&err);
    str_release(&path);
    return count;
}
