/* milter: the milter client — filter list and per-filter settings, connection and option
 * negotiation, macros, the per-stage events with verdict combination, the end-of-message
 * exchange collecting modification requests, and the default action for a filter that fails
 * (docs/milter.md). */
#include "mail/milter.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/stream.h"
#include "base/textsplit.h"
#include "mail/config.h"
#include "mail/milter_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail/milter_int.h"

static const char *const macro_params[MILTER_STAGE_COUNT] = {
    "milter_connect_macros",       "milter_helo_macros", "milter_mail_macros",
    "milter_rcpt_macros",          "milter_data_macros", "milter_end_of_data_macros",
    "milter_end_of_header_macros",
};
static const char stage_cmd[MILTER_STAGE_COUNT] = {'C', 'H', 'M', 'R', 'T', 'E', 'N'};

#define REPLY_REJECT "550 5.7.1 Command rejected"
#define REPLY_TEMPFAIL "451 4.7.1 Service unavailable - try again later"

void milter_verdict_init(struct milter_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->action = MILTER_CONTINUE;
}

void milter_verdict_release(struct milter_verdict *v)
{
    str_release(&v->reply);
    str_release(&v->quarantine);
    str_release(&v->filter);
}

void milter_edits_release(struct milter_edits *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].value);
        free(e->v[i].addr);
        free(e->v[i].args);
    }
    free(e->v);
    str_release(&e->body);
    memset(e, 0, sizeof(*e));
}

int milter_body_line(const struct str *body, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= body->len)
        return 0;
    const char *p = body->data + *pos, *end = body->data + body->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *line = p;
    *len = n;
    return 1;
}

/* ---- settings ---- */

static int parse_action(const char *text, int *out)
{
    static const char *const names[] = {"accept", "reject", "tempfail", "quarantine"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static int parse_setting(struct filter *f, const char *kv, struct str *err)
{
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
    const char *val = eq ? eq + 1 : "";
    int ok = eq != NULL;
    long t = 0;
    if (ok && n == 15 && strncmp(kv, "connect_timeout", n) == 0)
        ok = config_parse_time(val, 's', &t) == 0 && (f->conn_to = t, 1);
    else if (ok && n == 15 && strncmp(kv, "command_timeout", n) == 0)
        ok = config_parse_time(val, 's', &t) == 0 && (f->cmd_to = t, 1);
    else if (ok && n == 15 && strncmp(kv, "content_timeout", n) == 0)
        ok = config_parse_time(val, 's', &t) == 0 && (f->content_to = t, 1);
    else if (ok && n == 14 && strncmp(kv, "default_action", n) == 0)
        ok = parse_action(val, &f->default_action) == 0;
    else if (ok && n == 8 && strncmp(kv, "protocol", n) == 0)
        ok = config_parse_int(val, &t) == 0 && t >= 2 && t <= 6 && (f->version = (int)t, 1);
    else
        ok = 0;
    if (!ok)
        str_setf(err, "milter %s: bad setting \"%s\"", f->endpoint, kv);
    return ok ? 0 : -1;
}

static void filter_defaults(struct filter *f)
{
    long v = 6;
    f->conn_to = config_get_time("milter_connect_timeout");
    f->cmd_to = config_get_time("milter_command_timeout");
    f->content_to = config_get_time("milter_content_timeout");
    const char *da = config_get("milter_default_action");
    if (da == NULL || parse_action(da, &f->default_action) < 0) {
        msg_warn("bad milter_default_action \"%s\" -- using tempfail", da ? da : "");
        f->default_action = DA_TEMPFAIL;
    }
    const char *p = config_get("milter_protocol");
    if (p == NULL || config_parse_int(p, &v) < 0 || v < 2 || v > 6) {
        msg_warn("bad milter_protocol \"%s\" -- using 6", p ? p : "");
        v = 6;
    }
    f->version = (int)v;
}

static int add_filter(struct milters *m, const char *word, struct str *err)
{
    struct str inner = STR_INIT;
    struct argv *parts = argv_new();
    int rc = strip_braces(word, &inner, err);
    if (rc >= 0)
        rc = split_words(rc == 1 ? inner.data : word, ", \t\r\n", SPLIT_KEEP_BRACES, parts, err);
    if (rc >= 0 && parts->n == 0) {
        str_set(err, "empty milter entry");
        rc = -1;
    }
    if (rc >= 0) {
        m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
        if (m->v == NULL)
            msg_fatal("out of memory");
        struct filter *f = &m->v[m->n++];
        memset(f, 0, sizeof(*f));
        f->endpoint = xstrdup(parts->v[0]);
        filter_defaults(f);
        for (size_t i = 1; rc >= 0 && i < parts->n; i++)
            rc = parse_setting(f, parts->v[i], err);
        struct net_endpoint ep;
        if (rc >= 0 &&
            (strncmp(f->endpoint, "unix:", 5) != 0 && strncmp(f->endpoint, "inet:", 5) != 0)) {
            str_setf(err, "milter %s: endpoint must be unix:/path or inet:host:port", f->endpoint);
            rc = -1;
        } else if (rc >= 0 && net_parse_endpoint(f->endpoint, &ep, err) < 0)
            rc = -1;
        else if (rc >= 0)
            net_endpoint_free(&ep);
    }
    argv_free(parts);
    str_release(&inner);
    return rc < 0 ? -1 : 0;
}

static struct argv *macro_list(const char *text)
{
    struct argv *a = argv_split(text ? text : "", ", \t\r\n");
    while (a->n > MILTER_MACRO_LIMIT)
        argv_free(a), a = argv_new();
    return a;
}

struct milters *milters_create(const char *list, struct str *err)
{
    struct milters *m = xmalloc(sizeof(*m));
    memset(m, 0, sizeof(*m));
    m->body_limit = 64u << 20;
    struct argv *words = argv_new();
    int rc = split_words(list ? list : "", ", \t\r\n", SPLIT_KEEP_BRACES, words, err);
    if (rc == 0 && words->n > MILTER_HANDOVER_MAX) { /* every one must fit the hand-over */
        str_setf(err, "more than %d milters", MILTER_HANDOVER_MAX);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < words->n; i++)
        rc = add_filter(m, words->v[i], err);
    argv_free(words);
    for (int s = 0; s < MILTER_STAGE_COUNT; s++)
        m->macros[s] = macro_list(config_get(macro_params[s]));
    if (rc < 0) {
        milters_free(m);
        return NULL;
    }
    return m;
}

static void filter_close(struct filter *f)
{
    stream_close(f->s);
    f->s = NULL;
    for (int s = 0; s < MILTER_STAGE_COUNT; s++) {
        argv_free(f->macros[s]);
        f->macros[s] = NULL;
    }
}

void milters_free(struct milters *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct filter *f = &m->v[i];
        if (f->s && !m->borrowed) {
            struct str pkt = STR_INIT;
            milter_cmd_simple(&pkt, SMFIC_QUIT);
            stream_write(f->s, pkt.data, pkt.len);
            stream_flush(f->s);
            str_release(&pkt);
        }
        filter_close(f);
        free(f->endpoint);
    }
    for (int s = 0; s < MILTER_STAGE_COUNT; s++)
        argv_free(m->macros[s]);
    argv_free(m->given_names);
    argv_free(m->given_values);
    argv_free(m->defaults);
    free(m->v);
    free(m);
}

size_t milters_count(const struct milters *m)
{
    return m ? m->n : 0;
}

void milters_set_macro_lookup(struct milters *m, const char *(*lookup)(const char *, void *),
                              void *ctx)
{
    m->lookup = lookup;
    m->lookup_ctx = ctx;
}

void milters_set_body_limit(struct milters *m, size_t limit)
{
    m->body_limit = limit;
}

/* ---- failure and verdicts ---- */

static void set_verdict(struct milter_verdict *v, enum milter_action a, const char *reply,
                        const struct filter *f)
{
    v->action = a;
    str_set(&v->reply, reply ? reply : "");
    str_set(&v->filter, f->endpoint);
}

/* The default action of a failed filter, applied to v. Returns 1 when it ends the stage. */
static int apply_default(const struct filter *f, struct milter_verdict *v)
{
    switch (f->default_action) {
    case DA_REJECT:
        set_verdict(v, MILTER_REJECT, REPLY_REJECT, f);
        return 1;
    case DA_TEMPFAIL:
        set_verdict(v, MILTER_TEMPFAIL, REPLY_TEMPFAIL, f);
        return 1;
    case DA_QUARANTINE:
        if (v->quarantine.len == 0)
            str_setf(&v->quarantine, "milter %s is unavailable", f->endpoint);
        return 0;
    default:
        return 0;
    }
}

static int filter_fail(struct filter *f, const char *why, struct milter_verdict *v)
{
    static const char *const names[] = {"accept", "reject", "tempfail", "quarantine"};
    msg_warn("milter %s: %s -- applying default action %s", f->endpoint, why,
             names[f->default_action]);
    filter_close(f);
    f->state = F_FAILED;
    return apply_default(f, v);
}

/* ---- I/O ---- */

static int send_pkt(struct filter *f, const struct str *pkt, long timeout, struct str *err)
{
    stream_set_timeout(f->s, (int)timeout);
    stream_write(f->s, pkt->data, pkt->len);
    if (stream_flush(f->s) == 0)
        return 0;
    str_set(err, stream_errno(f->s) == ETIMEDOUT ? "timeout sending command" : "lost connection");
    return -1;
}

/* Reads one reply, skipping SMFIR_PROGRESS. Returns the command or -1 (err set). */
static int get_reply(struct filter *f, long timeout, struct milter_reply *r, struct str *err)
{
    struct str data = STR_INIT;
    int cmd = -1;
    stream_set_timeout(f->s, (int)timeout);
    for (long n = 0; n < 1000000; n++) {
        cmd = milter_pkt_read(f->s, MILTER_PKT_LIMIT, &data, err);
        if (cmd < 0)
            break;
        if (milter_reply_parse(cmd, data.data, data.len, r, err) < 0) {
            cmd = -1;
            break;
        }
        if (cmd != SMFIR_PROGRESS)
            break;
    }
    str_release(&data);
    return cmd;
}

static int negotiate(struct filter *f, struct str *err)
{
    struct str pkt = STR_INIT, data = STR_INIT;
    struct milter_optneg o;
    milter_cmd_optneg(&pkt, (uint32_t)f->version, milter_proto_actions(f->version),
                      milter_proto_steps(f->version));
    int rc = send_pkt(f, &pkt, f->cmd_to, err);
    int cmd = rc < 0 ? -1 : milter_pkt_read(f->s, MILTER_PKT_LIMIT, &data, err);
    if (rc == 0 && cmd != SMFIC_OPTNEG) {
        if (cmd >= 0)
            str_setf(err, "unexpected reply 0x%02x to option negotiation", (unsigned)cmd);
        rc = -1;
    }
    if (rc == 0 && (rc = milter_optneg_parse(data.data, data.len, &o, err)) == 0) {
        if (o.version < 2) {
            str_setf(err, "unsupported protocol version %u", o.version);
            rc = -1;
        }
        f->actions = o.actions & milter_proto_actions(f->version);
        f->steps = o.steps & milter_proto_steps(f->version);
        for (int s = 0; s < MILTER_STAGE_COUNT; s++)
            if (o.macros[s] && (f->actions & SMFIF_SETSYMLIST))
                f->macros[s] = macro_list(o.macros[s]);
        milter_optneg_release(&o);
    }
    str_release(&pkt);
    str_release(&data);
    return rc;
}

static int filter_open(struct filter *f, struct milter_verdict *v)
{
    struct str err = STR_INIT;
    struct net_endpoint ep;
    int fd = -1;
    if (net_parse_endpoint(f->endpoint, &ep, &err) == 0) {
        fd = net_connect_endpoint(&ep, NET_ALL, (int)(f->conn_to * 1000), &err);
        net_endpoint_free(&ep);
    }
    if (fd >= 0) {
        f->s = stream_fdopen(fd);
        if (negotiate(f, &err) == 0) {
            f->state = F_READY;
            str_release(&err);
            return 0;
        }
    }
    int end = filter_fail(f, err.data, v);
    str_release(&err);
    return end ? -1 : 1;
}

/* ---- macros ---- */

/* milter_macro_defaults: "name=value" words (commas/white space; { } groups for values with
 * spaces), the value of a macro nothing else defines. */
static const char *macro_default(struct milters *m, const char *name)
{
    if (m->defaults == NULL) {
        struct str err = STR_INIT;
        m->defaults = argv_new();
        const char *text = config_get("milter_macro_defaults");
        if (split_words(text ? text : "", ", \t\r\n", 0, m->defaults, &err) < 0) {
            msg_warn("milter_macro_defaults: %s -- ignored", err.data);
            argv_clear(m->defaults);
        }
        str_release(&err);
    }
    size_t n = strlen(name);
    for (size_t i = 0; i < m->defaults->n; i++) {
        const char *w = m->defaults->v[i];
        if (strncmp(w, name, n) == 0 && w[n] == '=')
            return w + n + 1;
    }
    return NULL;
}

void milter_macro_key(const char *word, struct str *key)
{
    size_t n = strlen(word);
    if (n > 2 && word[0] == '{' && word[n - 1] == '}') {
        str_set(key, "");
        str_appendn(key, word + 1, n - 2);
    } else
        str_set(key, word);
}

const char *milter_macro_value(struct milters *m, const char *name)
{
    const char *val = m->lookup ? m->lookup(name, m->lookup_ctx) : NULL;
    for (size_t i = 0; val == NULL && m->given_names && i < m->given_names->n; i++)
        if (strcmp(m->given_names->v[i], name) == 0)
            val = m->given_values->v[i];
    if (val == NULL && strcmp(name, "daemon_name") == 0)
        val = config_get("milter_macro_daemon_name");
    if (val == NULL && strcmp(name, "v") == 0)
        val = config_get("milter_macro_v");
    if (val == NULL)
        val = macro_default(m, name);
    return val;
}

static void add_macros(struct milters *m, struct filter *f, int stage, struct str *pkt)
{
    const struct argv *list = f->macros[stage] ? f->macros[stage] : m->macros[stage];
    struct argv *names = argv_new(), *values = argv_new();
    for (size_t i = 0; i < list->n; i++) {
        struct str key = STR_INIT;
        milter_macro_key(list->v[i], &key);
        const char *val = key.len ? milter_macro_value(m, key.data) : NULL;
        if (val && key.len <= MILTER_NAME_LIMIT && strlen(val) <= MILTER_TEXT_LIMIT) {
            if (key.len == 1)
                argv_add(names, key.data);
            else {
                struct str b = STR_INIT;
                str_setf(&b, "{%s}", key.data);
                argv_add(names, b.data);
                str_release(&b);
            }
            argv_add(values, val);
        }
        str_release(&key);
    }
    if (names->n)
        milter_cmd_macros(pkt, stage_cmd[stage], names, values);
    argv_free(names);
    argv_free(values);
}

/* ---- events ---- */

struct event {
    int stage;         /* macro stage, or -1 */
    uint32_t skip, nr; /* the SMFIP_NO* and SMFIP_NR_* bits of this event */
    int min_version;
    int conn_level; /* an accept covers the connection */
    int rcpt;       /* RCPT: a reject refuses only this recipient */
};

/* Interprets a verdict reply outside end of message. Returns 1 when it ends the stage. */
static int interpret(struct filter *f, const struct event *e, const struct milter_reply *r,
                     struct milter_verdict *v, struct str *err)
{
    switch (r->cmd) {
    case SMFIR_CONTINUE:
    case SMFIR_SKIP:
        return 0;
    case SMFIR_ACCEPT:
        f->state = e->conn_level ? F_ACCEPT_CONN : F_ACCEPT_MSG;
        return 0;
    case SMFIR_REJECT:
        set_verdict(v, MILTER_REJECT, REPLY_REJECT, f);
        break;
    case SMFIR_TEMPFAIL:
        set_verdict(v, MILTER_TEMPFAIL, REPLY_TEMPFAIL, f);
        break;
    case SMFIR_REPLYCODE:
        set_verdict(v, r->text.data[0] == '4' ? MILTER_TEMPFAIL : MILTER_REJECT, r->text.data, f);
        break;
    case SMFIR_DISCARD:
        set_verdict(v, MILTER_DISCARD, NULL, f);
        f->state = F_ACCEPT_MSG;
        return 1;
    case SMFIR_SHUTDOWN:
    case SMFIR_CONN_FAIL:
        set_verdict(v, MILTER_TEMPFAIL, "421 4.7.0 Service unavailable - closing connection", f);
        filter_close(f);
        f->state = F_ACCEPT_CONN;
        return 1;
    default:
        str_setf(err, "unexpected reply '%c'", r->cmd);
        return -1;
    }
    if (e->stage == MILTER_STAGE_CONNECT || e->stage == MILTER_STAGE_HELO)
        f->state = F_ACCEPT_CONN; /* refused at connect: no more events for this session */
    return 1;
}

/* One command (with its macros) to one ready filter and its answer: 1 when the stage is
 * decided (v set), 0 to go on (*skipped set when the filter asked to skip the rest of the
 * body; skipped may be NULL). A filter that fails gets its default action. */
static int exchange(struct milters *m, struct filter *f, const struct event *e,
                    const struct str *cmd, long timeout, struct milter_verdict *v, int *skipped)
{
    struct str pkt = STR_INIT, err = STR_INIT;
    struct milter_reply r = {0};
    if (e->stage >= 0)
        add_macros(m, f, e->stage, &pkt);
    str_appendn(&pkt, cmd->data, cmd->len);
    int rc = send_pkt(f, &pkt, timeout, &err);
    if (rc == 0 && !(f->steps & e->nr)) {
        rc = get_reply(f, timeout, &r, &err);
        if (rc == SMFIR_SKIP && skipped)
            *skipped = 1;
        if (rc >= 0)
            rc = interpret(f, e, &r, v, &err);
    }
    if (rc < 0)
        rc = filter_fail(f, err.data, v);
    milter_reply_release(&r);
    str_release(&pkt);
    str_release(&err);
    return rc;
}

/* An envelope event to one filter. Returns 1 when the stage is decided (v set), 0 to go on. */
static int filter_event(struct milters *m, struct filter *f, const struct event *e,
                        const struct str *cmd, long timeout, struct milter_verdict *v)
{
    if (f->state == F_FAILED)
        return apply_default(f, v);
    if (f->state != F_READY || f->version < e->min_version || (f->steps & e->skip))
        return 0;
    return exchange(m, f, e, cmd, timeout, v, NULL);
}

static int all_accepted(const struct milters *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].state == F_READY || m->v[i].state == F_IDLE)
            return 0;
    return 1;
}

static enum milter_action run_event(struct milters *m, const struct event *e, const struct str *cmd,
                                    struct milter_verdict *v)
{
    milter_verdict_init(v);
    for (size_t i = 0; i < m->n; i++)
        if (filter_event(m, &m->v[i], e, cmd, m->v[i].cmd_to, v))
            return v->action;
    if (m->n && all_accepted(m) && e->stage != MILTER_STAGE_CONNECT)
        v->action = MILTER_ACCEPT;
    return v->action;
}

enum milter_action milters_connect(struct milters *m, const char *client_name,
                                   const char *client_addr, unsigned port, struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, 2, 1, 0};
    milter_verdict_init(v);
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].state == F_IDLE && filter_open(&m->v[i], v) < 0)
            return v->action;
    struct str cmd = STR_INIT;
    int family = 'U';
    if (client_addr && strchr(client_addr, ':'))
        family = '6';
    else if (client_addr && *client_addr)
        family = '4';
    milter_cmd_connect(&cmd, client_name ? client_name : "unknown", family, port,
                       client_addr ? client_addr : "");
    enum milter_action a = MILTER_CONTINUE;
    struct milter_verdict keep;
    milter_verdict_init(&keep);
    str_set(&keep.quarantine, v->quarantine.data ? v->quarantine.data : "");
    a = run_event(m, &e, &cmd, v);
    if (v->quarantine.len == 0 && keep.quarantine.len)
        str_set(&v->quarantine, keep.quarantine.data);
    milter_verdict_release(&keep);
    str_release(&cmd);
    return a;
}

enum milter_action milters_helo(struct milters *m, const char *helo, struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, 2, 1, 0};
    struct str cmd = STR_INIT;
    milter_cmd_helo(&cmd, helo);
    enum milter_action a = run_event(m, &e, &cmd, v);
    str_release(&cmd);
    return a;
}

static enum milter_action args_event(struct milters *m, const struct event *e, int c,
                                     const struct argv *args, struct milter_verdict *v)
{
    struct str cmd = STR_INIT;
    struct argv *a = argv_new();
    for (size_t i = 0; i < args->n; i++) {
        const char *s = args->v[i];
        if (i == 0 && s[0] != '<') {
            struct str b = STR_INIT;
            str_setf(&b, "<%s>", s);
            argv_add(a, b.data);
            str_release(&b);
        } else
            argv_add(a, s);
    }
    milter_cmd_args(&cmd, c, a);
    enum milter_action r = run_event(m, e, &cmd, v);
    argv_free(a);
    str_release(&cmd);
    return r;
}

enum milter_action milters_mail(struct milters *m, const struct argv *args,
                                struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, 2, 0, 0};
    return args_event(m, &e, SMFIC_MAIL, args, v);
}

enum milter_action milters_rcpt(struct milters *m, const struct argv *args,
                                struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, 2, 0, 1};
    return args_event(m, &e, SMFIC_RCPT, args, v);
}

enum milter_action milters_data(struct milters *m, struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_DATA, SMFIP_NODATA, SMFIP_NR_DATA, 4, 0, 0};
    struct str cmd = STR_INIT;
    milter_cmd_simple(&cmd, SMFIC_DATA);
    enum milter_action a = run_event(m, &e, &cmd, v);
    str_release(&cmd);
    return a;
}

enum milter_action milters_unknown(struct milters *m, const char *command, struct milter_verdict *v)
{
    static const struct event e = {-1, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, 3, 0, 0};
    struct str cmd = STR_INIT;
    milter_cmd_unknown(&cmd, command);
    enum milter_action a = run_event(m, &e, &cmd, v);
    str_release(&cmd);
    return a;
}

void milters_abort(struct milters *m)
{
    struct str pkt = STR_INIT, err = STR_INIT;
    milter_cmd_simple(&pkt, SMFIC_ABORT);
    for (size_t i = 0; i < m->n; i++) {
        struct filter *f = &m->v[i];
        if (f->state != F_READY && f->state != F_ACCEPT_MSG)
            continue;
        f->state = F_READY;
        if (send_pkt(f, &pkt, f->cmd_to, &err) < 0) {
            msg_warn("milter %s: %s", f->endpoint, err.data);
            filter_close(f);
            f->state = F_FAILED;
        }
    }
    str_release(&pkt);
    str_release(&err);
}

/* ---- the message ---- */

static const struct event ev_header = {-1, SMFIP_NOHDRS, SMFIP_NR_HDR, 2, 0, 0};
static const struct event ev_eoh = {MILTER_STAGE_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, 2, 0, 0};
static const struct event ev_body = {-1, SMFIP_NOBODY, SMFIP_NR_BODY, 2, 0, 0};

/* One content command to one filter; 1 when the message is decided, 0 to go on (also when the
 * filter accepted or asked to skip: *skipped is then set). */
static int content_event(struct milters *m, struct filter *f, const struct event *e,
                         const struct str *cmd, struct milter_verdict *v, int *skipped)
{
    if ((f->steps & e->skip) || f->state != F_READY)
        return 0;
    return exchange(m, f, e, cmd, f->content_to, v, skipped);
}

static int send_headers(struct milters *m, struct filter *f, const struct milter_content_ops *ops,
                        void *ctx, struct milter_verdict *v)
{
    struct str name = STR_INIT, value = STR_INIT, cmd = STR_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && f->state == F_READY && !(f->steps & SMFIP_NOHDRS) &&
                       ops->header(ctx, i, &name, &value) == 1;
         i++) {
        const char *val = value.data ? value.data : "";
        if (!(f->steps & SMFIP_HDR_LEADSPC) && *val == ' ')
            val++;
        str_clear(&cmd);
        milter_cmd_header(&cmd, name.data, val);
        rc = content_event(m, f, &ev_header, &cmd, v, NULL);
    }
    if (rc == 0 && f->state == F_READY) {
        str_clear(&cmd);
        milter_cmd_simple(&cmd, SMFIC_EOH);
        rc = content_event(m, f, &ev_eoh, &cmd, v, NULL);
    }
    str_release(&name);
    str_release(&value);
    str_release(&cmd);
    return rc;
}

static int send_chunk(struct milters *m, struct filter *f, struct str *chunk, size_t n,
                      struct milter_verdict *v, int *skipped)
{
    struct str cmd = STR_INIT;
    milter_cmd_body(&cmd, chunk->data, n);
    int rc = content_event(m, f, &ev_body, &cmd, v, skipped);
    memmove(chunk->data, chunk->data + n, chunk->len - n);
    str_truncate(chunk, chunk->len - n);
    str_release(&cmd);
    return rc;
}

static int send_body(struct milters *m, struct filter *f, const struct milter_content_ops *ops,
                     void *ctx, struct milter_verdict *v)
{
    if ((f->steps & SMFIP_NOBODY) || f->state != F_READY)
        return 0;
    if (ops->body_rewind(ctx) < 0)
        return filter_fail(f, "cannot read the message body", v);
    struct str line = STR_INIT, chunk = STR_INIT;
    int rc = 0, skipped = 0, got;
    while (rc == 0 && !skipped && f->state == F_READY && (got = ops->body_line(ctx, &line)) == 1) {
        str_appendn(&chunk, line.data, line.len);
        str_append(&chunk, "\r\n");
        while (rc == 0 && !skipped && chunk.len >= MILTER_CHUNK_SIZE)
            rc = send_chunk(m, f, &chunk, MILTER_CHUNK_SIZE, v, &skipped);
    }
    if (rc == 0 && !skipped && f->state == F_READY && chunk.len)
        rc = send_chunk(m, f, &chunk, chunk.len, v, &skipped);
    str_release(&line);
    str_release(&chunk);
    return rc;
}

static char *crlf_to_lf(const struct str *s)
{
    struct str out = STR_INIT;
    str_set(&out, "");
    for (size_t i = 0; i < s->len; i++)
        if (!(s->data[i] == '\r' && i + 1 < s->len && s->data[i + 1] == '\n'))
            str_appendc(&out, s->data[i]);
    return str_steal(&out);
}

static const struct {
    int cmd;
    uint32_t need;
    enum milter_edit_type type;
} edit_kinds[] = {
    {SMFIR_ADDHEADER, SMFIF_ADDHDRS, MILTER_EDIT_ADD_HEADER},
    {SMFIR_INSHEADER, SMFIF_ADDHDRS, MILTER_EDIT_INS_HEADER},
    {SMFIR_CHGHEADER, SMFIF_CHGHDRS, MILTER_EDIT_CHG_HEADER},
    {SMFIR_ADDRCPT, SMFIF_ADDRCPT, MILTER_EDIT_ADD_RCPT},
    {SMFIR_ADDRCPT_PAR, SMFIF_ADDRCPT_PAR, MILTER_EDIT_ADD_RCPT},
    {SMFIR_DELRCPT, SMFIF_DELRCPT, MILTER_EDIT_DEL_RCPT},
    {SMFIR_CHGFROM, SMFIF_CHGFROM, MILTER_EDIT_CHG_FROM},
};

/* Records one modification request. Returns 0, or -1 (err set) for a request the filter did
 * not negotiate or one over the limits. */
static int add_edit(struct milters *m, struct filter *f, const struct milter_reply *r,
                    struct milter_edits *ed, struct milter_verdict *v, struct str *err)
{
    if (r->cmd == SMFIR_QUARANTINE || r->cmd == SMFIR_REPLBODY) {
        uint32_t need = r->cmd == SMFIR_QUARANTINE ? SMFIF_QUARANTINE : SMFIF_CHGBODY;
        if (!(f->actions & need)) {
            str_setf(err, "request '%c' was not negotiated", r->cmd);
            return -1;
        }
        if (r->cmd == SMFIR_QUARANTINE) {
            str_set(&v->quarantine, r->text.len ? r->text.data : "milter quarantine");
            return 0;
        }
        if (ed->body.len + r->body.len > m->body_limit) {
            str_set(err, "replacement body too large");
            return -1;
        }
        ed->body_replaced = 1;
        str_appendn(&ed->body, r->body.data, r->body.len);
        return 0;
    }
    size_t k;
    for (k = 0; k < sizeof(edit_kinds) / sizeof(edit_kinds[0]); k++)
        if (edit_kinds[k].cmd == r->cmd)
            break;
    if (k == sizeof(edit_kinds) / sizeof(edit_kinds[0])) {
        str_setf(err, "unexpected reply '%c' at end of message", r->cmd);
        return -1;
    }
    if (!(f->actions & edit_kinds[k].need) || ed->n >= MILTER_MAX_EDITS) {
        str_setf(err,
                 ed->n >= MILTER_MAX_EDITS ? "too many modification requests"
                                           : "request '%c' was not negotiated",
                 r->cmd);
        return -1;
    }
    ed->v = xgrow(ed->v, &ed->cap, ed->n + 1, sizeof(*ed->v));
    struct milter_edit *e = &ed->v[ed->n++];
    memset(e, 0, sizeof(*e));
    e->type = edit_kinds[k].type;
    e->index = r->index;
    if (e->type <= MILTER_EDIT_CHG_HEADER) {
        e->name = xstrdup(r->name.data);
        e->value = crlf_to_lf(&r->value);
    } else {
        e->addr = xstrdup(r->text.data);
        e->args = xstrdup(r->value.data ? r->value.data : "");
    }
    return 0;
}

/* End of message: collects modifications until the final verdict. Returns 1 when the message
 * is decided, 0 to go on with the next filter. */
static int end_of_message(struct milters *m, struct filter *f, const struct milter_content_ops *ops,
                          void *ctx, struct milter_verdict *v)
{
    static const struct event e = {MILTER_STAGE_EOM, 0, 0, 2, 0, 0};
    struct str pkt = STR_INIT, err = STR_INIT, quarantine = STR_INIT;
    struct milter_reply r = {0};
    struct milter_edits ed = {0};
    ed.leading_space = (f->steps & SMFIP_HDR_LEADSPC) != 0;
    str_set(&quarantine, v->quarantine.data ? v->quarantine.data : "");
    add_macros(m, f, MILTER_STAGE_EOM, &pkt);
    milter_cmd_simple(&pkt, SMFIC_BODYEOB);
    int rc = send_pkt(f, &pkt, f->content_to, &err);
    while (rc == 0) {
        rc = get_reply(f, f->content_to, &r, &err);
        if (rc < 0)
            break;
        if (strchr("acdrty4f", rc)) {
            rc = interpret(f, &e, &r, v, &err);
            break;
        }
        rc = add_edit(m, f, &r, &ed, v, &err);
    }
    if (rc == 0 && (ed.n || ed.body_replaced) && ops->apply(ctx, &ed, f->endpoint) < 0) {
        set_verdict(v, MILTER_TEMPFAIL, REPLY_TEMPFAIL, f);
        rc = 1;
    }
    if (rc != 0) /* refused or failed: a quarantine request of this filter does not count */
        str_set(&v->quarantine, quarantine.data);
    if (rc < 0)
        rc = filter_fail(f, err.data, v);
    milter_edits_release(&ed);
    milter_reply_release(&r);
    str_release(&pkt);
    str_release(&err);
    str_release(&quarantine);
    return rc;
}

enum milter_action milters_message(struct milters *m, const struct milter_content_ops *ops,
                                   void *ctx, struct milter_verdict *v)
{
    milter_verdict_init(v);
    for (size_t i = 0; i < m->n; i++) {
        struct filter *f = &m->v[i];
        if (f->state == F_FAILED) {
            if (apply_default(f, v))
                return v->action;
            continue;
        }
        if (f->state != F_READY)
            continue;
        if (send_headers(m, f, ops, ctx, v) || send_body(m, f, ops, ctx, v))
            return v->action;
        if (f->state == F_READY && end_of_message(m, f, ops, ctx, v))
            return v->action;
    }
    if (m->n && all_accepted(m))
        v->action = MILTER_ACCEPT;
    return v->action;
}
