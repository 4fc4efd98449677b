/* mastercf: parsing master.cf into entries, with column validation and the normalisation of
 * -o overrides; each column is checked by its own entry in a validator table. */
#include "mail/mastercf.h"
#include "mail/config.h"
#include "mail/config_parse.h"
#include "mail/params.h"

#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const mastercf_field_names[8] = {"service", "type",   "private",       "unprivileged",
                                             "chroot",  "wakeup", "process_limit", "command"};

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* ---- column validators: 0 ok, -1 bad ---- */

static int check_service(struct mastercf_entry *e, const char *v)
{
    (void)e;
    if (*v == 0 || strcmp(v, "-") == 0)
        return -1;
    if (*v == '[') { /* [ipv6]:port */
        const char *c = strchr(v, ']');
        return c && c[1] == ':' && c[2] ? 0 : -1;
    }
    const char *colon = strrchr(v, ':');
    return colon && colon[1] == 0 ? -1 : 0;
}

static int check_type(struct mastercf_entry *e, const char *v)
{
    static const char *const types[] = {"inet", "unix", "unix-dgram", "fifo", "pass", NULL};
    (void)e;
    for (size_t i = 0; types[i]; i++)
        if (strcmp(v, types[i]) == 0)
            return 0;
    return -1;
}

static int yes_no(const char *v, int def, int *out)
{
    if (strcmp(v, "-") == 0)
        *out = def;
    else if (strcmp(v, "y") == 0)
        *out = 1;
    else if (strcmp(v, "n") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int check_private(struct mastercf_entry *e, const char *v)
{
    int inet = strcmp(e->field[MCF_TYPE], "inet") == 0;
    if (yes_no(v, !inet, &e->private_flag) != 0)
        return -1;
    if (inet)
        e->private_flag = 0;
    return 0;
}

static int check_unpriv(struct mastercf_entry *e, const char *v)
{
    return yes_no(v, 1, &e->unpriv_flag);
}

static int check_chroot(struct mastercf_entry *e, const char *v)
{
    return yes_no(v, 0, &e->chroot_flag);
}

static int parse_count(const char *v, int *out)
{
    long n = 0;
    if (!isdigit((unsigned char)*v))
        return -1;
    for (; isdigit((unsigned char)*v); v++)
        if ((n = n * 10 + (*v - '0')) > 1000000000L)
            return -1;
    *out = (int)n;
    return *v == 0 ? 0 : -1;
}

static int check_wakeup(struct mastercf_entry *e, const char *v)
{
    e->wakeup = 0;
    e->wakeup_if_used = 0;
    if (strcmp(v, "-") == 0)
        return 0;
    char *copy = xstrdup(v);
    size_t len = strlen(copy);
    if (len > 1 && copy[len - 1] == '?') {
        e->wakeup_if_used = 1;
        copy[len - 1] = 0;
    }
    int rc = parse_count(copy, &e->wakeup);
    free(copy);
    return rc;
}

static int check_maxproc(struct mastercf_entry *e, const char *v)
{
    e->process_limit = -1;
    return strcmp(v, "-") == 0 ? 0 : parse_count(v, &e->process_limit);
}

static int (*const validators[7])(struct mastercf_entry *, const char *) = {
    check_service, check_type,   check_private, check_unpriv,
    check_chroot,  check_wakeup, check_maxproc,
};

/* ---- argument tokenizer: white-space separated words; {...} is one word (braces and the
 * white space just inside them removed) ---- */

static int next_word(const char **pp, struct str *word, int *braced)
{
    const char *p = *pp;
    while (is_ws((unsigned char)*p))
        p++;
    if (*p == 0)
        return 0;
    str_clear(word);
    *braced = 0;
    if (*p == '{') {
        int level = 0;
        const char *s = p;
        for (; *p; p++) {
            if (*p == '{')
                level++;
            else if (*p == '}' && --level == 0)
                break;
        }
        if (*p != '}')
            return -1;
        const char *a = s + 1, *b = p;
        while (a < b && is_ws((unsigned char)*a))
            a++;
        while (b > a && is_ws((unsigned char)b[-1]))
            b--;
        str_appendn(word, a, (size_t)(b - a));
        *braced = 1;
        p++;
    } else {
        const char *s = p;
        while (*p && !is_ws((unsigned char)*p))
            p++;
        str_appendn(word, s, (size_t)(p - s));
    }
    *pp = p;
    return 1;
}

/* "name = value" -> "name=value"; -1 if there is no '=' or no name. */
static int normalize_override(struct str *w)
{
    char *eq = strchr(str_cstr(w), '=');
    if (eq == NULL || eq == w->data)
        return -1;
    const char *ne = eq;
    while (ne > w->data && is_ws((unsigned char)ne[-1]))
        ne--;
    const char *v = eq + 1;
    while (is_ws((unsigned char)*v))
        v++;
    if (ne == w->data)
        return -1;
    struct str n = STR_INIT;
    str_appendn(&n, w->data, (size_t)(ne - w->data));
    str_appendc(&n, '=');
    str_append(&n, v);
    str_set(w, n.data);
    str_release(&n);
    return 0;
}

static int parse_command(struct mastercf_entry *e, const char *p, struct str *err, const char *path)
{
    struct str w = STR_INIT;
    int braced, rc, want_override = 0;
    e->argv = argv_new();
    while ((rc = next_word(&p, &w, &braced)) > 0) {
        if (e->argv->n >= MASTERCF_MAX_ARGS) {
            str_setf(err, "%s: line %d: too many arguments", path, e->line);
            rc = -1;
            break;
        }
        if (want_override && normalize_override(&w) != 0) {
            str_setf(err, "%s: line %d: bad -o option syntax: \"%s\" (expected name=value)", path,
                     e->line, str_cstr(&w));
            rc = -1;
            break;
        }
        want_override =
            !braced && e->argv->n > 0 && strcmp(str_cstr(&w), "-o") == 0 && !want_override;
        argv_add(e->argv, str_cstr(&w));
    }
    if (rc == 0 && want_override) {
        str_setf(err, "%s: line %d: missing value after -o", path, e->line);
        rc = -1;
    } else if (rc < 0 && err->len == 0) {
        str_setf(err, "%s: line %d: missing '}' in command arguments", path, e->line);
    } else if (rc == 0 && e->argv->n == 0) {
        str_setf(err, "%s: line %d: field \"command\": missing", path, e->line);
        rc = -1;
    }
    str_release(&w);
    return rc;
}

static void entry_release(struct mastercf_entry *e)
{
    for (int i = 0; i < 7; i++)
        free(e->field[i]);
    argv_free(e->argv);
    memset(e, 0, sizeof(*e));
}

/* Parse one logical line (joined) into e. */
static int parse_entry(const char *path, const char *text, int line, struct mastercf_entry *e,
                       struct str *err)
{
    const char *p = text;
    struct str w = STR_INIT;
    int braced;
    memset(e, 0, sizeof(*e));
    e->line = line;
    for (int i = 0; i < 7; i++) {
        if (next_word(&p, &w, &braced) <= 0 || braced) {
            str_setf(err, "%s: line %d: field \"%s\": missing or bad value", path, line,
                     mastercf_field_names[i]);
            str_release(&w);
            return -1;
        }
        e->field[i] = xstrdup(w.data);
        if (validators[i](e, w.data) != 0) {
            str_setf(err, "%s: line %d: field \"%s\": bad value: \"%s\"", path, line,
                     mastercf_field_names[i], w.data);
            str_release(&w);
            return -1;
        }
    }
    str_release(&w);
    return parse_command(e, p, err, path);
}

static void add_entry(struct mastercf *m, struct mastercf_entry *e)
{
    m->v = xgrow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
    m->v[m->n++] = *e;
}

/* Join a group of physical lines, dropping comment lines inside it. */
static void join_group(const char *text, const struct config_lline *l, struct str *out)
{
    const char *p = text + l->start, *end = text + l->end;
    str_clear(out);
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        e = e ? e : end;
        const char *q = p;
        while (q < e && is_ws((unsigned char)*q))
            q++;
        if (q < e && *q != '#') {
            str_appendc(out, ' ');
            str_appendn(out, q, (size_t)(e - q));
        }
        p = e < end ? e + 1 : end;
    }
}

struct mastercf *mastercf_parse(const char *path, const char *text, size_t len, struct str *err)
{
    struct mastercf *m = xcalloc(1, sizeof(*m));
    m->path = xstrdup(path);
    struct config_lline *ll;
    size_t n = config_split_lines(text, len, &ll);
    struct str joined = STR_INIT;
    int ok = 1;
    if (memchr(text, 0, len) != NULL) {
        str_setf(err, "%s: NUL character in text", path);
        ok = 0;
    }
    for (size_t i = 0; ok && i < n; i++) {
        if (!ll[i].is_setting)
            continue;
        if (text[ll[i].start] == ' ' || text[ll[i].start] == '\t') {
            str_setf(err, "%s: line %d: entry must not start with white space", path, ll[i].line);
            ok = 0;
            break;
        }
        struct mastercf_entry e;
        join_group(text, &ll[i], &joined);
        if (parse_entry(path, joined.data, ll[i].line, &e, err) != 0) {
            entry_release(&e);
            ok = 0;
        } else if (mastercf_find(m, e.field[0], e.field[1])) {
            str_setf(err, "%s: line %d: duplicate service name: \"%s/%s\"", path, e.line,
                     e.field[0], e.field[1]);
            entry_release(&e);
            ok = 0;
        } else if (m->n >= MASTERCF_MAX_ENTRIES) {
            str_setf(err, "%s: line %d: too many entries", path, e.line);
            entry_release(&e);
            ok = 0;
        } else {
            add_entry(m, &e);
        }
    }
    free(ll);
    str_release(&joined);
    if (!ok) {
        mastercf_free(m);
        return NULL;
    }
    return m;
}

struct mastercf *mastercf_read(const char *path, struct str *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        str_setf(err, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct str data = STR_INIT;
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0 && data.len <= (size_t)CONFIG_MAX_FILE)
        str_appendn(&data, buf, (size_t)r);
    close(fd);
    struct mastercf *m = NULL;
    if (r < 0)
        str_setf(err, "read %s: %s", path, strerror(errno));
    else if (data.len > (size_t)CONFIG_MAX_FILE)
        str_setf(err, "%s: file too large", path);
    else
        m = mastercf_parse(path, str_cstr(&data), data.len, err);
    str_release(&data);
    return m;
}

void mastercf_free(struct mastercf *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        entry_release(&m->v[i]);
    free(m->v);
    free(m->path);
    free(m);
}

const struct mastercf_entry *mastercf_find(const struct mastercf *m, const char *service,
                                           const char *type)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].field[0], service) == 0 && strcmp(m->v[i].field[1], type) == 0)
            return &m->v[i];
    return NULL;
}

struct argv *mastercf_overrides(const struct mastercf_entry *e)
{
    struct argv *a = argv_new();
    for (size_t i = 1; i + 1 < e->argv->n; i++)
        if (strcmp(e->argv->v[i], "-o") == 0)
            argv_add(a, e->argv->v[++i]);
    return a;
}

void mastercf_register_params(const struct mastercf *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *svc = m->v[i].field[0];
        if (strchr(svc, ':') == NULL && strchr(svc, '/') == NULL)
            param_register_service(svc, m->v[i].argv->v[0]);
    }
}

void mastercf_collect_names(const struct mastercf *m, struct argv *out)
{
    for (size_t i = 0; i < m->n; i++) {
        struct argv *o = mastercf_overrides(&m->v[i]);
        for (size_t j = 0; j < o->n; j++) {
            char *eq = strchr(o->v[j], '=');
            argv_addn(out, o->v[j], eq ? (size_t)(eq - o->v[j]) : strlen(o->v[j]));
            if (eq)
                argv_add(out, eq + 1);
        }
        argv_free(o);
    }
}
