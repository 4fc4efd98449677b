/* cleanup_checks: header_checks, mime_header_checks, nested_header_checks and body_checks
 * actions (header_checks(5)):
 * REJECT, DISCARD, HOLD, IGNORE, WARN, INFO, REPLACE, PREPEND, REDIRECT, BCC, FILTER, DUNNO,
 * OK. Each action is one table entry; logged actions use Postfix's log-line shape. */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"
#include "table/table.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct check_ctx {
    struct cleanup_state *st;
    const char *class; /* "header" or "body" */
    struct str *text;  /* the header or body line */
    const char *arg;   /* the action's optional text */
    struct argv *prepend;
};

void cleanup_log_origin(const struct cleanup_state *st, struct str *out)
{
    const char *name = cleanup_attr(st, "client_name"), *addr = cleanup_attr(st, "client_address");
    if (addr)
        str_appendf(out, "%s[%s]", name ? name : "unknown", addr);
    else
        str_append(out, "local");
}

/* "<ID>: action: class text from client; from=<s> to=<r> proto=P helo=<h>[: detail]" */
static void log_action(const struct check_ctx *c, const char *action, const char *detail)
{
    struct cleanup_state *st = c->st;
    struct str line = STR_INIT;
    str_setf(&line, "%s: %s: %s %.200s from ", st->queue_id, action, c->class, c->text->data);
    cleanup_log_origin(st, &line);
    str_appendf(&line, "; from=<%s>", st->sender.data ? st->sender.data : "");
    if (st->rcpts.n > 0)
        str_appendf(&line, " to=<%s>", st->rcpts.v[0].addr);
    const char *proto = cleanup_attr(st, "client_protocol"),
               *helo = cleanup_attr(st, "client_helo");
    if (proto)
        str_appendf(&line, " proto=%s", proto);
    if (helo)
        str_appendf(&line, " helo=<%s>", helo);
    if (detail && *detail)
        str_appendf(&line, ": %s", detail);
    msg_info("%s", line.data);
    str_release(&line);
}

/* The reply text of REJECT: the table's text with a 5.7.1 code unless it has its own. */
static void reject_text(const char *arg, struct str *out)
{
    if (arg == NULL || *arg == 0)
        str_set(out, "5.7.1 message content rejected");
    else if (arg[0] == '5' && arg[1] == '.' && isdigit((unsigned char)arg[2]))
        str_set(out, arg);
    else
        str_setf(out, "5.7.1 %s", arg);
}

static enum check_result act_reject(struct check_ctx *c)
{
    struct str reply = STR_INIT;
    reject_text(c->arg, &reply);
    log_action(c, "reject", reply.data);
    cleanup_fail(c->st, CLEANUP_STAT_CONT, reply.data);
    str_release(&reply);
    return CHECK_KEEP;
}

static enum check_result act_discard(struct check_ctx *c)
{
    log_action(c, "discard", c->arg);
    c->st->discard = 1;
    return CHECK_KEEP;
}

static enum check_result act_hold(struct check_ctx *c)
{
    log_action(c, "hold", c->arg);
    c->st->hold = 1;
    return CHECK_KEEP;
}

static enum check_result act_ignore(struct check_ctx *c)
{
    (void)c;
    return CHECK_DROP;
}

static enum check_result act_warn(struct check_ctx *c)
{
    log_action(c, "warning", c->arg);
    return CHECK_KEEP;
}

static enum check_result act_info(struct check_ctx *c)
{
    log_action(c, "info", c->arg);
    return CHECK_KEEP;
}

static int need_arg(struct check_ctx *c, const char *action)
{
    if (c->arg && *c->arg)
        return 1;
    msg_warn("%s: %s action without argument in %s check -- ignored", c->st->queue_id, action,
             c->class);
    return 0;
}

static enum check_result act_replace(struct check_ctx *c)
{
    if (!need_arg(c, "REPLACE"))
        return CHECK_KEEP;
    log_action(c, "replace", c->arg);
    str_set(c->text, c->arg);
    return CHECK_REPLACED;
}

static enum check_result act_prepend(struct check_ctx *c)
{
    if (need_arg(c, "PREPEND"))
        argv_add(c->prepend, c->arg);
    return CHECK_KEEP;
}

static void set_final_attr(struct cleanup_state *st, const char *name, const char *value)
{
    for (size_t i = 0; i < st->final_names->n; i++)
        if (strcmp(st->final_names->v[i], name) == 0) {
            free(st->final_values->v[i]);
            st->final_values->v[i] = xstrdup(value);
            return;
        }
    argv_add(st->final_names, name);
    argv_add(st->final_values, value);
}

static int clean_arg(const char *arg)
{
    for (const char *p = arg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return strlen(arg) <= CLEANUP_ENV_LIMIT;
}

static enum check_result act_redirect(struct check_ctx *c)
{
    if (!need_arg(c, "REDIRECT") || !clean_arg(c->arg))
        return CHECK_KEEP;
    log_action(c, "redirect", c->arg);
    set_final_attr(c->st, "redirect", c->arg);
    return CHECK_KEEP;
}

static enum check_result act_filter(struct check_ctx *c)
{
    if (!need_arg(c, "FILTER") || !clean_arg(c->arg) || strchr(c->arg, ':') == NULL) {
        msg_warn("%s: bad FILTER action argument in %s check -- ignored", c->st->queue_id,
                 c->class);
        return CHECK_KEEP;
    }
    log_action(c, "filter", c->arg);
    set_final_attr(c->st, "filter", c->arg);
    return CHECK_KEEP;
}

static enum check_result act_bcc(struct check_ctx *c)
{
    if (!need_arg(c, "BCC") || !clean_arg(c->arg))
        return CHECK_KEEP;
    if (!c->st->in_headers) {
        msg_warn("%s: BCC action in body checks is not supported -- ignored", c->st->queue_id);
        return CHECK_KEEP;
    }
    argv_add(c->st->bcc, c->arg);
    return CHECK_KEEP;
}

static enum check_result act_dunno(struct check_ctx *c)
{
    (void)c;
    return CHECK_KEEP;
}

static const struct {
    const char *name;
    enum check_result (*fn)(struct check_ctx *);
} actions[] = {
    {"REJECT", act_reject},   {"DISCARD", act_discard}, {"HOLD", act_hold},
    {"IGNORE", act_ignore},   {"WARN", act_warn},       {"INFO", act_info},
    {"REPLACE", act_replace}, {"PREPEND", act_prepend}, {"REDIRECT", act_redirect},
    {"BCC", act_bcc},         {"FILTER", act_filter},   {"DUNNO", act_dunno},
    {"OK", act_dunno},
};

enum check_result cleanup_check(struct cleanup_state *st, struct maps *m, const char *class,
                                struct str *text, struct argv *prepend)
{
    if (m == NULL || m->n == 0)
        return CHECK_KEEP;
    struct str value = STR_INIT;
    int r = maps_find(m, text->data, &value);
    enum check_result res = CHECK_KEEP;
    if (r == TABLE_ERROR) {
        msg_warn("%s: %s map lookup problem -- message not accepted, try again later", st->queue_id,
                 m->title);
        cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
    } else if (r == TABLE_FOUND) {
        size_t n = strcspn(value.data, " \t");
        const char *arg = value.data + n + strspn(value.data + n, " \t");
        struct check_ctx c = {st, class, text, arg, prepend};
        size_t i;
        for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
            if (strlen(actions[i].name) == n && strncasecmp(actions[i].name, value.data, n) == 0)
                break;
        if (i < sizeof(actions) / sizeof(actions[0]))
            res = actions[i].fn(&c);
        else
            msg_warn("%s: unknown %s check action: %.*s -- ignored", st->queue_id, m->title, (int)n,
                     value.data);
    }
    str_release(&value);
    return res;
}
