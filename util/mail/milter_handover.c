/* milter_handover: smtpd passes the end-of-message stage of its milter sessions to the cleanup
 * service, which holds the content. The connections themselves travel as descriptors (fdpass);
 * this module writes and reads what goes with them: each filter's negotiated state after DATA
 * and the values of the end-of-header and end-of-message macros as smtpd knows them. The
 * cleanup side validates everything, as it trusts no other process (docs/milter.md). */
#include "mail/milter_int.h"

#include "base/attr.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/xtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int content_stages[] = {MILTER_STAGE_EOH, MILTER_STAGE_EOM};

size_t milters_fds(const struct milters *m, int *fds, size_t max)
{
    size_t n = m->n < max ? m->n : max;
    for (size_t i = 0; i < n; i++)
        fds[i] = m->v[i].s ? stream_fd(m->v[i].s) : -1;
    return n;
}

static void add_names(struct argv *out, const struct argv *list)
{
    for (size_t i = 0; list && i < list->n; i++) {
        struct str key = STR_INIT;
        milter_macro_key(list->v[i], &key);
        int seen = key.len == 0 || key.len > MILTER_NAME_LIMIT;
        for (size_t j = 0; !seen && j < out->n; j++)
            seen = strcmp(out->v[j], key.data) == 0;
        if (!seen)
            argv_add(out, key.data);
        str_release(&key);
    }
}

static void join(const struct argv *a, struct str *out)
{
    str_set(out, "");
    for (size_t i = 0; a && i < a->n; i++)
        str_appendf(out, "%s%s", i ? " " : "", a->v[i]);
}

void milters_export(struct milters *m, struct str *out)
{
    struct attr_list *a = attr_list_new();
    struct argv *names = argv_new();
    struct str b = STR_INIT;
    attr_add_long(a, "body_limit", (long)(m->body_limit > 0x7fffffff ? 0x7fffffff : m->body_limit));
    for (size_t s = 0; s < 2; s++) {
        int stage = content_stages[s];
        join(m->macros[stage], &b);
        attr_add(a, stage == MILTER_STAGE_EOH ? "eoh_macros" : "eom_macros", b.data);
        add_names(names, m->macros[stage]);
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct filter *f = &m->v[i];
        str_setf(&b, "%d %d %lu %lu %ld %ld %ld %d %s", (int)f->state, f->version,
                 (unsigned long)f->actions, (unsigned long)f->steps, f->conn_to, f->cmd_to,
                 f->content_to, f->default_action, f->endpoint);
        attr_add(a, "filter", b.data);
        for (size_t s = 0; s < 2; s++) {
            int stage = content_stages[s];
            if (f->macros[stage] == NULL)
                continue;
            struct str j = STR_INIT;
            join(f->macros[stage], &j);
            str_setf(&b, "%s %s", stage == MILTER_STAGE_EOH ? "eoh" : "eom", j.data);
            attr_add(a, "filter_macros", b.data);
            str_release(&j);
            add_names(names, f->macros[stage]);
        }
    }
    for (size_t i = 0; i < names->n; i++) {
        const char *val = milter_macro_value(m, names->v[i]);
        if (val && strlen(val) <= MILTER_TEXT_LIMIT) {
            str_setf(&b, "%s=%s", names->v[i], val);
            attr_add(a, "macro", b.data);
        }
    }
    struct str text = STR_INIT;
    attr_encode(a, &text);
    str_clear(out);
    xtext_encode(text.data, text.len, out); /* one line, printable: an envelope attribute */
    str_release(&text);
    argv_free(names);
    str_release(&b);
    attr_list_free(a);
}

/* ---- the cleanup side ---- */

static int parse_filter(struct milters *m, const char *text, int *fds, size_t nfds, struct str *err)
{
    int state, version, da, used = 0;
    unsigned long actions, steps;
    long conn, cmd, content;
    if (sscanf(text, "%d %d %lu %lu %ld %ld %ld %d %n", &state, &version, &actions, &steps, &conn,
               &cmd, &content, &da, &used) != 8 ||
        used == 0 || text[used] == 0 || strpbrk(text + used, " \t") || state < F_IDLE ||
        state > F_FAILED || version < 2 || version > 6 || da < DA_ACCEPT || da > DA_QUARANTINE ||
        conn < 0 || cmd < 0 || content < 0 || conn > 86400 || cmd > 86400 || content > 86400 ||
        actions > 0xffffffffUL || steps > 0xffffffffUL) {
        str_set(err, "malformed filter state");
        return -1;
    }
    if (m->n >= MILTER_HANDOVER_MAX) {
        str_set(err, "too many filters");
        return -1;
    }
    m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
    if (m->v == NULL)
        msg_fatal("out of memory");
    struct filter *f = &m->v[m->n];
    memset(f, 0, sizeof(*f));
    f->endpoint = xstrdup(text + used);
    f->state = (enum filter_state)state;
    f->version = version;
    f->actions = (uint32_t)actions;
    f->steps = (uint32_t)steps;
    f->conn_to = conn;
    f->cmd_to = cmd;
    f->content_to = content;
    f->default_action = da;
    size_t slot = m->n++;
    int fd = slot < nfds ? fds[slot] : -1;
    if (slot < nfds)
        fds[slot] = -1; /* taken over */
    if (fd >= 0 && (f->state == F_READY || f->state == F_ACCEPT_MSG))
        f->s = stream_fdopen(fd);
    else {
        if (fd >= 0)
            close(fd);
        if (f->state == F_READY || f->state == F_ACCEPT_MSG)
            f->state = F_FAILED; /* no connection came with it */
    }
    return 0;
}

static int parse_filter_macros(struct milters *m, const char *text, struct str *err)
{
    if (m->n == 0 || (strncmp(text, "eoh ", 4) != 0 && strncmp(text, "eom ", 4) != 0)) {
        str_set(err, "malformed filter macros");
        return -1;
    }
    int stage = text[1] == 'o' && text[2] == 'h' ? MILTER_STAGE_EOH : MILTER_STAGE_EOM;
    struct filter *f = &m->v[m->n - 1];
    argv_free(f->macros[stage]);
    f->macros[stage] = argv_split(text + 4, " ");
    if (f->macros[stage]->n > MILTER_MACRO_LIMIT) {
        str_set(err, "too many macros");
        return -1;
    }
    return 0;
}

static int parse_macro(struct milters *m, const char *text, struct str *err)
{
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text || (size_t)(eq - text) > MILTER_NAME_LIMIT ||
        strlen(eq + 1) > MILTER_TEXT_LIMIT || m->given_names->n >= MILTER_MACRO_LIMIT * 2) {
        str_set(err, "malformed macro");
        return -1;
    }
    struct str name = STR_INIT;
    str_appendn(&name, text, (size_t)(eq - text));
    argv_add(m->given_names, name.data);
    argv_add(m->given_values, eq + 1);
    str_release(&name);
    return 0;
}

static int import_one(struct milters *m, const char *name, const char *value, int *fds, size_t nfds,
                      struct str *err)
{
    if (strcmp(name, "filter") == 0)
        return parse_filter(m, value, fds, nfds, err);
    if (strcmp(name, "filter_macros") == 0)
        return parse_filter_macros(m, value, err);
    if (strcmp(name, "macro") == 0)
        return parse_macro(m, value, err);
    if (strcmp(name, "eoh_macros") == 0 || strcmp(name, "eom_macros") == 0) {
        int stage = name[2] == 'h' ? MILTER_STAGE_EOH : MILTER_STAGE_EOM;
        argv_free(m->macros[stage]);
        m->macros[stage] = argv_split(value, " ");
        return m->macros[stage]->n > MILTER_MACRO_LIMIT ? (str_set(err, "too many macros"), -1) : 0;
    }
    if (strcmp(name, "body_limit") == 0) {
        char *end;
        unsigned long v = strtoul(value, &end, 10);
        if (*value == 0 || *end || v == 0)
            return str_set(err, "malformed body_limit"), -1;
        m->body_limit = v;
        return 0;
    }
    str_setf(err, "unknown attribute \"%.40s\"", name);
    return -1;
}

struct milters *milters_import(const char *xtext, int *fds, size_t nfds, struct str *err)
{
    struct str decoded = STR_INIT;
    if (xtext_decode(xtext, strlen(xtext), &decoded, err) < 0 ||
        memchr(decoded.data, 0, decoded.len)) {
        if (err->len == 0)
            str_set(err, "malformed state");
        for (size_t i = 0; i < nfds; i++)
            if (fds[i] >= 0) {
                close(fds[i]);
                fds[i] = -1;
            }
        str_release(&decoded);
        return NULL;
    }
    const char *text = decoded.data ? decoded.data : "";
    struct milters *m = xcalloc(1, sizeof(*m));
    m->body_limit = 64u << 20;
    m->borrowed = 1;
    m->given_names = argv_new();
    m->given_values = argv_new();
    for (int s = 0; s < MILTER_STAGE_COUNT; s++)
        m->macros[s] = argv_new();
    struct str name = STR_INIT, value = STR_INIT;
    int rc = 0;
    const char *p = text;
    while (rc == 0 && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == 0)
            break; /* the end of the list */
        rc = attr_decode_line(p, len, &name, &value, err);
        if (rc == 0)
            rc = import_one(m, name.data, value.data ? value.data : "", fds, nfds, err);
        p += len + (nl != NULL);
    }
    for (size_t i = 0; i < nfds; i++) /* descriptors no filter claimed */
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    str_release(&name);
    str_release(&value);
    str_release(&decoded);
    if (rc < 0) {
        milters_free(m);
        return NULL;
    }
    return m;
}
