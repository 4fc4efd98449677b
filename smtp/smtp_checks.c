/* smtp_checks: content checks on outgoing mail (smtp_header_checks, smtp_mime_header_checks,
 * smtp_nested_header_checks, smtp_body_checks; lmtp_* when running as lmtp). The content
 * goes through the MIME parser util/mail/mime_state (logical headers by class, body lines
 * piece by piece, as queue records hold them) and each header or body record through its
 * table. Only the actions header_checks(5) allows in a delivery agent are
 * carried out: DUNNO (OK), IGNORE, INFO, PREPEND, REPLACE, STRIP, WARN; any other is logged
 * as unsupported and ignored. Actions are logged as smtp(8) does:
 * "ID: warning: header Subject: text (60 bytes at most): optional text". */
#include "smtp.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/hbc_action.h"
#include "mail/header_info.h"
#include "mail/maps.h"
#include "mail/mime_state.h"
#include "table/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smtp_checks {
    const struct smtp_checks_config *cfg;
    const char *queue_id;
    smtp_checks_out out;
    void *ctx;
    struct mime_state *ms;
    int failed; /* a table lookup failed */
    struct str value, text;
    struct str line; /* a body record as a C string */
};

enum verdict { KEEP, DROP, REPLACED };

/* ---- configuration ---------------------------------------------------------------------- */

static struct maps *open_checks(const char *prefix, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", prefix, what);
    const char *v = config_get(name);
    if (v == NULL || v[strspn(v, ", \t\r\n")] == 0)
        return NULL;
    return maps_open(name, v, 0);
}

const struct smtp_checks_config *smtp_checks_config(const char *prefix)
{
    static struct smtp_checks_config cfg;
    static int loaded;
    if (!loaded) {
        loaded = 1;
        cfg.header = open_checks(prefix, "header_checks");
        cfg.mime = open_checks(prefix, "mime_header_checks");
        cfg.nested = open_checks(prefix, "nested_header_checks");
        cfg.body = open_checks(prefix, "body_checks");
        cfg.mime_limits.header_limit = (size_t)config_get_size("header_size_limit");
        cfg.mime_limits.nesting_limit = config_get_int("mime_nesting_limit");
        cfg.mime_limits.boundary_limit = (size_t)config_get_int("mime_boundary_length_limit");
        cfg.mime_options =
            config_get_bool("disable_mime_input_processing") ? MIME_OPT_DISABLE_MIME : 0;
    }
    return cfg.header || cfg.mime || cfg.nested || cfg.body ? &cfg : NULL;
}

/* ---- actions ---------------------------------------------------------------------------- */

static void log_action(const struct smtp_checks *c, const char *action, const char *where,
                       const char *content, const char *text)
{
    if (*text)
        msg_info("%s: %s: %s %.60s: %s", c->queue_id, action, where, content, text);
    else
        msg_info("%s: %s: %s %.60s", c->queue_id, action, where, content);
}

/* REPLACE and PREPEND need text, and in a header a header label. */
static int usable_text(const struct maps *m, const char *action, const char *where,
                       const char *text)
{
    if (*text == 0) {
        msg_warn("%s action without text in %s map", action, m->title);
        return 0;
    }
    if (strcmp(where, "header") == 0 && !hbc_header_text_ok(text)) {
        msg_warn("bad %s header text \"%s\" in %s map -- need \"headername: headervalue\"", action,
                 text, m->title);
        return 0;
    }
    return 1;
}

/* Looks input up in m and acts. REPLACED leaves the new text in c->text. */
static enum verdict check(struct smtp_checks *c, struct maps *m, const char *where,
                          const char *input)
{
    if (m == NULL || *input == 0) /* empty lines never match */
        return KEEP;
    int rc = maps_find(m, input, &c->value);
    if (rc == TABLE_ERROR) {
        msg_warn("%s: %s lookup error: %s", c->queue_id, m->title, maps_error(m));
        c->failed = 1;
        return KEEP;
    }
    if (rc != TABLE_FOUND)
        return KEEP;
    struct hbc_action a;
    hbc_action_parse(c->value.data, &a);
    switch (a.verb) {
    case HBC_WARN:
        log_action(c, "warning", where, input, a.text);
        return KEEP;
    case HBC_INFO:
        log_action(c, "info", where, input, a.text);
        return KEEP;
    case HBC_REPLACE:
        if (!usable_text(m, "REPLACE", where, a.text))
            return KEEP;
        log_action(c, "replace", where, input, a.text);
        str_set(&c->text, a.text);
        return REPLACED;
    case HBC_PREPEND:
        if (usable_text(m, "PREPEND", where, a.text)) {
            log_action(c, "prepend", where, input, a.text);
            c->out(c->ctx, a.text, strlen(a.text), 1);
        }
        return KEEP;
    case HBC_STRIP:
        log_action(c, "strip", where, input, a.text);
        return DROP;
    case HBC_IGNORE: /* not logged, as in cleanup */
        return DROP;
    case HBC_DUNNO:
        return KEEP;
    default: /* BCC, DISCARD, FILTER, HOLD, PASS, REDIRECT, REJECT and unknown words */
        msg_warn("unsupported command in %s map: %s", m->title, c->value.data);
        return KEEP;
    }
}

/* ---- content ---------------------------------------------------------------------------- */

/* A logical header goes out one physical line at a time. */
static void put_header(struct smtp_checks *c, const char *h)
{
    for (;;) {
        const char *nl = strchr(h, '\n');
        size_t n = nl ? (size_t)(nl - h) : strlen(h);
        c->out(c->ctx, h, n, 1);
        if (!nl)
            break;
        h = nl + 1;
    }
}

static void on_header(void *ctx, enum mime_hdr_class cls, const struct header_info *hi,
                      struct str *h)
{
    struct smtp_checks *c = ctx;
    if (c->failed)
        return;
    const struct smtp_checks_config *cfg = c->cfg;
    enum mime_hdr_class tc = mime_hdr_checks_class(cls, hi);
    struct maps *m = tc == MIME_HDR_MULTIPART ? cfg->mime
                     : tc == MIME_HDR_NESTED  ? cfg->nested
                                              : cfg->header;
    enum verdict v = check(c, m, "header", h->data);
    if (c->failed || v == DROP)
        return;
    put_header(c, v == REPLACED ? c->text.data : h->data);
}

/* A body record: a whole line (eol) or a piece of a long one. */
static void body_record(struct smtp_checks *c, const char *data, size_t len, int eol)
{
    if (c->failed)
        return;
    enum verdict v = KEEP;
    if (c->cfg->body && len > 0) {
        str_clear(&c->line);
        str_appendn(&c->line, data, len);
        v = check(c, c->cfg->body, "body", c->line.data);
    }
    if (c->failed || v == DROP)
        return;
    if (v == REPLACED)
        c->out(c->ctx, c->text.data, c->text.len, eol);
    else
        c->out(c->ctx, data, len, eol);
}

static void on_body(void *ctx, const char *line, size_t len, long offset)
{
    (void)offset;
    body_record(ctx, line, len, 1);
}

static void on_body_piece(void *ctx, const char *data, size_t len, long offset)
{
    (void)offset;
    body_record(ctx, data, len, 0);
}

static const struct mime_callbacks callbacks = {
    .header = on_header, .body = on_body, .body_piece = on_body_piece};

struct smtp_checks *smtp_checks_new(const struct smtp_checks_config *cfg, const char *queue_id,
                                    smtp_checks_out out, void *ctx)
{
    struct smtp_checks *c = xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->queue_id = queue_id;
    c->out = out;
    c->ctx = ctx;
    c->value = (struct str)STR_INIT;
    c->text = (struct str)STR_INIT;
    c->line = (struct str)STR_INIT;
    c->ms = mime_state_create(cfg->mime_options, &cfg->mime_limits, &callbacks, c);
    return c;
}

void smtp_checks_put(struct smtp_checks *c, const char *data, size_t len, int eol)
{
    if (!c->failed)
        mime_state_update_piece(c->ms, data, len, eol);
}

int smtp_checks_end(struct smtp_checks *c)
{
    if (!c->failed)
        mime_state_finish(c->ms);
    return c->failed ? -1 : 0;
}

int smtp_checks_failed(const struct smtp_checks *c)
{
    return c->failed;
}

void smtp_checks_free(struct smtp_checks *c)
{
    if (!c)
        return;
    mime_state_free(c->ms);
    str_release(&c->value);
    str_release(&c->text);
    str_release(&c->line);
    free(c);
}
