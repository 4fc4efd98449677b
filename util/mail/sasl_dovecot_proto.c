/* sasl_dovecot_proto: the Dovecot auth protocol codec: client hello, handshake parsing, AUTH and
 * CONT request building (refusing CR, LF, TAB and NUL), and reply parsing. No I/O here. */
#include "mail/sasl_dovecot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/argv.h"
#include "base/mem.h"

void dovecot_client_hello(struct str *out, long pid)
{
    str_appendf(out, "VERSION\t1\t0\nCPID\t%ld\n", pid);
}

int dovecot_field_ok(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\r' || data[i] == '\n' || data[i] == '\t' || data[i] == '\0')
            return 0;
    return 1;
}

/* Split a line at TABs into fields (empty fields kept). */
static struct argv *split_fields(const char *line, size_t len)
{
    struct argv *a = argv_new();
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == '\t') {
            argv_addn(a, line + start, i - start);
            start = i + 1;
        }
    }
    return a;
}

/* ---- handshake ---------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int flag;
} mech_flags[] = {
    {"anonymous", DMECH_ANONYMOUS},
    {"plaintext", DMECH_PLAINTEXT},
    {"dictionary", DMECH_DICTIONARY},
    {"active", DMECH_ACTIVE},
    {"forward-secrecy", DMECH_FORWARD_SECRECY},
    {"mutual-auth", DMECH_MUTUAL_AUTH},
    {"private", DMECH_PRIVATE},
};

static int hs_version(struct dovecot_handshake *h, struct argv *f, struct str *why)
{
    if (f->n < 3 || strcmp(f->v[1], "1") != 0) {
        str_setf(why, "unsupported Dovecot auth protocol version: %s",
                 f->n > 1 ? f->v[1] : "(none)");
        return -1;
    }
    h->have_version = 1;
    return 0;
}

static int hs_mech(struct dovecot_handshake *h, struct argv *f, struct str *why)
{
    if (f->n < 2 || f->v[1][0] == 0) {
        str_set(why, "malformed MECH line from the Dovecot auth server");
        return -1;
    }
    int flags = 0;
    for (size_t i = 2; i < f->n; i++)
        for (size_t k = 0; k < sizeof(mech_flags) / sizeof(mech_flags[0]); k++)
            if (strcasecmp(f->v[i], mech_flags[k].name) == 0)
                flags |= mech_flags[k].flag;
    if (dovecot_find_mech(h, f->v[1]))
        return 0;
    h->mechs = xgrow(h->mechs, &h->cap_mechs, h->n_mechs + 1, sizeof(*h->mechs));
    h->mechs[h->n_mechs].name = xstrdup(f->v[1]);
    h->mechs[h->n_mechs].flags = flags;
    h->n_mechs++;
    return 0;
}

static int hs_done(struct dovecot_handshake *h, struct argv *f, struct str *why)
{
    (void)f;
    (void)why;
    h->done = 1;
    return 0;
}

static const struct {
    const char *cmd;
    int (*fn)(struct dovecot_handshake *, struct argv *, struct str *);
} hs_table[] = {
    {"MECH", hs_mech},
    {"DONE", hs_done},
};

int dovecot_handshake_line(struct dovecot_handshake *h, const char *line, size_t len,
                           struct str *why)
{
    if (++h->lines > DOVECOT_MAX_HANDSHAKE_LINES) {
        str_set(why, "too many handshake lines from the Dovecot auth server");
        return -1;
    }
    struct argv *f = split_fields(line, len);
    int rc = 0;
    if (strcmp(f->v[0], "VERSION") == 0) {
        rc = hs_version(h, f, why);
    } else if (!h->have_version) {
        str_set(why, "Dovecot auth server did not start with VERSION");
        rc = -1;
    } else {
        for (size_t i = 0; i < sizeof(hs_table) / sizeof(hs_table[0]); i++)
            if (strcmp(f->v[0], hs_table[i].cmd) == 0)
                rc = hs_table[i].fn(h, f, why);
    }
    argv_free(f);
    if (rc < 0)
        return -1;
    return h->done ? 1 : 0;
}

void dovecot_handshake_free(struct dovecot_handshake *h)
{
    for (size_t i = 0; i < h->n_mechs; i++)
        free(h->mechs[i].name);
    free(h->mechs);
    memset(h, 0, sizeof(*h));
}

const struct dovecot_mech *dovecot_find_mech(const struct dovecot_handshake *h, const char *name)
{
    for (size_t i = 0; i < h->n_mechs; i++)
        if (strcasecmp(h->mechs[i].name, name) == 0)
            return &h->mechs[i];
    return NULL;
}

/* ---- requests ----------------------------------------------------------------------------- */

static int add_opt(struct str *out, const char *name, const char *value, struct str *why)
{
    if (value == NULL)
        return 0;
    if (!dovecot_field_ok(value, strlen(value))) {
        str_setf(why, "%s value holds a control character", name);
        return -1;
    }
    str_appendf(out, "\t%s=%s", name, value);
    return 0;
}

int dovecot_auth_request(struct str *out, unsigned id, const struct dovecot_auth_req *r,
                         struct str *why)
{
    size_t mark = out->len;
    if (r->mech == NULL || r->mech[0] == 0 || !dovecot_field_ok(r->mech, strlen(r->mech))) {
        str_set(why, "invalid mechanism name");
        return -1;
    }
    str_appendf(out, "AUTH\t%u\t%s", id, r->mech);
    if (add_opt(out, "service", r->service, why) < 0)
        goto bad;
    str_append(out, "\tnologin");
    if (add_opt(out, "lip", r->local_addr, why) < 0 ||
        add_opt(out, "rip", r->remote_addr, why) < 0 ||
        add_opt(out, "lport", r->local_port, why) < 0 ||
        add_opt(out, "rport", r->remote_port, why) < 0)
        goto bad;
    if (r->secured)
        str_append(out, "\tsecured");
    if (add_opt(out, "resp", r->resp, why) < 0)
        goto bad;
    str_appendc(out, '\n');
    return 0;
bad:
    str_truncate(out, mark);
    return -1;
}

int dovecot_cont_request(struct str *out, unsigned id, const char *resp, size_t len,
                         struct str *why)
{
    if (!dovecot_field_ok(resp, len)) {
        str_set(why, "response holds a control character");
        return -1;
    }
    str_appendf(out, "CONT\t%u\t", id);
    str_appendn(out, resp, len);
    str_appendc(out, '\n');
    return 0;
}

/* ---- replies ------------------------------------------------------------------------------ */

void dovecot_unescape(struct str *out, const char *data, size_t len)
{
    static const char from[] = "01trnl", to[] = "\0\001\t\r\n\n";
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\001' || i + 1 == len) {
            str_appendc(out, (unsigned char)data[i]);
            continue;
        }
        char c = data[++i];
        const char *p = c ? memchr(from, c, sizeof(from) - 1) : NULL;
        str_appendc(out, p ? (unsigned char)to[p - from] : (unsigned char)c);
    }
}

/* Optional "name=value" and boolean fields of OK and FAIL. */
static void reply_opts(struct dovecot_reply *r, struct argv *f, size_t from)
{
    for (size_t i = from; i < f->n; i++) {
        const char *a = f->v[i];
        if (strncmp(a, "user=", 5) == 0) {
            str_clear(&r->user);
            dovecot_unescape(&r->user, a + 5, strlen(a + 5));
            r->have_user = 1;
        } else if (strncmp(a, "reason=", 7) == 0) {
            str_clear(&r->reason);
            dovecot_unescape(&r->reason, a + 7, strlen(a + 7));
            r->have_reason = 1;
        } else if (strcmp(a, "temp") == 0) {
            r->temp = 1;
        }
    }
}

static int rp_ok(struct dovecot_reply *r, struct argv *f)
{
    reply_opts(r, f, 2);
    return DREPLY_OK;
}

static int rp_fail(struct dovecot_reply *r, struct argv *f)
{
    reply_opts(r, f, 2);
    return DREPLY_FAIL;
}

static int rp_cont(struct dovecot_reply *r, struct argv *f)
{
    if (f->n < 3)
        return DREPLY_BAD;
    str_set(&r->data, f->v[2]);
    return DREPLY_CONT;
}

static const struct {
    const char *cmd;
    int (*fn)(struct dovecot_reply *, struct argv *);
} reply_table[] = {
    {"OK", rp_ok},
    {"CONT", rp_cont},
    {"FAIL", rp_fail},
};

int dovecot_parse_reply(const char *line, size_t len, unsigned id, struct dovecot_reply *r)
{
    r->kind = DREPLY_OTHER;
    r->temp = r->have_user = r->have_reason = 0;
    str_clear(&r->data);
    str_clear(&r->user);
    str_clear(&r->reason);
    struct argv *f = split_fields(line, len);
    char *end;
    unsigned long got = f->n >= 2 ? strtoul(f->v[1], &end, 10) : 0;
    if (f->n >= 2 && f->v[1][0] >= '0' && f->v[1][0] <= '9' && *end == 0 && got == id) {
        for (size_t i = 0; i < sizeof(reply_table) / sizeof(reply_table[0]); i++)
            if (strcmp(f->v[0], reply_table[i].cmd) == 0)
                r->kind = reply_table[i].fn(r, f);
    }
    argv_free(f);
    return r->kind;
}

void dovecot_reply_free(struct dovecot_reply *r)
{
    str_release(&r->data);
    str_release(&r->user);
    str_release(&r->reason);
}
